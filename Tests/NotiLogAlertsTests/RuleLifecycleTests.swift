import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// What happens to alerts over time, whatever their kind: reminders, flapping and throttling, silences, reloads.
struct RuleLifecycleTests {
    static let oom = """
        name: oom
        kind: match
        query: app:kernel "Out of memory"
        group_by: [host]
        channels: [ops]
        """

    static func oomRecord(_ at: String, host: String = "web-1") -> LogRecord {
        logRecord(at: at, host: host, app: "kernel", message: "Out of memory: Killed process 1 (java)")
    }

    // MARK: Reminders

    @Test func remindersWhileFiring() throws {
        var h = RuleHarness(try rule(Self.oom + "\nrepeat_interval: 10m\nresolve_after: 30m"))
        h.send(Self.oomRecord("10:00:00"))
        h.tick(from: "10:00:01", through: "10:25:00")
        h.send(Self.oomRecord("10:25:00"))
        h.tick(from: "10:25:01", through: "10:56:00")
        #expect(
            h.log == [
                "10:00:00 firing oom{host=web-1} send", "10:10:00 reminder oom{host=web-1} send", "10:20:00 reminder oom{host=web-1} send",
                "10:30:00 reminder oom{host=web-1} send", "10:40:00 reminder oom{host=web-1} send", "10:50:00 reminder oom{host=web-1} send",
                "10:55:00 resolved oom{host=web-1} send",
            ])
        let reminders = h.transitions.filter { $0.transition == .reminder }
        #expect(reminders.map(\.alert.reminderNumber) == [1, 2, 3, 4, 5])
        #expect(reminders.allSatisfy { $0.alert.serial == h.transitions[0].alert.serial })
        // AlertNotice counts the reminders before this one, so the outbox keys stay distinct.
        let notices = reminders.map { $0.alert.notice(alertID: 9, state: .reminder, searchURL: nil) }
        #expect(notices.map(\.reminderNumber) == [0, 1, 2, 3, 4])
        #expect(Set(notices.map { $0.idempotencyKey(channel: "ops") }).count == 5)
    }

    @Test func aLateTickSendsOneReminder() throws {
        var h = RuleHarness(try rule(Self.oom + "\nrepeat_interval: 1m\nresolve_after: 1h"))
        h.send(Self.oomRecord("10:00:00"))
        h.tick("10:05:30")
        h.tick(from: "10:05:31", through: "10:06:30")
        #expect(h.log == ["10:00:00 firing oom{host=web-1} send", "10:05:30 reminder oom{host=web-1} send", "10:06:00 reminder oom{host=web-1} send"])
    }

    @Test func acknowledgedAlertsStopReminding() throws {
        var h = RuleHarness(try rule(Self.oom + "\nrepeat_interval: 10m\nresolve_after: 30m"))
        h.send(Self.oomRecord("10:00:00"))
        h.tick(from: "10:00:01", through: "10:15:00")
        let acknowledged = h.engine.acknowledge(AlertKey(rule: "oom", group: [.init(field: "host", value: "web-1")]))
        let unknown = h.engine.acknowledge(AlertKey(rule: "oom", group: [.init(field: "host", value: "web-2")]))
        #expect(acknowledged && !unknown)
        h.tick(from: "10:15:01", through: "10:31:00")
        #expect(h.log == ["10:00:00 firing oom{host=web-1} send", "10:10:00 reminder oom{host=web-1} send", "10:30:00 resolved oom{host=web-1} send"])
        #expect(h.transitions.last?.alert.acknowledged == true)
    }

    // MARK: Flapping and throttle

    /// A rule that fires and resolves over and over gets a new alert each time; the throttle lets two firing
    /// notices a hour through, the held-back ones resolve unheard, and the next notice counts them.
    @Test func flappingIsThrottledAndSummarised() throws {
        var h = RuleHarness(try rule(Self.oom + "\nresolve_after: 1m\nthrottle: {max: 2, per: 1h}"))
        for minute in stride(from: 0, to: 10, by: 2) {
            h.send(Self.oomRecord("10:0\(minute):00"))
            h.tick(from: "10:0\(minute):01", through: "10:0\(minute + 1):30")
        }
        h.send(Self.oomRecord("11:00:30"))
        let key = "oom{host=web-1}"
        #expect(
            h.log == [
                "10:00:00 firing \(key) send", "10:01:00 resolved \(key) send", "10:02:00 firing \(key) send", "10:03:00 resolved \(key) send",
                "10:04:00 firing \(key) throttled", "10:05:00 resolved \(key) throttled", "10:06:00 firing \(key) throttled",
                "10:07:00 resolved \(key) throttled", "10:08:00 firing \(key) throttled", "10:09:00 resolved \(key) throttled",
                #"11:00:30 firing \#(key) send +3 ["web-1"]"#,
            ])
        let serials = h.transitions.filter { $0.transition == .firing }.map(\.alert.serial)
        #expect(Set(serials).count == 6)
    }

    @Test func suppressedSummaryNamesTheTopHosts() throws {
        var h = RuleHarness(try rule("name: oom\nkind: match\nquery: '\"Out of memory\"'\nresolve_after: 10s\nthrottle: {max: 1, per: 1h}\nchannels: [ops]"))
        var t: Int64 = 0
        for host in ["a", "b", "b", "c", "c", "c", "d", "e", "f", "g"] + ["first"] {
            let at = RuleClock.plus("10:00:00", t)
            h.send(Self.oomRecord(at, host: host))
            h.tick(RuleClock.plus(at, 20))
            t += 60
        }
        h.send(Self.oomRecord("11:30:00", host: "z"))
        let last = try #require(h.transitions.last)
        #expect(last.transition == .firing)
        #expect(last.notify == .send(channels: ["ops"], suppressed: AlertNotice.Suppressed(count: 10, topHosts: ["c", "b", "d", "e", "f"])))
        #expect(
            last.notices(alertID: 3, searchURL: nil).first?.notice.suppressed == AlertNotice.Suppressed(count: 10, topHosts: ["c", "b", "d", "e", "f"]))
    }

    // MARK: Silences

    static func silence(_ id: Int64, _ matchers: [Silence.Matcher], from: String = "09:00:00", until: String = "12:00:00") -> Silence {
        Silence(id: id, matchers: matchers, startsAt: RuleClock.at(from), endsAt: RuleClock.at(until), comment: "maintenance", createdBy: "ops")
    }

    struct SilenceCase: Sendable, CustomTestStringConvertible {
        var name: String
        var silences: [Silence]
        /// The delivery of web-1's and web-2's firing changes.
        var expected: [String]
        var testDescription: String { name }
    }

    static let silenceCases: [SilenceCase] = [
        SilenceCase(name: "none", silences: [], expected: [" send", " send"]),
        SilenceCase(name: "by_rule", silences: [silence(7, [.rule("oom")])], expected: [" silenced(7)", " silenced(7)"]),
        SilenceCase(name: "other_rule", silences: [silence(7, [.rule("disk")])], expected: [" send", " send"]),
        SilenceCase(
            name: "by_group_value_case_insensitive", silences: [silence(8, [.group(field: "host", value: "WEB-1")])],
            expected: [" silenced(8)", " send"]),
        SilenceCase(
            name: "rule_and_group_both_hold", silences: [silence(8, [.rule("oom"), .group(field: "host", value: "web-2")])],
            expected: [" send", " silenced(8)"]),
        SilenceCase(
            name: "by_query_on_the_latest_record", silences: [silence(9, [.query(try! QueryParser.parse("host:web-2 java"))])],
            expected: [" send", " silenced(9)"]),
        SilenceCase(name: "expired", silences: [silence(7, [.rule("oom")], from: "08:00:00", until: "09:00:00")], expected: [" send", " send"]),
        SilenceCase(name: "not_yet_started", silences: [silence(7, [.rule("oom")], from: "11:00:00")], expected: [" send", " send"]),
        SilenceCase(name: "no_matchers_match_nothing", silences: [silence(7, [])], expected: [" send", " send"]),
    ]

    @Test(arguments: silenceCases)
    func silences(_ c: SilenceCase) throws {
        var h = RuleHarness(try rule(Self.oom))
        h.engine.set(silences: c.silences, now: RuleClock.at("10:00:00"))
        let out = h.send([Self.oomRecord("10:00:00", host: "web-1"), Self.oomRecord("10:00:00", host: "web-2")])
        #expect(out.map(\.transition) == [.firing, .firing])
        #expect(out.map { RuleHarness.describe($0.notify) } == c.expected)
    }

    /// A silenced alert is recorded but not told; when the silence ends and it still fires, it is told then.
    @Test func silenceEndingWhileFiringTellsItThen() throws {
        var h = RuleHarness(try rule(Self.oom + "\nresolve_after: 1h"))
        h.engine.set(silences: [Self.silence(5, [.rule("oom")], until: "10:10:00")], now: RuleClock.at("10:00:00"))
        h.send(Self.oomRecord("10:00:00"))
        h.tick(from: "10:00:01", through: "10:11:00")
        #expect(h.log == ["10:00:00 firing oom{host=web-1} silenced(5)", "10:10:00 firing oom{host=web-1} send"])
        #expect(h.transitions.map(\.alert.serial) == [1, 1])
    }

    @Test func silencedAlertResolvesSilently() throws {
        var h = RuleHarness(try rule(Self.oom))
        h.engine.set(silences: [Self.silence(5, [.rule("oom")])], now: RuleClock.at("10:00:00"))
        h.send(Self.oomRecord("10:00:00"))
        h.tick(from: "10:00:01", through: "10:05:00")
        #expect(h.log == ["10:00:00 firing oom{host=web-1} silenced(5)", "10:05:00 resolved oom{host=web-1} silenced(5)"])
    }

    /// Told it fired, told it resolved — unless a silence now covers it.
    @Test func silenceAddedWhileFiringMutesTheRest() throws {
        var h = RuleHarness(try rule(Self.oom + "\nrepeat_interval: 2m"))
        h.send(Self.oomRecord("10:00:00"))
        h.tick(from: "10:00:01", through: "10:02:00")
        h.engine.set(silences: [Self.silence(6, [.group(field: "host", value: "web-1")])], now: RuleClock.at("10:02:30"))
        h.tick(from: "10:02:31", through: "10:05:00")
        #expect(
            h.log == [
                "10:00:00 firing oom{host=web-1} send", "10:02:00 reminder oom{host=web-1} send", "10:04:00 reminder oom{host=web-1} silenced(6)",
                "10:05:00 resolved oom{host=web-1} silenced(6)",
            ])
    }

    @Test func silenceRowsRoundTrip() throws {
        let s = Self.silence(
            12, [.rule("oom"), .group(field: "host", value: "web-1"), .query(try QueryParser.parse(#"app:kernel "Out of memory""#))])
        #expect(s.matchersJSON == #"[{"rule":"oom"},{"field":"host","value":"web-1"},{"query":"app:kernel \"Out of memory\""}]"#)
        let row = SilenceRow(
            id: 12, matchers: s.matchersJSON, startsAt: s.startsAt, endsAt: s.endsAt, comment: s.comment, createdBy: s.createdBy,
            createdAt: s.startsAt)
        #expect(Silence(row: row) == s)
        var broken = row
        broken.matchers = #"[{"query":"app:(kernel"}]"#
        #expect(Silence(row: broken) == nil)
    }

    // MARK: Reloads

    @Test func reloadKeepsUnchangedRulesAndClosesTheRest() throws {
        let oom = try rule(Self.oom + "\nresolve_after: 10m")
        let disk = try rule("name: disk\nkind: match\nquery: '\"I/O error\"'\nchannels: [ops]\nresolve_after: 10m")
        let silent = try rule("name: silent\nkind: absence\nquery: app:cron\nwindow: 5m\nfor: 10m")
        var h = RuleHarness([oom, disk, silent])
        h.tick("10:00:00")
        h.send([Self.oomRecord("10:00:01"), logRecord(at: "10:00:01", app: "kernel", message: "blk_update_request: I/O error")])
        h.tick(from: "10:00:02", through: "10:05:00")
        #expect(h.log == ["10:00:01 firing oom{host=web-1} send", "10:00:01 firing disk{} send", "10:05:00 pending silent{}"])

        // oom: new channels, same evaluation → keeps its alert and resolves on the new channels.
        var oom2 = oom
        oom2.channels = ["mail"]
        // disk: a changed query → its alert closes. silent: gone → its pending alert is cancelled.
        var disk2 = disk
        disk2.query = try QueryParser.parse(#""I/O error" -loop0"#)
        let changes = h.engine.update(rules: [oom2, disk2], now: RuleClock.at("10:05:30"))
        h.note(changes, RuleClock.at("10:05:30"))
        h.tick(from: "10:05:31", through: "10:11:00")
        #expect(
            h.log.suffix(3) == [
                "10:05:30 resolved disk{} send", "10:05:30 cancelled silent{}", "10:10:01 resolved oom{host=web-1} send",
            ])
        #expect(changes.map(\.alert.resolution) == ["rule changed", "rule removed"])
        #expect(h.transitions.last?.notify == .send(channels: ["mail"], suppressed: nil))
        #expect(h.engine.rules.map(\.name) == ["oom", "disk"])

        var disabled = oom2
        disabled.enabled = false
        h.send(Self.oomRecord("10:11:30"))
        let off = h.engine.update(rules: [disabled, disk2], now: RuleClock.at("10:12:00"))
        #expect(off.map(\.transition) == [.resolved])
        #expect(off.first?.alert.resolution == "rule disabled")
        #expect(h.engine.rules.map(\.name) == ["disk"])
    }

    @Test func changesOfOneRecordFollowRuleOrder() throws {
        let rules = try RuleSet.load(
            yaml: """
                rules:
                  - {name: z-last-name, kind: match, query: 'java'}
                  - {name: a-first-name, kind: match, query: 'app:kernel'}
                """, origin: .api)
        var h = RuleHarness(rules)
        h.send(Self.oomRecord("10:00:00"))
        #expect(h.log == ["10:00:00 firing z-last-name{} send", "10:00:00 firing a-first-name{} send"])
        #expect(h.transitions.map(\.alert.serial) == [1, 2])
    }
}

/// `defersUpdates` (the alerting service): updates are collected, one per alert, until asked for.
struct DeferredUpdatesTests {
    @Test func oneUpdatePerAlertWithItsLatestCount() throws {
        var h = RuleHarness(try rule(RuleLifecycleTests.oom + "\nresolve_after: 5m"))
        h.engine.defersUpdates = true
        h.send(RuleLifecycleTests.oomRecord("10:00:00"))
        h.send(RuleLifecycleTests.oomRecord("10:00:00", host: "web-2"))
        for s in 1...3 {
            // Steps return transitions only.
            let out = h.send([RuleLifecycleTests.oomRecord("10:00:0\(s)"), RuleLifecycleTests.oomRecord("10:00:0\(s)", host: "web-2")])
            #expect(out.isEmpty)
        }
        #expect(h.engine.hasDeferredUpdates)
        let updates = h.engine.takeUpdates()
        #expect(updates.map(\.transition) == [.updated, .updated])
        #expect(Set(updates.map(\.alert.count)) == [4])
        #expect(h.engine.takeUpdates().isEmpty)
        #expect(!h.engine.hasDeferredUpdates)
    }

    @Test func aTransitionCarriesTheUpdate() throws {
        var h = RuleHarness(try rule(RuleLifecycleTests.oom + "\nresolve_after: 1m"))
        h.engine.defersUpdates = true
        h.send(RuleLifecycleTests.oomRecord("10:00:00"))
        h.send(RuleLifecycleTests.oomRecord("10:00:10"))
        // Resolved (and gone) before the updates were asked for: nothing left to update.
        h.tick(from: "10:00:11", through: "10:01:20")
        #expect(h.log == ["10:00:00 firing oom{host=web-1} send", "10:01:10 resolved oom{host=web-1} send"])
        #expect(h.engine.takeUpdates().isEmpty)
    }

    @Test func aReloadReportsWhatWasDeferred() throws {
        let r = try rule(RuleLifecycleTests.oom + "\nresolve_after: 5m")
        var h = RuleHarness(r)
        h.engine.defersUpdates = true
        h.send(RuleLifecycleTests.oomRecord("10:00:00"))
        h.send(RuleLifecycleTests.oomRecord("10:00:01"))
        let other = try rule("name: other\nkind: match\nquery: app:cron")
        let out = h.engine.update(rules: [other, r], now: RuleClock.at("10:00:02"))
        #expect(out.map(\.transition) == [.updated])
        #expect(out.first?.alert.count == 2)
        #expect(!h.engine.hasDeferredUpdates)
    }
}
