import Foundation
import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// The snapshot, through JSON, into a new engine: it goes on as if nothing happened.
struct RuleRestartTests {
    static let ssh = """
        name: ssh
        kind: threshold
        query: app:sshd "Failed password"
        group_by: [host]
        threshold: 5
        window: 60s
        channels: [ops]
        """

    @Test func thresholdWindowSpansARestart() throws {
        let r = try rule(Self.ssh)
        var h = RuleHarness(r)
        for t in ["10:00:00", "10:00:05", "10:00:10"] { h.send(logRecord(at: t)) }
        try h.restart(rules: [r])
        h.send(logRecord(at: "10:00:15"))
        h.send(logRecord(at: "10:00:20"))
        #expect(h.log == ["10:00:20 firing ssh{host=web-1} send"])
        #expect(h.transitions.first?.alert.count == 5)
    }

    @Test func firingAlertStaysFiringAndResolvesLater() throws {
        let r = try rule(Self.ssh + "\nrepeat_interval: 2m")
        var h = RuleHarness(r)
        for t in 0..<5 { h.send(logRecord(at: "10:00:0\(t)")) }
        h.tick(from: "10:00:05", through: "10:01:00")
        let before = try #require(h.transitions.first)
        try h.restart(rules: [r])
        // More records update the same alert; the reminder and the resolution come on time and are told.
        let more = h.send(logRecord(at: "10:01:00"))
        #expect(more.map(\.transition) == [.updated])
        #expect(more.first?.alert.serial == before.alert.serial)
        #expect(more.first?.alert.count == 6)
        h.tick(from: "10:01:01", through: "10:07:00")
        #expect(
            h.log == [
                "10:00:04 firing ssh{host=web-1} send", "10:02:04 reminder ssh{host=web-1} send", "10:04:04 reminder ssh{host=web-1} send",
                "10:06:00 resolved ssh{host=web-1} send",
            ])
        #expect(h.transitions.last?.alert.serial == before.alert.serial)
        #expect(h.transitions.last?.alert.samples.map(\.id) == [3, 4, 5, 6])
    }

    @Test func absenceTimerContinues() throws {
        let r = try rule("name: silent\nkind: absence\ngroup_by: [host]\nwindow: 5m")
        var h = RuleHarness(r)
        h.send(logRecord(at: "10:00:00"))
        h.tick(from: "10:00:01", through: "10:02:00")
        try h.restart(rules: [r])
        h.tick(from: "10:02:00", through: "10:06:00")
        #expect(h.log == ["10:05:00 firing silent{host=web-1} send"])
    }

    /// Records cannot arrive while the server is down: the outage does not count as quiet time.
    @Test func outageDoesNotCountAsQuiet() throws {
        let silent = try rule("name: silent\nkind: absence\ngroup_by: [host]\nwindow: 5m")
        let oom = try rule("name: oom\nkind: match\nquery: java\nresolve_after: 5m")
        var h = RuleHarness([silent, oom])
        h.send(logRecord(at: "10:00:00", message: "java"))
        h.tick(from: "10:00:01", through: "10:02:00")
        try h.restart(rules: [silent, oom])
        h.tick(from: "10:30:00", through: "10:34:00")
        #expect(h.log == ["10:00:00 firing oom{} send", "10:33:00 firing silent{host=web-1} send", "10:33:00 resolved oom{} send"])
    }

    @Test func seenValuesSurvive() throws {
        let r = try rule("name: new-host\nkind: new_value\nfield: host\nlearn_for: 1h")
        var h = RuleHarness(r)
        h.send(logRecord(at: "10:00:00", host: "web-1"))
        try h.restart(rules: [r])
        h.send(logRecord(at: "11:30:00", host: "web-1"))
        h.send(logRecord(at: "11:30:01", host: "web-2"))
        #expect(h.log == ["11:30:01 firing new-host{host=web-2} send"])
    }

    @Test func ruleRemovedWhileDownResolvesAtStart() throws {
        let r = try rule(Self.ssh)
        var h = RuleHarness(r)
        for t in 0..<5 { h.send(logRecord(at: "10:00:0\(t)")) }
        try h.restart(rules: [])
        h.tick("10:00:10")
        #expect(h.log == ["10:00:04 firing ssh{host=web-1} send", "10:00:10 resolved ssh{host=web-1} send"])
        #expect(h.transitions.last?.alert.resolution == "rule removed")
        #expect(h.transitions.last?.notify == .send(channels: ["ops"], suppressed: nil))
    }

    @Test func ruleChangedWhileDownStartsAfresh() throws {
        var r = try rule(Self.ssh)
        var h = RuleHarness(r)
        for t in 0..<4 { h.send(logRecord(at: "10:00:0\(t)")) }
        r.condition = .threshold(count: 6, window: .seconds(60))
        try h.restart(rules: [r])
        for t in 4..<9 { h.send(logRecord(at: "10:00:0\(t)")) }
        #expect(h.log == [])
        h.send(logRecord(at: "10:00:09"))
        #expect(h.log == ["10:00:09 firing ssh{host=web-1} send"])
    }

    @Test func snapshotOfAnotherVersionIsIgnored() throws {
        let r = try rule(Self.ssh)
        var h = RuleHarness(r)
        for t in 0..<5 { h.send(logRecord(at: "10:00:0\(t)")) }
        var state = h.engine.snapshot
        #expect(state.openAlertCount == 1)
        state.version = 99
        var fresh = RuleHarness([r], state: state)
        #expect(fresh.engine.openAlerts.isEmpty)
        fresh.send(logRecord(at: "10:00:05"))
        #expect(fresh.log == [])
    }

    /// The snapshot keeps alerts' records whole enough for silences' queries after a restart.
    @Test func keptRecordsRoundTrip() throws {
        let original = StoredRecord(
            id: 42,
            record: LogRecord(
                facility: .authpriv, severity: .warning, timestamp: RuleClock.at("10:00:00.123"), receivedAt: RuleClock.at("10:00:01"),
                hostname: "web-1", appName: "sshd", procID: "811", msgID: "AUTH",
                structuredData: [StructuredDataElement(id: "origin", parameters: [.init("ip", "10.0.0.9")])],
                message: "Failed password for \"root\"", source: "10.0.0.9:514", format: .rfc3164))
        let json = try JSONEncoder().encode(KeptRecord(original))
        let back = try JSONDecoder().decode(KeptRecord.self, from: json)
        #expect(back.stored == original)
    }
}
