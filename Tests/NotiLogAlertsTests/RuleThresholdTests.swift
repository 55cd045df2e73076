import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// `threshold`: at least N matching records within a sliding window T, per group, counted at event time.
struct RuleThresholdTests {
    static let ssh = """
        name: ssh
        kind: threshold
        query: app:sshd "Failed password"
        group_by: [host]
        threshold: 5
        window: 60s
        """

    /// `n` records at `at`, each its own step.
    static func logs(_ times: [String], host: String = "web-1") -> [RuleStep] {
        times.map { .log(line($0, host: host)) }
    }

    /// Records received together at `now`, carrying the given timestamps.
    static func arriving(_ now: String, timestamps: [String]) -> RuleStep {
        .batch(timestamps.map { line(now, ts: $0) }, now: now)
    }

    static let scenarios: [RuleScenario] = [
        RuleScenario(
            "burst_straddling_a_minute_boundary_fires_once", ssh,
            logs(["10:00:59.5", "10:00:59.5", "10:00:59.5", "10:01:00.5", "10:01:00.5"]) + [.ticks("10:01:01", "10:07:00")],
            ["10:01:00.5 firing ssh{host=web-1} send", "10:06:01 resolved ssh{host=web-1} send"]),
        RuleScenario(
            "four_within_any_window_do_not_fire", ssh,
            logs(["10:00:00", "10:00:10", "10:00:20", "10:00:30", "10:01:05"]) + [.ticks("10:01:06", "10:03:00")], []),
        RuleScenario(
            "records_exactly_a_window_apart_are_not_within_it", ssh,
            logs(["10:00:00", "10:00:15", "10:00:30", "10:00:45", "10:01:00", "10:01:01"]),
            ["10:01:01 firing ssh{host=web-1} send"]),
        RuleScenario(
            "each_group_counts_apart", ssh,
            logs(["10:00:00", "10:00:01", "10:00:02"]) + logs(["10:00:03", "10:00:04"], host: "web-2"), []),
        RuleScenario(
            "more_records_while_firing_only_update", ssh,
            logs((0..<12).map { "10:00:\(10 + $0)" }) + [.ticks("10:00:22", "10:05:21"), .tick("10:05:22")],
            ["10:00:14 firing ssh{host=web-1} send", "10:05:21 resolved ssh{host=web-1} send"]),
        RuleScenario(
            "late_burst_from_a_spool_still_fires", ssh,
            [arriving("12:00:00", timestamps: ["11:30:00", "11:30:01", "11:30:02", "11:30:03", "11:30:04"])],
            ["12:00:00 firing ssh{host=web-1} send"]),
        RuleScenario(
            "spread_records_arriving_together_do_not_fire", ssh,
            [arriving("12:00:00", timestamps: ["11:30:00", "11:32:00", "11:34:00", "11:36:00", "11:38:00"])], []),
        RuleScenario(
            "late_record_amid_a_live_burst", ssh,
            logs(["10:00:00", "10:00:01", "10:00:02", "10:00:03"]) + [.log(line("10:00:04", ts: "09:30:00")), .log(line("10:00:05"))],
            ["10:00:05 firing ssh{host=web-1} send"]),
        RuleScenario(
            "timestamps_beyond_trust_count_at_arrival", ssh,
            [
                .log(line("10:00:00", ts: "07:00:00")), .log(line("10:00:01", ts: "06:10:00")), .log(line("10:00:02", ts: "10:30:00")),
                .log(line("10:00:03", ts: "2026-02-27T10:00:00Z")), .log(line("10:00:04", ts: "08:59:00")),
            ],
            ["10:00:04 firing ssh{host=web-1} send"]),
        RuleScenario(
            "timestamps_within_trust_count_at_their_time", ssh,
            [
                .log(line("10:00:00", ts: "09:10:00")), .log(line("10:00:01", ts: "09:20:00")), .log(line("10:00:02", ts: "10:04:00")),
                .log(line("10:00:03", ts: "09:30:00")), .log(line("10:00:04", ts: "09:40:00")),
            ],
            []),
        RuleScenario(
            "pending_cancelled_when_the_window_empties", ssh + "\nfor: 1m",
            logs(["10:00:00", "10:00:01", "10:00:02", "10:00:03", "10:00:04"]) + [.ticks("10:00:05", "10:02:00")],
            ["10:00:04 pending ssh{host=web-1}", "10:01:00 cancelled ssh{host=web-1}"]),
        RuleScenario(
            "pending_fires_when_the_burst_goes_on", ssh + "\nfor: 1m",
            logs((0...24).map { RuleClock.plus("10:00:00", Int64($0) * 5) }) + [.ticks("10:02:01", "10:08:00")],
            ["10:00:20 pending ssh{host=web-1}", "10:01:20 firing ssh{host=web-1} send", "10:07:00 resolved ssh{host=web-1} send"]),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: RuleScenario) throws {
        #expect(try s.run().log == s.expected)
    }

    @Test func burstCountsAndTimes() throws {
        var h = RuleHarness(try rule(Self.ssh))
        h.send((0..<3).map { _ in logRecord(at: "12:00:00", timestamp: "11:30:00") }, now: "12:00:00")
        let out = h.send((0..<3).map { i in logRecord(at: "12:00:01", timestamp: "11:30:0\(i + 1)") }, now: "12:00:01")
        let firing = try #require(out.first { $0.transition == .firing })
        #expect(firing.alert.count == 5)
        #expect(firing.alert.firstSeen == RuleClock.at("11:30:00"))
        #expect(firing.alert.lastSeen == RuleClock.at("11:30:02"))
        #expect(firing.alert.startedAt == RuleClock.at("12:00:01"))
        // The group's latest records before the burst completed are the first samples.
        #expect(firing.alert.samples.map(\.id) == [3, 4, 5])
        #expect(firing.alert.summary == "5 matching records (at least 5 within 1m)")
        // The sixth of the step is counted in one update.
        #expect(out.map(\.transition) == [.firing, .updated])
        #expect(out.last?.alert.count == 6)
    }

    /// However many records a group sees, it keeps at most 2N event times.
    @Test func stateStaysBounded() throws {
        var h = RuleHarness(try rule(Self.ssh))
        for i in 0..<2_000 {
            // A steady trickle, and every tenth one a late record from the past half hour.
            let at = RuleClock.plus("10:00:00", Int64(i) * 20)
            let ts = i % 10 == 0 ? RuleClock.plus(at, -Int64(i % 1800)) : nil
            h.send(logRecord(at: at, timestamp: ts))
        }
        let windows = h.engine.snapshot.rules[0].windows
        #expect(windows.count == 1)
        #expect(windows[0].value.times.count <= 10)
    }

    @Test(arguments: [
        // (times, threshold, window seconds, fires at index)
        ([0.0, 1, 2, 3, 4], 5, 60, 4),
        ([0.0, 30, 59.9, 70, 80, 90, 100], 4, 60, 4),
        ([100.0, 10, 20, 30, 40], 5, 100, 4),
        ([100.0, 10, 20, 30, 40], 5, 90, nil),
        ([0.0, 0, 0], 3, 1, 2),
        ([5.0], 1, 1, 0),
    ] as [([Double], Int, Int, Int?)])
    func windowDecides(_ times: [Double], _ n: Int, _ window: Int, _ firesAt: Int?) {
        var w = ThresholdWindow()
        var fired: Int? = nil
        for (i, t) in times.enumerated() {
            if w.insert(Int64(t * 1e9), threshold: n, window: Int64(window) * nanosPerSecond) != nil, fired == nil { fired = i }
        }
        #expect(fired == firesAt)
    }
}
