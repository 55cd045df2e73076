import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// `match`: every matching record raises or updates its group's alert; quiet for `resolve_after` resolves it.
struct RuleMatchTests {
    static let oom = """
        name: oom
        kind: match
        query: '"Out of memory"'
        channels: [ops]
        """
    static let oomByHost = oom + "\ngroup_by: [host]"
    static let killed = "Out of memory: Killed process 4242 (java)"

    static let scenarios: [RuleScenario] = [
        RuleScenario(
            "fires_once_updates_quietly_resolves_when_quiet", oom,
            [.log(line("10:00:00", app: "kernel", killed)), .log(line("10:01:00", app: "kernel", killed)), .ticks("10:00:01", "10:07:00")],
            ["10:00:00 firing oom{} send", "10:06:00 resolved oom{} send"]),
        RuleScenario(
            "records_that_do_not_match_do_nothing", oom,
            [.log(line("10:00:00", app: "kernel", "Out of office")), .ticks("10:00:01", "10:06:00")], []),
        RuleScenario(
            "one_alert_per_group", oomByHost,
            [
                .log(line("10:00:00", host: "web-1", app: "kernel", killed)), .log(line("10:00:10", host: "web-2", app: "kernel", killed)),
                .log(line("10:00:20", host: "web-1", app: "kernel", killed)), .ticks("10:00:21", "10:06:00"),
            ],
            [
                "10:00:00 firing oom{host=web-1} send", "10:00:10 firing oom{host=web-2} send", "10:05:10 resolved oom{host=web-2} send",
                "10:05:20 resolved oom{host=web-1} send",
            ]),
        RuleScenario(
            "a_record_after_resolution_is_a_new_alert", oom + "\nresolve_after: 30s",
            [.log(line("10:00:00", app: "kernel", killed)), .ticks("10:00:01", "10:00:40"), .log(line("10:00:45", app: "kernel", killed))],
            ["10:00:00 firing oom{} send", "10:00:30 resolved oom{} send", "10:00:45 firing oom{} send"]),
        RuleScenario(
            "for_delays_firing_while_records_keep_it_up", oom + "\nfor: 2m",
            [.log(line("10:00:00", app: "kernel", killed)), .ticks("10:00:01", "10:06:00")],
            ["10:00:00 pending oom{}", "10:02:00 firing oom{} send", "10:05:00 resolved oom{} send"]),
        RuleScenario(
            "pending_that_goes_quiet_is_cancelled_unheard", oom + "\nfor: 10m",
            [.log(line("10:00:00", app: "kernel", killed)), .ticks("10:00:01", "10:11:00")],
            ["10:00:00 pending oom{}", "10:05:00 cancelled oom{}"]),
        RuleScenario(
            "group_without_the_field", oomByHost,
            [.log(line("10:00:00", host: nil, app: "kernel", killed))], ["10:00:00 firing oom{host=-} send"]),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: RuleScenario) throws {
        #expect(try s.run().log == s.expected)
    }

    @Test func updatesCountAndSamplesOncePerStep() throws {
        var h = RuleHarness(try rule(Self.oom))
        h.send(logRecord(at: "10:00:00", app: "kernel", message: "Out of memory 1"))
        let long = "Out of memory " + String(repeating: "x", count: 600)
        let batch = (2...9).map { logRecord(at: "10:00:05", app: "kernel", message: $0 == 9 ? long : "Out of memory \($0)") }
        let out = h.send(batch)
        #expect(out.map(\.transition) == [.updated])
        let alert = try #require(out.first?.alert)
        #expect(alert.count == 9)
        #expect(alert.firstSeen == RuleClock.at("10:00:00"))
        #expect(alert.lastSeen == RuleClock.at("10:00:05"))
        #expect(alert.samples.map(\.id) == [1, 2, 3, 8, 9])
        #expect(alert.samples.prefix(4).map(\.message) == ["Out of memory 1", "Out of memory 2", "Out of memory 3", "Out of memory 8"])
        let cut = alert.samples[4].message
        #expect(cut.count == AlertNotice.sampleLimit)
        #expect(cut.hasSuffix("…") && long.hasPrefix(cut.dropLast()))
        #expect(out.first?.notify == nil)
        // Nothing changed: nothing reported.
        #expect(h.tick("10:00:06").isEmpty)
    }

    @Test func firingChangeCarriesTheNotice() throws {
        var r = try rule(Self.oomByHost + "\nseverity: critical\ndescription: The kernel killed a process")
        r.channels = ["ops", "mail"]
        var h = RuleHarness(r)
        let change = try #require(h.send(logRecord(at: "10:00:00", app: "kernel", message: Self.killed)).first)
        #expect(change.key == AlertKey(rule: "oom", group: [.init(field: "host", value: "web-1")]))
        #expect(change.key.groupKey == #"host="web-1""#)
        #expect(change.notify == .send(channels: ["ops", "mail"], suppressed: nil))
        let notices = change.notices(alertID: 17, searchURL: "https://logs/search")
        #expect(notices.map(\.channel) == ["ops", "mail"])
        let notice = try #require(notices.first?.notice)
        #expect(notice.alertID == 17)
        #expect(notice.state == .firing)
        #expect(notice.rule == "oom")
        #expect(notice.severity == "critical")
        #expect(notice.ruleDescription == "The kernel killed a process")
        #expect(notice.group == [.init(field: "host", value: "web-1")])
        #expect(notice.count == 1)
        #expect(notice.samples.map(\.message) == [Self.killed])
        #expect(notice.summary == "1 matching record")
        #expect(change.alert.searchQuery == #"("Out of memory") host:"web-1""#)
        #expect(try QueryParser.parse(change.alert.searchQuery).text == change.alert.searchQuery)
    }

    @Test func resolvedNoticeSaysHowLong() throws {
        var h = RuleHarness(try rule(Self.oom))
        h.send(logRecord(at: "10:00:00", app: "kernel", message: Self.killed))
        h.tick(from: "10:00:01", through: "10:05:00")
        let resolved = try #require(h.transitions.last)
        #expect(resolved.transition == .resolved)
        #expect(resolved.alert.resolvedAt == RuleClock.at("10:05:00"))
        #expect(resolved.alert.resolution == "no matching record for 5m")
        let notice = resolved.alert.notice(alertID: 1, state: .resolved, searchURL: nil)
        #expect(notice.summary == "1 matching record — resolved after 5m (no matching record for 5m)")
        #expect(notice.resolvedAt == RuleClock.at("10:05:00"))
    }

    /// Rules are found by app through an index; the index folds case as the query language does.
    @Test func appIndexFoldsCase() throws {
        let rules = try RuleSet.load(
            yaml: """
                rules:
                  - {name: a, kind: match, query: 'app:sshd "Failed password"'}
                  - {name: b, kind: match, query: '"Failed password"'}
                  - {name: c, kind: match, query: 'app:nginx OR app:SSHD'}
                  - {name: d, kind: match, query: 'app:cron'}
                """, origin: .api)
        var h = RuleHarness(rules)
        h.send(logRecord(at: "10:00:00", app: "SSHd", message: "Failed password for root"))
        h.send(logRecord(at: "10:00:01", app: nil, message: "Failed password for root"))
        #expect(h.log == ["10:00:00 firing a{} send", "10:00:00 firing b{} send", "10:00:00 firing c{} send"])
    }
}
