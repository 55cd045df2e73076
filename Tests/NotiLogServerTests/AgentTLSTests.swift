import Foundation
import Logging
import NotiLogServer
import NotiLogTestSupport
import ServiceLifecycle
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The agent binary's `syslog+tls://` output (RFC 5425 through libcurl) against the server's TLS listener, which
/// asks for a client certificate.
@Suite("Agent over syslog+tls", .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
struct AgentTLSTests {
    struct Certificates {
        var server: (cert: String, key: String)
        var client: (cert: String, key: String)
        /// A CA that signed neither.
        var other: (cert: String, key: String)

        init(in dir: TemporaryDirectory) throws {
            server = try Peers.makeCertificate(in: dir.path, name: "server")
            client = try Peers.makeCertificate(in: dir.path, name: "client")
            other = try Peers.makeCertificate(in: dir.path, name: "other")
        }
    }

    /// An in-process server with one TLS listener that requires a certificate signed by `clientCA`.
    static func startServer(_ dir: TemporaryDirectory, _ certs: Certificates) async throws -> (ServiceGroup, Task<Void, Error>, TestAPI, Int) {
        let c = ServerConfiguration(
            dataDir: dir.path + "/data",
            listeners: [.init(tls: "127.0.0.1:0", certificate: certs.server.cert, key: certs.server.key, clientCA: certs.client.cert)],
            http: "127.0.0.1:0", ingest: .init(batchDelay: "20ms"), timeZone: "UTC")
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(configuration: c, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let running = Task { try await group.run() }
        let bound = await services.readiness.ready()
        let port = try #require(bound.listeners.first { $0.transport.rawValue == "tls" }).address.port
        return (group, running, try await TestAPI(services), port)
    }

    static func writeConfig(_ dir: TemporaryDirectory, port: Int, log: String, tls: String) throws -> String {
        let config = dir.path + "/agent.yaml"
        try """
            agent_id: tls-agent
            hostname: tls-host
            state_dir: \(dir.path)/agent
            output: {url: "syslog+tls://127.0.0.1:\(port)", \(tls), timeout: 5s}
            batch: {max_records: 100, max_delay: 100ms}
            files: [{paths: ["\(log)"], app: tlsapp, from: start}]
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    /// Lines with what a framing or escaping slip would break: quotes, brackets, backslashes, non-ASCII.
    static func line(_ n: Int) -> String { "line \(n) \"quoted\" [bracketed] back\\slash é ✓ end" }

    static func append(_ range: Range<Int>, to path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(range.map { Self.line($0) + "\n" }.joined().utf8))
    }

    @Test func recordsArriveIntactAtATLSListenerThatRequiresAClientCertificate() async throws {
        let dir = TemporaryDirectory()
        let certs = try Certificates(in: dir)
        let (group, running, api, port) = try await Self.startServer(dir, certs)
        let log = dir.path + "/app.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        try Self.append(0..<500, to: log)
        let config = try Self.writeConfig(
            dir, port: port, log: log, tls: "ca_file: \"\(certs.server.cert)\", cert_file: \"\(certs.client.cert)\", key_file: \"\(certs.client.key)\"")
        let agent = try await AgentEndToEndTests.startAgent(config)
        defer { agent.stop() }

        let records = try await api.waitForRecords("app:tlsapp", count: 500)
        #expect(records.count == 500, "\(agent.text)")
        #expect(records.map { $0["message"] as? String ?? "" } == (0..<500).map(Self.line))
        let first = try #require(records.first)
        #expect(first["hostname"] as? String == "tls-host" && first["format"] as? String == "rfc5424", "\(first)")
        #expect((first["problems"] as? [Any])?.isEmpty == true, "\(first)")
        #expect(((first["sd"] as? [String: Any])?["file@32473"] as? [String: Any])?["path"] as? String == log, "\(first)")

        // More lines on the kept-open connection.
        try Self.append(500..<600, to: log)
        #expect(try await api.waitForRecords("app:tlsapp", count: 600).count == 600)
        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func aReceiverTheAgentCannotVerifyGetsNothingAndTheBatchesWaitInTheSpool() async throws {
        let dir = TemporaryDirectory()
        let certs = try Certificates(in: dir)
        let (group, running, api, port) = try await Self.startServer(dir, certs)
        let log = dir.path + "/app.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        try Self.append(0..<300, to: log)

        // The wrong CA: the handshake fails on the agent's side, the delivery is retried and logged.
        var config = try Self.writeConfig(
            dir, port: port, log: log, tls: "ca_file: \"\(certs.other.cert)\", cert_file: \"\(certs.client.cert)\", key_file: \"\(certs.client.key)\"")
        var agent = try await AgentEndToEndTests.startAgent(config)
        defer { agent.stop() }
        #expect(try await agent.waitForOutput { $0.contains("cannot deliver to the collector") }, "\(agent.text)")
        #expect(agent.text.contains("syslog+tls://127.0.0.1:\(port)") && agent.text.lowercased().contains("certificate"), "\(agent.text)")
        let spooled = ((try? FileManager.default.contentsOfDirectory(atPath: dir.path + "/agent/spool")) ?? []).filter { $0.hasSuffix(".seg") }
        #expect(!spooled.isEmpty, "the batches should wait in the spool")
        #expect(try await api.records("app:tlsapp").isEmpty)
        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")

        // The right CA: what waited in the spool arrives, once.
        config = try Self.writeConfig(
            dir, port: port, log: log, tls: "ca_file: \"\(certs.server.cert)\", cert_file: \"\(certs.client.cert)\", key_file: \"\(certs.client.key)\"")
        agent = try await AgentEndToEndTests.startAgent(config)
        let records = try await api.waitForRecords("app:tlsapp", count: 300)
        #expect(records.map { $0["message"] as? String ?? "" } == (0..<300).map(Self.line), "\(agent.text)")
        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")
        #expect(try await api.records("app:tlsapp").count == 300)
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// A real syslog-ng (from `scripts/setup`) with a TLS source that requires a trusted client certificate.
    @Test(.enabled(if: SyslogNg.isAvailable))
    func theAgentForwardsToSyslogNgOverTLS() async throws {
        let dir = TemporaryDirectory()
        let certs = try Certificates(in: dir)
        let port = try freeLoopbackPort()
        let config = """
            options { use-dns(no); dns-cache(no); keep-hostname(yes); };
            source s_tls {
              syslog(ip("127.0.0.1") port(\(port)) transport("tls")
                     tls(key-file("\(certs.server.key)") cert-file("\(certs.server.cert)") ca-file("\(certs.client.cert)")
                         peer-verify(required-trusted)));
            };
            destination d_file { file("\(dir.path)/received.log" template("${HOST}|${PROGRAM}|${SDATA}|${MESSAGE}\\n")); };
            log { source(s_tls); destination(d_file); flags(flow-control); };
            """
        let syslogNg = try await SyslogNg.start(config: config, in: dir.path)
        defer { syslogNg.stop() }
        let log = dir.path + "/app.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let agentConfig = try Self.writeConfig(
            dir, port: port, log: log, tls: "ca_file: \"\(certs.server.cert)\", cert_file: \"\(certs.client.cert)\", key_file: \"\(certs.client.key)\"")
        let agent = try await AgentEndToEndTests.startAgent(agentConfig)
        defer { agent.stop() }
        try Self.append(0..<300, to: log)
        var lines: [String] = []
        for _ in 0..<300 {
            lines = ((try? String(contentsOfFile: dir.path + "/received.log", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
            if lines.count >= 300 { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(lines.count == 300, "\(agent.text)\n\(syslogNg.text)")
        #expect(lines.first == "tls-host|tlsapp|[file@32473 path=\"\(log)\"]|\(Self.line(0))", "\(lines.first ?? "")")
        #expect(lines.map { $0.split(separator: "|", maxSplits: 3).last.map(String.init) ?? "" } == (0..<300).map(Self.line))
        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")
        syslogNg.signal(SIGTERM)
        _ = try await syslogNg.waitForExit()
    }
}
