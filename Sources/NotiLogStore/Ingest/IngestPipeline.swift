import NotiLogCore
import ServiceLifecycle
import Synchronization

/// The one way into the store: a bounded queue in front of a batch writer.
///
/// Listeners `offer` parsed records. When the queue is full, stream senders (TCP, TLS, HTTP) are told to wait
/// (`waitForCapacity`) and stop reading meanwhile; datagram senders (`offerOrDrop`) lose the records, and the
/// loss is counted. The writer commits one transaction per batch (`batchSize` records, or what arrived within
/// `maxBatchDelay`), and only committed records reach `committed()` subscribers — the rule engine and live tail.
///
/// As a `Service` it stops on graceful shutdown after committing everything already queued.
public final class IngestPipeline: Service {
    public struct Configuration: Sendable, Hashable {
        /// Records waiting for the writer before senders are slowed (or datagrams dropped).
        public var queueCapacity: Int = 100_000
        public var batchSize: Int = 5_000
        public var maxBatchDelay: Duration = .milliseconds(200)

        public init(queueCapacity: Int = 100_000, batchSize: Int = 5_000, maxBatchDelay: Duration = .milliseconds(200)) {
            self.queueCapacity = queueCapacity
            self.batchSize = batchSize
            self.maxBatchDelay = maxBatchDelay
        }
    }

    /// Running totals, for `/metrics` and `status`.
    public struct Counters: Sendable, Hashable {
        public var accepted: Int64 = 0
        public var droppedQueueFull: Int64 = 0
        /// Offered after shutdown began (datagrams only; stream senders are told to retry).
        public var droppedShutdown: Int64 = 0
        /// Records the store would not take while shutting down (an operator must look at the store).
        public var lostAtShutdown: Int64 = 0
        public var committed: Int64 = 0
        public var batches: Int64 = 0
        public var failedBatches: Int64 = 0
        public var lastBatchSize: Int = 0
        public var lastCommitSeconds: Double = 0
        /// Commit latencies: how many took at most each of `commitSecondsBounds` (cumulative, as Prometheus
        /// histograms count), and their sum.
        public var commitSecondsBuckets = [Int64](repeating: 0, count: Counters.commitSecondsBounds.count)
        public var commitSecondsSum: Double = 0
        public static let commitSecondsBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
        public var queued: Int = 0
    }

    public enum Offer: Sendable, Equatable {
        case accepted
        /// Nothing was queued: wait for `waitForCapacity(for:)` and offer again.
        case full
        /// The pipeline is shutting down and takes nothing more.
        case closed
    }

    private struct State: ~Copyable {
        var chunks: [[LogRecord]] = []
        var head = 0
        var queued = 0
        var closing = false
        var writerWakeup: CheckedContinuation<Void, Never>?
        /// Producers waiting for room for this many records.
        var capacityWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var subscribers: [Int: AsyncStream<[StoredRecord]>.Continuation] = [:]
        var nextSubscriber = 0
        /// Subscribers that ask the writer to wait while they catch up (`pace(while:)`).
        var pacers: [Int: @Sendable () -> Bool] = [:]
        var counters = Counters()
        /// Records ever queued, and ever taken into a batch: an acknowledged submission (`acks`, ascending by
        /// `end`) is committed once the batch that took its last record is.
        var enqueuedTotal: Int64 = 0
        var takenTotal: Int64 = 0
        var acks: [Ack] = []
    }

    /// A producer waiting for its records' commit (`submitAndWait`).
    private struct Ack {
        var end: Int64
        var mark: IngestMark?
        var continuation: CheckedContinuation<Submission, Never>
    }

    /// What became of records submitted with `submitAndWait`.
    public enum Submission: Sendable, Hashable {
        /// Committed (with the mark, if one was given).
        case committed
        /// The pipeline is shutting down; nothing was queued.
        case closed
        /// Queued, but the store kept failing while the server shut down: not stored.
        case lost
        /// Internal: the queue was full; the caller waits for room and tries again.
        case full
    }

    public let configuration: Configuration
    private let store: any LogStore
    private let state = Mutex(State())

    public init(store: any LogStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
    }

    public var counters: Counters {
        state.withLock { s in
            var c = s.counters
            c.queued = s.queued
            return c
        }
    }

    /// Producers waiting for room (`waitForCapacity`).
    var waitingProducers: Int { state.withLock { $0.capacityWaiters.count } }

    // MARK: Producers

    /// Queues the records if there is room for them (a batch larger than the whole queue is let in when the
    /// queue is empty, so it cannot wait forever).
    public func offer(_ records: [LogRecord]) -> Offer {
        guard !records.isEmpty else { return .accepted }
        let (result, wake) = state.withLock { s -> (Offer, CheckedContinuation<Void, Never>?) in
            if s.closing { return (.closed, nil) }
            guard Self.fits(records.count, s.queued, configuration.queueCapacity) else { return (.full, nil) }
            s.chunks.append(records)
            s.queued += records.count
            s.enqueuedTotal += Int64(records.count)
            s.counters.accepted += Int64(records.count)
            let w = s.writerWakeup
            s.writerWakeup = nil
            return (.accepted, w)
        }
        wake?.resume()
        return result
    }

    /// Queues the records, waiting for room as long as it takes, and returns once they are committed — for
    /// senders that are told only then (the agents' acknowledged ingest). `mark` is recorded in the transaction
    /// that commits the last of them.
    public func submitAndWait(_ records: [LogRecord], mark: IngestMark? = nil) async -> Submission {
        guard !records.isEmpty else { return .committed }
        while true {
            let outcome = await withCheckedContinuation { (c: CheckedContinuation<Submission, Never>) in
                let (refused, wake) = state.withLock { s -> (Submission?, CheckedContinuation<Void, Never>?) in
                    if s.closing { return (.closed, nil) }
                    guard Self.fits(records.count, s.queued, configuration.queueCapacity) else { return (.full, nil) }
                    s.chunks.append(records)
                    s.queued += records.count
                    s.enqueuedTotal += Int64(records.count)
                    s.counters.accepted += Int64(records.count)
                    s.acks.append(Ack(end: s.enqueuedTotal, mark: mark, continuation: c))
                    let w = s.writerWakeup
                    s.writerWakeup = nil
                    return (nil, w)
                }
                wake?.resume()
                if let refused { c.resume(returning: refused) }
            }
            guard outcome == .full else { return outcome }
            await waitForCapacity(for: records.count)
        }
    }

    /// Queues the records, or drops and counts them when the queue is full (UDP). Returns whether they were queued.
    @discardableResult
    public func offerOrDrop(_ records: [LogRecord]) -> Bool {
        switch offer(records) {
        case .accepted:
            return true
        case .full:
            state.withLock { $0.counters.droppedQueueFull += Int64(records.count) }
            return false
        case .closed:
            state.withLock { $0.counters.droppedShutdown += Int64(records.count) }
            return false
        }
    }

    /// Returns when the queue has room for `count` records (or is empty, or the pipeline is shutting down) — the
    /// room `offer` needs to take them, so a producer that waits and offers again is not refused at once.
    public func waitForCapacity(for count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.closing || Self.fits(count, s.queued, configuration.queueCapacity) { return true }
                s.capacityWaiters.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    /// What `offer` lets in: a chunk that fits, or anything into an empty queue.
    static func fits(_ count: Int, _ queued: Int, _ capacity: Int) -> Bool {
        queued == 0 || queued + count <= capacity
    }

    /// Offers, waiting for room as long as it takes (for HTTP ingest and tests). False when shutting down.
    public func submit(_ records: [LogRecord]) async -> Bool {
        while true {
            switch offer(records) {
            case .accepted: return true
            case .closed: return false
            case .full: await waitForCapacity(for: records.count)
            }
        }
    }

    // MARK: Subscribers

    /// Committed records, in commit order, with their ids. A subscriber that falls `bufferedBatches` behind
    /// loses the oldest batches it has not read (the store still has them).
    public func committed(bufferedBatches: Int = 64) -> AsyncStream<[StoredRecord]> {
        let (stream, continuation) = AsyncStream.makeStream(of: [StoredRecord].self, bufferingPolicy: .bufferingNewest(bufferedBatches))
        let id = state.withLock { s in
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.subscribers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Lets a subscriber slow the writer down: before taking each batch the writer waits (up to
    /// `maxPacingWait`) while `busy` says so, and records pile up in the bounded queue meanwhile (senders are
    /// slowed as usual when it fills). For a subscriber that keeps up when given its share of the CPU — the rule
    /// engine — this costs less than letting it fall behind and read skipped batches back from the store. `busy`
    /// should say false when the subscriber is stuck rather than slow, so that ingest never waits on it for long.
    public func pace(while busy: @escaping @Sendable () -> Bool) -> PacingToken {
        state.withLock { s in
            let id = s.nextSubscriber
            s.nextSubscriber += 1
            s.pacers[id] = busy
            return PacingToken(id: id)
        }
    }

    public func stopPacing(_ token: PacingToken) {
        _ = state.withLock { $0.pacers.removeValue(forKey: token.id) }
    }

    public struct PacingToken: Sendable, Hashable { let id: Int }

    /// The longest the writer waits for pacing subscribers before one batch.
    static let maxPacingWait: Duration = .seconds(1)

    private func waitForPacers() async {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < Self.maxPacingWait {
            let (pacers, closing) = state.withLock { (Array($0.pacers.values), $0.closing) }
            if closing || !pacers.contains(where: { $0() }) { return }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    // MARK: Writer

    public func run() async throws {
        await withTaskCancellationOrGracefulShutdownHandler {
            await writeLoop()
        } onCancelOrGracefulShutdown: {
            self.beginClosing()
        }
        let subscribers = state.withLock { s in
            let all = Array(s.subscribers.values)
            s.subscribers.removeAll()
            return all
        }
        for s in subscribers { s.finish() }
    }

    /// Stops accepting records; the writer commits what is queued and `run` returns.
    public func beginClosing() {
        let (writer, waiters) = state.withLock { s in
            s.closing = true
            let w = s.writerWakeup
            s.writerWakeup = nil
            let waiters = s.capacityWaiters
            s.capacityWaiters.removeAll()
            return (w, waiters)
        }
        writer?.resume()
        for w in waiters { w.continuation.resume() }
    }

    private func writeLoop() async {
        while true {
            await waitForPacers()
            let batch = await nextBatch()
            guard let batch else { return }
            await commit(batch.records, acks: batch.acks)
        }
    }

    /// Up to `batchSize` records: waits for the first record, then up to `maxBatchDelay` for the batch to fill.
    /// Nil when closing and nothing is left.
    private func nextBatch() async -> (records: [LogRecord], acks: [Ack])? {
        // Wait until something is queued.
        while true {
            let (empty, closing) = state.withLock { ($0.queued == 0, $0.closing) }
            if !empty { break }
            if closing { return nil }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let (ready, stranded) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if s.queued > 0 || s.closing { return (true, []) }
                    s.writerWakeup = c
                    // `takeBatch` wakes producers by the room they will take; one that was woken and did not offer
                    // (its connection closed and handed its records to another waiter) leaves the rest waiting
                    // for a batch that will never come. The queue is empty: everyone fits.
                    let stranded = s.capacityWaiters.map(\.continuation)
                    s.capacityWaiters.removeAll()
                    return (false, stranded)
                }
                for w in stranded { w.resume() }
                if ready { c.resume() }
            }
        }
        // Give a partial batch a moment to fill, unless closing or a sender waits for its commit (an agent's
        // acknowledged batch is a batch already: holding it back only slows the agent down).
        let deadline = ContinuousClock.now + configuration.maxBatchDelay
        while ContinuousClock.now < deadline {
            let (full, closing) = state.withLock { ($0.queued >= configuration.batchSize || !$0.acks.isEmpty, $0.closing) }
            if full || closing { break }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return takeBatch()
    }

    private func takeBatch() -> (records: [LogRecord], acks: [Ack]) {
        let (batch, waiters, acks) = state.withLock { s -> ([LogRecord], [CheckedContinuation<Void, Never>], [Ack]) in
            var batch: [LogRecord] = []
            batch.reserveCapacity(min(s.queued, configuration.batchSize))
            while s.head < s.chunks.count, batch.count < configuration.batchSize {
                let chunk = s.chunks[s.head]
                let room = configuration.batchSize - batch.count
                if chunk.count <= room {
                    batch.append(contentsOf: chunk)
                    s.chunks[s.head] = []
                    s.head += 1
                } else {
                    batch.append(contentsOf: chunk[..<room])
                    s.chunks[s.head] = Array(chunk[room...])
                }
            }
            if s.head > 1024 || s.head == s.chunks.count {
                s.chunks.removeFirst(s.head)
                s.head = 0
            }
            s.queued -= batch.count
            s.takenTotal += Int64(batch.count)
            var acks: [Ack] = []
            if let first = s.acks.first, first.end <= s.takenTotal {
                let n = s.acks.firstIndex { $0.end > s.takenTotal } ?? s.acks.count
                acks = Array(s.acks[..<n])
                s.acks.removeFirst(n)
            }
            // Wake the producers whose records now fit, first come first served (none overtakes a bigger one).
            var waiters: [CheckedContinuation<Void, Never>] = []
            var queued = s.queued
            while let w = s.capacityWaiters.first, Self.fits(w.count, queued, configuration.queueCapacity) {
                queued += w.count
                waiters.append(w.continuation)
                s.capacityWaiters.removeFirst()
            }
            return (batch, waiters, acks)
        }
        for w in waiters { w.resume() }
        return (batch, acks)
    }

    private func commit(_ batch: [LogRecord], acks: [Ack]) async {
        let started = ContinuousClock.now
        var attempt = 0
        let marks = acks.compactMap(\.mark)
        while true {
            do {
                let ids = try await store.insert(batch, marks: marks)
                let elapsed = ContinuousClock.now - started
                var stored: [StoredRecord] = []
                if let ids {
                    stored.reserveCapacity(batch.count)
                    for (id, record) in zip(ids, batch) { stored.append(StoredRecord(id: id, record: record)) }
                }
                let subscribers = state.withLock { s in
                    s.counters.committed += Int64(batch.count)
                    s.counters.batches += 1
                    s.counters.lastBatchSize = batch.count
                    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                    s.counters.lastCommitSeconds = seconds
                    s.counters.commitSecondsSum += seconds
                    for (k, bound) in Counters.commitSecondsBounds.enumerated() where seconds <= bound {
                        s.counters.commitSecondsBuckets[k] += 1
                    }
                    return Array(s.subscribers.values)
                }
                for s in subscribers { s.yield(stored) }
                for a in acks { a.continuation.resume(returning: .committed) }
                return
            } catch {
                // The store is unavailable (disk full, locked): keep the batch and retry with backoff; the bounded
                // queue slows senders meanwhile instead of losing their records.
                attempt += 1
                let giveUp = state.withLock { s in
                    s.counters.failedBatches += 1
                    if s.closing && attempt >= 5 {
                        s.counters.lostAtShutdown += Int64(batch.count)
                        return true
                    }
                    return false
                }
                if giveUp {
                    for a in acks { a.continuation.resume(returning: .lost) }
                    return
                }
                try? await Task.sleep(for: .milliseconds(min(5_000, 50 << min(attempt, 7))))
            }
        }
    }
}
