import Foundation
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A systemd-journald the test starts itself (as root, on a machine where no journald runs), written to with
/// `systemd-cat` and `logger --journald`, read by the real agent through libsystemd, and checked on the server.
///
/// Only where nothing else runs a journald: the test never stops one it did not start, and it removes the
/// journal files, sockets and directories its journald made (and nothing that was there before).
@Suite("Agent with a live journald", .serialized)
struct LiveJournaldTests {
    static let journald = "/lib/systemd/systemd-journald"
    static let systemdCat = "/usr/bin/systemd-cat"
    static let logger = "/usr/bin/logger"
    static let socket = "/run/systemd/journal/socket"
    /// Where journald (and the tools) keep what the test must put back as it was.
    static let touchedDirectories = ["/run/systemd/journal", "/run/log", "/var/log/journal"]

    /// Why the test cannot run here, or nil.
    static func unavailableReason() -> String? {
        if getuid() != 0 { return "systemd-journald must be started as root" }
        for tool in [journald, systemdCat, logger] where !FileManager.default.isExecutableFile(atPath: tool) { return "\(tool) is not installed" }
        if FileManager.default.fileExists(atPath: "/run/systemd/system") { return "systemd runs this machine (it has its own journald)" }
        if FileManager.default.fileExists(atPath: socket) { return "\(socket) exists: a journald is running already" }
        let running = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { name in
            guard Int(name) != nil, let comm = try? String(contentsOfFile: "/proc/\(name)/comm", encoding: .utf8) else { return false }
            return comm.hasPrefix("systemd-journal")
        }
        if !running.isEmpty { return "a systemd-journald runs already (pid \(running.joined(separator: ", ")))" }
        return nil
    }

    static let canStartJournald: Bool = {
        guard let why = unavailableReason() else { return true }
        print("Agent with a live journald: skipped: \(why)")
        return false
    }()

    /// Every path under the directories journald writes to.
    static func snapshot() -> Set<String> {
        var paths: Set<String> = []
        for top in touchedDirectories {
            guard FileManager.default.fileExists(atPath: top) else { continue }
            paths.insert(top)
            for sub in FileManager.default.subpaths(atPath: top) ?? [] { paths.insert(top + "/" + sub) }
        }
        return paths
    }

    /// Removes what is there now and was not in `before`, deepest first (a directory that was there stays).
    static func removeAdded(since before: Set<String>) {
        for path in snapshot().subtracting(before).sorted(by: { $0.count > $1.count }) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// The host name journald gives entries (`_HOSTNAME`).
    static func hostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func fileText(_ path: String) -> String {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `systemd-cat -t TAG -p PRIORITY` with `lines` on its standard input; its PID (the entries' `_PID`).
    static func systemdCat(tag: String, priority: String, _ lines: [String], in dir: String) async throws -> Int32 {
        let input = dir + "/cat-\(UUID().uuidString).txt"
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let pid = try Peers.spawn(systemdCat, ["-t", tag, "-p", priority], stdinPath: input, stderrPath: input + ".err")
        let status = try await Peers.waitForExit(pid, seconds: 30)
        try #require(status == 0, "systemd-cat failed: \(fileText(input + ".err"))")
        return pid
    }

    @Test(.enabled(if: canStartJournald, "needs root, systemd-journald, systemd-cat and logger, and no journald running"))
    func entriesWrittenToARunningJournaldArriveOnceWithTheirFields() async throws {
        // One live journald on the machine at a time, even when two test runs (two checkouts) meet here.
        let lock = open("/tmp/notilog-live-journald.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        defer { close(lock) }
        guard lock >= 0, flock(lock, LOCK_EX | LOCK_NB) == 0 else {
            print("Agent with a live journald: skipped: another test run holds /tmp/notilog-live-journald.lock")
            return
        }
        if let why = Self.unavailableReason() {
            print("Agent with a live journald: skipped: \(why)")
            return
        }
        let before = Self.snapshot()
        let dir = TemporaryDirectory()
        let journald = try ChildProcess(Self.journald, [])
        defer {
            journald.stop()
            Self.removeAdded(since: before)
        }
        var up = false
        for _ in 0..<1000 where journald.isRunning {
            if FileManager.default.fileExists(atPath: Self.socket) {
                up = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(up, "systemd-journald did not start: \(journald.text)")
        let machineID = Self.fileText("/etc/machine-id")
        let bootID = Self.fileText("/proc/sys/kernel/random/boot_id").replacingOccurrences(of: "-", with: "")
        let tag = "nltest-\(UUID().uuidString.prefix(8).lowercased())"

        let port = Peers.closedPort()
        let server = try await AgentEndToEndTests.startServer(dir, port: port)
        defer { server.stop() }
        let (admin, adminToken) = try AgentEndToEndTests.adminAPI(dir, port: port)

        // Written before the agent starts (read from the start of the journal) …
        struct Expected {
            var message: String
            var severity: Int
            var pid: Int32
            var transport: String
        }
        var expected: [Expected] = []
        for (priority, value) in [("err", 3), ("warning", 4), ("info", 6)] {
            let lines = (0..<3).map { "\(tag) \(priority) line \($0)" }
            let pid = try await Self.systemdCat(tag: tag, priority: priority, lines, in: dir.path)
            expected += lines.map { Expected(message: $0, severity: value, pid: pid, transport: "stdout") }
        }
        // systemd-cat makes an entry of every line; a multi-line message takes the native protocol: logger
        // --journald joins repeated MESSAGE fields with line breaks.
        let multiLine = "\(tag) crit: a message\n  over three lines\n\tend"
        let native = dir.path + "/native.txt"
        try (multiLine.split(separator: "\n").map { "MESSAGE=\($0)" } + ["PRIORITY=2", "SYSLOG_IDENTIFIER=\(tag)"]).joined(separator: "\n")
            .write(toFile: native, atomically: true, encoding: .utf8)
        let loggerPID = try Peers.spawn(Self.logger, ["--journald=\(native)"], stderrPath: native + ".err")
        try #require(try await Peers.waitForExit(loggerPID, seconds: 30) == 0, "logger failed: \(Self.fileText(native + ".err"))")
        expected.append(Expected(message: multiLine, severity: 2, pid: loggerPID, transport: "journal"))

        let config = dir.path + "/agent.yaml"
        try """
            agent_id: live-journal-agent
            state_dir: \(dir.path)/agent
            output: {url: "http://127.0.0.1:\(port)", token: "\(adminToken)"}
            batch: {max_records: 100, max_delay: 100ms}
            journald:
              directory: /run/log/journal/\(machineID)
              identifiers: [\(tag)]
              from: start
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try await AgentEndToEndTests.startAgent(config)
        defer { agent.stop() }

        // … and while it runs (followed live).
        for (priority, value) in [("notice", 5), ("debug", 7)] {
            let lines = (0..<3).map { "\(tag) \(priority) live line \($0)" }
            let pid = try await Self.systemdCat(tag: tag, priority: priority, lines, in: dir.path)
            expected += lines.map { Expected(message: $0, severity: value, pid: pid, transport: "stdout") }
        }

        let found = try await admin.waitForRecords("app:\(tag)", count: expected.count, seconds: 60)
        try #require(found.count == expected.count, "\(found.count) of \(expected.count) records\n\(agent.text)\n\(journald.text)")
        // Give a late duplicate a moment to show itself.
        try await Task.sleep(for: .seconds(1))
        let all = try await admin.records("app:\(tag)")
        #expect(all.count == expected.count, "every entry once: \(all.count) records for \(expected.count) entries")

        let host = Self.hostname()
        for e in expected {
            let matching = all.filter { $0["message"] as? String == e.message }
            #expect(matching.count == 1, "\(e.message): \(matching.count) records")
            guard let r = matching.first else { continue }
            #expect(r["app"] as? String == tag && r["severity"] as? Int == e.severity, "\(r)")
            #expect(r["procid"] as? String == String(e.pid) && r["hostname"] as? String == host, "\(r)")
            let sd = (r["sd"] as? [String: Any])?["journald@32473"] as? [String: Any] ?? [:]
            #expect(sd["transport"] as? String == e.transport && sd["uid"] as? String == "0", "\(r)")
            #expect(sd["boot_id"] as? String == bootID && sd["machine_id"] as? String == machineID, "\(r)")
        }
        // In the order journald wrote them.
        #expect(all.map { $0["message"] as? String ?? "" } == expected.map(\.message))

        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")
        journald.signal(SIGTERM)
        #expect(try await journald.waitForExit(seconds: 20) != nil, "systemd-journald did not stop: \(journald.text)")
    }
}
