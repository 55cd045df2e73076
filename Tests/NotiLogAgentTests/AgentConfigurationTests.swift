import Foundation
import NotiLogTestSupport
import Testing

@testable import NotiLogAgent

@Suite("Agent configuration")
struct AgentConfigurationTests {
    @Test func theShippedExampleReads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try AgentConfiguration.load(file: root.appendingPathComponent("etc/notilog/agent.yaml").path)
        #expect(c.output.url == "http://127.0.0.1:8514" && c.output.tokenFile == "/etc/notilog/agent.token")
        #expect(c.batch.maxRecords == 1000 && c.batch.maxBytes == 1 << 20 && c.batch.maxDelay == .seconds(1) && c.batch.immediateSeverity == .err)
        #expect(c.spoolMaxBytes == 256 << 20)
        #expect(c.files.count == 1 && c.files[0].app == "nginx" && c.files[0].paths.count == 2)
        #expect(c.journald == JournalSource.Configuration())
    }

    @Test func theJournaldSection() throws {
        let c = try AgentConfiguration.parse(
            yaml: """
                journald: {directory: /srv/j, units: [a.service], identifiers: sshd, priority: notice, matches: ["_TRANSPORT=kernel"], from: start}
                """)
        #expect(
            c.journald
                == JournalSource.Configuration(
                    directory: "/srv/j", units: ["a.service"], identifiers: ["sshd"], maxPriority: .notice, matches: ["_TRANSPORT=kernel"],
                    readFromStart: true))
        #expect(try AgentConfiguration.parse(yaml: "journald: yes").journald == JournalSource.Configuration())
        #expect(try AgentConfiguration.parse(yaml: "journald: no").journald == nil)
        #expect(try AgentConfiguration.parse(yaml: "files: []").journald == nil)
    }

    @Test func syslogOutputsAndWatching() throws {
        let c = try AgentConfiguration.parse(
            yaml: """
                output: {url: "syslog+udp://[::1]:514"}
                watch: {processes: [{name: nginx}, {name: app, pattern: 'java .*app.jar'}, {name: db, pidfile: /run/db.pid}], units: [cron.service], interval: 2s, heartbeat: 1m}
                """)
        #expect(c.output.scheme == "syslog+udp")
        #expect(try Forwarders.make(c.output, agentID: "a", token: nil) is SyslogForwarder)
        #expect(c.watch.processes == [.init(name: "nginx"), .init(name: "app", commandPattern: "java .*app.jar"), .init(name: "db", pidfile: "/run/db.pid")])
        #expect(c.watch.units == ["cron.service"] && c.watch.interval == .seconds(2) && c.watch.heartbeat == .seconds(60))
    }

    @Test func theTLSSyslogOutput() throws {
        let dir = TemporaryDirectory()
        for name in ["ca.pem", "cert.pem", "key.pem"] { _ = FileManager.default.createFile(atPath: "\(dir.path)/\(name)", contents: Data("x".utf8)) }
        let c = try AgentConfiguration.parse(
            yaml: """
                output: {url: "syslog+tls://logs.example:6514", ca_file: \(dir.path)/ca.pem, cert_file: \(dir.path)/cert.pem, key_file: \(dir.path)/key.pem, timeout: 7s}
                """)
        #expect(c.output.scheme == "syslog+tls" && c.output.caFile == dir.path + "/ca.pem")
        #expect(c.output.clientCertificateFile == dir.path + "/cert.pem" && c.output.clientKeyFile == dir.path + "/key.pem")
        let forwarder = try #require(try Forwarders.make(c.output, agentID: "a", token: nil) as? SyslogForwarder)
        #expect(forwarder.transport == .tls && forwarder.host == "logs.example" && forwarder.port == 6514)
        #expect(forwarder.destination == "syslog+tls://logs.example:6514")
        #expect(forwarder.tls.caFile == dir.path + "/ca.pem" && forwarder.tls.certificateFile == dir.path + "/cert.pem" && forwarder.tls.keyFile == dir.path + "/key.pem")
        #expect(forwarder.tls.writeTimeout == .seconds(7) && forwarder.tls.connectTimeout == .seconds(7))
        // Without a client certificate (the CA: the system's).
        let plain = try AgentConfiguration.parse(yaml: "output: {url: 'syslog+tls://[::1]:6514'}")
        let v6 = try #require(try Forwarders.make(plain.output, agentID: "a", token: nil) as? SyslogForwarder)
        #expect(v6.host == "::1" && v6.tls.caFile == nil && v6.tls.certificateFile == nil)
    }

    @Test func everySettingIsRead() throws {
        let dir = TemporaryDirectory()
        _ = FileManager.default.createFile(atPath: dir.path + "/ca.pem", contents: Data("x".utf8))
        let c = try AgentConfiguration.parse(
            yaml: """
                agent_id: web-1.example:a
                hostname: web-1
                state_dir: /srv/agent
                output: {url: "https://logs.example:8514/", token: secret, ca_file: \(dir.path)/ca.pem, timeout: 10s}
                batch: {max_records: 50, max_bytes: 64KiB, max_delay: 250ms, immediate_severity: none}
                spool: {max_size: 1GiB}
                files:
                  - {paths: /var/log/a.log, exclude: ["*.gz"], app: a, facility: local3, severity: warning,
                     multiline_start: '^\\S', max_line: 1KiB, from: start}
                """)
        #expect(c.agentID == "web-1.example:a" && c.hostname == "web-1" && c.stateDirectory == "/srv/agent")
        #expect(c.output.url == "https://logs.example:8514/" && c.output.token == "secret" && c.output.timeout == .seconds(10))
        #expect(c.batch.maxRecords == 50 && c.batch.maxBytes == 65_536 && c.batch.maxDelay == .milliseconds(250) && c.batch.immediateSeverity == nil)
        #expect(c.spoolMaxBytes == 1 << 30)
        let f = try #require(c.files.first)
        #expect(f.paths == ["/var/log/a.log"] && f.exclude == ["*.gz"] && f.facility == .local3 && f.severity == .warning)
        #expect(f.multilineStart == "^\\S" && f.maxLineBytes == 1024 && f.readExistingFromStart)
    }

    @Test(arguments: [
        ("outptu: {}", "outptu: unknown key"),
        ("output: {url: 'ftp://x'}", "output.url: \"ftp://x\" is not an http(s):// URL"),
        ("output: {token: a, token_file: /b}", "output.token: give token or token_file, not both"),
        ("batch: {max_records: 0}", "batch.max_records: expected a whole number from 1"),
        ("batch: {max_delay: 5}", "batch.max_delay: expected a duration"),
        ("batch: {immediate_severity: loud}", "batch.immediate_severity: expected a severity"),
        ("spool: {max_size: 10KB}", "spool.max_size: expected a size of at least 1048576 bytes"),
        ("files: [{app: x}]", "files[0].paths: required"),
        ("files: [{paths: [logs/*.log]}]", "files[0].paths[0]: \"logs/*.log\" is not an absolute path"),
        ("files: [{paths: [/a], multiline_start: '(['}]", "files[0].multiline_start: not a valid regular expression"),
        ("files: [{paths: [/a], from: middle}]", "files[0].from: expected end or start"),
        ("agent_id: 'a b'", "agent_id: 1 to 128 of"),
        ("files: {paths: [/a]}", "files: expected a list of file sources"),
        ("a: [", "not valid YAML"),
        ("journald: {matches: [kernel]}", "journald.matches: \"kernel\" is not a journal match"),
        ("journald: {unit: [a]}", "journald.unit: unknown key"),
        ("journald: maybe", "journald: expected a mapping"),
        ("output: {url: 'syslog+tls://logs'}", "output.url: \"syslog+tls://logs\" needs a port"),
        ("output: {url: 'syslog+tls://logs:6514', cert_file: /etc/passwd}", "output.key_file: required with cert_file"),
        ("output: {url: 'syslog+tls://logs:6514', key_file: /etc/passwd}", "output.cert_file: required with key_file"),
        ("output: {url: 'syslog+tls://logs:6514', cert_file: /nonexistent/c.pem, key_file: /etc/passwd}", "output.cert_file: cannot read /nonexistent/c.pem"),
        ("output: {url: 'https://logs:8514', cert_file: /etc/passwd, key_file: /nonexistent/k.pem}", "output.key_file: cannot read /nonexistent/k.pem"),
        ("output: {url: 'syslog+tls://logs:6514', ca_file: /nonexistent/ca.pem}", "output.ca_file: cannot read /nonexistent/ca.pem"),
        ("output: {url: 'syslog+tcp://logs:514', ca_file: /etc/passwd}", "output.ca_file: applies to https:// and syslog+tls:// only"),
        ("output: {url: 'syslog+tls://logs:6514', client_cert_file: /etc/passwd}", "output.client_cert_file: unknown key"),
        ("output: {url: 'syslog+tcp://logs'}", "output.url: \"syslog+tcp://logs\" needs a port"),
        ("watch: {processes: [{pattern: x}]}", "watch.processes[0].name: required"),
        ("watch: {processes: [{name: a, pattern: '(['}]}", "watch.processes[0].pattern: not a valid regular expression"),
    ])
    func problemsNameTheirKey(_ yaml: String, _ expected: String) {
        do {
            _ = try AgentConfiguration.parse(yaml: yaml, file: "agent.yaml")
            Issue.record("no problem found in \(yaml)")
        } catch {
            #expect(error.problems.contains { $0.hasPrefix(expected) }, "\(error.problems)")
            #expect(error.description.hasPrefix("agent.yaml: "))
        }
    }
}
