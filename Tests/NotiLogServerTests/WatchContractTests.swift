import Foundation
import NotiLogAlerts
import NotiLogCore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogAgent

/// The agent's watcher and the server's `state` rules agree: every record the watcher emits, as the server
/// receives it (RFC 5424 text, parsed), reads back through `ServiceReport` as the report the watcher meant.
@Suite("Watch contract (agent watcher → server ServiceReport)")
struct WatchContractTests {
    /// As the records travel: formatted by the agent, parsed by the server.
    static func overTheWire(_ record: LogRecord) -> LogRecord {
        SyslogParser().parse(RFC5424Formatter().format(record), receivedAt: .now())
    }

    static func check(_ entries: [AgentEntry], _ expected: [ServiceReport], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(entries.map { ServiceReport($0.record) } == expected, sourceLocation: sourceLocation)
        #expect(entries.map { ServiceReport(overTheWire($0.record)) } == expected, sourceLocation: sourceLocation)
    }

    /// A process through every change, over a fake `/proc` (one directory per PID with `comm` and `stat`).
    @Test func processReports() throws {
        let dir = TemporaryDirectory()
        func set(_ processes: [(Int32, zombieStatus: Int32?)]) throws {
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) {
                try FileManager.default.removeItem(atPath: dir.path + "/" + name)
            }
            for (pid, zombie) in processes {
                let d = "\(dir.path)/\(pid)"
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                try Data("nginx\n".utf8).write(to: URL(fileURLWithPath: d + "/comm"))
                let fields = [zombie == nil ? "R" : "Z"] + Array(repeating: "0", count: 48) + [String(zombie ?? 0)]
                try Data("\(pid) (nginx) \(fields.joined(separator: " "))\n".utf8).write(to: URL(fileURLWithPath: d + "/stat"))
            }
        }
        let clock = Mutex(SyslogTimestamp(seconds: 1_764_900_000, fractionDigits: 6))
        let watcher = ProcessWatcher(
            configuration: WatchConfiguration(processes: [.init(name: "nginx")], interval: .seconds(5), heartbeat: .seconds(10)), hostname: "web-1",
            procRoot: dir.path, now: { clock.withLock { $0 } })
        func look(_ processes: [(Int32, zombieStatus: Int32?)]) throws -> [AgentEntry] {
            try set(processes)
            defer { clock.withLock { $0.seconds += 5 } }
            return watcher.poll()
        }
        func report(_ state: ServiceState, exitCode: Int? = nil, signal: String? = nil, restarts: Int? = nil) -> ServiceReport {
            ServiceReport(kind: .process, name: "nginx", state: state, exitCode: exitCode, signal: signal, restarts: restarts)
        }
        Self.check(try look([(100, nil)]), [report(.running)])
        Self.check(try look([(100, 9)]), [report(.crashed, signal: "KILL")])
        Self.check(try look([(200, nil)]), [report(.restarting, restarts: 1), report(.running, restarts: 1)])
        Self.check(try look([(200, nil)]), [])
        Self.check(try look([(200, nil)]), [report(.running, restarts: 1)])  // heartbeat
        Self.check(try look([(300, nil)]), [report(.restarting, restarts: 2), report(.running, restarts: 2)])
        Self.check(try look([(300, 3 << 8)]), [report(.crashed, exitCode: 3)])
        Self.check(try look([]), [])
        Self.check(try look([(400, nil)]), [report(.running, restarts: 2)])
        Self.check(try look([]), [])
        Self.check(try look([]), [report(.stopped)])
        Self.check(try look([]), [])
        Self.check(try look([]), [report(.stopped)])  // heartbeat
    }

    /// A unit's reports, as the bus path makes them (systemd's properties → tracker → record).
    @Test func unitReports() {
        var tracker = UnitTracker(name: "nginx.service")
        var now = SyslogTimestamp(seconds: 1_764_900_000)
        func look(_ p: UnitProperties) -> [AgentEntry] {
            defer { now.seconds += 5 }
            return tracker.observe(p, at: now, heartbeat: .seconds(60)).map {
                ProcessWatcher.entry(kind: .unit, name: "nginx.service", $0, at: now, hostname: "web-1")
            }
        }
        func report(_ state: ServiceState, exitCode: Int? = nil, signal: String? = nil, restarts: Int? = nil) -> ServiceReport {
            ServiceReport(kind: .unit, name: "nginx.service", state: state, exitCode: exitCode, signal: signal, restarts: restarts)
        }
        Self.check(look(UnitProperties(activeState: "active", subState: "running", restarts: 0)), [report(.running)])
        Self.check(look(UnitProperties(activeState: "failed", subState: "failed", restarts: 0, execMainCode: 2, execMainStatus: 9)), [report(.crashed, signal: "KILL")])
        Self.check(look(UnitProperties(activeState: "activating", subState: "auto-restart", restarts: 2)), [report(.restarting, restarts: 3)])
        Self.check(look(UnitProperties(activeState: "active", subState: "running", restarts: 3)), [report(.running, restarts: 3)])
        Self.check(look(UnitProperties(activeState: "failed", subState: "failed", restarts: 3, execMainCode: 1, execMainStatus: 1)), [report(.crashed, exitCode: 1)])
        Self.check(look(UnitProperties(activeState: "inactive", subState: "dead", restarts: 0)), [report(.stopped)])
    }
}
