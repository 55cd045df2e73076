import Foundation
import Logging
import NotiLogCore
import NotiLogStore
import ServiceLifecycle
import Synchronization

/// Runs the rules on the stream of committed records and writes what they decide: alert changes, their
/// notifications (the outbox) and the engine's state, in one transaction per step.
///
/// None missed: the engine's state carries the id of the last record it processed. On start it reads what was
/// committed since (a restart, a crash) from the store; when the committed stream skips ids (this subscriber fell
/// behind), the gap is read from the store too. A record is processed once: ids at or below the mark are
/// skipped. Time-driven rules (absence, `for:`, reminders, resolution) run on a tick every second.
///
/// On the first start there is no mark: rules begin with the records committed from then on.
public final class AlertingService: Service {
    public struct Configuration: Sendable {
        /// Engine ticks (absence, pending, reminders, resolution).
        public var tickInterval: Duration = .seconds(1)
        /// The engine's state is saved at least this often while records flow.
        public var saveInterval: Duration = .seconds(5)
        /// Alert changes that notify are written (with their outbox rows and the engine's state) at most this long
        /// after the engine made them: under load, changes of many batches share one write instead of the engine
        /// state being encoded for every batch (it was 29 % of the server's CPU with 200 rules). When a write takes
        /// long (a large state), the next waits four times as long as it took, up to a second: writing then costs
        /// at most a fifth of the engine's time.
        public var commitDelay: Duration = .milliseconds(250)
        /// Records read from the store per step while catching up.
        public var catchUpBatch = 5_000
        /// The web UI's address, for links to an alert's records (`public_url`).
        public var publicURL: String?

        public init(publicURL: String? = nil) {
            self.publicURL = publicURL
        }
    }

    /// Running totals for `/metrics` and `status`.
    public struct Counters: Sendable, Hashable {
        public var processedRecords: Int64 = 0
        public var caughtUpRecords: Int64 = 0
        public var alertChanges: Int64 = 0
        public var notificationsQueued: Int64 = 0
        public var failedCommits: Int64 = 0
        public var processedUpTo: Int64 = 0
    }

    private enum Event: Sendable {
        case records([StoredRecord])
        case tick
        /// Writes transitions held back by `commitDelay` when no records come to do it.
        case flush
        case rules([Rule])
        case silences([Silence])
    }

    public let configuration: Configuration
    private let store: any LogStore & AlertStore
    private let pipeline: IngestPipeline
    private let delivery: DeliveryWorker?
    private let now: @Sendable () -> SyslogTimestamp
    private let logger: Logger
    private let events: AsyncStream<Event>
    private let input: AsyncStream<Event>.Continuation
    private let state: Mutex<(counters: Counters, rules: [Rule])>
    /// Record batches handed to the engine and not yet processed.
    private let queuedBatches = Atomic<Int>(0)
    static let maxQueuedBatches = 16
    /// When the engine last finished a batch (nanoseconds of `ContinuousClock` since the service started).
    private let lastProgress = Atomic<Int64>(0)
    private let startInstant = ContinuousClock.now

    public init(
        rules: [Rule], store: any LogStore & AlertStore, pipeline: IngestPipeline, delivery: DeliveryWorker?,
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "notilog.alerts"),
        now: @escaping @Sendable () -> SyslogTimestamp = { .now() }
    ) {
        self.store = store
        self.pipeline = pipeline
        self.delivery = delivery
        self.configuration = configuration
        self.logger = logger
        self.now = now
        state = Mutex((Counters(), rules))
        (events, input) = AsyncStream.makeStream(of: Event.self)
    }

    public var counters: Counters { state.withLock { $0.counters } }
    /// The rules in force.
    public var rules: [Rule] { state.withLock { $0.rules } }

    /// Replaces the rules (a reload): alerts of unchanged rules carry on; those of removed rules resolve.
    public func reload(rules: [Rule]) {
        state.withLock { $0.rules = rules }
        input.yield(.rules(rules))
    }

    /// Replaces the silences in force.
    public func update(silences: [Silence]) {
        input.yield(.silences(silences))
    }

    public func run() async throws {
        // Subscribe before catching up, so nothing committed meanwhile is missed (duplicates are skipped by id).
        // Short buffers: when the engine falls behind, batches are dropped and read back from the store (the gap
        // check in `process`) instead of piling up in memory (unbounded, they held 1.1 GB with 200 rules at
        // 100,000 records/s).
        let committed = pipeline.committed(bufferedBatches: 16)
        // Half its queue waiting: the ingest writer waits for the engine (both share the CPU; reading skipped
        // batches back from the store cost as much as evaluating them) — unless the engine has finished nothing
        // for a second, stuck rather than slow, when batches beyond the queue are skipped and read back later.
        let pacing = pipeline.pace { [self] in
            guard queuedBatches.load(ordering: .relaxed) >= Self.maxQueuedBatches / 2 else { return false }
            return sinceStart() - lastProgress.load(ordering: .relaxed) < 1_000_000_000
        }
        defer { pipeline.stopPacing(pacing) }
        let input = self.input
        let tickInterval = configuration.tickInterval
        let forward = Task { [self] in
            for await batch in committed {
                // At most `maxQueuedBatches` wait for the engine; later ones are dropped here and read back from
                // the store when the engine gets to them (the gap check in `process`), so memory stays bounded.
                guard queuedBatches.wrappingAdd(1, ordering: .relaxed).newValue <= Self.maxQueuedBatches else {
                    queuedBatches.wrappingSubtract(1, ordering: .relaxed)
                    continue
                }
                input.yield(.records(batch))
            }
        }
        let commitDelay = configuration.commitDelay
        let ticker = Task {
            var sinceTick = Duration.zero
            while !Task.isCancelled {
                let step = min(commitDelay, tickInterval)
                try? await Task.sleep(for: step)
                sinceTick += step
                if sinceTick >= tickInterval {
                    sinceTick = .zero
                    input.yield(.tick)
                } else {
                    input.yield(.flush)
                }
            }
        }
        defer {
            forward.cancel()
            ticker.cancel()
        }
        await cancelWhenGracefulShutdown {
            await self.process()
        }
    }

    /// The engine as saved (or a new one on the first start) and the last record id it has seen. A store that
    /// cannot be read is retried with backoff: the service never ends on its own (that would stop the server).
    private func start() async -> (AlertEngine, Int64)? {
        var failures = 0
        while !Task.isCancelled {
            do {
                let rules = self.rules
                var engine: AlertEngine
                let processedUpTo: Int64
                if let saved = try await store.engineState() {
                    let state: EngineState? = try? await EngineState.decode(saved.state) { ids in try await self.storedRecords(ids) }
                    if state == nil { logger.error("the saved rule engine state cannot be read; rules start afresh") }
                    engine = AlertEngine(rules: rules, state: state)
                    processedUpTo = saved.processedUpTo
                } else {
                    engine = AlertEngine(rules: rules)
                    processedUpTo = try await store.figures().newestID
                }
                let silences = try await store.silences(includeExpired: false, at: now())
                engine.set(silences: silences.compactMap(Silence.init(row:)), now: now())
                return (engine, processedUpTo)
            } catch {
                failures += 1
                if failures == 1 || failures % 10 == 0 {
                    logger.error("cannot start the rule engine; retrying", metadata: ["error": "\(error)", "attempts": "\(failures)"])
                }
                do { try await Task.sleep(for: .seconds(min(30, 1 << min(failures, 5)))) } catch { return nil }
            }
        }
        return nil
    }

    private func process() async {
        guard var (engine, processedUpTo) = await start() else { return }
        engine.defersUpdates = true
        var lastSave = ContinuousClock.now
        /// The latest write of transitions (with the engine's state); `lastSave` also wrote the held updates.
        var lastCommit = ContinuousClock.now
        var dirty = false
        /// Transitions not yet written, in the order made (at most `commitDelay` old).
        var pendingTransitions: [AlertChange] = []
        var commitSpacing = configuration.commitDelay
        // Catch up with what was committed while the engine was not running.
        while !Task.isCancelled {
            guard let missed = try? await store.records(after: processedUpTo, limit: configuration.catchUpBatch), !missed.isEmpty else { break }
            let changes = engine.process(missed, now: now())
            processedUpTo = missed.last!.id
            state.withLock { $0.counters.caughtUpRecords += Int64(missed.count) }
            await commit(changes, engine, processedUpTo)
        }
        state.withLock { $0.counters.processedUpTo = processedUpTo }

        for await event in events {
            if Task.isCancelled { break }
            var changes: [AlertChange] = []
            switch event {
            case .records(var batch):
                defer {
                    queuedBatches.wrappingSubtract(1, ordering: .relaxed)
                    lastProgress.store(sinceStart(), ordering: .relaxed)
                }
                guard let first = batch.first?.id, let last = batch.last?.id, last > processedUpTo else { continue }
                if first > processedUpTo + 1 {
                    // This subscriber fell behind and the stream dropped batches: read the gap from the store.
                    _ = try? await store.readBack(after: processedUpTo, before: first, chunk: configuration.catchUpBatch) { gap in
                        changes += engine.process(gap, now: now())
                        state.withLock { $0.counters.caughtUpRecords += Int64(gap.count) }
                    }
                }
                // The batch is shared with the stream's other subscribers: changing it copies every record.
                if first <= processedUpTo { batch.removeAll { $0.id <= processedUpTo } }
                changes += engine.process(batch, now: now())
                processedUpTo = last
                dirty = true
                state.withLock {
                    $0.counters.processedRecords += Int64(batch.count)
                    $0.counters.processedUpTo = last
                }
            case .tick:
                changes = engine.tick(now: now())
            case .flush:
                changes = []
            case .rules(let rules):
                changes = engine.update(rules: rules, now: now())
                dirty = true
            case .silences(let silences):
                engine.set(silences: silences, now: now())
            }
            // A firing alert's updates (count, last seen, samples) are kept back and written with the next save
            // (`saveInterval`): with thousands of alerts firing, rewriting their rows (and encoding their detail)
            // with every commit of transitions cost more than the engine. Transitions that notify or change an
            // alert's state are written within `commitDelay`, with the engine's state. (After a crash, an alert's
            // row can show an older count until its next change: the saved state has already counted the records.)
            pendingTransitions += changes
            dirty = dirty || engine.hasDeferredUpdates || !pendingTransitions.isEmpty
            let clock = ContinuousClock.now
            let save = dirty && clock - lastSave >= configuration.saveInterval
            if save || (!pendingTransitions.isEmpty && clock - lastCommit >= commitSpacing) {
                // Transitions first: an alert's update is never older than its transitions.
                await commit(save ? pendingTransitions + engine.takeUpdates() : pendingTransitions, engine, processedUpTo)
                let done = ContinuousClock.now
                commitSpacing = max(configuration.commitDelay, min((done - clock) * 4, .seconds(1)))
                pendingTransitions.removeAll(keepingCapacity: true)
                lastCommit = done
                if save {
                    lastSave = done
                    dirty = false
                } else {
                    dirty = engine.hasDeferredUpdates
                }
            }
        }
        // Stopping: keep the latest state (records processed since the last save would otherwise be read again).
        // A graceful shutdown cancelled this task, and a cancelled task's writes are refused: the last one runs in
        // a task of its own.
        if dirty {
            let changes = pendingTransitions + engine.takeUpdates()
            await Task { [engine, processedUpTo] in await self.commit(changes, engine, processedUpTo) }.value
        }
    }

    /// Writes the changes, their notifications and the engine state in one transaction. When that fails, the
    /// changes are lost from memory but not from the engine's point of view; the next commit carries a state that
    /// has moved on, so a failed commit is retried with its changes a few times before giving up loudly.
    private func commit(_ changes: [AlertChange], _ engine: AlertEngine, _ processedUpTo: Int64) async {
        let noticeEncoder = JSONEncoder()
        let rows = changes.map { rowChange($0, noticeEncoder: noticeEncoder) }
        let snapshot = engine.snapshot.compactJSON()
        let queued = changes.reduce(0) { n, c in
            if case .send(let channels, _) = c.notify { return n + channels.count }
            return n
        }
        for attempt in 1...5 {
            do {
                _ = try await store.commitAlerts(rows, engineState: EngineStateRow(state: snapshot, processedUpTo: processedUpTo), at: now())
                state.withLock {
                    $0.counters.alertChanges += Int64(changes.count)
                    $0.counters.notificationsQueued += Int64(queued)
                }
                if queued > 0 { delivery?.wake() }
                return
            } catch {
                state.withLock { $0.counters.failedCommits += 1 }
                logger.error("cannot commit alert changes", metadata: ["error": "\(error)", "attempt": "\(attempt)"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
    }

    private func sinceStart() -> Int64 {
        let d = ContinuousClock.now - startInstant
        return d.components.seconds * 1_000_000_000 + d.components.attoseconds / 1_000_000_000
    }

    /// The records a saved snapshot names (its alerts' samples), those still stored.
    private func storedRecords(_ ids: [Int64]) async throws -> [StoredRecord] {
        var found: [StoredRecord] = []
        found.reserveCapacity(ids.count)
        for id in ids {
            if let r = try await store.record(id: id) { found.append(r) }
        }
        return found
    }

    private func rowChange(_ change: AlertChange, noticeEncoder: JSONEncoder) -> AlertRowChange {
        let alert = change.alert
        let rowState: AlertRowState
        switch change.transition {
        case .pending: rowState = .pending
        case .firing, .updated, .reminder: rowState = .firing
        case .resolved: rowState = .resolved
        case .cancelled: rowState = .cancelled
        }
        let searchURL = configuration.publicURL.map { base in Self.searchURL(base: base, alert: alert) }
        // The API shows an alert's detail as it is stored: the notice in snake_case.
        let detail = String(decoding: alert.notice(alertID: 0, state: change.noticeState ?? .firing, searchURL: searchURL).detailJSON(), as: UTF8.self)
        return AlertRowChange(
            rule: change.key.rule, groupKey: change.key.groupKey, state: rowState, count: alert.count, startedAt: alert.startedAt,
            resolvedAt: alert.resolvedAt, detail: detail,
            notices: { id in
                change.notices(alertID: id, searchURL: searchURL).compactMap { channel, notice in
                    guard let json = try? noticeEncoder.encode(notice) else { return nil }
                    return OutboxEntry(
                        channel: channel, idempotencyKey: notice.idempotencyKey(channel: channel), notice: String(decoding: json, as: UTF8.self))
                }
            })
    }

    /// The web UI's search for the alert's rule query, from a little before the alert started.
    static func searchURL(base: String, alert: AlertSnapshot) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+#")
        let since = SyslogTimestamp(seconds: alert.startedAt.seconds - 300, fractionDigits: 0).description
        let query = alert.searchQuery.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        return "\(trimmed)/search?q=\(query)&since=\(since)"
    }
}
