import Foundation
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `notilog-agent`, beside `notilog-server`.
func agentExecutable() throws -> String {
    let path = URL(fileURLWithPath: try serverExecutable()).deletingLastPathComponent().appendingPathComponent("notilog-agent").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "notilog-agent not found at \(path); build it first (swift build --build-tests)"])
    }
    return path
}

/// The agent binary against the server binary: a file's lines reach the server once each, in order, through a
/// server outage (kill -9), an agent restart (SIGTERM) and an agent crash (kill -9).
@Suite("Agent to server", .serialized)
struct AgentEndToEndTests {
    /// A server on a fixed HTTP port (so it comes back where the agent looks for it) and a data directory that
    /// outlives it.
    static func startServer(_ dir: TemporaryDirectory, port: Int, config: String? = nil) async throws -> ChildProcess {
        var arguments = ["--data-dir", dir.path + "/data", "--http", "127.0.0.1:\(port)", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0"]
        if let config {
            try config.write(toFile: dir.path + "/server.yaml", atomically: true, encoding: .utf8)
            arguments += ["--config", dir.path + "/server.yaml"]
        }
        let child = try ChildProcess(try serverExecutable(), arguments)
        guard try await child.waitForOutput({ $0.contains("NotiLog server ready") }) else {
            child.stop()
            throw POSIXError(.EIO, userInfo: [NSLocalizedDescriptionKey: "notilog-server did not start:\n\(child.text)"])
        }
        return child
    }

    /// The API as the first start's admin token sees it, and that token.
    static func adminAPI(_ dir: TemporaryDirectory, port: Int) throws -> (TestAPI, String) {
        let token = try String(contentsOfFile: dir.path + "/data/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return (TestAPI(port: port, token: token), token)
    }

    /// Writes `DIR/agent.yaml` for an agent sending to the server's ingest endpoint on `port` with `token`
    /// (batches after at most 100 ms), its state in `DIR/agent`, with `rest` (more YAML) after; returns its path.
    static func writeAgentConfig(_ dir: TemporaryDirectory, id: String, hostname: String, port: Int, token: String, _ rest: String) throws -> String {
        let config = dir.path + "/agent.yaml"
        try """
            agent_id: \(id)
            hostname: \(hostname)
            state_dir: \(dir.path)/agent
            output: {url: "http://127.0.0.1:\(port)", token: "\(token)"}
            batch: {max_delay: 100ms}

            """.appending(rest).write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    static func startAgent(_ config: String) async throws -> ChildProcess {
        let child = try ChildProcess(try agentExecutable(), ["--config", config, "--log-level", "debug"])
        guard try await child.waitForOutput({ $0.contains("agent started") }) else {
            child.stop()
            throw POSIXError(.EIO, userInfo: [NSLocalizedDescriptionKey: "notilog-agent did not start:\n\(child.text)"])
        }
        return child
    }

    /// Appends lines `range` to the file, `chunk` at a time.
    static func write(_ range: Range<Int>, to path: String, chunk: Int = 100) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        for start in stride(from: range.lowerBound, to: range.upperBound, by: chunk) {
            let text = (start..<min(start + chunk, range.upperBound)).map { "line \($0) of the test\n" }.joined()
            handle.write(Data(text.utf8))
        }
    }

    /// Waits until the agent's status file says it has read the whole file.
    static func waitUntilRead(_ statusPath: String, _ logPath: String) async throws {
        let size = (try FileManager.default.attributesOfItem(atPath: logPath)[.size] as? Int) ?? 0
        for _ in 0..<600 {
            if let data = FileManager.default.contents(atPath: statusPath),
                let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let sources = status["sources"] as? [[String: Any]],
                sources.contains(where: { $0["path"] as? String == logPath && $0["offset"] as? Int == size })
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the agent did not read \(logPath) to its end (\(size) bytes)")
    }

    @Test func fileLinesArriveOnceInOrderThroughOutagesRestartsAndCrashes() async throws {
        let dir = TemporaryDirectory()
        let port = Peers.closedPort()
        var server = try await Self.startServer(dir, port: port)
        defer { server.stop() }
        let (admin, _) = try Self.adminAPI(dir, port: port)
        let created = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"agent","scope":"ingest"}"#)
        try #require(created.status == 201, "\(created.text)")
        try (created.json["token"] as! String).write(toFile: dir.path + "/agent.token", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/logs", withIntermediateDirectories: true)
        let log = dir.path + "/logs/app.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let config = dir.path + "/agent.yaml"
        try """
            agent_id: e2e-agent
            hostname: e2e-host
            state_dir: \(dir.path)/agent
            output:
              url: http://127.0.0.1:\(port)
              token_file: \(dir.path)/agent.token
              timeout: 5s
            batch: {max_records: 250, max_delay: 100ms}
            files:
              - paths: [\(dir.path)/logs/*.log]
                app: e2e
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let status = dir.path + "/agent/status.json"
        var agent = try await Self.startAgent(config)
        defer { agent.stop() }

        // 1. Lines arrive.
        try Self.write(0..<2000, to: log)
        #expect(try await admin.waitForRecords("app:e2e", count: 2000).count == 2000)

        // 2. The server dies (kill -9); lines written meanwhile wait in the spool, then arrive when it is back.
        server.stop()
        try Self.write(2000..<4000, to: log)
        try await Self.waitUntilRead(status, log)
        server = try await Self.startServer(dir, port: port)
        #expect(try await admin.waitForRecords("app:e2e", count: 4000, seconds: 60).count == 4000)

        // 3. The agent stops (SIGTERM); lines written meanwhile are read at its next start.
        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")
        try Self.write(4000..<5000, to: log)
        agent = try await Self.startAgent(config)
        #expect(try await admin.waitForRecords("app:e2e", count: 5000).count == 5000)

        // 4. The agent crashes (kill -9) while lines are being written.
        try Self.write(5000..<6500, to: log, chunk: 50)
        agent.stop()
        try Self.write(6500..<8000, to: log)
        agent = try await Self.startAgent(config)
        let all = try await admin.waitForRecords("app:e2e", count: 8000, seconds: 60)

        // Every line once, in the order written, and nothing else.
        let messages = all.map { $0["message"] as? String ?? "" }
        #expect(messages.count == 8000, "\(messages.count) records")
        let expected = (0..<8000).map { "line \($0) of the test" }
        let firstDifference = messages.indices.first { $0 >= expected.count || messages[$0] != expected[$0] }
        #expect(messages == expected, "first difference at \(firstDifference ?? -1)")
        #expect(all.allSatisfy { $0["hostname"] as? String == "e2e-host" })
        // Give a late duplicate a moment to show itself.
        try await Task.sleep(for: .seconds(1))
        #expect(try await admin.records("app:e2e").count == 8000)
        agent.signal(SIGTERM)
        _ = try await agent.waitForExit()
    }

    /// An export-format entry as journald stores a service's line.
    static func journalEntry(_ n: Int, message: String? = nil) -> [(String, [UInt8])] {
        [
            ("__REALTIME_TIMESTAMP", Array(String(1_764_900_000_000_000 + UInt64(n) * 1000).utf8)), ("__MONOTONIC_TIMESTAMP", Array(String(n + 1).utf8)),
            ("_BOOT_ID", Array("0123456789abcdef0123456789abcdef".utf8)), ("_HOSTNAME", Array("db-7".utf8)), ("PRIORITY", Array("4".utf8)),
            ("SYSLOG_FACILITY", Array("3".utf8)), ("SYSLOG_IDENTIFIER", Array("postgres".utf8)), ("_PID", Array("4242".utf8)),
            ("_SYSTEMD_UNIT", Array("postgresql.service".utf8)), ("_EXE", Array("/usr/lib/postgresql/bin/postgres".utf8)),
            ("CODE_FILE", Array("checkpointer.c".utf8)), ("CODE_LINE", Array("812".utf8)),
            ("MESSAGE", Array((message ?? "journal entry \(n)").utf8)),
        ]
    }

    @Test func journalEntriesArriveWithTheirFieldsAndOnceAcrossARestart() async throws {
        let dir = TemporaryDirectory()
        let port = Peers.closedPort()
        let server = try await Self.startServer(dir, port: port)
        defer { server.stop() }
        let (admin, adminToken) = try Self.adminAPI(dir, port: port)
        let journal = try JournalFixture()
        try journal.write([Self.journalEntry(0, message: "checkpoint starting:\n  wal 42 MB")] + (1..<500).map { Self.journalEntry($0) })
        let config = dir.path + "/agent.yaml"
        try """
            agent_id: journal-agent
            state_dir: \(dir.path)/agent
            metrics_interval: 1s
            output: {url: "http://127.0.0.1:\(port)", token: "\(adminToken)"}
            batch: {max_records: 100, max_delay: 100ms}
            journald:
              directory: \(journal.directory)
              units: [postgresql.service]
              from: start
            """.write(toFile: config, atomically: true, encoding: .utf8)
        var agent = try await Self.startAgent(config)
        defer { agent.stop() }
        let first = try await admin.waitForRecords("app:postgres", count: 500)
        try #require(first.count == 500, "\(agent.text)")
        // Every mapped field, read back through the API.
        let r = first[0]
        #expect(r["hostname"] as? String == "db-7" && r["procid"] as? String == "4242" && r["severity"] as? Int == 4)
        #expect(r["facility"] as? Int == 3 && (r["timestamp"] as? String)?.hasPrefix("2025-12-05T02:00:00") == true, "\(r)")
        #expect(r["message"] as? String == "checkpoint starting:\n  wal 42 MB")
        let sd = (r["sd"] as? [String: Any])?["journald@32473"] as? [String: Any]
        #expect(sd?["unit"] as? String == "postgresql.service" && sd?["exe"] as? String == "/usr/lib/postgresql/bin/postgres", "\(r)")
        #expect(sd?["code_file"] as? String == "checkpointer.c" && sd?["code_line"] as? String == "812" && sd?["boot_id"] != nil)
        #expect(try await admin.records("sd.journald@32473.unit:postgresql.service").count == 500)
        // The agent's own figures (metrics_interval: 1s), as a record of notilog-agent through the same path.
        let metrics = try await admin.waitForRecords("app:notilog-agent msgid:METRICS sd.agent@32473.read_journal_total:500", count: 1)
        try #require(!metrics.isEmpty, "no metrics record\n\(agent.text)")
        let figures = ((metrics[0]["sd"] as? [String: Any])?["agent@32473"] as? [String: Any]) ?? [:]
        #expect(metrics[0]["severity"] as? Int == 6 && figures["read_files_total"] as? String == "0", "\(metrics[0])")
        #expect(Int(figures["rss_bytes"] as? String ?? "") ?? 0 > 0 && figures["cpu_seconds"] != nil && figures["spool_batches"] != nil, "\(figures)")

        // Stopped, more entries written, started again: the new ones once, nothing twice.
        agent.signal(SIGTERM)
        _ = try await agent.waitForExit()
        try journal.write((500..<800).map { Self.journalEntry($0) })
        agent = try await Self.startAgent(config)
        let all = try await admin.waitForRecords("app:postgres", count: 800)
        try await Task.sleep(for: .seconds(1))
        let messages = try await admin.records("app:postgres").map { $0["message"] as? String ?? "" }
        #expect(messages.count == 800 && all.count == 800)
        #expect(Array(messages.dropFirst()) == (1..<800).map { "journal entry \($0)" })
        agent.signal(SIGTERM)
        _ = try await agent.waitForExit()
    }

    @Test func theAgentForwardsToRsyslogOverSyslogTCP() async throws {
        let dir = TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.path + "/work", withIntermediateDirectories: true)
        try """
            global(workDirectory="\(dir.path)/work")
            module(load="imtcp")
            template(name="full" type="string" string="%HOSTNAME%|%APP-NAME%|%STRUCTURED-DATA%|%msg%\\n")
            input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="\(dir.path)/inport" ruleset="out")
            ruleset(name="out") { action(type="omfile" file="\(dir.path)/received.log" template="full") }
            """.write(toFile: dir.path + "/rsyslog.conf", atomically: true, encoding: .utf8)
        let rsyslog = try ChildProcess(RsyslogForwardingTests.rsyslogd, ["-n", "-f", dir.path + "/rsyslog.conf", "-i", dir.path + "/rsyslogd.pid"])
        defer { rsyslog.stop() }
        let port = try await waitForPortFile(dir.path + "/inport", of: rsyslog)
        try FileManager.default.createDirectory(atPath: dir.path + "/logs", withIntermediateDirectories: true)
        let log = dir.path + "/logs/app.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let config = dir.path + "/agent.yaml"
        try """
            agent_id: rsyslog-agent
            hostname: agent-host
            state_dir: \(dir.path)/agent
            output: {url: "syslog+tcp://127.0.0.1:\(port)"}
            batch: {max_delay: 100ms}
            files: [{paths: ["\(log)"], app: shop}]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let agent = try await Self.startAgent(config)
        defer { agent.stop() }
        try Self.write(0..<300, to: log)
        var lines: [String] = []
        for _ in 0..<300 {
            lines = ((try? String(contentsOfFile: dir.path + "/received.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.count >= 300 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(lines.count == 300, "\(agent.text)")
        #expect(lines.first == "agent-host|shop|[file@32473 path=\"\(log)\"]|line 0 of the test", "\(lines.first ?? "")")
        #expect(lines.map { $0.split(separator: "|").last.map(String.init) ?? "" } == (0..<300).map { "line \($0) of the test" })
        agent.signal(SIGTERM)
        _ = try await agent.waitForExit()
    }

    @Test func aWatchedProcessThatDiesRaisesTheServersStateAlert() async throws {
        let dir = TemporaryDirectory()
        let port = Peers.closedPort()
        let server = try await Self.startServer(
            dir, port: port,
            config: """
                rules:
                  - {name: worker-down, kind: state, states: [crashed, stopped]}
                """)
        defer { server.stop() }
        let (admin, adminToken) = try Self.adminAPI(dir, port: port)
        // The watched process: a sleep with a command line no other process has.
        let marker = "\(Int.random(in: 100_000...999_999)).5"
        let worker = try ChildProcess("/bin/sleep", [marker])
        defer { worker.stop() }
        let config = try Self.writeAgentConfig(
            dir, id: "watch-agent", hostname: "watch-host", port: port, token: adminToken,
            """
            watch:
              processes: [{name: worker, pattern: 'sleep \(marker.replacingOccurrences(of: ".", with: "\\."))'}]
              interval: 1s
            """)
        let agent = try await Self.startAgent(config)
        defer { agent.stop() }
        let running = try await admin.waitForRecords("sd.watch@32473.name:worker sd.watch@32473.state:running", count: 1)
        #expect(running.first?["hostname"] as? String == "watch-host", "\(agent.text)")

        worker.stop()
        var open: [[String: Any]] = []
        for _ in 0..<300 {
            open = (try await admin.request("GET", "/api/v1/alerts", ["state": "open"]).json["alerts"] as? [[String: Any]]) ?? []
            if !open.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(open.count == 1 && open.first?["rule"] as? String == "worker-down", "\(open)")
        #expect((open.first?["group"] as? String)?.contains("worker") == true, "\(open)")
        agent.signal(SIGTERM)
        _ = try await agent.waitForExit()
    }
}
