import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// `absence`: no matching record for T, per group; fires at last seen + T, resolves when a record arrives.
struct RuleAbsenceTests {
    static let silent = """
        name: silent
        kind: absence
        group_by: [host]
        window: 5m
        channels: [ops]
        """
    static let backup = """
        name: backup
        kind: absence
        query: app:backup "finished"
        window: 5m
        """

    static let scenarios: [RuleScenario] = [
        RuleScenario(
            "each_group_fires_at_its_deadline_and_resolves_on_return", silent,
            [
                .log(line("10:00:00", host: "web-1")), .log(line("10:00:30", host: "web-2")), .ticks("10:00:31", "10:06:00"),
                .log(line("10:07:00", host: "web-1")), .ticks("10:07:01", "10:08:00"),
            ],
            [
                "10:05:00 firing silent{host=web-1} send", "10:05:30 firing silent{host=web-2} send",
                "10:07:00 resolved silent{host=web-1} send",
            ]),
        RuleScenario(
            "steady_records_keep_it_quiet", silent,
            [
                .log(line("10:00:00")), .ticks("10:00:01", "10:04:00"), .log(line("10:04:00")), .ticks("10:04:01", "10:08:00"),
                .log(line("10:08:00")), .ticks("10:08:01", "10:12:59"),
            ],
            []),
        RuleScenario(
            "ungrouped_counts_from_the_rule_start", backup,
            [.tick("10:00:00"), .ticks("10:00:01", "10:06:00"), .log(line("10:06:30", app: "backup", "backup finished"))],
            // A rule without channels records its alerts and notifies nobody (`send` to no channel).
            ["10:05:00 firing backup{} send", "10:06:30 resolved backup{} send"]),
        RuleScenario(
            "only_matching_records_count", backup,
            [
                .tick("10:00:00"), .log(line("10:01:00", app: "backup", "backup started")),
                .log(line("10:02:00", app: "backup", "backup finished")), .ticks("10:02:01", "10:07:30"),
            ],
            ["10:07:00 firing backup{} send"]),
        RuleScenario(
            "pending_absence_is_cancelled_by_a_record", silent + "\nfor: 2m",
            [.log(line("10:00:00")), .ticks("10:00:01", "10:06:00"), .log(line("10:06:00")), .ticks("10:06:01", "10:12:00")],
            ["10:05:00 pending silent{host=web-1}", "10:06:00 cancelled silent{host=web-1}", "10:11:00 pending silent{host=web-1}"]),
        RuleScenario(
            "groups_quiet_since_the_same_moment_fire_in_a_stable_order", silent,
            [.batch([line("10:00:00", host: "web-2"), line("10:00:00", host: "db-1"), line("10:00:00", host: "web-1")], now: "10:00:00"), .ticks("10:00:01", "10:05:00")],
            ["10:05:00 firing silent{host=db-1} send", "10:05:00 firing silent{host=web-1} send", "10:05:00 firing silent{host=web-2} send"]),
        RuleScenario(
            "reception_time_counts_not_the_senders_clock", silent,
            [.log(line("10:00:00", ts: "09:10:00")), .ticks("10:00:01", "10:04:59")], []),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: RuleScenario) throws {
        #expect(try s.run().log == s.expected)
    }

    /// The engine applies a batch's arrivals in absence groups once per group, at the end of the batch: a batch
    /// leaves the same groups (last seen, newest record), alerts and changes as its records one at a time —
    /// with several absence rules over the same groups, groups interleaved, reception times out of id order,
    /// and open alerts that a record in the middle of the batch resolves.
    @Test func aBatchLeavesWhatItsRecordsOneAtATimeLeave() throws {
        let rules = [
            try rule(Self.silent), try rule(Self.silent.replacing("name: silent", with: "name: silent-too")),
            try rule(Self.backup), try rule("name: ssh\nkind: match\nquery: app:sshd failed\ngroup_by: [host]"),
        ]
        var whole = RuleHarness(rules)
        var single = RuleHarness(rules)
        for r in [logRecord(at: "10:00:00", host: "web-1", message: "bye"), logRecord(at: "10:00:10", host: "web-2", message: "bye")] {
            whole.send(r)
            single.send(r)
        }
        whole.tick(from: "10:00:11", through: "10:06:00")
        single.tick(from: "10:00:11", through: "10:06:00")
        #expect(whole.log.filter { $0.contains("firing s") }.count == 4, "\(whole.log)")
        let batch = [
            logRecord(at: "10:06:05", host: "web-3", app: "cron", message: "tick"),
            logRecord(at: "10:06:03", host: "web-2", app: "backup", message: "backup finished"),
            logRecord(at: "10:06:06", host: "web-1", message: "Failed password: first back"),
            logRecord(at: "10:06:04", host: "web-3", app: "cron", message: "tock"),
            logRecord(at: "10:06:07", host: "web-1", message: "second back"),
            logRecord(at: "10:06:02", host: "web-2", app: "backup", message: "backup finished again"),
        ]
        whole.send(batch, now: "10:06:10")
        for r in batch { single.send(r, now: "10:06:10") }
        #expect(whole.log == single.log)
        #expect(whole.log.filter { $0.contains("resolved") }.count == 5, "\(whole.log)")
        #expect(whole.log.contains("10:06:10 firing ssh{host=web-1} send"), "\(whole.log)")
        // The groups' entries (their order in the dictionary may differ).
        let quiet = { (h: RuleHarness) in
            h.engine.snapshot.rules.map { r in
                r.quiet.map { "\(r.name) \($0.group.values) \($0.value.lastSeen) \($0.value.last?.stored.id ?? 0)" }.sorted()
            }
        }
        #expect(quiet(whole) == quiet(single))
        #expect(quiet(whole)[0].count == 3)
        // What the groups kept shows when they go quiet again: the newest record and the latest reception.
        whole.tick(from: "10:06:11", through: "10:12:00")
        single.tick(from: "10:06:11", through: "10:12:00")
        #expect(whole.log == single.log)
        let samples = { (h: RuleHarness) in h.changes.filter { $0.transition == .firing }.map { "\($0.key) \($0.alert.samples.map(\.message))" } }
        #expect(samples(whole) == samples(single))
        #expect(samples(whole).contains("silent{host=web-1} [\"second back\"]"), "\(samples(whole))")
        #expect(samples(whole).contains("silent{host=web-3} [\"tock\"]"), "\(samples(whole))")
    }

    @Test func alertSaysSinceWhenAndResolvedSaysHowLong() throws {
        var h = RuleHarness(try rule(Self.silent))
        h.send(logRecord(at: "10:00:00", message: "last words"))
        h.tick(from: "10:00:01", through: "10:05:00")
        let firing = try #require(h.transitions.first)
        #expect(firing.alert.count == 0)
        #expect(firing.alert.lastSeen == RuleClock.at("10:00:00"))
        #expect(firing.alert.summary == "no matching record for 5m (since 2026-03-01T10:00:00Z)")
        #expect(firing.alert.samples.map(\.message) == ["last words"])
        h.send(logRecord(at: "10:12:00", message: "back again"))
        let resolved = try #require(h.transitions.last)
        #expect(resolved.transition == .resolved)
        #expect(resolved.alert.serial == firing.alert.serial)
        #expect(resolved.alert.durationSeconds(now: RuleClock.at("10:12:00")) == 420)
        #expect(resolved.alert.resolution == "a matching record arrived")
        #expect(resolved.alert.samples.last?.message == "back again")
        #expect(resolved.notify == .send(channels: ["ops"], suppressed: nil))
    }
}
