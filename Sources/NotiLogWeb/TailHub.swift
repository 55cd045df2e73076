import Logging
import NotiLogCore
import NotiLogStore
import Synchronization

/// The live tail's side of the ingest pipeline: one subscription to committed records (`IngestPipeline.committed`),
/// fanned out to every connected tail client, each with its own compiled query and a bounded queue.
///
/// Ingest never waits for a tail: the hub's subscription drops batches rather than block the writer, and a
/// client's queue drops records rather than block the hub. Nothing is lost silently, though:
/// * batches the hub's subscription dropped are read back from the store (ids are dense, so a hole in them is
///   seen); a hole too large to read back becomes a `gap` for every client;
/// * records a client's full queue could not take become a `gap` in that client's stream, in order, with the
///   count and the ids and times they span.
///
/// Every step of the fan-out (which clients get a batch, how far each has been served) happens under the hub's
/// lock together with the registration of new clients, so a client's *position* — every record up to it was
/// delivered or reported missing — is exact, and a client that reconnects with `after_id` = its position misses
/// nothing.
final class TailHub: Sendable {
    struct Limits: Sendable {
        /// Records waiting in one client's queue before newer ones are dropped (and reported as a gap).
        var queueRecords = 10_000
        /// The same, in bytes of the records' frames (a queue of 64 KiB lines fills sooner).
        var queueBytes = 16 << 20
        /// Batches the hub's subscription holds when the hub falls behind (the writer never waits for it).
        var bufferedBatches = 1_024
        /// The largest hole in the committed stream that is read back from the store.
        var readBack = 50_000
        /// Stored records sent when a client catches up (`after_id`, `last`).
        var catchUp = 10_000
        /// Tails open at once: each holds a queue of up to `queueBytes`, so their number bounds the memory they
        /// can take (100 × 16 MiB at most). One more is told so and closed.
        var connections = 100
    }

    let pipeline: IngestPipeline
    let store: any LogStore
    let limits: Limits
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var clients: [Int: TailClient] = [:]
        var nextID = 0
        /// The last committed id the hub has handed to its clients (nil until known).
        var lastID: Int64?
        var counters = Counters()
    }

    /// For `/metrics` and `status`.
    struct Counters: Sendable, Hashable {
        /// Tail connections open now.
        var connections = 0
        /// Tail connections opened since the start.
        var opened: Int64 = 0
        /// Tail connections refused because `limits.connections` were open.
        var refused: Int64 = 0
        /// Matching records not sent to a client whose queue was full (each reported to it in a gap).
        var missedRecords: Int64 = 0
        /// Committed records the hub's subscription lost and read back from the store.
        var readBackRecords: Int64 = 0
        /// Ids the hub skipped without reading them back (reported to every client as a gap).
        var skippedIDs: Int64 = 0
    }

    var counters: Counters {
        let (counters, clients) = state.withLock { ($0.counters, Array($0.clients.values)) }
        var c = counters
        c.connections = clients.count
        // The open connections' misses, with those of the connections already closed.
        c.missedRecords += clients.reduce(0) { $0 + $1.missed }
        return c
    }

    init(pipeline: IngestPipeline, store: any LogStore, limits: Limits = Limits(), logger: Logger) {
        self.pipeline = pipeline
        self.store = store
        self.limits = limits
        self.logger = logger
    }

    var clientCount: Int { state.withLock { $0.clients.count } }

    /// Adds a client whose queue gets every matching record committed from now on. Its starting position: the
    /// last id handed out before it joined (0 when nothing was committed yet). Nil when `limits.connections`
    /// tails are open already.
    func register(_ matcher: QueryMatcher) -> TailClient? {
        state.withLock { s in
            if s.clients.count >= limits.connections {
                s.counters.refused += 1
                return nil
            }
            let client = TailClient(id: s.nextID, matcher: matcher, position: s.lastID ?? 0, limits: limits)
            s.nextID += 1
            s.counters.opened += 1
            s.clients[client.id] = client
            return client
        }
    }

    func unregister(_ client: TailClient) {
        let missed = client.missed
        state.withLock { s in
            if s.clients.removeValue(forKey: client.id) != nil { s.counters.missedRecords += missed }
        }
        client.close()
    }

    /// Reads committed batches until the pipeline finishes its subscribers or the task is cancelled.
    func run() async {
        let stream = pipeline.committed(bufferedBatches: limits.bufferedBatches)
        // Records up to the newest stored one are "before the hub started": not live, but in the store.
        if let newest = try? await store.figures().newestID {
            state.withLock { s in s.lastID = max(s.lastID ?? 0, newest) }
        }
        for await batch in stream {
            await handle(batch)
        }
        let clients = state.withLock { Array($0.clients.values) }
        for c in clients { c.close() }
    }

    /// One committed batch: first whatever the subscription lost before it (read back, or a gap), then the batch.
    func handle(_ batch: [StoredRecord]) async {
        var records = batch[...]
        if let last = state.withLock({ $0.lastID }) {
            guard let k = records.firstIndex(where: { $0.id > last }) else { return }
            records = records[k...]
            if records.first!.id > last + 1 { await fill(after: last, before: records.first!.id) }
        }
        deliver(Array(records))
    }

    /// Ids `after+1 ..< before` never came through the subscription: read them back from the store when few
    /// enough (ids that do not exist are not missing), else tell every client they are missing.
    private func fill(after: Int64, before: Int64) async {
        guard clientCount > 0 else {
            state.withLock { s in s.lastID = max(s.lastID ?? 0, before - 1) }
            return
        }
        if before - after - 1 <= Int64(limits.readBack) {
            var cursor = after
            do {
                try await store.readBack(after: after, before: before, chunk: 5_000) { chunk in
                    state.withLock { $0.counters.readBackRecords += Int64(chunk.count) }
                    deliver(chunk)
                    cursor = chunk.last!.id
                }
                return
            } catch {
                logger.warning("live tail: cannot read back records the tail missed", metadata: ["error.message": "\(error.message)"])
            }
            broadcastGap(after: cursor, before: before)
            return
        }
        broadcastGap(after: after, before: before)
    }

    private func broadcastGap(after: Int64, before: Int64) {
        let clients = state.withLock { s -> [TailClient] in
            s.lastID = max(s.lastID ?? 0, before - 1)
            s.counters.skippedIDs += before - after - 1
            return Array(s.clients.values)
        }
        logger.warning("live tail: records skipped (the tail fell too far behind)", metadata: ["tail.from_id": "\(after + 1)", "tail.to_id": "\(before - 1)"])
        for c in clients {
            c.reportGap(TailGap(missed: nil, fromID: after + 1, toID: before - 1, from: nil, to: nil, reason: .serverBehind), upTo: before - 1)
        }
    }

    /// Hands records (ascending ids, all newer than `lastID`) to the clients registered now, each getting what its
    /// query matches. Registration and this step exclude each other: a client either gets these records or
    /// joined after them (its position then already covers them).
    private func deliver(_ records: [StoredRecord]) {
        guard let end = records.last?.id else { return }
        let clients = state.withLock { s -> [TailClient] in
            s.lastID = max(s.lastID ?? 0, end)
            return Array(s.clients.values)
        }
        guard !clients.isEmpty else { return }
        var matched = [[StoredRecord]](repeating: [], count: clients.count)
        var tokens = MessageTokens()
        for r in records {
            tokens.reset()
            for (k, c) in clients.enumerated() where c.matcher.matches(r.record, sharing: &tokens) {
                matched[k].append(r)
            }
        }
        for (k, c) in clients.enumerated() {
            c.enqueue(matched[k], upTo: end)
        }
    }
}

/// Why records were not sent.
enum TailGapReason: String, Sendable {
    /// The client did not read fast enough; its queue was full.
    case slowClient = "slow_client"
    /// More stored records matched than a catch-up sends (`after_id`); the oldest were left out.
    case catchUpLimit = "catch_up_limit"
    /// The server's tail fell behind ingest further than it reads back.
    case serverBehind = "server_behind"
}

/// Records a client did not get: `missed` of them (nil: not counted — records in the range were not checked
/// against the query), with ids from `fromID` to `toID` and received from `from` to `to` (when known).
struct TailGap: Sendable {
    var missed: Int64?
    var fromID: Int64
    var toID: Int64
    var from: SyslogTimestamp?
    var to: SyslogTimestamp?
    var reason: TailGapReason
}

/// One tail connection's queue between the hub and its sender.
final class TailClient: Sendable {
    enum Item: Sendable {
        case records([StoredRecord])
        case gap(TailGap)
    }

    /// What the sender takes at once: queued items, the position they bring the client to when they empty the
    /// queue, and whether the connection is over.
    struct Taken: Sendable {
        var items: [Item]
        var position: Int64?
        var closed: Bool
    }

    let id: Int
    let matcher: QueryMatcher
    /// The hub's position when the client joined: live records follow it.
    let startPosition: Int64
    private let limits: TailHub.Limits
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var items: [Item] = []
        var queuedRecords = 0
        var queuedBytes = 0
        /// The hub has handed this client everything up to here (queued, reported missing, or not matching).
        var position: Int64
        var waiter: CheckedContinuation<Void, Never>?
        /// A wake-up that came while the sender was not waiting.
        var woken = false
        var closed = false
        var missed: Int64 = 0
        /// Why the connection must end (its credential stopped being valid).
        var ended: APIError?
    }

    init(id: Int, matcher: QueryMatcher, position: Int64, limits: TailHub.Limits) {
        self.id = id
        self.matcher = matcher
        self.startPosition = position
        self.limits = limits
        self.state = Mutex(State(position: position))
    }

    /// Records missed because the queue was full, in all.
    var missed: Int64 { state.withLock { $0.missed } }

    /// Records waiting for the sender.
    var queued: Int { state.withLock { $0.queuedRecords } }

    static func size(_ r: StoredRecord) -> Int { r.record.textByteCount + 320 }

    /// Queues matching records (up to the queue's bounds; the rest become a gap) and moves the position to `upTo`.
    func enqueue(_ records: [StoredRecord], upTo: Int64) {
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.closed else { return nil }
            s.position = max(s.position, upTo)
            guard !records.isEmpty else { return nil }
            var taken = 0
            var bytes = 0
            while taken < records.count, s.queuedRecords + taken < limits.queueRecords {
                let size = Self.size(records[taken])
                if s.queuedBytes + bytes + size > limits.queueBytes && s.queuedRecords + taken > 0 { break }
                bytes += size
                taken += 1
            }
            if taken > 0 {
                s.items.append(.records(taken == records.count ? records : Array(records[..<taken])))
                s.queuedRecords += taken
                s.queuedBytes += bytes
            }
            if taken < records.count {
                let dropped = records[taken...]
                s.missed += Int64(dropped.count)
                Self.addGap(
                    &s.items,
                    TailGap(
                        missed: Int64(dropped.count), fromID: dropped.first!.id, toID: dropped.last!.id, from: dropped.first!.record.receivedAt,
                        to: dropped.last!.record.receivedAt, reason: .slowClient))
            }
            return Self.wake(&s)
        }
        wake?.resume()
    }

    /// A gap found by the hub (its own subscription fell too far behind).
    func reportGap(_ gap: TailGap, upTo: Int64) {
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.closed else { return nil }
            s.position = max(s.position, upTo)
            Self.addGap(&s.items, gap)
            return Self.wake(&s)
        }
        wake?.resume()
    }

    /// A gap right after another one of the same kind widens it.
    private static func addGap(_ items: inout [Item], _ gap: TailGap) {
        if case .gap(var last) = items.last, last.reason == gap.reason {
            last.missed = last.missed.flatMap { a in gap.missed.map { a + $0 } }
            last.toID = gap.toID
            last.to = gap.to ?? last.to
            items[items.count - 1] = .gap(last)
        } else {
            items.append(.gap(gap))
        }
    }

    /// Marks the sender due (the next `take` returns) and hands back its continuation if it waits.
    private static func wake(_ s: inout State) -> CheckedContinuation<Void, Never>? {
        s.woken = true
        let w = s.waiter
        s.waiter = nil
        return w
    }

    /// Ends the connection with an error message (the sender sends it and closes).
    func end(_ error: APIError) {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.ended = error
            return Self.wake(&s)
        }
        w?.resume()
    }

    var ended: APIError? { state.withLock { $0.ended } }

    /// Wakes the sender without queuing anything (its timer: statistics, checks).
    func poke() {
        let w = state.withLock { s in Self.wake(&s) }
        w?.resume()
    }

    /// Ends the connection's queue: the sender's next `take` says so.
    func close() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            s.items.removeAll()
            s.queuedRecords = 0
            s.queuedBytes = 0
            return Self.wake(&s)
        }
        w?.resume()
    }

    /// Everything queued (waiting until there is something, a `poke`, or the end).
    func take() async -> Taken {
        while true {
            let ready = state.withLock { s -> Taken? in
                if s.closed { return Taken(items: [], position: nil, closed: true) }
                if !s.items.isEmpty || s.woken {
                    s.woken = false
                    let items = s.items
                    s.items.removeAll(keepingCapacity: true)
                    s.queuedRecords = 0
                    s.queuedBytes = 0
                    return Taken(items: items, position: s.position, closed: false)
                }
                return nil
            }
            if let ready { return ready }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = state.withLock { s -> Bool in
                        if s.closed || s.woken || !s.items.isEmpty { return true }
                        s.waiter = c
                        return false
                    }
                    if now { c.resume() }
                }
            } onCancel: {
                self.close()
            }
        }
    }
}
