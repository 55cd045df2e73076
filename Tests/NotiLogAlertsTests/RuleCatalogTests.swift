import Foundation
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogAlerts

/// Rules of every origin together: the files', the API's (stored), and enable/disable of any of them.
@Suite("Rule catalog: files and API together")
struct RuleCatalogTests {
    final class Rules: Sendable {
        private let rules: Mutex<[Rule]>
        init(_ rules: [Rule]) { self.rules = Mutex(rules) }
        var value: [Rule] {
            get { rules.withLock { $0 } }
            set { rules.withLock { $0 = newValue } }
        }
    }

    /// A catalog on a fresh store, with what it last applied to the engine.
    final class Fixture: Sendable {
        let dir = TemporaryDirectory()
        let store: SQLiteLogStore
        let applied = Rules([])
        let files: Rules
        let catalog: RuleCatalog

        init(fileRules: [Rule], channels: Set<String> = ["ops"]) throws {
            store = try SQLiteLogStore(directory: dir.path)
            files = Rules(fileRules)
            let (applied, files) = (self.applied, self.files)
            catalog = RuleCatalog(
                store: store, knownChannels: channels, fileRules: fileRules, loadFiles: { files.value },
                apply: { rules in applied.value = rules })
        }

        var appliedNames: [String] { applied.value.map { "\($0.name)\($0.enabled ? "" : " (disabled)")" } }
    }

    static let fileRule = """
        name: disk-errors
        kind: match
        query: '"I/O error"'
        """

    static func failure(_ code: RuleCatalog.Failure.Code, _ body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let failure as RuleCatalog.Failure {
            return failure.code == code ? failure.description : "wrong code: \(failure)"
        } catch {
            return "\(error)"
        }
    }

    @Test func apiRulesAreStoredAppliedAndListedWithTheirOrigin() async throws {
        let f = try Fixture(fileRules: [try rule(Self.fileRule)])
        try await f.catalog.refresh()
        #expect(f.appliedNames == ["disk-errors"])

        let created = try await f.catalog.create(
            definition: #"{"name": "ssh", "kind": "threshold", "query": "app:sshd \"Failed password\"", "threshold": 5, "window": "60s", "channels": ["ops"]}"#,
            by: "alice")
        #expect(created.rule.origin == .api && created.stored?.createdBy == "alice" && created.inForce)
        #expect(f.appliedNames == ["disk-errors", "ssh"])
        // Stored as canonical YAML, and read back from the store by a new catalog (a restart).
        #expect(created.stored?.definition.contains("threshold: 5") == true, "\(created.stored?.definition ?? "")")
        let again = RuleCatalog(store: f.store, knownChannels: ["ops"], fileRules: [try rule(Self.fileRule)], loadFiles: { [] }, apply: { _ in })
        let restored = try await again.refresh()
        #expect(restored.map(\.name) == ["disk-errors", "ssh"])
        #expect(restored[1] == created.rule)

        // A name already used (by a file or the API) is a conflict; so is deleting a file's rule.
        #expect(await Self.failure(.conflict) { _ = try await f.catalog.create(definition: Self.fileRule, by: "bob") } != nil)
        #expect(await Self.failure(.conflict) { _ = try await f.catalog.create(definition: "{name: ssh, kind: match, query: x}", by: "bob") } != nil)
        let fileDelete = await Self.failure(.conflict) { try await f.catalog.delete(name: "disk-errors") }
        #expect(fileDelete?.contains("edit the file") == true, "\(fileDelete ?? "")")
        #expect(await Self.failure(.notFound) { try await f.catalog.delete(name: "nope") } != nil)

        // Replace keeps the name and who created it.
        let replaced = try await f.catalog.replace(name: "ssh", definition: "{name: ssh, kind: match, query: 'app:sshd'}", by: "bob")
        #expect(replaced.rule.kind == .match && replaced.stored?.createdBy == "alice" && replaced.stored?.updatedBy == "bob")
        let renamed = await Self.failure(.invalid) { _ = try await f.catalog.replace(name: "ssh", definition: "{name: ssh2, kind: match, query: x}", by: "bob") }
        #expect(renamed?.contains("cannot be renamed") == true, "\(renamed ?? "")")

        try await f.catalog.delete(name: "ssh")
        #expect(f.appliedNames == ["disk-errors"])
        #expect(try await f.store.storedRules().isEmpty)
    }

    @Test func badDefinitionsNameTheFieldAndChangeNothing() async throws {
        let f = try Fixture(fileRules: [])
        try await f.catalog.refresh()
        let unknownKind = await Self.failure(.invalid) { _ = try await f.catalog.create(definition: "{name: x, kind: thresold, query: a}", by: "a") }
        #expect(unknownKind?.contains("kind") == true, "\(unknownKind ?? "")")
        let channel = await Self.failure(.invalid) { _ = try await f.catalog.create(definition: "{name: x, kind: match, query: a, channels: [pager]}", by: "a") }
        #expect(channel?.contains("unknown channel \"pager\"") == true, "\(channel ?? "")")
        let two = await Self.failure(.invalid) {
            _ = try await f.catalog.create(definition: "rules: [{name: a, kind: match, query: a}, {name: b, kind: match, query: b}]", by: "a")
        }
        #expect(two?.contains("one at a time") == true, "\(two ?? "")")
        #expect(await Self.failure(.invalid) { _ = try await f.catalog.create(definition: "{name: [", by: "a") } != nil)
        #expect(try await f.store.storedRules().isEmpty)
        #expect(f.appliedNames.isEmpty)
    }

    @Test func anyRuleCanBeDisabledAndStaysSoAcrossReloads() async throws {
        let f = try Fixture(fileRules: [try rule(Self.fileRule)])
        try await f.catalog.refresh()
        let disabled = try await f.catalog.setEnabled(name: "disk-errors", false, by: "alice")
        #expect(disabled.rule.enabled == false && disabled.toggle?.changedBy == "alice")
        #expect(f.appliedNames == ["disk-errors (disabled)"])
        try await f.catalog.reloadFiles()
        #expect(f.appliedNames == ["disk-errors (disabled)"])
        _ = try await f.catalog.setEnabled(name: "disk-errors", true, by: "alice")
        #expect(f.appliedNames == ["disk-errors"])
        #expect(await Self.failure(.notFound) { _ = try await f.catalog.setEnabled(name: "nope", false, by: "a") } != nil)
    }

    @Test func anAPIRuleShadowedByAFileIsKeptButNotEvaluated() async throws {
        let f = try Fixture(fileRules: [])
        try await f.catalog.refresh()
        _ = try await f.catalog.create(definition: Self.fileRule, by: "alice")
        // A file now defines the same name: the file's rule is in force, the API's is listed with the reason.
        f.files.value = [try rule(Self.fileRule.replacingOccurrences(of: "I/O error", with: "EIO"))]
        try await f.catalog.reloadFiles()
        let entries = await f.catalog.entries
        #expect(entries.count == 2)
        #expect(entries[0].inForce && entries[0].rule.origin == .file("test.yaml"))
        #expect(entries[1].problem?.contains("also used in test.yaml") == true, "\(entries[1].problem ?? "")")
        #expect(f.applied.value.map(\.query.text) == [#""EIO""#])
        // Still the API's to delete.
        try await f.catalog.delete(name: "disk-errors")
        #expect(await f.catalog.entries.count == 1)
    }

    @Test func aStoredRuleWhoseChannelIsGoneIsNotEvaluated() async throws {
        let f = try Fixture(fileRules: [], channels: ["ops"])
        try await f.catalog.refresh()
        _ = try await f.catalog.create(definition: "{name: x, kind: match, query: a, channels: [ops]}", by: "a")
        let later = RuleCatalog(store: f.store, knownChannels: [], fileRules: [], loadFiles: { [] }, apply: { _ in })
        #expect(try await later.refresh().isEmpty)
        #expect(await later.entries.first?.problem?.contains("unknown channel \"ops\"") == true)
    }

    // MARK: Definitions

    @Test(arguments: [
        "{name: a, kind: match, query: 'app:kernel \"Out of memory\"', group_by: [host], severity: critical, channels: [ops], repeat_interval: 1h}",
        "{name: b, kind: threshold, query: 'app:sshd \"Failed password\"', group_by: [host, sd.origin.ip], threshold: 5, window: 90s, for: 30s, throttle: {max: 3, per: 1h}}",
        "{name: c, kind: absence, query: 'app:cron \"backup done\"', group_by: [host], window: 1d, enabled: false}",
        "{name: d, kind: state, states: [crashed, restarting], max_restarts: 3, window: 10m}",
        "{name: e, kind: new_value, query: 'app:sshd Accepted', field: sd.sshd.user, group_by: [host], learn_for: 2h, resolve_after: 1m}",
        "{name: f, kind: match, query: 'message:\"a: b # c\" OR yes', description: \"quotes \\\" and: colons\\nnew line\"}",
        "{name: g, kind: new_value, field: host, severity: 'true'}",
    ])
    func definitionsReadBackAsTheSameRule(_ yaml: String) throws {
        let original = try rule(yaml)
        let text = original.definitionYAML
        var back = try rule(text)
        back.origin = original.origin
        #expect(back == original, "\(text)")
    }

    // MARK: Replay

    /// `10:01:03` for a whole second.
    static func label(_ t: SyslogTimestamp) -> String {
        RuleClock.label(t).replacingOccurrences(of: ".000000", with: "")
    }

    static func replayStore(_ records: [LogRecord]) async throws -> (TemporaryDirectory, SQLiteLogStore) {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(records)
        return (dir, store)
    }

    @Test func replayShowsWhenAThresholdRuleWouldHaveFiredAndResolved() async throws {
        // Two bursts from web-1 (5 within a minute each, the first straddling a minute boundary), noise between.
        var records: [LogRecord] = []
        for s in [55, 57, 59, 61, 63] { records.append(logRecord(at: RuleClock.plus("10:00:00", Int64(s)))) }
        records.append(logRecord(at: "10:05:00", app: "nginx", message: "GET / 200"))
        records.append(logRecord(at: "10:06:00"))  // one alone: not enough
        for s in 0..<6 { records.append(logRecord(at: RuleClock.plus("11:00:00", Int64(s)), host: "web-2")) }
        let (dir, store) = try await Self.replayStore(records)
        _ = dir
        let r = try rule(
            "{name: ssh, kind: threshold, query: 'app:sshd \"Failed password\"', group_by: [host], threshold: 5, window: 60s, resolve_after: 5m}")
        let result = try await RuleReplay.run(rule: r, store: store, from: RuleClock.at("09:00:00"), to: RuleClock.at("12:00:00"))
        #expect(result.records == 12 && !result.truncated)
        let log = result.events.map { "\(Self.label($0.at)) \($0.transition.rawValue) \($0.group.map { $0.value ?? "-" }.joined()) \($0.count)" }
        #expect(
            log == [
                "10:01:03 firing web-1 5",
                // Quiet for resolve_after after the last match (10:06:00).
                "10:11:00 resolved web-1 6",
                "11:00:04 firing web-2 5",
                "11:05:05 resolved web-2 6",
            ], "\(log)")
        #expect(result.fired == 2 && result.resolved == 2 && result.openAtEnd.isEmpty)
        #expect(result.events.filter { $0.transition == .firing }.allSatisfy { $0.notification == "send" })
    }

    @Test func replayRunsAbsenceOnTheReplayedClock() async throws {
        // A heartbeat every minute from 10:00 to 10:10, none until 10:40, then none again.
        var records: [LogRecord] = []
        for m in 0...10 { records.append(logRecord(at: RuleClock.plus("10:00:00", Int64(m * 60)), app: "cron", message: "backup done")) }
        records.append(logRecord(at: "10:40:00", app: "cron", message: "backup done"))
        let (dir, store) = try await Self.replayStore(records)
        _ = dir
        let r = try rule("{name: backup, kind: absence, query: 'app:cron \"backup done\"', group_by: [host], window: 15m}")
        let result = try await RuleReplay.run(rule: r, store: store, from: RuleClock.at("09:55:00"), to: RuleClock.at("11:00:00"))
        let log = result.events.map { "\(Self.label($0.at)) \($0.transition.rawValue)" }
        // Quiet again after 10:40: it fires again at 10:55 and is still open at the end.
        #expect(log == ["10:25:00 firing", "10:40:00 resolved", "10:55:00 firing"], "\(log)")
        #expect(result.openAtEnd.map(\.pending) == [false])
    }

    @Test func replayOfMoreRecordsThanTheCapCoversTheNewest() async throws {
        let records = (0..<50).map { logRecord(at: RuleClock.plus("10:00:00", Int64($0)), message: "Failed password #\($0)") }
        let (dir, store) = try await Self.replayStore(records)
        _ = dir
        let r = try rule("{name: m, kind: match, query: 'app:sshd'}")
        let result = try await RuleReplay.run(rule: r, store: store, from: RuleClock.at("09:00:00"), to: RuleClock.at("11:00:00"), maxRecords: 20)
        #expect(result.records == 20 && result.truncated)
        #expect(result.from.nanosecondsSinceEpoch == RuleClock.at(RuleClock.plus("10:00:00", 30)).nanosecondsSinceEpoch)
        #expect(result.events.first?.transition == .firing && result.events.first?.count == 1)
    }
}
