import Foundation
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogAlerts

/// The delivery worker's decisions, round by round with an injected clock; the channels here are scripted
/// notifiers (the real ones are tested against their peers in the Notif* suites and end to end).
@Suite("Delivery worker: retries, backoff, fallback, pacing")
struct DeliveryWorkerTests {
    /// Answers each send with the next scripted outcome (then `.delivered`), and remembers what it was sent.
    final class ScriptedNotifier: Notifier, @unchecked Sendable {
        let channel: String
        let pacing: NotifierPacing?
        private let state: Mutex<(script: [DeliveryOutcome], sent: [String])>

        init(_ channel: String, pacing: NotifierPacing? = nil, _ script: [DeliveryOutcome] = []) {
            self.channel = channel
            self.pacing = pacing
            state = Mutex((script, []))
        }

        func send(_ notice: AlertNotice, idempotencyKey: String) -> DeliveryOutcome {
            state.withLock { s in
                s.sent.append(idempotencyKey)
                return s.script.isEmpty ? .delivered(detail: "ok") : s.script.removeFirst()
            }
        }

        var sent: [String] { state.withLock { $0.sent } }
    }

    final class Clock: Sendable {
        private let t = Mutex(SyslogTimestamp(seconds: 1_764_000_000, fractionDigits: 6))
        var now: SyslogTimestamp { t.withLock { $0 } }
        func advance(_ seconds: Double) {
            t.withLock { $0 = SyslogTimestamp(nanosecondsSinceEpoch: $0.nanosecondsSinceEpoch + Int64(seconds * 1e9), fractionDigits: 6) }
        }
    }

    static func notice(_ alert: Int64, _ state: AlertNotice.State = .firing) -> String {
        let n = AlertNotice(alertID: alert, rule: "r", state: state, startedAt: SyslogTimestamp(seconds: 1_764_000_000), summary: "s")
        return String(decoding: try! JSONEncoder().encode(n), as: UTF8.self)
    }

    static func queue(_ store: SQLiteLogStore, _ channel: String, _ key: String, at: SyslogTimestamp) async throws {
        _ = try await store.enqueueNotification(OutboxEntry(channel: channel, idempotencyKey: key, notice: notice(1)), alertID: nil, at: at)
    }

    @Test func retriesWithBackoffHonouringRetryAfterThenDeliversOnce() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let clock = Clock()
        let tg = ScriptedNotifier("tg", [.retry(after: .seconds(30), reason: "429"), .retry(after: nil, reason: "502")])
        let worker = DeliveryWorker(store: store, notifiers: ["tg": tg], now: { clock.now })
        try await Self.queue(store, "tg", "1:tg:firing", at: clock.now)

        #expect(await worker.round() == 1)  // 429: not before 30 s
        clock.advance(29)
        #expect(await worker.round() == 0)
        clock.advance(1)
        #expect(await worker.round() == 1)  // 502: backoff (2 s doubled once = 4 s)
        clock.advance(3)
        #expect(await worker.round() == 0)
        clock.advance(1)
        #expect(await worker.round() == 1)  // delivered
        clock.advance(3600)
        #expect(await worker.round() == 0)
        #expect(tg.sent == ["1:tg:firing", "1:tg:firing", "1:tg:firing"])
        let item = try #require(try await store.notifications(alertID: nil, limit: 10).first)
        #expect(item.state == .delivered)
        #expect(try await store.deliveryLog(outboxID: item.id).map(\.outcome) == [.retry, .retry, .delivered])
        #expect(worker.counters.delivered == 1 && worker.counters.retried == 2)
    }

    @Test func aFailingChannelTellsItsFallbackOnceAndKeepsTrying() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let clock = Clock()
        let down = (0..<20).map { _ in DeliveryOutcome.retry(after: nil, reason: "connection refused") }
        let tg = ScriptedNotifier("tg", down)
        let mail = ScriptedNotifier("mail")
        var configuration = DeliveryWorker.Configuration()
        configuration.fallbackAfterAttempts = 3
        let worker = DeliveryWorker(store: store, notifiers: ["tg": tg, "mail": mail], fallbacks: ["tg": "mail"], configuration: configuration, now: { clock.now })
        try await Self.queue(store, "tg", "1:tg:firing", at: clock.now)
        for _ in 0..<6 {
            _ = await worker.round()
            clock.advance(700)  // past the longest backoff
        }
        #expect(tg.sent.count == 6)
        #expect(mail.sent == ["fallback:1:tg:firing"])
        let primary = try #require(try await store.notifications(alertID: nil, limit: 10).first { $0.channel == "tg" })
        #expect(primary.state == .pending)
        #expect(primary.fallbackNotifiedAt != nil)
    }

    @Test func aPermanentErrorFailsAtOnceAndAnUnknownChannelToo() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let clock = Clock()
        let tg = ScriptedNotifier("tg", [.failed(reason: "400 chat not found")])
        let worker = DeliveryWorker(store: store, notifiers: ["tg": tg], now: { clock.now })
        try await Self.queue(store, "tg", "1:tg:firing", at: clock.now)
        try await Self.queue(store, "gone", "1:gone:firing", at: clock.now)
        #expect(await worker.round() == 2)
        clock.advance(3600)
        #expect(await worker.round() == 0)
        let items = try await store.notifications(alertID: nil, limit: 10)
        #expect(items.allSatisfy { $0.state == .failed })
        #expect(items.first { $0.channel == "gone" }?.lastError?.contains("no channel named") == true)
    }

    @Test func gaveUpAfterTheMaximumAge() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let clock = Clock()
        let tg = ScriptedNotifier("tg", (0..<1000).map { _ in .retry(after: nil, reason: "502") })
        let worker = DeliveryWorker(store: store, notifiers: ["tg": tg], now: { clock.now })
        try await Self.queue(store, "tg", "1:tg:firing", at: clock.now)
        for _ in 0..<200 {
            _ = await worker.round()
            clock.advance(601)
        }
        let item = try #require(try await store.notifications(alertID: nil, limit: 10).first)
        #expect(item.state == .failed)
        #expect(item.lastError?.hasPrefix("gave up after") == true)
    }

    @Test func oneChannelsNoticesGoInOrderAndAPacedDestinationWaits() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let clock = Clock()
        let tg = ScriptedNotifier("tg", pacing: NotifierPacing(key: "telegram:1", minimumInterval: .seconds(1)))
        let worker = DeliveryWorker(store: store, notifiers: ["tg": tg], now: { clock.now })
        for k in 1...3 { try await Self.queue(store, "tg", "\(k):tg:firing", at: clock.now) }
        #expect(await worker.round() == 1)
        #expect(await worker.round() == 0)  // the chat's second is not over
        clock.advance(1)
        #expect(await worker.round() == 1)
        clock.advance(1)
        #expect(await worker.round() == 1)
        #expect(tg.sent == ["1:tg:firing", "2:tg:firing", "3:tg:firing"])
    }
}
