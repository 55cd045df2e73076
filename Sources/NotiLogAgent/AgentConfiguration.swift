import Foundation
import NotiLogCore
import Yams

/// `/etc/notilog/agent.yaml` (commented example in `etc/notilog/agent.yaml`): where to send, how to batch, the
/// spool's bound, and the sources. Every problem is collected with its key (`output.url: ...`).
public struct AgentConfiguration: Sendable {
    public struct Output: Sendable, Hashable {
        /// `http://` or `https://` (the server's acknowledged ingest), or plain syslog to any RFC 5424 receiver:
        /// `syslog+tcp://HOST:PORT`, `syslog+udp://HOST:PORT`, `syslog+tls://HOST:PORT` (RFC 5425).
        public var url = "http://127.0.0.1:8514"
        public var token: String?
        public var tokenFile: String?
        /// CA certificates (PEM) for https:// and syslog+tls:// (default: the system's).
        public var caFile: String?
        /// A client certificate and its key (PEM), both or neither (`cert_file`, `key_file`), for https:// and
        /// syslog+tls:// receivers that ask for one.
        public var clientCertificateFile: String?
        public var clientKeyFile: String?
        public var timeout: Duration = .seconds(30)

        public static let schemes = ["http://", "https://", "syslog+tcp://", "syslog+udp://", "syslog+tls://"]

        /// The URL's scheme without `://` (`https`, `syslog+tcp`).
        public var scheme: String { String(url.prefix { $0 != ":" }) }
    }

    /// Where the configuration came from (nil: defaults only).
    public var file: String?
    /// Names the agent to the server (idempotent batches are per agent): default `/etc/machine-id`, else the host name.
    public var agentID: String
    /// HOSTNAME of the records the agent makes (files, watcher): default the host name.
    public var hostname: String
    /// State file and spool: default `$STATE_DIRECTORY`, else `/var/lib/notilog-agent` as root, else `./agent-data`.
    public var stateDirectory: String
    public var output = Output()
    public var batch = Batcher.Limits()
    public var spoolMaxBytes: Int64 = 256 << 20
    /// How often the agent sends its own figures as a record (`metrics_interval`; 60 s by default; nil, written
    /// `0`, sends none — they are still in `status.json`).
    public var metricsInterval: Duration? = .seconds(60)
    public var files: [FileSource.Configuration] = []
    /// The journald source; nil when the configuration has no `journald:` section.
    public var journald: JournalSource.Configuration?
    /// Processes and units to watch (`watch:`).
    public var watch = WatchConfiguration()

    public init(agentID: String? = nil, hostname: String? = nil, stateDirectory: String? = nil) {
        let host = hostname ?? Self.systemHostname()
        self.hostname = host
        self.agentID = agentID ?? Self.machineID() ?? host
        self.stateDirectory = stateDirectory ?? Self.defaultStateDirectory()
    }

    public struct Problems: Error, CustomStringConvertible {
        public var file: String?
        public var problems: [String]

        public var description: String {
            "\(file ?? "configuration"): \(problems.count == 1 ? "a problem" : "\(problems.count) problems"):\n"
                + problems.map { "  " + $0 }.joined(separator: "\n")
        }
    }

    /// Reads a configuration file (defaults for what it leaves out).
    public static func load(file: String) throws(Problems) -> AgentConfiguration {
        guard let data = FileManager.default.contents(atPath: file), let text = String(data: data, encoding: .utf8) else {
            throw Problems(file: file, problems: ["cannot read the file (or it is not UTF-8)"])
        }
        var c = try parse(yaml: text, file: file)
        c.file = file
        return c
    }

    public static func parse(yaml: String, file: String? = nil) throws(Problems) -> AgentConfiguration {
        var reader = Reader()
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw Problems(file: file, problems: ["not valid YAML: \(String("\(error)".split(separator: "\n").first ?? ""))"])
        }
        var c = AgentConfiguration()
        if let node { reader.root(node, &c) }
        if !reader.problems.isEmpty { throw Problems(file: file, problems: reader.problems) }
        return c
    }

    /// The output token: `token`, else the contents of `token_file` (trimmed).
    public func resolvedToken() throws(Problems) -> String? {
        if let token = output.token { return token }
        guard let path = output.tokenFile else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Problems(file: file, problems: ["output.token_file: cannot read \(path)"])
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Defaults

    static func systemHostname() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "localhost" }
        let name = String(cString: buffer)
        return name.isEmpty ? "localhost" : name
    }

    static func machineID() -> String? {
        guard let data = FileManager.default.contents(atPath: "/etc/machine-id"),
            let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty
        else { return nil }
        return text
    }

    static func defaultStateDirectory() -> String {
        if let dir = ProcessInfo.processInfo.environment["STATE_DIRECTORY"], !dir.isEmpty {
            return String(dir.split(separator: ":").first ?? Substring(dir))
        }
        return getuid() == 0 ? "/var/lib/notilog-agent" : "./agent-data"
    }

    // MARK: Reading

    struct Reader {
        var problems: [String] = []

        mutating func problem(_ key: String, _ message: String) { problems.append("\(key): \(message)") }

        func text(_ node: Node) -> String? {
            if case .scalar(let s) = node { return s.string }
            return nil
        }

        mutating func mapping(_ node: Node, _ key: String, known: Set<String>) -> [(String, Node)] {
            guard case .mapping(let map) = node else {
                problem(key, "expected a mapping")
                return []
            }
            var out: [(String, Node)] = []
            for (k, v) in map {
                guard let name = k.string else { continue }
                if !known.contains(name) {
                    problem(key.isEmpty ? name : "\(key).\(name)", "unknown key (known: \(known.sorted().joined(separator: ", ")))")
                    continue
                }
                out.append((name, v))
            }
            return out
        }

        mutating func string(_ node: Node, _ key: String) -> String? {
            guard let s = text(node), !s.isEmpty else {
                problem(key, "expected text")
                return nil
            }
            return s
        }

        mutating func strings(_ node: Node, _ key: String) -> [String] {
            if case .scalar = node { return string(node, key).map { [$0] } ?? [] }
            guard case .sequence(let seq) = node else {
                problem(key, "expected a list")
                return []
            }
            return seq.enumerated().compactMap { string($0.element, "\(key)[\($0.offset)]") }
        }

        mutating func integer(_ node: Node, _ key: String, in range: ClosedRange<Int>) -> Int? {
            guard let s = text(node), let n = Int(s), range.contains(n) else {
                problem(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
                return nil
            }
            return n
        }

        mutating func duration(_ node: Node, _ key: String) -> Duration? {
            guard let s = text(node), let d = DurationText.parse(s), d > .zero else {
                problem(key, "expected a duration such as 500ms, 5s, 1m")
                return nil
            }
            return d
        }

        mutating func size(_ node: Node, _ key: String, atLeast minimum: Int64) -> Int64? {
            guard let s = text(node), let n = ByteSizeText.parse(s), n >= minimum else {
                problem(key, "expected a size of at least \(minimum) bytes, such as 64KiB, 256MiB")
                return nil
            }
            return n
        }

        mutating func severity(_ node: Node, _ key: String) -> Severity? {
            guard let s = text(node), let v = Severity(name: s) else {
                problem(key, "expected a severity (emerg, alert, crit, err, warning, notice, info, debug)")
                return nil
            }
            return v
        }

        mutating func root(_ node: Node, _ c: inout AgentConfiguration) {
            let keys: Set<String> = ["agent_id", "hostname", "state_dir", "output", "batch", "spool", "files", "journald", "watch", "metrics_interval"]
            for (key, value) in mapping(node, "", known: keys) {
                switch key {
                case "agent_id":
                    if let s = string(value, key) {
                        if AgentID.isValid(s) { c.agentID = s } else { problem(key, AgentID.rule) }
                    }
                case "hostname": if let s = string(value, key) { c.hostname = s }
                case "state_dir": if let s = string(value, key) { c.stateDirectory = s }
                case "output": output(value, &c.output)
                case "batch": batch(value, &c.batch)
                case "metrics_interval":
                    // 0 (or off) sends no metrics records; otherwise at least a second apart.
                    let t = text(value) ?? ""
                    if ["off", "no", "false"].contains(t.lowercased()) || DurationText.parse(t) == .zero {
                        c.metricsInterval = nil
                    } else if let d = DurationText.parse(t), d >= .seconds(1) {
                        c.metricsInterval = d
                    } else {
                        problem(key, "expected a duration of at least 1s, such as 60s or 5m, or 0 to send no metrics records")
                    }
                case "spool":
                    for (k, v) in mapping(value, "spool", known: ["max_size"]) where k == "max_size" {
                        if let n = size(v, "spool.max_size", atLeast: 1 << 20) { c.spoolMaxBytes = n }
                    }
                case "files":
                    guard case .sequence(let seq) = value else {
                        problem("files", "expected a list of file sources")
                        continue
                    }
                    for (i, item) in seq.enumerated() { if let f = file(item, "files[\(i)]") { c.files.append(f) } }
                case "journald":
                    c.journald = journald(value)
                case "watch":
                    watch(value, &c.watch)
                default: break
                }
            }
        }

        mutating func output(_ node: Node, _ o: inout Output) {
            let keys: Set<String> = ["url", "token", "token_file", "ca_file", "cert_file", "key_file", "timeout"]
            let pairs = mapping(node, "output", known: keys)
            let given = Set(pairs.map(\.0))
            let before = problems.count
            for (k, v) in pairs {
                let key = "output.\(k)"
                switch k {
                case "url":
                    guard let s = string(v, key) else { continue }
                    guard Output.schemes.contains(where: { s.hasPrefix($0) }), let u = URL(string: s), u.host != nil else {
                        problem(
                            key,
                            "\"\(s)\" is not an http(s):// URL of a NotiLog server or a syslog+tcp://, syslog+udp:// or syslog+tls:// HOST:PORT")
                        continue
                    }
                    if s.hasPrefix("syslog+"), u.port == nil { problem(key, "\"\(s)\" needs a port (syslog+tcp://HOST:514, syslog+tls://HOST:6514)") }
                    o.url = s
                case "cert_file": o.clientCertificateFile = readableFile(v, key)
                case "key_file": o.clientKeyFile = readableFile(v, key)
                case "token": o.token = string(v, key)
                case "token_file": o.tokenFile = string(v, key)
                case "ca_file": o.caFile = readableFile(v, key)
                case "timeout": if let d = duration(v, key) { o.timeout = d }
                default: break
                }
            }
            if o.token != nil, o.tokenFile != nil { problem("output.token", "give token or token_file, not both") }
            if given.contains("cert_file"), !given.contains("key_file") {
                problem("output.key_file", "required with cert_file (the client certificate's private key, PEM)")
            } else if given.contains("key_file"), !given.contains("cert_file") {
                problem("output.cert_file", "required with key_file (the client certificate, PEM)")
            }
            // Certificates with a plain-text output are a mistake worth hearing about (unless the url itself is wrong).
            if problems.count == before, !(o.scheme == "https" || o.scheme == "syslog+tls") {
                for name in ["ca_file", "cert_file", "key_file"] where given.contains(name) {
                    problem("output.\(name)", "applies to https:// and syslog+tls:// only, and the url is \(o.scheme)://")
                }
            }
        }

        /// A file path the agent can read now (certificates, keys).
        mutating func readableFile(_ node: Node, _ key: String) -> String? {
            guard let path = string(node, key) else { return nil }
            guard FileManager.default.isReadableFile(atPath: path) else {
                problem(key, "cannot read \(path)")
                return nil
            }
            return path
        }

        mutating func batch(_ node: Node, _ b: inout Batcher.Limits) {
            for (k, v) in mapping(node, "batch", known: ["max_records", "max_bytes", "max_delay", "immediate_severity"]) {
                let key = "batch.\(k)"
                switch k {
                case "max_records": if let n = integer(v, key, in: 1...100_000) { b.maxRecords = n }
                case "max_bytes": if let n = size(v, key, atLeast: 1024) { b.maxBytes = Int(min(n, 64 << 20)) }
                case "max_delay": if let d = duration(v, key) { b.maxDelay = d }
                case "immediate_severity":
                    if text(v) == "none" { b.immediateSeverity = nil } else if let s = severity(v, key) { b.immediateSeverity = s }
                default: break
                }
            }
        }

        mutating func watch(_ node: Node, _ w: inout WatchConfiguration) {
            for (k, v) in mapping(node, "watch", known: ["processes", "units", "interval", "heartbeat"]) {
                let key = "watch.\(k)"
                switch k {
                case "units": w.units = strings(v, key)
                case "interval": if let d = duration(v, key) { w.interval = d }
                case "heartbeat": if let d = duration(v, key) { w.heartbeat = d }
                case "processes":
                    guard case .sequence(let seq) = v else {
                        problem(key, "expected a list of processes ({name: nginx} or {name: app, pattern: REGEX} or {name: db, pidfile: PATH})")
                        continue
                    }
                    for (i, item) in seq.enumerated() {
                        let label = "\(key)[\(i)]"
                        var p = WatchConfiguration.Process(name: "")
                        for (pk, pv) in mapping(item, label, known: ["name", "pattern", "pidfile"]) {
                            switch pk {
                            case "name": p.name = string(pv, "\(label).name") ?? ""
                            case "pattern":
                                if let s = string(pv, "\(label).pattern") {
                                    if (try? Regex(s)) == nil { problem("\(label).pattern", "not a valid regular expression") } else { p.commandPattern = s }
                                }
                            case "pidfile": p.pidfile = string(pv, "\(label).pidfile")
                            default: break
                            }
                        }
                        if p.name.isEmpty { problem("\(label).name", "required (it names the process in reports)") } else { w.processes.append(p) }
                    }
                default: break
                }
            }
        }

        /// `journald: {}` (or `journald: yes`) reads the local journal; its keys narrow it.
        mutating func journald(_ node: Node) -> JournalSource.Configuration? {
            var j = JournalSource.Configuration()
            if case .scalar(let s) = node {
                switch s.string.lowercased() {
                case "", "yes", "true", "on": return j
                case "no", "false", "off": return nil
                default:
                    problem("journald", "expected a mapping (or yes/no)")
                    return nil
                }
            }
            for (k, v) in mapping(node, "journald", known: ["directory", "units", "identifiers", "priority", "matches", "from"]) {
                let key = "journald.\(k)"
                switch k {
                case "directory": j.directory = string(v, key)
                case "units": j.units = strings(v, key)
                case "identifiers": j.identifiers = strings(v, key)
                case "priority": j.maxPriority = severity(v, key)
                case "matches": j.matches = strings(v, key)
                case "from":
                    switch text(v) {
                    case "end": j.readFromStart = false
                    case "start": j.readFromStart = true
                    default: problem(key, "expected end or start")
                    }
                default: break
                }
            }
            do {
                try j.validate()
            } catch {
                problem("journald.matches", error.description)
            }
            return j
        }

        mutating func file(_ node: Node, _ label: String) -> FileSource.Configuration? {
            let keys: Set<String> = ["paths", "exclude", "app", "facility", "severity", "multiline_start", "max_line", "from"]
            let pairs = mapping(node, label, known: keys)
            var f = FileSource.Configuration(paths: [])
            for (k, v) in pairs {
                let key = "\(label).\(k)"
                switch k {
                case "paths": f.paths = strings(v, key)
                case "exclude": f.exclude = strings(v, key)
                case "app": f.app = string(v, key)
                case "facility":
                    if let s = text(v), let fac = Facility(name: s) { f.facility = fac } else { problem(key, "expected a facility (user, daemon, local0 …)") }
                case "severity": if let s = severity(v, key) { f.severity = s }
                case "multiline_start":
                    if let s = string(v, key) {
                        if (try? Regex(s)) == nil { problem(key, "not a valid regular expression") } else { f.multilineStart = s }
                    }
                case "max_line": if let n = size(v, key, atLeast: 256) { f.maxLineBytes = Int(min(n, 16 << 20)) }
                case "from":
                    switch text(v) {
                    case "end": f.readExistingFromStart = false
                    case "start": f.readExistingFromStart = true
                    default: problem(key, "expected end or start")
                    }
                default: break
                }
            }
            if f.paths.isEmpty {
                problem("\(label).paths", "required: the files to read (glob patterns)")
                return nil
            }
            for (i, p) in f.paths.enumerated() where !p.hasPrefix("/") {
                problem("\(label).paths[\(i)]", "\"\(p)\" is not an absolute path")
            }
            return f
        }
    }
}
