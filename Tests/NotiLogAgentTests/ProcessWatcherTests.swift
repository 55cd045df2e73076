import Foundation
import NotiLogCore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogAgent

#if canImport(Glibc)
import Glibc
#endif

/// A clock the test moves by hand, so looks and heartbeats fall where the test says.
final class ManualClock: Sendable {
    private let current = Mutex(SyslogTimestamp(seconds: 1_764_900_000, fractionDigits: 6))
    var now: SyslogTimestamp { current.withLock { $0 } }
    func advance(_ seconds: Int64) { current.withLock { $0.seconds += seconds } }
}

/// A proc tree in a temporary directory: `PID/comm`, `PID/cmdline` (NUL-separated) and `PID/stat`.
final class FakeProc {
    let directory = TemporaryDirectory()
    var root: String { directory.path }

    struct Process: Sendable, Hashable, CustomStringConvertible {
        var pid: Int32
        var comm: String
        var arguments: [String] = []
        /// A zombie with this `waitpid` status in `stat`'s `exit_code`.
        var zombieStatus: Int32?

        var description: String { "\(pid) \(comm)\(zombieStatus.map { " zombie(\($0))" } ?? "")" }
    }

    /// Makes the tree hold exactly these processes.
    func set(_ processes: [Process]) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: root) where Int(name) != nil {
            try FileManager.default.removeItem(atPath: "\(root)/\(name)")
        }
        for p in processes {
            let dir = "\(root)/\(p.pid)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try Data((p.comm + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/comm"))
            let cmdline = p.zombieStatus == nil ? p.arguments.map { $0 + "\0" }.joined() : ""
            try Data(cmdline.utf8).write(to: URL(fileURLWithPath: dir + "/cmdline"))
            // Fields 3 … 52: state, 48 others, exit_code.
            let fields = [p.zombieStatus == nil ? "S" : "Z"] + Array(repeating: "0", count: 48) + [String(p.zombieStatus ?? 0)]
            try Data("\(p.pid) (\(p.comm)) \(fields.joined(separator: " "))\n".utf8).write(to: URL(fileURLWithPath: dir + "/stat"))
        }
    }
}

/// One emitted record in a line: `running pid=100`, `crashed signal=KILL pid=100`, `heartbeat running pid=100`.
func describe(_ e: AgentEntry) -> String {
    guard let sd = e.record.structuredData?.first(where: { $0.id == "watch@32473" }) else { return "no watch@32473: \(e.record.message)" }
    var words = [sd["state"] ?? "?"]
    if e.record.message == "heartbeat" { words.insert("heartbeat", at: 0) }
    for key in ["exit_code", "signal", "restarts", "pid"] { if let v = sd[key] { words.append("\(key)=\(v)") } }
    return words.joined(separator: " ")
}

@Suite("Agent process watcher")
struct ProcessWatcherTests {
    typealias P = FakeProc.Process

    /// One look: the processes then (and the pidfile's text, nil for no pidfile), and what it reports.
    struct Look: Sendable {
        var processes: [P]
        var pidfile: String? = nil
        var expect: [String]
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var process: WatchConfiguration.Process
        var usesPidfile = false
        var looks: [Look]
        var testDescription: String { name }
    }

    static let nginx = WatchConfiguration.Process(name: "nginx")
    static func n(_ pid: Int32) -> P { P(pid: pid, comm: "nginx", arguments: ["nginx: worker process"]) }

    static let scenarios: [Scenario] = [
        Scenario(name: "first look, running", process: nginx, looks: [Look(processes: [n(100), P(pid: 7, comm: "bash")], expect: ["running pid=100"])]),
        Scenario(name: "first look, not running", process: nginx, looks: [Look(processes: [P(pid: 7, comm: "bash")], expect: ["stopped"])]),
        Scenario(
            name: "several processes: the lowest PID is named; workers replaced beside the master are no change", process: nginx,
            looks: [
                Look(processes: [n(101), n(100)], expect: ["running pid=100"]),
                Look(processes: [n(100), n(102)], expect: []),
            ]),
        Scenario(
            name: "stop: gone, and still gone at the next look", process: nginx,
            looks: [
                Look(processes: [n(100)], expect: ["running pid=100"]),
                Look(processes: [], expect: []),
                Look(processes: [], expect: ["stopped pid=100"]),
                Look(processes: [], expect: []),
            ]),
        Scenario(
            name: "start", process: nginx,
            looks: [
                Look(processes: [], expect: ["stopped"]),
                Look(processes: [], expect: []),
                Look(processes: [n(200)], expect: ["running pid=200"]),
                Look(processes: [n(200)], expect: []),
            ]),
        Scenario(
            name: "restart within a look: every PID replaced", process: nginx,
            looks: [
                Look(processes: [n(100)], expect: ["running pid=100"]),
                Look(processes: [n(200)], expect: ["restarting restarts=1 pid=100", "running restarts=1 pid=200"]),
                Look(processes: [n(300)], expect: ["restarting restarts=2 pid=200", "running restarts=2 pid=300"]),
            ]),
        Scenario(
            name: "restart across a look: gone, back at the next; later a stop and a start are not restarts", process: nginx,
            looks: [
                Look(processes: [n(100)], expect: ["running pid=100"]),
                Look(processes: [], expect: []),
                Look(processes: [n(300)], expect: ["restarting restarts=1 pid=100", "running restarts=1 pid=300"]),
                Look(processes: [], expect: []),
                Look(processes: [], expect: ["stopped pid=300"]),
                Look(processes: [n(400)], expect: ["running restarts=1 pid=400"]),
            ]),
        Scenario(
            name: "crash read from the zombie: signal, then back is a restart", process: nginx,
            looks: [
                Look(processes: [n(100)], expect: ["running pid=100"]),
                Look(processes: [P(pid: 100, comm: "nginx", zombieStatus: 9)], expect: ["crashed signal=KILL pid=100"]),
                Look(processes: [n(200)], expect: ["restarting restarts=1", "running restarts=1 pid=200"]),
            ]),
        Scenario(
            name: "crash read from the zombie: exit code, core dump; staying down is no more reports", process: nginx,
            looks: [
                Look(processes: [n(100)], expect: ["running pid=100"]),
                Look(processes: [P(pid: 100, comm: "nginx", zombieStatus: 3 << 8)], expect: ["crashed exit_code=3 pid=100"]),
                Look(processes: [], expect: []),
                Look(processes: [n(101)], expect: ["running pid=101"]),
                Look(processes: [P(pid: 101, comm: "nginx", zombieStatus: 0x80 | 11)], expect: ["crashed signal=SEGV pid=101"]),
            ]),
        Scenario(
            name: "a zombie showing status 0 (hidden, or clean) is an unknown end", process: nginx,
            looks: [
                Look(processes: [n(100)], expect: ["running pid=100"]),
                Look(processes: [P(pid: 100, comm: "nginx", zombieStatus: 0)], expect: []),
                Look(processes: [], expect: ["stopped pid=100"]),
            ]),
        Scenario(
            name: "pattern over the command line, not the name", process: .init(name: "worker", commandPattern: #"^/usr/bin/python3 .*worker\.py"#),
            looks: [
                Look(
                    processes: [
                        P(pid: 10, comm: "python3", arguments: ["/usr/bin/python3", "/srv/web.py"]),
                        P(pid: 12, comm: "worker", arguments: ["/usr/bin/other"]),
                        P(pid: 2, comm: "kthreadd"),
                        P(pid: 11, comm: "python3", arguments: ["/usr/bin/python3", "/srv/worker.py", "--queue", "a"]),
                    ], expect: ["running pid=11"]),
                Look(processes: [P(pid: 10, comm: "python3", arguments: ["/usr/bin/python3", "/srv/web.py"])], expect: []),
                Look(processes: [], expect: ["stopped pid=11"]),
            ]),
        Scenario(
            name: "a name longer than the kernel's 15 bytes matches its first 15", process: .init(name: "postgres_exporter"),
            looks: [Look(processes: [P(pid: 5, comm: "postgres_export")], expect: ["running pid=5"])]),
        Scenario(
            name: "pidfile: running, rewritten (a restart), stale, missing", process: .init(name: "app", pidfile: "app.pid"), usesPidfile: true,
            looks: [
                Look(processes: [P(pid: 100, comm: "app")], pidfile: "100\n", expect: ["running pid=100"]),
                Look(processes: [P(pid: 100, comm: "app"), P(pid: 200, comm: "app")], pidfile: "200\n", expect: ["restarting restarts=1 pid=100", "running restarts=1 pid=200"]),
                Look(processes: [P(pid: 100, comm: "app")], pidfile: "200\n", expect: []),
                Look(processes: [P(pid: 100, comm: "app")], pidfile: "200\n", expect: ["stopped pid=200"]),
                Look(processes: [P(pid: 100, comm: "app")], pidfile: nil, expect: []),
                Look(processes: [P(pid: 300, comm: "app")], pidfile: "300", expect: ["running restarts=1 pid=300"]),
            ]),
        Scenario(
            name: "pidfile: stale at the first look, or not a number", process: .init(name: "app", pidfile: "app.pid"), usesPidfile: true,
            looks: [
                Look(processes: [P(pid: 7, comm: "bash")], pidfile: "4242\n", expect: ["stopped"]),
                Look(processes: [P(pid: 7, comm: "bash")], pidfile: "seven", expect: []),
            ]),
        Scenario(
            name: "pidfile and pattern: a reused PID that does not match is not the process",
            process: .init(name: "app", commandPattern: "^/opt/app/bin/app( |$)", pidfile: "app.pid"), usesPidfile: true,
            looks: [
                Look(processes: [P(pid: 100, comm: "app", arguments: ["/opt/app/bin/app", "-f"])], pidfile: "100", expect: ["running pid=100"]),
                Look(processes: [P(pid: 100, comm: "cron", arguments: ["/usr/sbin/cron"])], pidfile: "100", expect: []),
                Look(processes: [P(pid: 100, comm: "cron", arguments: ["/usr/sbin/cron"])], pidfile: "100", expect: ["stopped pid=100"]),
            ]),
    ]

    @Test(arguments: scenarios)
    func looks(_ s: Scenario) throws {
        let proc = FakeProc()
        let clock = ManualClock()
        var process = s.process
        let pidfile = proc.root + "/app.pid"
        if s.usesPidfile { process.pidfile = pidfile }
        let watcher = ProcessWatcher(
            configuration: WatchConfiguration(processes: [process], interval: .seconds(5), heartbeat: .seconds(3600)), hostname: "web-1",
            procRoot: proc.root, now: { clock.now })
        for (i, look) in s.looks.enumerated() {
            try proc.set(look.processes)
            if let text = look.pidfile { try Data(text.utf8).write(to: URL(fileURLWithPath: pidfile)) } else { try? FileManager.default.removeItem(atPath: pidfile) }
            let got = watcher.poll().map(describe)
            #expect(got == look.expect, "look \(i + 1) of \(s.name)")
            clock.advance(5)
        }
    }

    @Test func recordsCarryTheContractAndASentence() throws {
        let proc = FakeProc()
        let clock = ManualClock()
        let watcher = ProcessWatcher(
            configuration: WatchConfiguration(processes: [Self.nginx], interval: .seconds(5)), hostname: "web-1", procRoot: proc.root, now: { clock.now })
        try proc.set([Self.n(100)])
        let running = try #require(watcher.poll().first)
        clock.advance(5)
        try proc.set([P(pid: 100, comm: "nginx", zombieStatus: 9)])
        let crashed = try #require(watcher.poll().first)
        clock.advance(5)
        try proc.set([Self.n(200)])
        let back = watcher.poll()
        try #require(back.count == 2)

        let r = running.record
        #expect(running.sourceKey == "watch" && running.position == nil)
        #expect(r.facility == .daemon && r.severity == .info && r.hostname == "web-1" && r.appName == "notilog-agent" && r.msgID == "WATCH")
        #expect(r.timestamp == clock.now.addingSeconds(-10) && r.receivedAt == r.timestamp)
        #expect(r.structuredData?.map(\.id) == ["watch@32473"])
        #expect(r.structuredData?.first?.parameters.map(\.name) == ["kind", "name", "state", "pid"])
        #expect(r.structuredData?.first?["kind"] == "process" && r.structuredData?.first?["name"] == "nginx")
        #expect(r.message == "nginx is running (pid 100)")
        #expect(crashed.record.severity == .err && crashed.record.message == "nginx (pid 100) crashed: killed by signal KILL")
        #expect(back[0].record.severity == .warning && back[0].record.message == "nginx restarted: pid 200 took its place (restart 1)")
        #expect(back[1].record.severity == .info)

        let status = try #require(watcher.status.first)
        #expect(status.name == "nginx" && status.kind == .process && status.state == .running && status.pids == [200] && status.restarts == 1)
        #expect(status.since == clock.now && status.note == nil)
    }

    @Test func looksOncePerIntervalAndBeatsOncePerHeartbeat() throws {
        let proc = FakeProc()
        let clock = ManualClock()
        let watcher = ProcessWatcher(
            configuration: WatchConfiguration(processes: [Self.nginx, .init(name: "redis-server")], interval: .seconds(5), heartbeat: .seconds(20)),
            hostname: "web-1", procRoot: proc.root, now: { clock.now })
        try proc.set([Self.n(100)])
        // Second by second for 60 s: a look every 5 s; heartbeats 20 s after each thing's last report.
        var log: [(Int, String)] = []
        var heartbeatSeverities: Set<Severity?> = []
        for second in 0...60 {
            if second == 25 { try proc.set([Self.n(100), P(pid: 300, comm: "redis-server")]) }
            if second == 50 { try proc.set([Self.n(100)]) }  // redis gone: no heartbeat while it may be restarting
            for e in watcher.poll() {
                log.append((second, (e.record.structuredData?.first?["name"] ?? "") + " " + describe(e)))
                if e.record.message == "heartbeat" { heartbeatSeverities.insert(e.record.severity) }
            }
            clock.advance(1)
        }
        let expected: [(Int, String)] = [
            (0, "nginx running pid=100"), (0, "redis-server stopped"),
            (20, "nginx heartbeat running pid=100"), (20, "redis-server heartbeat stopped"),
            (25, "redis-server running pid=300"),
            (40, "nginx heartbeat running pid=100"),
            (45, "redis-server heartbeat running pid=300"),
            (55, "redis-server stopped pid=300"),
            (60, "nginx heartbeat running pid=100"),
        ]
        #expect(log.map(\.0) == expected.map(\.0))
        #expect(log.map(\.1) == expected.map(\.1))
        // Heartbeats are info whatever the state (a stopped one too).
        #expect(heartbeatSeverities == [.info])
    }

    @Test func anInvalidPatternIsNotLookedForAndSaysWhy() throws {
        let proc = FakeProc()
        try proc.set([Self.n(100)])
        let configuration = WatchConfiguration(processes: [.init(name: "bad", commandPattern: "(unclosed"), Self.nginx])
        #expect(ProcessWatcher.problems(in: configuration).count == 1)
        #expect(ProcessWatcher.problems(in: WatchConfiguration(processes: [Self.nginx])).isEmpty)
        let watcher = ProcessWatcher(configuration: configuration, hostname: "h", procRoot: proc.root)
        #expect(watcher.poll().map(describe) == ["running pid=100"])
        let bad = try #require(watcher.status.first)
        #expect(bad.state == nil && bad.note?.contains("not a regular expression") == true)
    }

    // MARK: Real processes

    /// `/bin/sleep` under a command line no other process has, so the pattern finds only the test's own.
    static func spawnSleep(_ argument: String) throws -> pid_t {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = ["/bin/sleep", argument].map { (s: String) in strdup(s) } + [nil]
        defer { for a in argv { free(a) } }
        let rc = posix_spawn(&pid, "/bin/sleep", nil, nil, &argv, environ)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        // posix_spawn returns once the child is in execve, before the kernel has laid out the new command line:
        // wait until /proc shows it (a readiness wait, not a timing assertion).
        let expected = "/bin/sleep\0\(argument)\0"
        for _ in 0..<5000 {
            if let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), String(decoding: bytes, as: UTF8.self) == expected { break }
            usleep(1000)
        }
        return pid
    }

    /// Against `/proc`: a `sleep` found by pattern, killed (seen as a zombie before it is reaped: crashed, KILL),
    /// replaced by another (a restart), then killed and reaped (gone with no status: stopped at the next look).
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/bin/sleep")))
    func realProcessesKilledAndStartedAgain() throws {
        let argument = "300.\(UInt32.random(in: 100_000...999_999))"
        let clock = ManualClock()
        let watcher = ProcessWatcher(
            configuration: WatchConfiguration(processes: [.init(name: "sleeper", commandPattern: "^/bin/sleep \(argument.replacingOccurrences(of: ".", with: "\\."))$")]),
            hostname: "h", now: { clock.now })
        var children: [pid_t] = []
        defer {
            for pid in children {
                kill(pid, SIGKILL)
                var status: Int32 = 0
                waitpid(pid, &status, 0)
            }
        }
        let a = try Self.spawnSleep(argument)
        children.append(a)
        #expect(watcher.poll().map(describe) == ["running pid=\(a)"])

        // Killed; waited for without reaping, so it is a zombie whose exit status /proc shows its parent.
        #expect(kill(a, SIGKILL) == 0)
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(a), &info, WEXITED | WNOWAIT) == 0)
        clock.advance(5)
        #expect(watcher.poll().map(describe) == ["crashed signal=KILL pid=\(a)"])
        var status: Int32 = 0
        #expect(waitpid(a, &status, 0) == a)
        children.removeAll { $0 == a }

        let b = try Self.spawnSleep(argument)
        children.append(b)
        clock.advance(5)
        #expect(watcher.poll().map(describe) == ["restarting restarts=1", "running restarts=1 pid=\(b)"])
        #expect(watcher.status.first?.pids == [b])

        // Killed and reaped at once: gone without a trace, so stopped (exit status unknown) at the next look.
        #expect(kill(b, SIGKILL) == 0)
        #expect(waitpid(b, &status, 0) == b)
        children.removeAll { $0 == b }
        clock.advance(5)
        #expect(watcher.poll().isEmpty)
        clock.advance(5)
        let stopped = watcher.poll()
        #expect(stopped.map(describe) == ["stopped pid=\(b)"])
        #expect(stopped.first?.record.message.contains("exit status is unknown") == true)
    }

    // MARK: Units

    static let unitRows: [(UnitProperties, String?)] = [
        (UnitProperties(activeState: "active", subState: "running", restarts: 0, execMainCode: 0, execMainStatus: 0), "running"),
        (UnitProperties(activeState: "active", subState: "exited"), "running"),
        (UnitProperties(activeState: "active", subState: "running", restarts: 2), "running restarts=2"),
        (UnitProperties(activeState: "reloading", subState: "reload"), "running"),
        (UnitProperties(activeState: "inactive", subState: "dead", restarts: 0, execMainCode: 1, execMainStatus: 0), "stopped"),
        (UnitProperties(activeState: "failed", subState: "failed", restarts: 0, execMainCode: 2, execMainStatus: 9), "crashed signal=KILL"),
        (UnitProperties(activeState: "failed", subState: "failed", restarts: 0, execMainCode: 3, execMainStatus: 11), "crashed signal=SEGV"),
        (UnitProperties(activeState: "failed", subState: "failed", restarts: 0, execMainCode: 1, execMainStatus: 1), "crashed exit_code=1"),
        (UnitProperties(activeState: "failed", subState: "failed", restarts: 0, execMainCode: 1, execMainStatus: 0), "crashed"),
        (UnitProperties(activeState: "activating", subState: "auto-restart", restarts: 2, execMainCode: 1, execMainStatus: 1), "restarting restarts=3"),
        (UnitProperties(activeState: "activating", subState: "auto-restart-queued", restarts: 3), "restarting restarts=3"),
        (UnitProperties(activeState: "activating", subState: "start"), nil),
        (UnitProperties(activeState: "deactivating", subState: "stop-sigterm"), nil),
    ]

    @Test(arguments: unitRows)
    func unitPropertiesMapToStates(_ p: UnitProperties, _ expected: String?) {
        let got = p.report.map { r in
            ([r.state.rawValue] + [r.exit?.exitCode.map { "exit_code=\($0)" }, r.exit?.signal.map { "signal=\($0)" }, r.restarts.map { "restarts=\($0)" }].compactMap { $0 })
                .joined(separator: " ")
        }
        #expect(got == expected)
    }

    @Test func unitTrackerReportsChangesRestartsBetweenLooksAndHeartbeats() {
        var t = UnitTracker(name: "nginx.service")
        var now = SyslogTimestamp(seconds: 1_764_900_000)
        func look(_ active: String, _ sub: String, _ restarts: Int, code: Int32 = 0, status: Int32 = 0) -> [String] {
            defer { now.seconds += 5 }
            return t.observe(
                UnitProperties(activeState: active, subState: sub, restarts: restarts, execMainCode: code, execMainStatus: status), at: now, heartbeat: .seconds(12)
            ).map { r in
                ([r.isHeartbeat ? "heartbeat" : nil, r.state.rawValue, r.exit?.signal, r.restarts.map { "restarts=\($0)" }].compactMap { $0 }).joined(separator: " ")
            }
        }
        #expect(look("active", "running", 0) == ["running"])
        #expect(look("active", "running", 0) == [])
        #expect(look("failed", "failed", 0, code: 2, status: 9) == ["crashed KILL"])
        #expect(look("activating", "auto-restart", 0) == ["restarting restarts=1"])
        #expect(look("activating", "auto-restart", 0) == [])  // the same wait, not another restart
        #expect(look("activating", "start", 1) == [])
        #expect(look("active", "running", 1) == ["running restarts=1"])
        // Killed and restarted by systemd between two looks: only NRestarts tells.
        #expect(look("active", "running", 2) == ["restarting restarts=2", "running restarts=2"])
        #expect(look("active", "running", 2) == [])
        #expect(look("active", "running", 2) == [])
        #expect(look("active", "running", 2) == ["heartbeat running restarts=2"])
        #expect(t.status.state == .running && t.status.restarts == 2)
    }

    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/run/dbus/system_bus_socket") || !FileManager.default.fileExists(atPath: "/run/systemd/system")))
    func withoutASystemBusUnitsAreNotLookedAtAndStatusSaysWhy() {
        let proc = FakeProc()
        let watcher = ProcessWatcher(configuration: WatchConfiguration(units: ["nginx.service"]), hostname: "h", procRoot: proc.root)
        #expect(watcher.poll().isEmpty)
        let s = watcher.status
        #expect(s.count == 1 && s[0].kind == .unit && s[0].name == "nginx.service" && s[0].state == nil)
        #expect(s[0].note?.contains("units are not looked at") == true)
    }
}

extension SyslogTimestamp {
    func addingSeconds(_ s: Int64) -> SyslogTimestamp {
        var t = self
        t.seconds += s
        return t
    }
}
