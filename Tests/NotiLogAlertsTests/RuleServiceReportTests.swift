import NotiLogCore
import Testing

@testable import NotiLogAlerts

/// What state rules read: systemd's own unit messages and the agent's `watch@32473` structured data.
struct RuleServiceReportTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var name: String
        var app: String?
        var message: String
        var sd: [StructuredDataElement]?
        var expected: ServiceReport?
        var testDescription: String { name }
    }

    static func unit(_ name: String, _ state: ServiceState, exit: Int? = nil, signal: String? = nil, restarts: Int? = nil) -> ServiceReport {
        ServiceReport(kind: .unit, name: name, state: state, exitCode: exit, signal: signal, restarts: restarts)
    }

    static let rows: [Row] = [
        Row(
            name: "systemd_main_process_killed", app: "systemd", message: "nginx.service: Main process exited, code=killed, status=9/KILL",
            expected: unit("nginx.service", .crashed, signal: "KILL")),
        Row(
            name: "systemd_main_process_dumped", app: "systemd", message: "php-fpm.service: Main process exited, code=dumped, status=11/SEGV",
            expected: unit("php-fpm.service", .crashed, signal: "SEGV")),
        Row(
            name: "systemd_main_process_failed", app: "systemd", message: "nginx.service: Main process exited, code=exited, status=1/FAILURE",
            expected: unit("nginx.service", .crashed, exit: 1)),
        Row(
            name: "systemd_clean_exit_is_no_report", app: "systemd",
            message: "backup.service: Main process exited, code=exited, status=0/SUCCESS", expected: nil),
        Row(
            name: "systemd_failed_with_result", app: "systemd", message: "nginx.service: Failed with result 'signal'.",
            expected: unit("nginx.service", .crashed)),
        Row(
            name: "systemd_failed_to_start", app: "systemd", message: "Failed to start nginx.service - A high performance web server.",
            expected: unit("nginx.service", .crashed)),
        Row(
            name: "systemd_scheduled_restart", app: "systemd", message: "nginx.service: Scheduled restart job, restart counter is at 3.",
            expected: unit("nginx.service", .restarting, restarts: 3)),
        Row(
            name: "systemd_started_with_unit", app: "systemd",
            message: "Started nginx.service - A high performance web server and a reverse proxy server.",
            expected: unit("nginx.service", .running)),
        Row(name: "systemd_started_template_unit", app: "systemd", message: "Started getty@tty1.service.", expected: unit("getty@tty1.service", .running)),
        Row(
            name: "systemd_started_description_only", app: "systemd",
            message: "Started A high performance web server and a reverse proxy server.", expected: nil),
        Row(name: "systemd_stopped", app: "systemd", message: "Stopped nginx.service - A high performance web server.", expected: unit("nginx.service", .stopped)),
        Row(name: "systemd_deactivated", app: "systemd", message: "nginx.service: Deactivated successfully.", expected: unit("nginx.service", .stopped)),
        Row(name: "systemd_pid_in_tag", app: "systemd[1]", message: "cron.service: Failed with result 'exit-code'.", expected: unit("cron.service", .crashed)),
        Row(name: "systemd_consumed_cpu_is_no_report", app: "systemd", message: "nginx.service: Consumed 1.234s CPU time.", expected: nil),
        Row(name: "systemd_starting_is_no_report", app: "systemd", message: "Starting nginx.service - A high performance web server...", expected: nil),
        Row(name: "other_app_same_words", app: "nginx", message: "nginx.service: Failed with result 'signal'.", expected: nil),
        Row(name: "systemd_logind_is_not_systemd", app: "systemd-logind", message: "Started session.scope.", expected: nil),
        Row(
            name: "agent_unit_crashed", app: "notilog-agent", message: "nginx.service crashed",
            sd: [
                StructuredDataElement(
                    id: "watch@32473",
                    parameters: [
                        .init("kind", "unit"), .init("name", "nginx.service"), .init("state", "crashed"), .init("exit_code", "137"),
                        .init("signal", "SIGKILL"), .init("restarts", "2"),
                    ])
            ],
            expected: ServiceReport(kind: .unit, name: "nginx.service", state: .crashed, exitCode: 137, signal: "KILL", restarts: 2)),
        Row(
            name: "agent_process_running", app: "notilog-agent", message: "",
            sd: [StructuredDataElement(id: "watch@32473", parameters: [.init("kind", "process"), .init("name", "redis-server"), .init("state", "running")])],
            expected: ServiceReport(kind: .process, name: "redis-server", state: .running)),
        Row(
            name: "agent_unknown_state_is_no_report", app: "notilog-agent", message: "",
            sd: [StructuredDataElement(id: "watch@32473", parameters: [.init("kind", "unit"), .init("name", "x.service"), .init("state", "weird")])],
            expected: nil),
    ]

    @Test(arguments: rows)
    func reads(_ row: Row) {
        let record = LogRecord(receivedAt: SyslogTimestamp(seconds: 0), hostname: "web-1", appName: row.app, structuredData: row.sd, message: row.message)
        var report = ServiceReport(record)
        report?.detail = nil
        #expect(report == row.expected)
        // The engine's quick test lets every report through.
        if report != nil { #expect(ServiceReport.mayDescribe(record)) }
    }

    @Test func onlyTheAgentsElementOrSystemdMayBeAReport() {
        let plain = LogRecord(receivedAt: SyslogTimestamp(seconds: 0), hostname: "web-1", appName: "nginx", message: "nginx.service crashed")
        let otherSD = LogRecord(
            receivedAt: SyslogTimestamp(seconds: 0), appName: "app",
            structuredData: [StructuredDataElement(id: "origin", parameters: [.init("name", "x.service"), .init("state", "crashed")])])
        let agent = LogRecord(
            receivedAt: SyslogTimestamp(seconds: 0), appName: "app",
            structuredData: [StructuredDataElement(id: "origin", parameters: []), StructuredDataElement(id: "watch@32473", parameters: [])])
        #expect(!ServiceReport.mayDescribe(plain))
        #expect(!ServiceReport.mayDescribe(otherSD))
        #expect(ServiceReport.mayDescribe(agent))
        #expect(ServiceReport.mayDescribe(LogRecord(receivedAt: SyslogTimestamp(seconds: 0), appName: "systemd[1]")))
    }
}
