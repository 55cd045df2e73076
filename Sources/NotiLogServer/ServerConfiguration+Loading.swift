import Foundation
import Yams

/// Values given on the command line; each replaces what the file and the environment said.
public struct CommandLineOverrides: Sendable, Hashable {
    public var dataDir: String?
    /// Given addresses replace every listener of that transport (options are kept from the first one replaced).
    public var udp: [String]?
    public var tcp: [String]?
    public var tls: [String]?
    public var http: String?

    public init(dataDir: String? = nil, udp: [String]? = nil, tcp: [String]? = nil, tls: [String]? = nil, http: String? = nil) {
        self.dataDir = dataDir
        self.udp = udp
        self.tcp = tcp
        self.tls = tls
        self.http = http
    }
}

extension ServerConfiguration {
    /// Read when no file is named and it exists.
    public static let defaultPath = "/etc/notilog/server.yaml"

    /// The listeners used when the configuration names none: UDP and TCP on every interface, port 5514.
    public static let defaultListeners = [Listener(udp: "0.0.0.0:5514"), Listener(tcp: "0.0.0.0:5514")]

    /// The environment variables and the key each sets. Lists are comma-separated. `NOTILOG_UDP`, `NOTILOG_TCP` and
    /// `NOTILOG_TLS` replace every listener of that transport (empty: none); `NOTILOG_LISTENERS_*` set an option on
    /// every listener it applies to. An empty value leaves any other key as it was.
    public static let environmentVariables: [(variable: String, key: String)] = [
        ("NOTILOG_CONFIG", "(the configuration file; default \(defaultPath) when it exists)"),
        ("NOTILOG_DATA_DIR", "data_dir"),
        ("NOTILOG_HTTP", "http (the address)"),
        ("NOTILOG_HTTP_TLS_CERT_FILE", "http.tls.cert_file"),
        ("NOTILOG_HTTP_TLS_KEY_FILE", "http.tls.key_file"),
        ("NOTILOG_HTTP_SESSION_IDLE_TIMEOUT", "http.session.idle_timeout"),
        ("NOTILOG_HTTP_SESSION_ABSOLUTE_TIMEOUT", "http.session.absolute_timeout"),
        ("NOTILOG_ADMIN_PASSWORD", "(the first start's admin password; without it a random one goes to DATA-DIR/admin.password)"),
        ("NOTILOG_UDP", "listeners: the udp addresses"),
        ("NOTILOG_TCP", "listeners: the tcp addresses"),
        ("NOTILOG_TLS", "listeners: the tls addresses"),
        ("NOTILOG_LISTENERS_ALLOW", "listeners[*].allow"),
        ("NOTILOG_LISTENERS_MAX_CONNECTIONS", "listeners[*].max_connections (tcp, tls)"),
        ("NOTILOG_LISTENERS_MAX_CONNECTIONS_PER_ADDRESS", "listeners[*].max_connections_per_address (tcp, tls)"),
        ("NOTILOG_LISTENERS_IDLE_TIMEOUT", "listeners[*].idle_timeout (tcp, tls)"),
        ("NOTILOG_LISTENERS_MAX_FRAME_SIZE", "listeners[*].max_frame_size"),
        ("NOTILOG_LISTENERS_FRAMING", "listeners[*].framing (tcp, tls)"),
        ("NOTILOG_LISTENERS_CERTIFICATE", "listeners[*].certificate (tls)"),
        ("NOTILOG_LISTENERS_KEY", "listeners[*].key (tls)"),
        ("NOTILOG_LISTENERS_CLIENT_CA", "listeners[*].client_ca (tls)"),
        ("NOTILOG_INGEST_QUEUE_CAPACITY", "ingest.queue_capacity"),
        ("NOTILOG_INGEST_BATCH_SIZE", "ingest.batch_size"),
        ("NOTILOG_INGEST_BATCH_DELAY", "ingest.batch_delay"),
        ("NOTILOG_RETENTION_MAX_AGE", "retention.max_age"),
        ("NOTILOG_RETENTION_MAX_SIZE", "retention.max_size"),
        ("NOTILOG_TIME_ZONE", "time_zone"),
        ("NOTILOG_SOURCE_TIME_ZONES", "source_time_zones, as MATCH=ZONE,MATCH=ZONE"),
        ("NOTILOG_RULES_DIR", "rules_dir"),
        ("NOTILOG_PUBLIC_URL", "public_url"),
        ("NOTILOG_LOG_LEVEL", "(log level: trace, debug, info, notice, warning, error, critical)"),
    ]

    /// The whole configuration: the file (`file`, else `NOTILOG_CONFIG`, else `defaultFile` when it exists), then
    /// the `NOTILOG_*` variables, then the flags. With no data directory given anywhere, `$STATE_DIRECTORY` (set by
    /// systemd's `StateDirectory=`) is used. Problems land in `readingProblems`.
    public static func load(
        file: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment,
        overrides: CommandLineOverrides = CommandLineOverrides(), defaultFile: String = defaultPath
    ) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        let named = file ?? environment["NOTILOG_CONFIG"].flatMap { $0.isEmpty ? nil : $0 }
        if let path = named ?? (FileManager.default.fileExists(atPath: defaultFile) ? defaultFile : nil) {
            configuration = read(file: path)
            configuration.file = path
        }
        configuration.apply(environment: environment)
        configuration.apply(overrides)
        if configuration.dataDir == nil, let state = environment["STATE_DIRECTORY"], !state.isEmpty {
            // systemd lists one directory per StateDirectory= entry, separated by colons.
            configuration.dataDir = String(state.split(separator: ":").first ?? Substring(state))
            configuration.origins["data_dir"] = "STATE_DIRECTORY"
        }
        return configuration
    }

    /// The configuration in a YAML file; a file that cannot be read or parsed yields a problem, not an error.
    public static func read(file path: String) -> ServerConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            var c = ServerConfiguration()
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot read the file" : "file not found"
            c.readingProblems.append(ConfigurationProblem(path, reason))
            return c
        }
        return parse(yaml: text, file: path)
    }

    /// The configuration in YAML text (`file` names it in problems). An empty document is an empty configuration.
    public static func parse(yaml: String, file: String = "configuration") -> ServerConfiguration {
        let sink = ProblemSink()
        do {
            guard let node = try Yams.compose(yaml: yaml) else { return ServerConfiguration() }
            if case .scalar(let s) = node, ["", "~", "null", "Null", "NULL"].contains(s.string) { return ServerConfiguration() }
            var c = try YAMLDecoder().decode(ServerConfiguration.self, from: node, userInfo: [.problemSink: sink])
            c.readingProblems = sink.problems
            // The rules and channels as YAML text of their own, for their readers.
            if case .mapping(let mapping) = node {
                if let rules = mapping["rules"] {
                    c.rules = try Yams.serialize(node: .mapping(Node.Mapping([(Node("rules"), rules)])))
                }
                if let channels = mapping["channels"] {
                    c.channels = try Yams.serialize(node: .mapping(Node.Mapping([(Node("channels"), channels)])))
                }
            }
            return c
        } catch let error as YamlError {
            var c = ServerConfiguration()
            c.readingProblems = [ConfigurationProblem(file, "not valid YAML: \(Self.describe(error, in: yaml))")]
            return c
        } catch {
            var c = ServerConfiguration()
            c.readingProblems = sink.problems + [ConfigurationProblem(file, "expected a mapping of settings (data_dir, listeners, ...)")]
            return c
        }
    }

    /// `line 2, column 11: did not find expected node content (while parsing a flow node at line 2, column 11)`.
    static func describe(_ error: YamlError, in yaml: String) -> String {
        var text: String
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            text = "line \(mark.line), column \(mark.column): \(problem)"
            if let context { text += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
        default:
            text = String("\(error)".split(separator: "\n", maxSplits: 1).first ?? "")
        }
        // The usual cause: an IPv6 address left unquoted reads as a YAML list.
        if yaml.contains(/:\s*\[[0-9A-Fa-f:.]*\]:/) { text += "; quote addresses that start with [, as in \"[::]:514\"" }
        return text
    }

    // MARK: Environment

    /// Applies the `NOTILOG_*` variables (see `environmentVariables`).
    public mutating func apply(environment: [String: String]) {
        func value(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingSpaces, !v.isEmpty else { return nil }
            return v
        }
        func int(_ name: String, _ path: String) -> Int? {
            guard let v = value(name) else { return nil }
            guard let n = Int(v) else {
                readingProblems.append(ConfigurationProblem(path, "expected a whole number, found \"\(v)\"", origin: name))
                return nil
            }
            return n
        }
        func set(_ name: String, _ path: String, _ apply: (inout ServerConfiguration, String) -> Void) {
            guard let v = value(name) else { return }
            apply(&self, v)
            origins[path] = name
        }
        set("NOTILOG_DATA_DIR", "data_dir") { $0.dataDir = $1 }
        set("NOTILOG_HTTP", "http") { $0.http = $1 }
        applyHTTP(environment: environment)
        set("NOTILOG_INGEST_BATCH_DELAY", "ingest.batch_delay") { $0.ingest.batchDelay = $1 }
        set("NOTILOG_RETENTION_MAX_AGE", "retention.max_age") { $0.retention.maxAge = $1 }
        set("NOTILOG_RETENTION_MAX_SIZE", "retention.max_size") { $0.retention.maxSize = $1 }
        set("NOTILOG_TIME_ZONE", "time_zone") { $0.timeZone = $1 }
        set("NOTILOG_RULES_DIR", "rules_dir") { $0.rulesDir = $1 }
        set("NOTILOG_PUBLIC_URL", "public_url") { $0.publicURL = $1 }
        if let n = int("NOTILOG_INGEST_QUEUE_CAPACITY", "ingest.queue_capacity") {
            ingest.queueCapacity = n
            origins["ingest.queue_capacity"] = "NOTILOG_INGEST_QUEUE_CAPACITY"
        }
        if let n = int("NOTILOG_INGEST_BATCH_SIZE", "ingest.batch_size") {
            ingest.batchSize = n
            origins["ingest.batch_size"] = "NOTILOG_INGEST_BATCH_SIZE"
        }
        if let v = value("NOTILOG_SOURCE_TIME_ZONES") {
            var list: [SourceTimeZone] = []
            for item in Self.commaList(v) {
                let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces }
                if parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty {
                    list.append(SourceTimeZone(match: parts[0], zone: parts[1]))
                } else {
                    readingProblems.append(
                        ConfigurationProblem("source_time_zones", "expected MATCH=ZONE, found \"\(item)\"", origin: "NOTILOG_SOURCE_TIME_ZONES"))
                }
            }
            sourceTimeZones = list
            origins["source_time_zones"] = "NOTILOG_SOURCE_TIME_ZONES"
        }

        // Listener addresses, then options on every listener they apply to.
        for transport in ListenerTransportKey.allCases {
            let name = "NOTILOG_\(transport.rawValue.uppercased())"
            guard let v = environment[name] else { continue }
            replaceListeners(transport, with: Self.commaList(v), origin: name)
        }
        let stream: Set<ListenerTransportKey> = [.tcp, .tls]
        let all: Set<ListenerTransportKey> = [.udp, .tcp, .tls]
        func option(_ name: String, _ key: String, on kinds: Set<ListenerTransportKey>, _ apply: (inout Listener, String) -> Void) {
            guard let v = environment[name] else { return }
            // An empty allow-list is meaningful (everyone); other options ignore an empty value.
            guard !v.trimmingSpaces.isEmpty || key == "allow" else { return }
            var list = listeners ?? Self.defaultListeners
            for k in list.indices where list[k].transports.count == 1 && kinds.contains(list[k].transports[0].0) {
                apply(&list[k], v.trimmingSpaces)
                list[k].origins[key] = name
            }
            listeners = list
        }
        func intOption(_ name: String, _ key: String, _ apply: @escaping (inout Listener, Int) -> Void) {
            guard let v = value(name) else { return }
            guard let n = Int(v) else {
                readingProblems.append(ConfigurationProblem("listeners[*].\(key)", "expected a whole number, found \"\(v)\"", origin: name))
                return
            }
            option(name, key, on: stream) { apply(&$0, n); _ = $1 }
        }
        option("NOTILOG_LISTENERS_ALLOW", "allow", on: all) { $0.allow = Self.commaList($1) }
        intOption("NOTILOG_LISTENERS_MAX_CONNECTIONS", "max_connections") { $0.maxConnections = $1 }
        intOption("NOTILOG_LISTENERS_MAX_CONNECTIONS_PER_ADDRESS", "max_connections_per_address") { $0.maxConnectionsPerAddress = $1 }
        option("NOTILOG_LISTENERS_IDLE_TIMEOUT", "idle_timeout", on: stream) { $0.idleTimeout = $1 }
        option("NOTILOG_LISTENERS_MAX_FRAME_SIZE", "max_frame_size", on: all) { $0.maxFrameSize = $1 }
        option("NOTILOG_LISTENERS_FRAMING", "framing", on: stream) { $0.framing = $1 }
        option("NOTILOG_LISTENERS_CERTIFICATE", "certificate", on: [.tls]) { $0.certificate = $1 }
        option("NOTILOG_LISTENERS_KEY", "key", on: [.tls]) { $0.key = $1 }
        option("NOTILOG_LISTENERS_CLIENT_CA", "client_ca", on: [.tls]) { $0.clientCA = $1 }
    }

    // MARK: Flags

    /// Applies the command-line flags.
    public mutating func apply(_ overrides: CommandLineOverrides) {
        if let d = overrides.dataDir {
            dataDir = d
            origins["data_dir"] = "--data-dir"
        }
        if let h = overrides.http {
            http = h
            origins["http"] = "--http"
        }
        for (transport, addresses) in [(ListenerTransportKey.udp, overrides.udp), (.tcp, overrides.tcp), (.tls, overrides.tls)] {
            guard let addresses else { continue }
            replaceListeners(transport, with: addresses.flatMap(Self.commaList), origin: "--\(transport.rawValue)")
        }
    }

    /// Replaces every listener of `transport` by one per address. The new ones take the options of the first
    /// listener replaced (so `--tls 127.0.0.1:6514` keeps the file's certificate), and stand where it stood.
    mutating func replaceListeners(_ transport: ListenerTransportKey, with addresses: [String], origin: String) {
        var list = listeners ?? Self.defaultListeners
        let isThisTransport = { (l: Listener) in l.transports.count == 1 && l.transports[0].0 == transport }
        let position = list.firstIndex(where: isThisTransport) ?? list.endIndex
        var template = list.first(where: isThisTransport) ?? Listener()
        template.udp = nil
        template.tcp = nil
        template.tls = nil
        template.origins[transport.rawValue] = origin
        list.removeAll(where: isThisTransport)
        let replacements = addresses.map { address -> Listener in
            var l = template
            switch transport {
            case .udp: l.udp = address
            case .tcp: l.tcp = address
            case .tls: l.tls = address
            }
            return l
        }
        list.insert(contentsOf: replacements, at: min(position, list.endIndex))
        listeners = list
    }

    static func commaList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
    }
}
