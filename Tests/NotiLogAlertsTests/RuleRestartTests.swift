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

/// The compact snapshot the alerting service saves: kept records by id, windows packed.
struct CompactSnapshotTests {
    static let ssh = """
        name: ssh
        kind: threshold
        query: app:sshd "Failed password"
        group_by: [host]
        threshold: 3
        window: 60s
        """

    @Test func packedIntegersRoundTrip() {
        let cases: [[Int64]] = [[], [0], [1, 2, 3], [5, 3, -7, .max, .min, 0], (0..<300).map { 1_764_000_000_000_000_000 + $0 * 1_000_003 }]
        for values in cases {
            #expect(PackedIntegers.decode(PackedIntegers.encode(values)) == values)
        }
        #expect(PackedIntegers.decode("not base64!") == nil)
        // A varint cut in the middle.
        #expect(PackedIntegers.decode(Data([0x80]).base64EncodedString()) == nil)
    }

    @Test func alertSamplesComeBackFromTheStore() throws {
        var h = RuleHarness(try rule(Self.ssh))
        for t in 0..<5 { h.send(logRecord(at: "10:00:0\(t)", host: "web-1")) }
        let before = h.engine.snapshot
        let json = before.compactJSON()
        // Kept records are named by id: no message text in the snapshot.
        #expect(!String(decoding: json, as: UTF8.self).contains("for root from"))
        let back = try EngineState.decode(json, records: h.stored)
        let alert = try #require(back.rules[0].alerts.first?.value)
        let original = try #require(before.rules[0].alerts.first?.value)
        #expect(alert.firstSamples == original.firstSamples)
        #expect(alert.latest.map(\.stored) == original.latest.map(\.stored))
        #expect(back.rules[0].windows.first?.value.times == before.rules[0].windows.first?.value.times)
    }

    @Test func recordsNoLongerStoredAreLeftOut() throws {
        var h = RuleHarness(try rule(Self.ssh))
        for t in 0..<5 { h.send(logRecord(at: "10:00:0\(t)", host: "web-1")) }
        let json = h.engine.snapshot.compactJSON()
        // Retention removed the first two records.
        let back = try EngineState.decode(json, records: Array(h.stored.dropFirst(2)))
        let alert = try #require(back.rules[0].alerts.first?.value)
        #expect(alert.firstSamples.compactMap(\.id) == [3])
        #expect(alert.latest.map(\.stored.id) == [4, 5])
        // The engine goes on from it: the alert is still firing and takes the next record.
        var restarted = RuleHarness([try rule(Self.ssh)], state: back)
        restarted.nextID = 6
        let out = restarted.send(logRecord(at: "10:00:06", host: "web-1"))
        #expect(out.map(\.transition) == [.updated])
    }

    /// Snapshots written before the compact form (plain JSON, windows as arrays) are still read.
    @Test func plainSnapshotsAreStillRead() throws {
        var h = RuleHarness(try rule(Self.ssh))
        for t in 0..<5 { h.send(logRecord(at: "10:00:0\(t)", host: "web-1")) }
        var plain = try JSONSerialization.jsonObject(with: JSONEncoder().encode(h.engine.snapshot)) as! [String: Any]
        // The old window format: arrays of numbers.
        var rules = plain["rules"] as! [[String: Any]]
        var windows = rules[0]["windows"] as! [[String: Any]]
        var value = windows[0]["value"] as! [String: Any]
        value["times"] = PackedIntegers.decode(value.removeValue(forKey: "t") as! String)
        value["arrivals"] = PackedIntegers.decode(value.removeValue(forKey: "a") as! String)
        windows[0]["value"] = value
        rules[0]["windows"] = windows
        plain["rules"] = rules
        let old = try JSONSerialization.data(withJSONObject: plain)
        let back = try EngineState.decode(Array(old), records: [])
        #expect(back.openAlertCount == 1)
        #expect(back.rules[0].windows.first?.value.times == h.engine.snapshot.rules[0].windows.first?.value.times)
        #expect(back.rules[0].alerts.first?.value.latest.count == 2)
    }
}
