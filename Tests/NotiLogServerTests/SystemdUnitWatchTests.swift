import Foundation
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real systemd and system bus, in PID and mount namespaces of their own (`Tests/peers/systemd_sandbox.sh`), so
/// the agent's unit watcher reads units over sd-bus as on a host: each change of a unit reaches the server as a
/// `watch@32473` record, and the server's `state` rule fires and resolves on them.
@Suite("systemd units over sd-bus", .serialized)
struct SystemdUnitWatchTests {
    static let tools = ["/usr/bin/unshare", "/usr/bin/nsenter", "/lib/systemd/systemd", "/usr/bin/dbus-daemon", "/usr/bin/systemctl"]

    /// Why systemd cannot be run here, or nil. `scripts/setup` installs what is missing (once).
    static let missing: String? = {
        guard geteuid() == 0 else { return "needs root (namespaces, mounting /run)" }
        func check() -> String? { tools.first { !FileManager.default.isExecutableFile(atPath: $0) }.map { "no \($0)" } }
        if check() != nil { _ = try? Peers.runProgram(Peers.packageRoot + "/scripts/setup", []) }
        let reason = check()
        if let reason { FileHandle.standardError.write(Data("systemd unit test skipped: \(reason)\n".utf8)) }
        return reason
    }()

    /// systemd in its namespaces: the `unshare` process the test started and systemd's PID (PID 1 inside).
    struct Sandbox {
        let unshare: pid_t
        let systemd: pid_t

        /// Starts it with the units in `unitDir` and waits until systemd answers on the bus.
        static func start(unitDir: String, log: String) async throws -> Sandbox {
            let unshare = try Peers.spawn(
                "/usr/bin/unshare",
                ["--pid", "--mount", "--uts", "--fork", "--kill-child=SIGKILL", "--mount-proc", "--propagation", "private", Peers.peersDirectory + "/systemd_sandbox.sh", unitDir],
                stdoutPath: log, stderrPath: log + ".err")
            var systemd: pid_t = 0
            for _ in 0..<200 where systemd == 0 {
                let children = (try? String(contentsOfFile: "/proc/\(unshare)/task/\(unshare)/children", encoding: .utf8)) ?? ""
                systemd = children.split(separator: " ").first.flatMap { pid_t($0) } ?? 0
                if systemd == 0 { try await Task.sleep(for: .milliseconds(50)) }
            }
            let sandbox = Sandbox(unshare: unshare, systemd: systemd)
            guard systemd != 0 else {
                sandbox.stop()
                throw POSIXError(.ESRCH, userInfo: [NSLocalizedDescriptionKey: "systemd did not start: \(try Self.text(log))"])
            }
            for _ in 0..<300 {
                // "running" once the start-up job (notilog-sandbox.target and what it wants) is done.
                if let state = try? await sandbox.systemctl("is-system-running"), ["running", "degraded"].contains(state.output) { return sandbox }
                try await Task.sleep(for: .milliseconds(100))
            }
            sandbox.stop()
            throw POSIXError(.ETIMEDOUT, userInfo: [NSLocalizedDescriptionKey: "systemd did not answer on its bus: \(try Self.text(log))"])
        }

        static func text(_ path: String) throws -> String {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: path + ".err", encoding: .utf8)) ?? "")
        }

        /// `systemctl ARGS` inside: its exit status and trimmed output (run on a thread of its own, off the
        /// cooperative pool the servers in this process need).
        func systemctl(_ arguments: String...) async throws -> (status: Int32, output: String) {
            let command = ["-t", "\(systemd)", "-m", "-p", "--", "/usr/bin/systemctl"] + arguments
            let run = try await Peers.offThreadThrowing { try Peers.runProgram("/usr/bin/nsenter", command) }
            return (run.status, run.output.trimmingCharacters(in: .whitespacesAndNewlines))
        }

        /// The command line that runs `executable` inside.
        func inside(_ executable: String, _ arguments: [String]) -> (String, [String]) {
            ("/usr/bin/nsenter", ["-t", "\(systemd)", "-m", "-p", "--", executable] + arguments)
        }

        /// Ends everything inside (PID 1 of a PID namespace takes the rest with it) and reaps `unshare`.
        func stop() {
            if systemd != 0 { kill(systemd, SIGKILL) }
            kill(unshare, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(unshare, &status, 0)
        }
    }

    @Test(
        "units started, stopped, killed, failing and restarting reach the server; the state rule fires and resolves",
        .enabled(if: missing == nil, "needs root, unshare/nsenter, systemd and dbus-daemon (scripts/setup installs them)"))
    func unitsOverTheBus() async throws {
        let dir = TemporaryDirectory()
        let units = dir.path + "/units"
        try FileManager.default.createDirectory(atPath: units, withIntermediateDirectories: true)
        let files = [
            "notilog-sandbox.target": """
                [Unit]
                DefaultDependencies=no
                Wants=dbus.socket dbus.service nl-steady.service nl-exits.service nl-flappy.service
                """,
            "nl-steady.service": "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sleep 100000\n",
            "nl-exits.service": "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sh -c 'exit 7'\n",
            "nl-flappy.service": "[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sh -c 'sleep 1; exit 3'\nRestart=always\nRestartSec=3\n",
        ]
        for (name, text) in files { try text.write(toFile: units + "/" + name, atomically: true, encoding: .utf8) }

        let port = Peers.closedPort()
        let server = try await AgentEndToEndTests.startServer(
            dir, port: port,
            config: """
                rules:
                  - {name: unit-down, kind: state, states: [crashed], group_by: [sd.watch@32473.name]}
                """)
        defer { server.stop() }
        let (admin, token) = try AgentEndToEndTests.adminAPI(dir, port: port)

        let sandbox = try await Sandbox.start(unitDir: units, log: dir.path + "/systemd.log")
        defer { sandbox.stop() }
        #expect(try await sandbox.systemctl("is-active", "nl-steady.service").output == "active")

        let config = try AgentEndToEndTests.writeAgentConfig(
            dir, id: "unit-agent", hostname: "unit-host", port: port, token: token,
            """
            watch:
              units: [nl-steady.service, nl-exits.service, nl-flappy.service]
              interval: 500ms
            """)
        let (nsenter, arguments) = sandbox.inside(try agentExecutable(), ["--config", config, "--log-level", "debug"])
        let agent = try ChildProcess(nsenter, arguments)
        defer { agent.stop() }
        #expect(try await agent.waitForOutput { $0.contains("agent started") }, "\(agent.text)")

        func records(_ unit: String, _ state: String, count: Int = 1, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
            let found = try await admin.waitForRecords(
                #"sd.watch@32473.kind:unit sd.watch@32473.name:"\#(unit)" sd.watch@32473.state:\#(state)"#, count: count)
            if found.count < count {
                let all = try await admin.records("sd.watch@32473.kind:unit").map { "\($0["message"] ?? "")" }
                Issue.record("no \(count) \(state) record(s) of \(unit); the unit records: \(all)\n--- agent\n\(agent.text.suffix(3000))", sourceLocation: sourceLocation)
            }
            return found
        }
        func parameter(_ record: [String: Any]?, _ name: String) -> String? {
            ((record?["sd"] as? [String: Any])?["watch@32473"] as? [String: Any])?[name] as? String
        }

        // Running, read over the bus; then stopped by systemctl and started again.
        let running = try await records("nl-steady.service", "running")
        #expect(running.first?["hostname"] as? String == "unit-host", "\(agent.text)")
        #expect(try await sandbox.systemctl("stop", "nl-steady.service").status == 0)
        _ = try await records("nl-steady.service", "stopped")
        #expect(try await sandbox.systemctl("start", "nl-steady.service").status == 0)
        _ = try await records("nl-steady.service", "running", count: 2)

        // Killed by a signal: crashed with the signal, and the state rule's alert opens for that unit.
        #expect(try await sandbox.systemctl("kill", "--kill-whom=main", "--signal=KILL", "nl-steady.service").status == 0)
        let killed = try await records("nl-steady.service", "crashed")
        #expect(parameter(killed.last, "signal") == "KILL", "\(killed)")
        var open: [[String: Any]] = []
        for _ in 0..<300 {
            open = (try await admin.request("GET", "/api/v1/alerts", ["state": "open"]).json["alerts"] as? [[String: Any]]) ?? []
            if open.contains(where: { ($0["group"] as? String)?.contains("nl-steady") == true }) { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(open.contains { $0["rule"] as? String == "unit-down" && ($0["group"] as? String)?.contains("nl-steady") == true }, "\(open)")

        // Running again: the alert resolves.
        #expect(try await sandbox.systemctl("reset-failed", "nl-steady.service").status == 0)
        #expect(try await sandbox.systemctl("start", "nl-steady.service").status == 0)
        _ = try await records("nl-steady.service", "running", count: 3)
        var resolved = false
        for _ in 0..<300 where !resolved {
            let all = (try await admin.request("GET", "/api/v1/alerts", ["state": "resolved"]).json["alerts"] as? [[String: Any]]) ?? []
            resolved = all.contains { ($0["group"] as? String)?.contains("nl-steady") == true }
            if !resolved { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(resolved, "the unit-down alert for nl-steady.service did not resolve")

        // A service whose main process exits 7: crashed with that exit code.
        let exited = try await records("nl-exits.service", "crashed")
        #expect(parameter(exited.first, "exit_code") == "7", "\(exited)")

        // Restart=always: restarting, with systemd's restart count.
        let restarting = try await records("nl-flappy.service", "restarting")
        #expect(Int(parameter(restarting.first, "restarts") ?? "") ?? 0 >= 1, "\(restarting)")

        agent.signal(SIGTERM)
        _ = try await agent.waitForExit()
        #expect(!agent.text.contains("system bus"), "the watcher reported a bus problem:\n\(agent.text)")
    }
}
