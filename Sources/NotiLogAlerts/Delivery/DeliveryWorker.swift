import Dispatch
import Foundation
import Logging
import NotiLogCore
import NotiLogStore
import ServiceLifecycle
import Synchronization

/// Sends what the outbox holds, at least once, in order per channel.
///
/// Each round takes the oldest pending notification of every channel that is due (`AlertStore.dueNotifications`),
/// sends it through the channel's notifier on a thread of its own (libcurl blocks), and records the attempt:
/// delivered; retry with exponential backoff (never sooner than the service asked, Telegram's `retry_after`);
/// or failed for good (a permanent error, or still failing after `maxAge`). A channel that keeps failing has its
/// fallback channel told, once per notification, after `fallbackAfterAttempts` attempts or a permanent error.
/// Destinations with a pace (Telegram: one message per second per chat) are not sent to faster.
///
/// The outbox is the queue: a restart, a crash or an outage loses nothing, and the idempotency key of each
/// notification (alert, channel, state) lets receivers recognise a repeat after a crash mid-send.
public final class DeliveryWorker: Service {
    public struct Configuration: Sendable {
        /// Longest sleep between rounds when nothing wakes the worker.
        public var pollInterval: Duration = .seconds(1)
        /// First retry delay; doubles with each attempt up to `maxBackoff`.
        public var initialBackoff: Duration = .seconds(2)
        public var maxBackoff: Duration = .seconds(600)
        /// A notification still undelivered this long after it was queued is given up.
        public var maxAge: Duration = .seconds(86_400)
        /// Failed attempts after which the channel's fallback is told.
        public var fallbackAfterAttempts = 5
        /// Notifications sent at once (different channels).
        public var concurrency = 4

        public init() {}
    }

    /// Running totals for `/metrics`.
    public struct Counters: Sendable, Hashable {
        public var delivered: Int64 = 0
        public var retried: Int64 = 0
        public var failed: Int64 = 0
        public var fallbacks: Int64 = 0
    }

    public let configuration: Configuration
    private let store: any AlertStore
    private let notifiers: [String: any Notifier]
    private let fallbacks: [String: String]
    private let now: @Sendable () -> SyslogTimestamp
    private let logger: Logger
    private let woken = Atomic<Bool>(false)
    private let state = Mutex(State())

    private struct State {
        var counters = Counters()
        /// Pacing key → earliest next send.
        var nextSend: [String: SyslogTimestamp] = [:]
    }

    /// - Parameters:
    ///   - notifiers: by channel name.
    ///   - fallbacks: channel name → the channel told when it keeps failing.
    public init(
        store: any AlertStore, notifiers: [String: any Notifier], fallbacks: [String: String] = [:],
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "notilog.delivery"),
        now: @escaping @Sendable () -> SyslogTimestamp = { .now() }
    ) {
        self.store = store
        self.notifiers = notifiers
        self.fallbacks = fallbacks
        self.configuration = configuration
        self.logger = logger
        self.now = now
    }

    public var counters: Counters { state.withLock { $0.counters } }

    /// Something new is in the outbox: start a round now.
    public func wake() {
        woken.store(true, ordering: .releasing)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
    }

    private func loop() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            let sent = await round()
            if sent > 0 { continue }
            // Sleep until woken or the poll interval passes (a flag looked at every 20 ms: cheap, and nothing to
            // cancel or leak).
            let until = clock.now + configuration.pollInterval
            while !woken.exchange(false, ordering: .acquiringAndReleasing), clock.now < until {
                do { try await Task.sleep(for: .milliseconds(20)) } catch { return }
            }
        }
    }

    /// One round: every channel's oldest due notification. Returns how many were attempted.
    func round() async -> Int {
        let at = now()
        let due: [OutboxItem]
        do {
            due = try await store.dueNotifications(at: at, limit: 64)
        } catch {
            logger.error("cannot read the outbox", metadata: ["error": "\(error)"])
            return 0
        }
        let ready = due.filter { item in
            guard let pacing = notifiers[item.channel]?.pacing else { return true }
            return state.withLock { ($0.nextSend[pacing.key] ?? at) <= at }
        }
        guard !ready.isEmpty else { return 0 }
        var attempted = 0
        // Channels in parallel (each blocks a thread for one request), at most `concurrency` at once.
        for chunk in stride(from: 0, to: ready.count, by: max(1, configuration.concurrency)).map({ Array(ready[$0..<min($0 + configuration.concurrency, ready.count)]) }) {
            await withTaskGroup(of: Void.self) { group in
                for item in chunk {
                    group.addTask { await self.deliver(item) }
                }
            }
            attempted += chunk.count
        }
        return attempted
    }

    private func deliver(_ item: OutboxItem) async {
        guard let notifier = notifiers[item.channel] else {
            await record(DeliveryAttempt(outboxID: item.id, at: now(), outcome: .failed, detail: "no channel named \"\(item.channel)\" is configured"), item)
            return
        }
        guard let notice = try? JSONDecoder().decode(AlertNotice.self, from: Data(item.notice.utf8)) else {
            await record(DeliveryAttempt(outboxID: item.id, at: now(), outcome: .failed, detail: "the stored notice cannot be read"), item)
            return
        }
        if let pacing = notifier.pacing {
            let next = SyslogTimestamp(nanosecondsSinceEpoch: now().nanosecondsSinceEpoch + Self.nanoseconds(pacing.minimumInterval), fractionDigits: 6)
            state.withLock { $0.nextSend[pacing.key] = next }
        }
        let outcome = await Self.onThread { notifier.send(notice, idempotencyKey: item.idempotencyKey) }
        let at = now()
        var attempt: DeliveryAttempt
        switch outcome {
        case .delivered(let detail):
            attempt = DeliveryAttempt(outboxID: item.id, at: at, outcome: .delivered, detail: detail)
        case .retry(let after, let reason):
            let age = at.nanosecondsSinceEpoch - item.createdAt.nanosecondsSinceEpoch
            if age >= Self.nanoseconds(configuration.maxAge) {
                attempt = DeliveryAttempt(outboxID: item.id, at: at, outcome: .failed, detail: "gave up after \(item.attempts + 1) attempts: \(reason)")
            } else {
                let backoff = min(configuration.initialBackoff * (1 << min(item.attempts, 20)), configuration.maxBackoff)
                let wait = max(backoff, after ?? .zero)
                let retryAt = SyslogTimestamp(nanosecondsSinceEpoch: at.nanosecondsSinceEpoch + Self.nanoseconds(wait), fractionDigits: 6)
                attempt = DeliveryAttempt(outboxID: item.id, at: at, outcome: .retry, detail: reason, retryAt: retryAt)
                if let pacing = notifier.pacing, let after {
                    // The service asked the whole destination to wait (Telegram 429).
                    let until = SyslogTimestamp(nanosecondsSinceEpoch: at.nanosecondsSinceEpoch + Self.nanoseconds(after), fractionDigits: 6)
                    state.withLock { $0.nextSend[pacing.key] = max($0.nextSend[pacing.key] ?? until, until) }
                }
            }
        case .failed(let reason):
            attempt = DeliveryAttempt(outboxID: item.id, at: at, outcome: .failed, detail: reason)
        }
        if attempt.outcome != .delivered, item.fallbackNotifiedAt == nil, let fallback = fallbacks[item.channel],
            attempt.outcome == .failed || item.attempts + 1 >= configuration.fallbackAfterAttempts
        {
            attempt.fallbackNotified = await tellFallback(fallback, about: item, notice: notice, reason: attempt.detail, at: at)
        }
        await record(attempt, item)
    }

    /// Queues the notice for the fallback channel, saying which channel could not deliver it and why.
    private func tellFallback(_ fallback: String, about item: OutboxItem, notice: AlertNotice, reason: String, at: SyslogTimestamp) async -> Bool {
        var copy = notice
        copy.summary = "Channel \(item.channel) could not deliver this (\(reason)). " + notice.summary
        guard let json = try? JSONEncoder().encode(copy) else { return false }
        let entry = OutboxEntry(channel: fallback, idempotencyKey: "fallback:" + item.idempotencyKey, notice: String(decoding: json, as: UTF8.self))
        do {
            _ = try await store.enqueueNotification(entry, alertID: item.alertID, at: at)
            state.withLock { $0.counters.fallbacks += 1 }
            logger.warning("channel failing; fallback told", metadata: ["channel": "\(item.channel)", "fallback": "\(fallback)", "reason": "\(reason)"])
            wake()
            return true
        } catch {
            logger.error("cannot queue the fallback notice", metadata: ["channel": "\(fallback)", "error": "\(error)"])
            return false
        }
    }

    private func record(_ attempt: DeliveryAttempt, _ item: OutboxItem) async {
        state.withLock {
            switch attempt.outcome {
            case .delivered: $0.counters.delivered += 1
            case .retry: $0.counters.retried += 1
            case .failed: $0.counters.failed += 1
            }
        }
        if attempt.outcome != .delivered {
            logger.notice(
                "notification not delivered",
                metadata: ["channel": "\(item.channel)", "outcome": "\(attempt.outcome.rawValue)", "detail": "\(attempt.detail)"])
        }
        do {
            try await store.recordAttempt(attempt)
        } catch {
            // The attempt is not on record: the notification stays due and is sent again (at least once).
            logger.error("cannot record a delivery attempt", metadata: ["error": "\(error)"])
        }
    }

    /// Runs a blocking call on a thread outside the cooperative pool.
    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: body()) }
        }
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, attos) = d.components
        return s * 1_000_000_000 + attos / 1_000_000_000
    }
}
