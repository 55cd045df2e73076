import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// `state`: processes and units reported crashed / stopped / restarting too often, resolving when running again.
struct RuleStateTests {
    static let crashed = """
        name: svc
        kind: state
        channels: [ops]
        """

    static func systemd(_ at: String, _ message: String, host: String = "web-1") -> RuleStep {
        .log(line(at, host: host, app: "systemd", message))
    }

    static func agent(_ at: String, _ name: String, _ state: String, host: String = "db-1") -> RuleStep {
        let sd = [
            StructuredDataElement(
                id: "watch@32473", parameters: [.init("kind", "process"), .init("name", name), .init("state", state)])
        ]
        return .log(line(at, host: host, app: "notilog-agent", "\(name) \(state)", sd: sd))
    }

    static let nginx = "svc{host=web-1, unit=nginx.service}"

    static let scenarios: [RuleScenario] = [
        RuleScenario(
            "journald_crash_restart_running", crashed,
            [
                systemd("10:00:00", "nginx.service: Main process exited, code=killed, status=9/KILL"),
                systemd("10:00:00.1", "nginx.service: Failed with result 'signal'."),
                systemd("10:00:05", "nginx.service: Scheduled restart job, restart counter is at 1."),
                systemd("10:00:05.2", "Started nginx.service - A high performance web server and a reverse proxy server."),
            ],
            ["10:00:00 firing \(nginx) send", "10:00:05.2 resolved \(nginx) send"]),
        RuleScenario(
            "agent_process_crashed_then_running", crashed,
            [agent("10:00:00", "redis-server", "crashed"), agent("10:00:03", "redis-server", "running")],
            ["10:00:00 firing svc{host=db-1, process=redis-server} send", "10:00:03 resolved svc{host=db-1, process=redis-server} send"]),
        RuleScenario(
            "stopped_is_not_crashed", crashed,
            [systemd("10:00:00", "Stopped nginx.service - A high performance web server."), systemd("10:00:01", "nginx.service: Deactivated successfully.")],
            []),
        RuleScenario(
            "stopped_fires_when_configured", crashed + "\nstates: [stopped]",
            [
                systemd("10:00:00", "nginx.service: Deactivated successfully."), systemd("10:00:00.5", "Stopped nginx.service - A high performance web server."),
                systemd("10:10:00", "Started nginx.service - A high performance web server."),
            ],
            ["10:00:00 firing \(nginx) send", "10:10:00 resolved \(nginx) send"]),
        RuleScenario(
            "restart_loop_fires_above_the_limit_and_ends_when_restarts_age_out",
            crashed + "\nstates: [restarting]\nmax_restarts: 3\nwindow: 10m",
            [
                systemd("10:00:00", "nginx.service: Scheduled restart job, restart counter is at 1."),
                systemd("10:01:00", "nginx.service: Scheduled restart job, restart counter is at 2."),
                systemd("10:02:00", "nginx.service: Scheduled restart job, restart counter is at 3."),
                systemd("10:03:00", "nginx.service: Scheduled restart job, restart counter is at 4."),
                systemd("10:03:05", "Started nginx.service - A high performance web server."),
                .ticks("10:03:06", "10:12:00"),
            ],
            ["10:03:00 firing \(nginx) send", "10:10:00 resolved \(nginx) send"]),
        RuleScenario(
            "restarts_spread_out_do_not_fire", crashed + "\nstates: [restarting]\nmax_restarts: 2\nwindow: 5m",
            [
                systemd("10:00:00", "nginx.service: Scheduled restart job, restart counter is at 1."),
                systemd("10:03:00", "nginx.service: Scheduled restart job, restart counter is at 2."),
                systemd("10:06:00", "nginx.service: Scheduled restart job, restart counter is at 3."),
                systemd("10:09:00", "nginx.service: Scheduled restart job, restart counter is at 4."),
            ],
            []),
        RuleScenario(
            "a_start_naming_no_unit_resolves_nothing", crashed,
            [
                systemd("10:00:00", "nginx.service: Failed with result 'exit-code'."),
                systemd("10:00:01", "Started A high performance web server and a reverse proxy server."),
            ],
            ["10:00:00 firing \(nginx) send"]),
        RuleScenario(
            "one_alert_per_host_and_unit", crashed,
            [
                systemd("10:00:00", "nginx.service: Failed with result 'signal'.", host: "web-1"),
                systemd("10:00:01", "nginx.service: Failed with result 'signal'.", host: "web-2"),
                systemd("10:00:02", "cron.service: Failed with result 'exit-code'.", host: "web-1"),
            ],
            [
                "10:00:00 firing \(nginx) send", "10:00:01 firing svc{host=web-2, unit=nginx.service} send",
                "10:00:02 firing svc{host=web-1, unit=cron.service} send",
            ]),
        RuleScenario(
            "the_query_narrows_the_records", crashed + "\nquery: host:web-*",
            [
                systemd("10:00:00", "nginx.service: Failed with result 'signal'.", host: "db-1"),
                systemd("10:00:01", "nginx.service: Failed with result 'signal'.", host: "web-1"),
            ],
            ["10:00:01 firing \(nginx) send"]),
        RuleScenario(
            "another_app_saying_the_same_is_not_systemd", crashed,
            [.log(line("10:00:00", app: "nginx", "nginx.service: Failed with result 'signal'."))], []),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: RuleScenario) throws {
        #expect(try s.run().log == s.expected)
    }

    @Test func summarySaysWhatHappened() throws {
        var h = RuleHarness(try rule(Self.crashed))
        let out = h.send(logRecord(at: "10:00:00", app: "systemd", message: "nginx.service: Main process exited, code=killed, status=9/KILL"))
        #expect(out.first?.alert.summary == "nginx.service on web-1 crashed (signal KILL)")
        #expect(out.first?.alert.searchQuery == #"host:"web-1" "nginx.service""#)
        let resolved = h.send(logRecord(at: "10:02:00", app: "systemd", message: "Started nginx.service - A high performance web server."))
        #expect(resolved.first?.alert.resolution == "running again")
        #expect(resolved.first?.alert.durationSeconds(now: RuleClock.at("10:02:00")) == 120)
    }
}
