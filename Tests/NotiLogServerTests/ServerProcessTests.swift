import Foundation
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `notilog-server` binary, run as a child process on port 0 in a temporary data directory.
@Suite("notilog-server process", .serialized)
struct ServerProcessTests {
    @Test func sigtermCommitsEverythingReceivedAndExitsZero() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let notify = try NotifySocket(directory: dir.path)
        let config = dir.path + "/server.yaml"
        try """
            listeners:
              - udp: 0.0.0.0:5514
              - tcp: 0.0.0.0:5514
                max_connections_per_address: 10
            retention:
              max_age: 30d
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let data = dir.path + "/data"
        // Batches wait long to fill: what was received is still queued at SIGTERM, so the test sees the flush.
        let child = try ChildProcess(
            server, ["--config", config, "--data-dir", data, "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"],
            environment: [
                "NOTIFY_SOCKET": notify.path, "NOTILOG_INGEST_BATCH_DELAY": "60s", "NOTILOG_INGEST_BATCH_SIZE": "100000",
            ])
        defer { child.stop() }

        // Ready: systemd hears READY=1 once the listeners are bound; the log names the real ports.
        let started = notify.receive(until: "READY=1")
        #expect(started.contains { $0.contains("READY=1") && $0.contains("STATUS=Listening on udp 127.0.0.1:") }, "\(started)\n\(child.text)")
        #expect(try await child.waitForOutput { listenerPorts(in: $0).count == 2 }, "\(child.text)")
        let ports = listenerPorts(in: child.text)
        let tcp = try #require(ports["tcp"])
        #expect(ports["udp"] != nil && ports["udp"] != 0 && tcp != 0)
        #expect(child.text.contains("store.path=\(data)/notilog.sqlite"))

        // 5,000 messages over one TCP connection, octet-counted.
        let total = 5_000
        let sender = try TestSocket(tcpPort: tcp)
        var stream: [UInt8] = []
        for k in 0..<total {
            let m = "<134>1 2025-11-25T13:17:50.\(String(format: "%06d", k))Z web-\(k % 7) nginx 42 - - request \(k) done"
            stream += Array("\(m.utf8.count) \(m)".utf8)
        }
        try sender.send(stream)
        // The server has read everything once it closes its side after our end of stream.
        #expect(sender.finish())

        // SIGTERM by PID: stop accepting, flush the queue, commit, exit 0.
        child.signal(SIGTERM)
        let stopping = notify.receive(until: "STOPPING=1")
        #expect(stopping.contains { $0.contains("STOPPING=1") }, "\(stopping)")
        let status = try await child.waitForExit()
        #expect(status == 0, "\(child.text)")
        #expect(child.text.contains("ingest.committed=\(total)"), "\(child.text)")

        // The restart guarantee: everything is in the store.
        let store = try SQLiteLogStore(directory: data)
        #expect(try await store.count() == total)
        let records = try await store.search(SearchRequest(query: .all, limit: 10_000)).records.reversed().map(\.record)
        #expect(records.map(\.message) == (0..<total).map { "request \($0) done" })
        #expect(records.allSatisfy { $0.appName == "nginx" && $0.problems.isEmpty && $0.source == "127.0.0.1" })
    }

    @Test func sigintAlsoStopsGracefully() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let child = try ChildProcess(server, ["run", "--data-dir", dir.path, "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        defer { child.stop() }
        #expect(try await child.waitForOutput { listenerPorts(in: $0).count == 2 }, "\(child.text)")
        let udp = try #require(listenerPorts(in: child.text)["udp"])
        try runProgram("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(udp)", "-d", "--rfc5424", "-t", "proc", "over udp"])
        let store = try SQLiteLogStore(directory: dir.path)
        let deadline = Date().addingTimeInterval(20)
        while try await store.count() < 1, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        child.signal(SIGINT)
        #expect(try await child.waitForExit() == 0, "\(child.text)")
        let found = try await store.search(SearchRequest(query: try QueryParser.parse("app:proc"), limit: 10)).records
        #expect(found.map(\.record.message) == ["over udp"])
    }

    @Test func startingWithAnInvalidConfigurationExitsOne() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let child = try ChildProcess(server, ["--data-dir", dir.path, "--tcp", "nowhere"], environment: ["NOTILOG_RETENTION_MAX_AGE": "30x"])
        defer { child.stop() }
        #expect(try await child.waitForExit() == 1)
        #expect(child.text.contains("listeners[1].tcp (from --tcp): \"nowhere\" is not HOST:PORT"), "\(child.text)")
        #expect(child.text.contains("retention.max_age (from NOTILOG_RETENTION_MAX_AGE): \"30x\" is not a duration"), "\(child.text)")
    }

    @Test func aPortInUseExitsOne() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let first = try ChildProcess(server, ["--data-dir", dir.path + "/a", "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        defer { first.stop() }
        #expect(try await first.waitForOutput { listenerPorts(in: $0).count == 2 }, "\(first.text)")
        let tcp = try #require(listenerPorts(in: first.text)["tcp"])
        let second = try ChildProcess(server, ["--data-dir", dir.path + "/b", "--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:\(tcp)", "--http", "127.0.0.1:0"])
        defer { second.stop() }
        #expect(try await second.waitForExit() == 1, "\(second.text)")
        #expect(second.text.contains("cannot listen on tcp://127.0.0.1:\(tcp)"), "\(second.text)")
        first.signal(SIGTERM)
        #expect(try await first.waitForExit() == 0, "\(first.text)")
    }

    // MARK: validate

    @Test func validateAcceptsAGoodConfiguration() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let config = dir.path + "/server.yaml"
        try "data_dir: \(dir.path)/data\nlisteners:\n  - udp: \"[::]:5514\"\n  - tcp: 127.0.0.1:5514\n    allow: [127.0.0.0/8]\n"
            .write(toFile: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(server, ["validate", "--config", config])
        defer { child.stop() }
        #expect(try await child.waitForExit() == 0, "\(child.text)")
        #expect(child.text.hasPrefix("configuration OK\n"), "\(child.text)")
        #expect(child.text.contains("syslog: udp [::]:5514"))
        #expect(child.text.contains("syslog: tcp 127.0.0.1:5514 (allow 127.0.0.0/8)"))
        // Validating starts nothing: the data directory is not even created.
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/data"))
    }

    @Test func validateListsEveryProblemAndExitsOne() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let config = dir.path + "/server.yaml"
        try """
            listeners:
              - udp: 0.0.0.0:514
              - tls: 0.0.0.0:6514
                certificate: \(dir.path)/missing.crt
                key: \(dir.path)/missing.key
            retention:
              max_age: 30x
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(server, ["validate", "--config", config])
        defer { child.stop() }
        #expect(try await child.waitForExit() == 1)
        let lines = child.text.split(separator: "\n").map(String.init)
        #expect(lines == [
            "\(config): the configuration has 3 problems:",
            "  listeners[1].certificate: file not found: \(dir.path)/missing.crt",
            "  listeners[1].key: file not found: \(dir.path)/missing.key",
            "  retention.max_age: \"30x\" is not a duration (e.g. 200ms, 30s, 15m, 24h, 30d, or off)",
        ], "\(child.text)")
    }

    @Test func validateNeedsTheNamedFile() async throws {
        let server = try serverExecutable()
        let dir = TemporaryDirectory()
        let child = try ChildProcess(server, ["validate", "--config", dir.path + "/absent.yaml"])
        defer { child.stop() }
        #expect(try await child.waitForExit() == 1)
        #expect(child.text.contains("\(dir.path)/absent.yaml: file not found"), "\(child.text)")
    }

    @Test func validateTheShippedExample() async throws {
        // The packaged file, checked as on a server: its TLS listener is commented out, so no files are needed.
        let server = try serverExecutable()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = TemporaryDirectory()
        let child = try ChildProcess(
            server, ["validate", "--config", root.appendingPathComponent("etc/notilog/server.yaml").path, "--data-dir", dir.path])
        defer { child.stop() }
        #expect(try await child.waitForExit() == 0, "\(child.text)")
    }
}
