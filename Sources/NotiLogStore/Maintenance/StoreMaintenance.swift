import NotiLogCore
import ServiceLifecycle
import Synchronization

/// The store's background work, in small steps so ingest never waits long for the writer: keeps the full-text
/// index up to date (`indexPending`) and applies the retention policy (`applyRetention`).
///
/// Each step is one short transaction; between steps the ingest pipeline's commits get the writer. Indexing loops
/// while there is work and sleeps `idleDelay` when there is none; retention runs every `retentionInterval`, step
/// after step until nothing more is due. A failing step is counted and retried after a pause: maintenance never
/// stops ingest, and never stops itself.
///
/// Ingest comes first: while the ingest pipeline has a backlog (`ingestBacklog`), index steps wait — but never
/// longer than `maxIndexDeferral` between two steps, so the index keeps moving under sustained load. A burst is
/// committed at the store's full insert rate and indexed when it is over; meanwhile searches scan the tail.
///
/// As a `Service` it returns promptly on graceful shutdown or cancellation (a step in flight is abandoned; the
/// next start picks up where it stopped, and searches cover the not-yet-indexed tail meanwhile).
public final class StoreMaintenance: Service {
    public struct Configuration: Sendable, Hashable {
        /// Records indexed per step.
        public var indexBatchSize: Int
        /// Pause when the index is up to date.
        public var idleDelay: Duration
        public var retention: RetentionPolicy
        /// Time between retention runs (a run is as many steps as it takes).
        public var retentionInterval: Duration
        /// Records deleted per retention step.
        public var retentionBatchSize: Int
        /// First pause after a failed step; it doubles on each further failure, up to `maxFailureDelay`.
        public var failureDelay: Duration
        public var maxFailureDelay: Duration
        /// Longest wait for an index step while ingest has a backlog.
        public var maxIndexDeferral: Duration = .seconds(1)

        public init(
            indexBatchSize: Int = 5_000, idleDelay: Duration = .milliseconds(200), retention: RetentionPolicy = RetentionPolicy(),
            retentionInterval: Duration = .seconds(30), retentionBatchSize: Int = 10_000, failureDelay: Duration = .seconds(1),
            maxFailureDelay: Duration = .seconds(60)
        ) {
            self.indexBatchSize = indexBatchSize
            self.idleDelay = idleDelay
            self.retention = retention
            self.retentionInterval = retentionInterval
            self.retentionBatchSize = retentionBatchSize
            self.failureDelay = failureDelay
            self.maxFailureDelay = maxFailureDelay
        }
    }

    /// Running totals, for `/metrics` and `status`.
    public struct Counters: Sendable, Hashable {
        public var indexedRows: Int64 = 0
        public var indexSteps: Int64 = 0
        /// Index steps put off because ingest had a backlog.
        public var deferredIndexSteps: Int64 = 0
        public var deletedRows: Int64 = 0
        public var retentionSteps: Int64 = 0
        /// Retention runs that went until nothing more was due.
        public var retentionRuns: Int64 = 0
        public var failedSteps: Int64 = 0
        public var lastError: String?
        public var lastErrorAt: SyslogTimestamp?
    }

    /// What a failed step reports (to be logged by whoever owns a logger).
    public struct Failure: Sendable {
        public enum Step: String, Sendable {
            case index, retention
        }

        public var step: Step
        public var error: StoreError
        /// Failures in a row, this one included.
        public var consecutive: Int
    }

    public let configuration: Configuration
    private let store: any LogStore
    private let now: @Sendable () -> SyslogTimestamp
    private let onFailure: @Sendable (Failure) -> Void
    private let ingestBacklog: @Sendable () -> Bool
    private let state = Mutex(Counters())
    /// The policy set at run time (`PUT /api/v1/settings/retention`), in force over `configuration.retention`;
    /// `due` asks the work loop for a retention run at its next step.
    private let override = Mutex<(policy: RetentionPolicy?, due: Bool)>((nil, false))

    /// - Parameters:
    ///   - now: the clock retention measures age against.
    ///   - onFailure: called for each failed step (not for a step abandoned at shutdown).
    ///   - ingestBacklog: true while records wait for the writer (index steps then give way, see above).
    public init(
        store: any LogStore, configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> SyslogTimestamp = { .now() },
        onFailure: @escaping @Sendable (Failure) -> Void = { _ in },
        ingestBacklog: @escaping @Sendable () -> Bool = { false }
    ) {
        self.store = store
        self.configuration = configuration
        self.now = now
        self.onFailure = onFailure
        self.ingestBacklog = ingestBacklog
    }

    public var counters: Counters { state.withLock { $0 } }

    public func run() async throws {
        // The work runs in a child task that graceful shutdown cancels; sleeps and store calls then end at once.
        await cancelWhenGracefulShutdown {
            await self.workLoop()
        }
    }

    /// The retention policy in force: the one set at run time, else the configuration's.
    public var retention: RetentionPolicy { override.withLock { $0.policy } ?? configuration.retention }

    /// The policy set at run time, if any.
    public var retentionOverride: RetentionPolicy? { override.withLock { $0.policy } }

    /// Puts `policy` in force instead of the configuration's (nil: back to the configuration's), from the next
    /// step on, and starts a retention run then (no restart, no wait for `retentionInterval`).
    public func setRetentionOverride(_ policy: RetentionPolicy?) {
        override.withLock { $0 = (policy, true) }
    }

    private var retentionEnabled: Bool {
        let policy = retention
        return policy.maxAgeSeconds != nil || policy.maxBytes != nil
    }

    private func workLoop() async {
        let clock = ContinuousClock()
        var nextRetention = clock.now
        var retentionInProgress = false
        var consecutiveFailures = 0
        var lastIndexStep = clock.now
        // While ingest has a backlog, look again this often.
        let deferralPause = min(configuration.maxIndexDeferral / 10, .milliseconds(50))
        while !Task.isCancelled {
            var busy = false
            var failed = false

            let indexBatch = configuration.indexBatchSize
            if ingestBacklog(), clock.now < lastIndexStep + configuration.maxIndexDeferral {
                state.withLock { $0.deferredIndexSteps += 1 }
                do { try await Task.sleep(for: deferralPause) } catch { return }
                busy = true
            } else {
                lastIndexStep = clock.now
                switch await step(.index, { [store] () async throws(StoreError) -> Int in try await store.indexPending(maxRows: indexBatch) }) {
                case .done(let n):
                    state.withLock {
                        $0.indexedRows += Int64(n)
                        $0.indexSteps += 1
                    }
                    busy = n > 0
                case .failed(let failure):
                    consecutiveFailures += 1
                    record(failure, consecutive: consecutiveFailures)
                    failed = true
                case .cancelled:
                    return
                }
            }

            // A policy set at run time starts a run at once.
            if override.withLock({ o in defer { o.due = false }; return o.due }) { nextRetention = clock.now }
            // Retention runs even while indexing fails: a full disk is the worse outcome.
            if retentionEnabled, retentionInProgress || clock.now >= nextRetention {
                let (policy, now, batch) = (retention, self.now(), configuration.retentionBatchSize)
                switch await step(.retention, { [store] () async throws(StoreError) -> Int in
                    try await store.applyRetention(policy, now: now, maxRows: batch)
                }) {
                case .done(let n):
                    state.withLock {
                        $0.deletedRows += Int64(n)
                        $0.retentionSteps += 1
                        if n == 0 { $0.retentionRuns += 1 }
                    }
                    // Keep stepping while there is something to delete; then wait for the next run.
                    retentionInProgress = n > 0
                    if n == 0 { nextRetention = clock.now + configuration.retentionInterval }
                    busy = busy || n > 0
                case .failed(let failure):
                    consecutiveFailures += 1
                    record(failure, consecutive: consecutiveFailures)
                    failed = true
                case .cancelled:
                    return
                }
            }

            if failed {
                let factor = 1 << min(consecutiveFailures - 1, 16)
                let delay = min(configuration.failureDelay * factor, configuration.maxFailureDelay)
                do { try await Task.sleep(for: delay) } catch { return }
                continue
            }
            consecutiveFailures = 0
            if !busy {
                do { try await Task.sleep(for: configuration.idleDelay) } catch { return }
            }
        }
    }

    private enum StepResult {
        case done(Int)
        case failed(Failure)
        case cancelled
    }

    private func step(_ kind: Failure.Step, _ body: @Sendable () async throws(StoreError) -> Int) async -> StepResult {
        do {
            let n = try await body()
            return Task.isCancelled ? .cancelled : .done(n)
        } catch {
            // A step interrupted by shutdown is not a failure of the store.
            if Task.isCancelled { return .cancelled }
            return .failed(Failure(step: kind, error: error, consecutive: 0))
        }
    }

    private func record(_ failure: Failure, consecutive: Int) {
        var failure = failure
        failure.consecutive = consecutive
        let at = now()
        state.withLock {
            $0.failedSteps += 1
            $0.lastError = "\(failure.step.rawValue): \(failure.error)"
            $0.lastErrorAt = at
        }
        onFailure(failure)
    }
}
