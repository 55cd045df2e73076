import Foundation
import NIOCore
import NotiLogCollector
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

@testable import NotiLogServer

@Suite("Server configuration")
struct ServerConfigurationTests {
    /// Loads with no file unless given, and no environment unless given (never the machine's own).
    static func load(
        file: String? = nil, environment: [String: String] = [:], overrides: CommandLineOverrides = CommandLineOverrides()
    ) -> ServerConfiguration {
        ServerConfiguration.load(file: file, environment: environment, overrides: overrides, defaultFile: "/nonexistent/server.yaml")
    }

    static func write(_ text: String, in dir: TemporaryDirectory, name: String = "server.yaml") throws -> String {
        let path = dir.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func problems(_ c: ServerConfiguration) -> [String] {
        c.problems().map(\.description)
    }

    // MARK: Defaults

    @Test func defaultsWithNoConfigurationAtAll() throws {
        let c = Self.load()
        #expect(c.file == nil)
        let s = try c.resolved()
        #expect(s.dataDirectory == "./data")
        #expect(s.listeners.map(\.name) == ["udp://0.0.0.0:5514", "tcp://0.0.0.0:5514"])
        #expect(s.http == HostPort(host: "127.0.0.1", port: 8514))
        #expect(s.ingest == IngestPipeline.Configuration())
        #expect(s.maintenance.retention == RetentionPolicy(maxAgeSeconds: 30 * 86_400, maxBytes: nil))
        #expect(s.timeZone == TimeZone.current)
        #expect(s.listeners.allSatisfy { $0.allow.isEmpty && $0.framing == .auto && $0.tls == nil })
    }

    @Test func stateDirectoryIsTheDefaultDataDirectory() throws {
        #expect(try Self.load(environment: ["STATE_DIRECTORY": "/var/lib/notilog"]).resolved(checkFiles: false).dataDirectory == "/var/lib/notilog")
        // systemd separates several StateDirectory= entries with colons: the first is ours.
        #expect(Self.load(environment: ["STATE_DIRECTORY": "/var/lib/notilog:/var/lib/other"]).dataDir == "/var/lib/notilog")
        // Anything explicit wins.
        let dir = TemporaryDirectory()
        let file = try Self.write("data_dir: /srv/notilog\n", in: dir)
        #expect(Self.load(file: file, environment: ["STATE_DIRECTORY": "/var/lib/notilog"]).dataDir == "/srv/notilog")
        #expect(Self.load(environment: ["STATE_DIRECTORY": "/var/lib/notilog", "NOTILOG_DATA_DIR": "/a"]).dataDir == "/a")
        #expect(Self.load(environment: ["STATE_DIRECTORY": "/var/lib/notilog"], overrides: .init(dataDir: "/b")).dataDir == "/b")
    }

    @Test func theDefaultFileIsReadOnlyWhenItExists() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write("http: 127.0.0.1:9000\n", in: dir)
        let c = ServerConfiguration.load(file: nil, environment: [:], defaultFile: file)
        #expect(c.file == file)
        #expect(c.http == "127.0.0.1:9000")
        let none = ServerConfiguration.load(file: nil, environment: [:], defaultFile: dir.path + "/absent.yaml")
        #expect(none.file == nil)
        #expect(none.readingProblems.isEmpty)
        // NOTILOG_CONFIG names the file when no flag does.
        #expect(ServerConfiguration.load(environment: ["NOTILOG_CONFIG": file], defaultFile: "/nonexistent").http == "127.0.0.1:9000")
        // A named file that is missing is a problem, not the defaults.
        let missing = Self.load(file: dir.path + "/missing.yaml")
        #expect(Self.problems(missing) == ["\(dir.path)/missing.yaml: file not found"])
    }

    @Test func anEmptyOrCommentOnlyFileMeansDefaults() throws {
        for text in ["", "# nothing here\n", "---\n", "~\n"] {
            let c = ServerConfiguration.parse(yaml: text)
            #expect(c.readingProblems.isEmpty, "\(text)")
            #expect(c == ServerConfiguration(), "\(text)")
        }
    }

    // MARK: The file

    static let fullExample = """
        data_dir: /var/lib/notilog
        listeners:
          - udp: "0.0.0.0:514"
            allow: [10.0.0.0/8, 192.0.2.7]
            max_frame_size: 8KB
          - tcp: "[::]:514"
            allow: 2001:db8::/32
            max_connections: 100
            max_connections_per_address: 5
            idle_timeout: 15m
            max_frame_size: 1MB
            framing: octet-counting
          - tcp: "127.0.0.1:1514"
            framing: lf
        http: "[::1]:8514"
        ingest:
          queue_capacity: 20000
          batch_size: 1000
          batch_delay: 50ms
        retention:
          max_age: 7d
          max_size: 20GB
        time_zone: Europe/Berlin
        source_time_zones:
          - match: 10.20.0.0/16
            zone: America/New_York
          - match: Core-SW-1
            zone: Asia/Tokyo
        """

    @Test func everyKeyOfTheFile() throws {
        let c = ServerConfiguration.parse(yaml: Self.fullExample)
        #expect(c.readingProblems.isEmpty)
        let s = try c.resolved(checkFiles: false)
        #expect(s.dataDirectory == "/var/lib/notilog")
        #expect(s.listeners.map(\.name) == ["udp://0.0.0.0:514", "tcp://[::]:514", "tcp://127.0.0.1:1514"])
        let udp = s.listeners[0]
        #expect(udp.allow.map(\.description) == ["10.0.0.0/8", "192.0.2.7"])
        #expect(udp.maxFrameSize == 8192)
        let tcp = s.listeners[1]
        #expect(tcp.allow.map(\.description) == ["2001:db8::/32"])
        #expect(tcp.maxConnections == 100)
        #expect(tcp.maxConnectionsPerAddress == 5)
        #expect(tcp.idleTimeout == .seconds(900))
        #expect(tcp.maxFrameSize == 1 << 20)
        #expect(tcp.framing == .octetCounting)
        #expect(s.listeners[2].framing == .lf)
        #expect(s.http == HostPort(host: "::1", port: 8514))
        #expect(s.ingest == IngestPipeline.Configuration(queueCapacity: 20_000, batchSize: 1_000, maxBatchDelay: .milliseconds(50)))
        #expect(s.maintenance.retention == RetentionPolicy(maxAgeSeconds: 7 * 86_400, maxBytes: 20 << 30))
        #expect(s.timeZone.identifier == "Europe/Berlin")
        // Address rules choose the parser by sender; host-name rules hold in every parser.
        let berlin = s.parsers.parser(for: try SocketAddress(ipAddress: "198.51.100.1", port: 514))
        #expect(berlin.timeZone.identifier == "Europe/Berlin")
        let newYork = s.parsers.parser(for: try SocketAddress(ipAddress: "10.20.3.4", port: 514))
        #expect(newYork.timeZone.identifier == "America/New_York")
        for p in [berlin, newYork] { #expect(p.zoneByHostname.mapValues(\.identifier) == ["core-sw-1": "Asia/Tokyo"]) }
    }

    @Test func theShippedExampleIsValid() throws {
        // etc/notilog/server.yaml, as packaged: valid apart from files that exist only on a server.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = root.appendingPathComponent("etc/notilog/server.yaml").path
        let c = Self.load(file: path)
        #expect(c.readingProblems.isEmpty)
        let s = try c.resolved(checkFiles: false)
        #expect(!s.listeners.isEmpty)
    }

    @Test func listsAreAlsoAcceptedAsOneValue() throws {
        let c = ServerConfiguration.parse(yaml: "listeners:\n  - tcp: 127.0.0.1:0\n    allow: 10.0.0.0/8\n")
        #expect(try c.resolved(checkFiles: false).listeners[0].allow.map(\.description) == ["10.0.0.0/8"])
    }

    // MARK: Environment and flags

    @Test func environmentOverridesTheFile() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write(Self.fullExample, in: dir)
        let c = Self.load(
            file: file,
            environment: [
                "NOTILOG_DATA_DIR": "/data/env",
                "NOTILOG_HTTP": "127.0.0.1:9999",
                "NOTILOG_UDP": "",
                "NOTILOG_TCP": "127.0.0.1:6000, [::1]:6001",
                "NOTILOG_LISTENERS_IDLE_TIMEOUT": "2m",
                "NOTILOG_INGEST_QUEUE_CAPACITY": "500",
                "NOTILOG_INGEST_BATCH_SIZE": "50",
                "NOTILOG_INGEST_BATCH_DELAY": "1s",
                "NOTILOG_RETENTION_MAX_AGE": "90d",
                "NOTILOG_RETENTION_MAX_SIZE": "off",
                "NOTILOG_TIME_ZONE": "UTC",
                "NOTILOG_SOURCE_TIME_ZONES": "fw-1=Asia/Tokyo, 192.0.2.0/24=Europe/Paris",
                "UNRELATED": "x",
            ])
        let s = try c.resolved(checkFiles: false)
        #expect(s.dataDirectory == "/data/env")
        #expect(s.http.description == "127.0.0.1:9999")
        // No UDP; the TCP listeners replaced, standing where the first stood, with its options.
        #expect(s.listeners.map(\.name) == ["tcp://127.0.0.1:6000", "tcp://[::1]:6001"])
        #expect(s.listeners.allSatisfy { $0.maxConnections == 100 && $0.framing == .octetCounting && $0.idleTimeout == .seconds(120) })
        #expect(s.ingest == IngestPipeline.Configuration(queueCapacity: 500, batchSize: 50, maxBatchDelay: .seconds(1)))
        #expect(s.maintenance.retention == RetentionPolicy(maxAgeSeconds: 90 * 86_400, maxBytes: nil))
        #expect(s.timeZone.secondsFromGMT() == 0 && s.timeZone.nextDaylightSavingTimeTransition == nil)
        #expect(s.parsers.defaultParser.zoneByHostname.mapValues(\.identifier) == ["fw-1": "Asia/Tokyo"])
        #expect(s.parsers.parser(for: try SocketAddress(ipAddress: "192.0.2.9", port: 1)).timeZone.identifier == "Europe/Paris")
    }

    @Test func listenerOptionsFromTheEnvironmentApplyWhereTheyMeanSomething() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write(
            "listeners:\n  - udp: 127.0.0.1:0\n  - tcp: 127.0.0.1:0\n  - tls: 127.0.0.1:0\n", in: dir)
        let c = Self.load(
            file: file,
            environment: [
                "NOTILOG_LISTENERS_ALLOW": "10.0.0.0/8,127.0.0.1", "NOTILOG_LISTENERS_MAX_CONNECTIONS": "7",
                "NOTILOG_LISTENERS_MAX_CONNECTIONS_PER_ADDRESS": "3", "NOTILOG_LISTENERS_FRAMING": "lf",
                "NOTILOG_LISTENERS_MAX_FRAME_SIZE": "2KB", "NOTILOG_LISTENERS_CERTIFICATE": "/c.pem",
                "NOTILOG_LISTENERS_KEY": "/k.pem", "NOTILOG_LISTENERS_CLIENT_CA": "/ca.pem",
            ])
        let l = try #require(c.listeners)
        #expect(l.map { $0.allow ?? [] } == Array(repeating: ["10.0.0.0/8", "127.0.0.1"], count: 3))
        #expect(l.map(\.maxFrameSize) == ["2KB", "2KB", "2KB"])
        #expect(l.map(\.maxConnections) == [nil, 7, 7])
        #expect(l.map(\.maxConnectionsPerAddress) == [nil, 3, 3])
        #expect(l.map(\.framing) == [nil, "lf", "lf"])
        #expect(l.map(\.certificate) == [nil, nil, "/c.pem"])
        #expect(l.map(\.key) == [nil, nil, "/k.pem"])
        #expect(l.map(\.clientCA) == [nil, nil, "/ca.pem"])
        let s = try c.resolved(checkFiles: false)
        #expect(s.listeners[2].tls == ListenerConfiguration.TLSFiles(certificateChain: "/c.pem", privateKey: "/k.pem", clientCA: "/ca.pem"))
    }

    @Test func flagsOverrideTheEnvironment() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write(
            """
            listeners:
              - tls: 0.0.0.0:6514
                certificate: /etc/notilog/tls/server.crt
                key: /etc/notilog/tls/server.key
              - udp: 0.0.0.0:514
            """, in: dir)
        let c = Self.load(
            file: file, environment: ["NOTILOG_DATA_DIR": "/env", "NOTILOG_HTTP": "127.0.0.1:1", "NOTILOG_UDP": "127.0.0.1:2"],
            overrides: CommandLineOverrides(
                dataDir: "/flag", udp: ["127.0.0.1:0", "[::1]:0"], tcp: ["127.0.0.1:0"], tls: ["127.0.0.1:0"], http: "127.0.0.1:3"))
        let s = try c.resolved(checkFiles: false)
        #expect(s.dataDirectory == "/flag")
        #expect(s.http.description == "127.0.0.1:3")
        // Each transport's flags replace its list; TLS keeps the file's certificate; TCP is new (the file had none).
        #expect(s.listeners.map(\.name) == ["tls://127.0.0.1:0", "udp://127.0.0.1:0", "udp://[::1]:0", "tcp://127.0.0.1:0"])
        #expect(s.listeners[0].tls?.certificateChain == "/etc/notilog/tls/server.crt")
        // Flags given without a file replace only their transport among the defaults.
        let d = try Self.load(overrides: .init(tcp: ["127.0.0.1:0"])).resolved(checkFiles: false)
        #expect(d.listeners.map(\.name) == ["udp://0.0.0.0:5514", "tcp://127.0.0.1:0"])
    }

    // MARK: Validation

    @Test func validationNamesEveryProblemWithItsKeyPath() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write(
            """
            data_dir: \(dir.path)/data
            listeners:
              - udp: 0.0.0.0
                alow: [10.0.0.0/8]
                framing: lf
              - tcp: "0.0.0.0:5514"
                max_connections: lots
                idle_timeout: 0s
                allow: [10.0.0/8, 192.0.2.0/24]
              - tls: "0.0.0.0:6514"
                certificate: /nonexistent/server.crt
              - tcp: "127.0.0.1:5514"
                max_frame_size: 100
              - {}
              - udp: "[::]:514"
                tcp: "[::]:514"
              - tcp: "::1:514"
            http: "127.0.0.1:6514"
            ingest:
              queue_capacity: 0
              batch_delay: soon
            retention:
              max_age: 30x
              max_size: "20"
            time_zone: Mars/Olympus
            source_time_zones:
              - match: "bad host!"
                zone: UTC
              - match: 10.0.0.0/8
              - zone: UTC
            extra: 1
            """, in: dir)
        let problems = Self.problems(Self.load(file: file))
        let expected = [
            // Reading: unknown keys and wrong types, in file order.
            "extra: unknown key",
            "listeners[0].alow: unknown key (did you mean allow?)",
            "listeners[1].max_connections: expected a whole number, found \"lots\"",
            // Checking.
            "listeners[0].udp: \"0.0.0.0\" is not HOST:PORT (HOST:PORT, e.g. \"0.0.0.0:514\")",
            "listeners[0].framing: applies to tcp and tls listeners only",
            "listeners[1].allow[0]: \"10.0.0/8\" is not an address or an address range (10.0.0.0/8, 2001:db8::/32)",
            "listeners[1].idle_timeout: must be longer than 0",
            "listeners[2].key: missing: a tls listener needs a certificate and a key (PEM files)",
            "listeners[2].certificate: file not found: /nonexistent/server.crt",
            "listeners[3].max_frame_size: must be from 480 bytes to 16MB, found 100 bytes",
            "listeners[4]: needs one of udp, tcp or tls with HOST:PORT",
            "listeners[5]: has udp and tcp; give one transport per entry",
            "listeners[6].tcp: \"::1:514\" is not HOST:PORT (an IPv6 address goes in brackets: \"[::]:514\")",
            "ingest.queue_capacity: must be at least 1, found 0",
            "ingest.batch_delay: \"soon\" is not a duration (e.g. 200ms, 30s, 15m, 24h, 30d)",
            "retention.max_age: \"30x\" is not a duration (e.g. 200ms, 30s, 15m, 24h, 30d, or off)",
            "retention.max_size: must be at least 1MB, found 20 bytes (sizes take a unit: 512MB, 20GB)",
            "time_zone: \"Mars/Olympus\" is not a time zone (an IANA name such as UTC, Europe/Berlin, America/New_York, or local)",
            "source_time_zones[0].match: \"bad host!\" is neither an address range nor a host name",
            "source_time_zones[1].zone: missing: a time zone name such as Europe/Berlin",
            "source_time_zones[2].match: missing: an address range (10.0.0.0/8) or a host name",
        ]
        for e in expected { #expect(problems.contains(e), "missing: \(e)\nall: \(problems.joined(separator: "\n"))") }
        #expect(problems.count == expected.count, "\(problems.joined(separator: "\n"))")
    }

    @Test func portClashesAreReported() throws {
        let c = ServerConfiguration.parse(
            yaml: """
                listeners:
                  - tcp: 0.0.0.0:5514
                  - udp: 0.0.0.0:5514
                  - tls: 127.0.0.1:5514
                    certificate: /c
                    key: /k
                  - tcp: 127.0.0.1:8514
                  - tcp: 127.0.0.1:0
                  - tcp: 127.0.0.1:0
                """)
        let problems = c.problems(checkFiles: false).map(\.description)
        #expect(problems == [
            "listeners[2].tls: 127.0.0.1:5514 is also used by listeners[0].tcp (0.0.0.0:5514)",
            "listeners[3].tcp: 127.0.0.1:8514 is also used by http (127.0.0.1:8514)",
        ])
    }

    @Test func problemsNameTheVariableOrFlagThatSetTheValue() throws {
        let c = Self.load(
            environment: [
                "NOTILOG_RETENTION_MAX_AGE": "30x", "NOTILOG_INGEST_BATCH_SIZE": "many", "NOTILOG_LISTENERS_MAX_CONNECTIONS": "x",
                "NOTILOG_SOURCE_TIME_ZONES": "nonsense", "NOTILOG_LISTENERS_IDLE_TIMEOUT": "forever",
            ],
            overrides: .init(tcp: ["localhost"], http: "8514"))
        let problems = Self.problems(c)
        let expected = [
            "ingest.batch_size (from NOTILOG_INGEST_BATCH_SIZE): expected a whole number, found \"many\"",
            "source_time_zones (from NOTILOG_SOURCE_TIME_ZONES): expected MATCH=ZONE, found \"nonsense\"",
            "listeners[*].max_connections (from NOTILOG_LISTENERS_MAX_CONNECTIONS): expected a whole number, found \"x\"",
            "http (from --http): \"8514\" is not HOST:PORT (HOST:PORT, e.g. \"0.0.0.0:8514\")",
            "listeners[1].tcp (from --tcp): \"localhost\" is not HOST:PORT (HOST:PORT, e.g. \"0.0.0.0:514\")",
            "listeners[1].idle_timeout (from NOTILOG_LISTENERS_IDLE_TIMEOUT): \"forever\" is not a duration (e.g. 200ms, 30s, 15m, 24h, 30d)",
            "retention.max_age (from NOTILOG_RETENTION_MAX_AGE): \"30x\" is not a duration (e.g. 200ms, 30s, 15m, 24h, 30d, or off)",
        ]
        #expect(problems == expected, "\(problems.joined(separator: "\n"))")
    }

    @Test func yamlSyntaxErrorsNameTheFileAndLine() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write("listeners:\n  - udp: 0.0.0.0:514\n  - tcp: \"unclosed\n", in: dir)
        let problems = Self.problems(Self.load(file: file))
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("\(file): not valid YAML: line 4, column 1: ") == true, "\(problems)")
        // A document that is not a mapping.
        #expect(Self.problems(ServerConfiguration.parse(yaml: "- a\n- b\n", file: "x.yaml")) == [
            "x.yaml: expected a mapping of settings (data_dir, listeners, ...)"
        ])
        // An unquoted IPv6 address is not valid YAML: the message says how to write it.
        let ipv6 = Self.problems(ServerConfiguration.parse(yaml: "listeners:\n  - udp: [::]:514\n", file: "x.yaml"))
        #expect(ipv6.count == 1)
        #expect(ipv6.first?.hasPrefix("x.yaml: not valid YAML: line 2, column 11: ") == true, "\(ipv6)")
        #expect(ipv6.first?.hasSuffix("; quote addresses that start with [, as in \"[::]:514\"") == true, "\(ipv6)")
    }

    @Test func theDataDirectoryMustBeUsable() throws {
        let dir = TemporaryDirectory()
        let file = try Self.write("x", in: dir, name: "plain-file")
        #expect(Self.problems(Self.load(overrides: .init(dataDir: file))) == ["data_dir (from --data-dir): \(file) is not a directory"])
        // Not there yet but creatable: fine (the store creates it).
        #expect(Self.problems(Self.load(overrides: .init(dataDir: dir.path + "/a/b/c"))).isEmpty)
        #expect(Self.problems(Self.load(overrides: .init(dataDir: file + "/sub"))).first?.contains("cannot be created") == true)
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func tlsFilesAreLoaded() throws {
        let dir = TemporaryDirectory()
        let cert = dir.path + "/server.crt"
        let key = dir.path + "/server.key"
        try makeCertificate(certificate: cert, key: key)
        let garbage = try Self.write("not a certificate\n", in: dir, name: "garbage.pem")
        let good = ServerConfiguration(listeners: [.init(tls: "127.0.0.1:0", certificate: cert, key: key, clientCA: cert)])
        #expect(Self.problems(good).isEmpty)
        let bad = ServerConfiguration(listeners: [.init(tls: "127.0.0.1:0", certificate: garbage, key: cert)])
        let problems = Self.problems(bad)
        #expect(problems.count == 2, "\(problems)")
        #expect(problems.first { $0.hasPrefix("listeners[0].certificate: \(garbage)") } != nil, "\(problems)")
        #expect(problems.first { $0.hasPrefix("listeners[0].key: \(cert) is not a PEM private key") } != nil, "\(problems)")
        let plain = ServerConfiguration(listeners: [.init(tcp: "127.0.0.1:0", certificate: cert)])
        #expect(Self.problems(plain) == ["listeners[0].certificate: applies to tls listeners only"])
    }
}

/// A self-signed certificate and its key, made with the openssl command.
func makeCertificate(certificate: String, key: String) throws {
    let result = try Peers.runProgram(
        "/usr/bin/openssl",
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
            "-days", "2", "-keyout", key, "-out", certificate,
        ])
    #expect(result.status == 0, "\(result.output)")
}
