import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogStore

@Suite("Alert store: alerts, outbox, engine state, silences")
struct AlertStoreTests {
    static let t0 = SyslogTimestamp(seconds: 1_764_000_000)

    static func at(_ seconds: Int64) -> SyslogTimestamp { SyslogTimestamp(seconds: t0.seconds + seconds, fractionDigits: 6) }

    static func change(
        _ rule: String, _ group: String, _ state: AlertRowState, count: Int = 1, started: Int64 = 0, channels: [String] = ["tg"]
    ) -> AlertRowChange {
        AlertRowChange(
            rule: rule, groupKey: group, state: state, count: count, startedAt: at(started),
            resolvedAt: state == .resolved ? at(started + 60) : nil, detail: "{\"count\":\(count)}",
            notices: { id in channels.map { OutboxEntry(channel: $0, idempotencyKey: "\(id):\($0):\(state.rawValue)", notice: "{\"alert\":\(id)}") } })
    }

    @Test func anOpenAlertIsUpdatedAndANewOneStartsAfterItResolved() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let state = EngineStateRow(state: Array("s1".utf8), processedUpTo: 10)
        let first = try await store.commitAlerts([Self.change("oom", "host=a", .firing)], engineState: state, at: Self.at(1))
        let again = try await store.commitAlerts([Self.change("oom", "host=a", .firing, count: 5)], engineState: state, at: Self.at(2))
        #expect(first == again)
        let other = try await store.commitAlerts([Self.change("oom", "host=b", .firing)], engineState: state, at: Self.at(3))
        #expect(other != first)
        _ = try await store.commitAlerts([Self.change("oom", "host=a", .resolved, count: 5)], engineState: state, at: Self.at(4))
        let next = try await store.commitAlerts([Self.change("oom", "host=a", .firing)], engineState: state, at: Self.at(5))
        #expect(next != first)

        let open = try await store.alerts(AlertFilter(states: AlertFilter.open))
        #expect(Set(open.map(\.groupKey)) == ["host=a", "host=b"])
        let closed = try await store.alerts(AlertFilter(states: AlertFilter.closed))
        #expect(closed.map(\.id) == [first[0]] && closed.allSatisfy { $0.state == .resolved })
        #expect(try await store.alerts(AlertFilter()).count == 3)
        #expect(try await store.alerts(AlertFilter(states: [.resolved])).map(\.id) == [first[0]])
        #expect(try await store.alerts(AlertFilter(states: [.cancelled])).isEmpty)
        let resolved = try #require(try await store.alert(id: first[0]))
        #expect(resolved.state == .resolved)
        #expect(resolved.count == 5)
        #expect(resolved.resolvedAt == Self.at(60))
        let acked = try #require(try await store.acknowledgeAlert(id: next[0], by: "ops", at: Self.at(6)))
        #expect(acked.acknowledgedBy == "ops")
        #expect(try await store.acknowledgeAlert(id: 999, by: "ops", at: Self.at(6)) == nil)
    }

    @Test func engineStateCommitsWithTheChanges() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        #expect(try await store.engineState() == nil)
        _ = try await store.commitAlerts([], engineState: EngineStateRow(state: [1, 2, 3], processedUpTo: 42), at: Self.at(1))
        #expect(try await store.engineState() == EngineStateRow(state: [1, 2, 3], processedUpTo: 42))
        _ = try await store.commitAlerts([Self.change("r", "g", .firing)], engineState: EngineStateRow(state: [9], processedUpTo: 43), at: Self.at(2))
        // Reopened: the state is on disk.
        let reopened = try SQLiteLogStore(directory: dir.path)
        #expect(try await reopened.engineState() == EngineStateRow(state: [9], processedUpTo: 43))
        #expect(try await reopened.alerts(AlertFilter()).count == 1)
    }

    @Test func theOutboxIsIdempotentOrderedPerChannelAndLogsEveryAttempt() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let state = EngineStateRow(state: [], processedUpTo: 0)
        let ids = try await store.commitAlerts(
            [Self.change("r", "a", .firing, channels: ["tg", "mail"]), Self.change("r", "b", .firing, channels: ["tg"])],
            engineState: state, at: Self.at(0))
        // The same notice again (a replay after a restart) is not queued twice.
        _ = try await store.commitAlerts([Self.change("r", "a", .firing, channels: ["tg", "mail"])], engineState: state, at: Self.at(1))
        #expect(try await store.notifications(alertID: nil, limit: 100).count == 3)
        #expect(
            try await store.enqueueNotification(OutboxEntry(channel: "tg", idempotencyKey: "\(ids[0]):tg:firing", notice: "{}"), alertID: ids[0], at: Self.at(1))
                == false)

        // One due item per channel: the oldest.
        var due = try await store.dueNotifications(at: Self.at(1), limit: 10)
        #expect(due.count == 2)
        let tgFirst = try #require(due.first { $0.channel == "tg" })
        #expect(tgFirst.alertID == ids[0])
        // tg backs off: its second notice waits behind the first, mail is unaffected.
        try await store.recordAttempt(DeliveryAttempt(outboxID: tgFirst.id, at: Self.at(1), outcome: .retry, detail: "429", retryAt: Self.at(30)))
        due = try await store.dueNotifications(at: Self.at(2), limit: 10)
        #expect(due.map(\.channel) == ["mail"])
        try await store.recordAttempt(DeliveryAttempt(outboxID: due[0].id, at: Self.at(2), outcome: .delivered, detail: "250 OK"))
        #expect(try await store.dueNotifications(at: Self.at(3), limit: 10).isEmpty)
        // Due again after the backoff; delivered; then the next tg notice.
        due = try await store.dueNotifications(at: Self.at(30), limit: 10)
        #expect(due.map(\.id) == [tgFirst.id])
        try await store.recordAttempt(DeliveryAttempt(outboxID: tgFirst.id, at: Self.at(30), outcome: .delivered, detail: "message 7"))
        due = try await store.dueNotifications(at: Self.at(31), limit: 10)
        #expect(due.map(\.alertID) == [ids[1]])
        try await store.recordAttempt(
            DeliveryAttempt(outboxID: due[0].id, at: Self.at(31), outcome: .failed, detail: "400 chat not found", fallbackNotified: true))
        #expect(try await store.dueNotifications(at: Self.at(99), limit: 10).isEmpty)

        let log = try await store.deliveryLog(outboxID: tgFirst.id)
        #expect(log.map(\.outcome) == [.retry, .delivered])
        let failed = try #require(try await store.notifications(alertID: ids[1], limit: 10).first)
        #expect(failed.state == .failed)
        #expect(failed.lastError == "400 chat not found")
        #expect(failed.fallbackNotifiedAt == Self.at(31))
        #expect(failed.attempts == 1)
    }

    @Test func silencesExpire() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let s = try await store.addSilence(
            SilenceRow(matchers: "{\"rule\":\"oom\"}", startsAt: Self.at(0), endsAt: Self.at(3600), comment: "maintenance", createdBy: "ops", createdAt: Self.at(0)))
        #expect(try await store.silences(includeExpired: false, at: Self.at(10)).map(\.id) == [s.id])
        let ended = try #require(try await store.expireSilence(id: s.id, at: Self.at(20)))
        #expect(ended.endsAt == Self.at(20))
        #expect(try await store.silences(includeExpired: false, at: Self.at(30)).isEmpty)
        #expect(try await store.silences(includeExpired: true, at: Self.at(30)).count == 1)
        #expect(try await store.expireSilence(id: 999, at: Self.at(20)) == nil)
    }

    @Test func recordsAfterAnIDComeOldestFirst() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let records = (0..<10).map { LogRecord(receivedAt: Self.at(Int64($0)), hostname: "h", message: "m\($0)") }
        let ids = try #require(try await store.insert(records))
        let after = try await store.records(after: ids.lowerBound + 2, limit: 4)
        #expect(after.map(\.id) == Array(ids.lowerBound + 3...ids.lowerBound + 6))
        #expect(after.first?.record.message == "m3")
    }
}
