import Foundation
import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// The alerting service writes the engine's snapshot and each alert's detail with `JSONWriter` (fast); the types'
/// `Codable` conformances, through `JSONEncoder`, are the reference: both must give the same JSON.
struct SnapshotJSONTests {
    static func object(_ bytes: some Sequence<UInt8>) throws -> NSObject {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? NSObject)
    }

    static let hostile = "a \"quoted\" \\ back\\slash, a tab\there, a\r\nCRLF, <b>&amp;</b> / é 🚨 \u{1} \u{202E}bidi"

    /// An engine with something in every part of its state: each kind, open alerts told every way (sent,
    /// throttled, silenced, pending), held hosts, windows, quiet groups, unit states, seen values, a missing host.
    static func busyEngine() throws -> RuleHarness {
        let rules = try RuleSet.load(
            yaml: """
                rules:
                - {name: m, kind: match, query: 'app:sshd Failed', group_by: [host], severity: critical, channels: [ops, mail],
                   description: 'SSH "brute" force', throttle: {max: 1, per: 1h}, repeat_interval: 10m}
                - {name: p, kind: match, query: 'app:sshd Failed', group_by: [host, app], for: 5m}
                - {name: t, kind: threshold, query: 'app:sshd Failed', group_by: [host], threshold: 3, window: 60s}
                - {name: a, kind: absence, query: 'app:cron', group_by: [host], window: 1m}
                - {name: a0, kind: absence, query: 'app:backup', window: 1m}
                - {name: s, kind: state, states: [crashed, restarting], max_restarts: 2, window: 10m}
                - {name: n, kind: new_value, query: 'app:sshd', field: host, learn_for: 0s}
                - {name: r, kind: match, query: 'app:kernel', group_by: [host], resolve_after: 30s, throttle: {max: 1, per: 1h}}
                """, origin: .api)
        var h = RuleHarness(rules)
        h.engine.set(
            silences: [
                Silence(
                    id: 41, matchers: [.rule("m"), .group(field: "host", value: "web-3")], startsAt: RuleClock.at("09:00:00"),
                    endsAt: RuleClock.at("12:00:00"), comment: "", createdBy: "ops")
            ], now: RuleClock.at("10:00:00"))
        h.tick("10:00:00")
        for (i, host) in ["web-1", "web-2", "web-3", Self.hostile].enumerated() {
            for k in 0..<4 {
                h.send(logRecord(at: "10:00:0\(k)", host: host, message: "Failed password \(i) \(k) \(Self.hostile)"))
            }
        }
        h.send(logRecord(at: "10:00:05", host: nil, message: "Failed password from nowhere"))
        h.send(logRecord(at: "10:00:06", host: "web-1", app: "cron", message: "job done"))
        let unit = [
            StructuredDataElement(
                id: "watch@32473", parameters: [.init("kind", "unit"), .init("name", "nginx.service"), .init("state", "restarting")])
        ]
        h.send(logRecord(at: "10:00:07", host: "db-1", app: "notilog-agent", message: "nginx restarting", sd: unit))
        // Fires, resolves, fires again: held back by the throttle.
        h.send(logRecord(at: "10:00:08", host: "web-9", app: "kernel", message: "Out of memory"))
        h.tick("10:01:00")
        h.send(logRecord(at: "10:01:10", host: "web-9", app: "kernel", message: "Out of memory"))
        h.tick("10:02:00")
        return h
    }

    @Test func compactSnapshotIsWhatJSONEncoderWrites() throws {
        let h = try Self.busyEngine()
        let state = h.engine.snapshot
        // The parts the writer has to get right are all there.
        #expect(state.openAlertCount > 8)
        let rules = state.rules
        #expect(rules.contains { !$0.throttles.isEmpty && $0.throttles.contains { !$0.value.hosts.isEmpty } })
        #expect(rules.contains { $0.alerts.contains { if case .silenced = $0.value.told { true } else { false } } })
        #expect(rules.contains { $0.alerts.contains { $0.value.phase == .pending } })
        #expect(rules.contains { !$0.windows.isEmpty } && rules.contains { !$0.services.isEmpty } && rules.contains { !$0.seen.isEmpty })
        #expect(rules.contains { $0.quiet.contains { $0.value.last != nil } })

        var reference = state
        reference.recordIDs = Array(Set(state.rules.flatMap(\.keptRecordIDs))).sorted()
        let encoder = JSONEncoder()
        encoder.userInfo[.keptRecordsByID] = true
        let expected = try Self.object(try encoder.encode(reference))
        let written = state.compactJSON()
        #expect(try Self.object(written) == expected)
        // And it reads back into an engine that writes the same again.
        let back = try EngineState.decode(written, records: h.stored)
        #expect(try Self.object(back.compactJSON()) == expected)
    }

    @Test func alertDetailIsWhatJSONEncoderWrites() throws {
        let h = try Self.busyEngine()
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var checked = 0
        for change in h.changes {
            for state in [AlertNotice.State.firing, .resolved] {
                let suppressed = checked % 3 == 0 ? AlertNotice.Suppressed(count: 47, topHosts: ["web-1", Self.hostile]) : nil
                let notice = change.alert.notice(alertID: Int64(checked), state: state, searchURL: checked % 2 == 0 ? "https://logs/search?q=a%20b" : nil, suppressed: suppressed)
                let written = notice.detailJSON()
                #expect(try Self.object(written) == Self.object(try encoder.encode(notice)))
                // Byte for byte, too: the keys sorted, nothing escaped that JSONEncoder leaves alone.
                #expect(String(decoding: written, as: UTF8.self) == String(decoding: try encoder.encode(notice), as: UTF8.self))
                checked += 1
            }
        }
        #expect(checked > 20)
    }
}
