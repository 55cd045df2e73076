import Foundation
import NIOCore
import NIOSSL
import NotiLogAlerts
import NotiLogCollector
import NotiLogCore
import NotiLogStore

/// What the server runs with: a configuration checked and turned into the settings each service takes.
public struct ServerSettings: Sendable {
    public var dataDirectory: String
    public var listeners: [ListenerConfiguration]
    /// Where the HTTP API listens.
    public var http: HostPort
    /// HTTPS and sign-in sessions.
    public var httpSettings = HTTPSettings()
    public var ingest: IngestPipeline.Configuration
    public var maintenance: StoreMaintenance.Configuration
    public var timeZone: TimeZone
    /// The parser for each sender, with its time zone.
    public var parsers: SourceParsers
    /// Rules, channels, public URL.
    public var alerting: AlertingSettings

    public init(
        dataDirectory: String, listeners: [ListenerConfiguration], http: HostPort, ingest: IngestPipeline.Configuration,
        maintenance: StoreMaintenance.Configuration, timeZone: TimeZone, parsers: SourceParsers,
        alerting: AlertingSettings = AlertingSettings()
    ) {
        self.alerting = alerting
        self.dataDirectory = dataDirectory
        self.listeners = listeners
        self.http = http
        self.ingest = ingest
        self.maintenance = maintenance
        self.timeZone = timeZone
        self.parsers = parsers
    }
}

extension ServerConfiguration {
    public static let defaultDataDir = "./data"
    public static let defaultHTTP = "127.0.0.1:8514"
    /// Smallest and largest `max_frame_size`: RFC 5424 receivers must take 480 octets.
    static let frameSizeRange: ClosedRange<Int64> = 480...(16 << 20)

    /// Checks everything and returns the settings, or throws one error listing every problem with its key path
    /// (`listeners[2].certificate: file not found: /etc/notilog/tls/server.crt`). With `checkFiles` the data
    /// directory must be writable and TLS files must load.
    public func resolved(checkFiles: Bool = true) throws(ServerError) -> ServerSettings {
        var v = Validator(configuration: self, checkFiles: checkFiles)
        let settings = v.run()
        guard v.problems.isEmpty, let settings else {
            let n = v.problems.count
            throw ServerError(
                .invalidConfiguration, "the configuration has \(n) problem\(n == 1 ? "" : "s")", problems: v.problems)
        }
        return settings
    }

    /// Every problem, or none.
    public func problems(checkFiles: Bool = true) -> [ConfigurationProblem] {
        do {
            _ = try resolved(checkFiles: checkFiles)
            return []
        } catch {
            return error.problems
        }
    }
}

/// Walks a configuration once, collecting problems and building settings.
private struct Validator {
    let configuration: ServerConfiguration
    let checkFiles: Bool
    var problems: [ConfigurationProblem] = []

    init(configuration: ServerConfiguration, checkFiles: Bool) {
        self.configuration = configuration
        self.checkFiles = checkFiles
        problems = configuration.readingProblems
    }

    mutating func problem(_ path: String, _ message: String, origin: String? = nil) {
        problems.append(ConfigurationProblem(path, message, origin: origin ?? configuration.origins[path]))
    }

    mutating func run() -> ServerSettings? {
        let c = configuration
        let dataDirectory = dataDir(c.dataDir ?? ServerConfiguration.defaultDataDir)
        let http = hostPort(c.http ?? ServerConfiguration.defaultHTTP, "http")
        let listeners = self.listeners(http: http)
        let ingest = self.ingest(c.ingest)
        let retention = self.retention(c.retention)
        let (timeZone, parsers) = self.zones()
        let (alerting, alertingProblems) = c.alerting(checkFiles: checkFiles)
        problems += alertingProblems
        let (httpSettings, httpProblems) = c.httpSettings(checkFiles: checkFiles)
        problems += httpProblems
        guard let http, let timeZone, let parsers else { return nil }
        var maintenance = StoreMaintenance.Configuration()
        maintenance.retention = retention
        var settings = ServerSettings(
            dataDirectory: dataDirectory, listeners: listeners, http: http, ingest: ingest, maintenance: maintenance,
            timeZone: timeZone, parsers: parsers, alerting: alerting)
        settings.httpSettings = httpSettings
        return settings
    }

    // MARK: Values

    mutating func hostPort(_ text: String, _ path: String, origin: String? = nil) -> HostPort? {
        if let hp = HostPort(text) { return hp }
        var hint = ""
        if text.filter({ $0 == ":" }).count > 1, !text.hasPrefix("[") { hint = " (an IPv6 address goes in brackets: \"[::]:514\")" }
        if !text.contains(":") { hint = " (HOST:PORT, e.g. \"0.0.0.0:\(text.allSatisfy(\.isNumber) ? text : "514")\")" }
        problem(path, "\"\(text)\" is not HOST:PORT\(hint)", origin: origin)
        return nil
    }

    mutating func duration(_ text: String?, _ path: String, origin: String? = nil, allowOff: Bool = false, positive: Bool = true)
        -> Duration??
    {
        guard let text else { return .some(nil) }
        if allowOff, ["off", "none", "unlimited"].contains(text.lowercased()) { return .some(nil) }
        guard let d = ConfigurationValues.duration(text) else {
            problem(path, "\"\(text)\" is not a duration (e.g. 200ms, 30s, 15m, 24h, 30d\(allowOff ? ", or off" : ""))", origin: origin)
            return nil
        }
        if positive, d <= .zero {
            problem(path, "must be longer than 0\(allowOff ? " (write off for no limit)" : "")", origin: origin)
            return nil
        }
        return .some(d)
    }

    mutating func size(_ text: String?, _ path: String, origin: String? = nil, allowOff: Bool = false) -> Int64?? {
        guard let text else { return .some(nil) }
        if allowOff, ["off", "none", "unlimited"].contains(text.lowercased()) { return .some(nil) }
        guard let n = ConfigurationValues.byteSize(text) else {
            problem(path, "\"\(text)\" is not a size (e.g. 65536, 64KB, 512MB, 20GB\(allowOff ? ", or off" : ""))", origin: origin)
            return nil
        }
        return .some(n)
    }

    mutating func positive(_ n: Int?, _ path: String, origin: String? = nil, max: Int = Int.max) -> Int? {
        guard let n else { return nil }
        guard n >= 1, n <= max else {
            problem(path, n < 1 ? "must be at least 1, found \(n)" : "must be at most \(max), found \(n)", origin: origin)
            return nil
        }
        return n
    }

    // MARK: Data directory

    mutating func dataDir(_ path: String) -> String {
        guard !path.isEmpty else {
            problem("data_dir", "must not be empty")
            return path
        }
        guard checkFiles else { return path }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            if !isDirectory.boolValue {
                problem("data_dir", "\(path) is not a directory")
            } else if !fm.isWritableFile(atPath: path) {
                problem("data_dir", "\(path) is not writable by this user")
            }
            return path
        }
        // It will be created: the nearest existing parent must let us.
        var parent = PathText.directory(of: path)
        while !fm.fileExists(atPath: parent, isDirectory: &isDirectory), parent != "/", parent != "." {
            parent = PathText.directory(of: parent)
        }
        if !isDirectory.boolValue || !fm.isWritableFile(atPath: parent) {
            problem("data_dir", "\(path) does not exist and cannot be created (\(parent) is not a writable directory)")
        }
        return path
    }

    // MARK: Listeners

    mutating func listeners(http: HostPort?) -> [ListenerConfiguration] {
        let entries = configuration.listeners ?? ServerConfiguration.defaultListeners
        if entries.isEmpty {
            problem("listeners", "no syslog listener is configured (add a udp, tcp or tls entry)")
        }
        var result: [ListenerConfiguration] = []
        var used: [(ListenerConfiguration.Transport, HostPort, String)] = []
        if let http { used.append((.tcp, http, "http")) }
        for (index, entry) in entries.enumerated() {
            let base = "listeners[\(index)]"
            let transports = entry.transports
            guard transports.count == 1 else {
                if transports.isEmpty {
                    problem(base, "needs one of udp, tcp or tls with HOST:PORT")
                } else {
                    problem(base, "has \(transports.map(\.0.rawValue).joined(separator: " and ")); give one transport per entry")
                }
                continue
            }
            let (key, address) = transports[0]
            let transport = ListenerConfiguration.Transport(rawValue: key.rawValue)!
            let addressPath = "\(base).\(key.rawValue)"
            if let l = listener(entry, index: index, transport: transport, address: address) {
                let hp = HostPort(host: l.host, port: l.port)
                // TCP and TLS listeners and the HTTP API share the TCP port space; UDP has its own.
                if let clash = used.first(where: { ($0.0 == .udp) == (transport == .udp) && $0.1.overlaps(hp) }) {
                    problem(addressPath, "\(hp) is also used by \(clash.2) (\(clash.1))", origin: entry.origins[key.rawValue])
                }
                used.append((transport == .udp ? .udp : .tcp, hp, addressPath))
                result.append(l)
            }
        }
        return result
    }

    mutating func listener(_ e: ServerConfiguration.Listener, index: Int, transport: ListenerConfiguration.Transport, address: String)
        -> ListenerConfiguration?
    {
        let base = "listeners[\(index)]"
        func path(_ key: String) -> String { "\(base).\(key)" }
        let hp = hostPort(address, path(transport.rawValue), origin: e.origins[transport.rawValue])
        var l = ListenerConfiguration(transport: transport, host: hp?.host ?? "", port: hp?.port ?? 0)
        var ok = hp != nil

        for (k, text) in (e.allow ?? []).enumerated() {
            if let range = AddressRange(text) {
                l.allow.append(range)
            } else {
                problem("\(path("allow"))[\(k)]", "\"\(text)\" is not an address or an address range (10.0.0.0/8, 2001:db8::/32)", origin: e.origins["allow"])
                ok = false
            }
        }
        let streamOnly: [(String, Bool)] = [
            ("max_connections", e.maxConnections != nil), ("max_connections_per_address", e.maxConnectionsPerAddress != nil),
            ("idle_timeout", e.idleTimeout != nil), ("framing", e.framing != nil),
        ]
        if transport == .udp {
            for (key, given) in streamOnly where given {
                problem(path(key), "applies to tcp and tls listeners only", origin: e.origins[key])
                ok = false
            }
        }
        if let n = positive(e.maxConnections, path("max_connections"), origin: e.origins["max_connections"], max: 1_000_000) {
            l.maxConnections = n
        } else if e.maxConnections != nil { ok = false }
        if let n = positive(e.maxConnectionsPerAddress, path("max_connections_per_address"), origin: e.origins["max_connections_per_address"], max: 1_000_000) {
            l.maxConnectionsPerAddress = n
        } else if e.maxConnectionsPerAddress != nil { ok = false }
        switch duration(e.idleTimeout, path("idle_timeout"), origin: e.origins["idle_timeout"]) {
        case .some(.some(let d)): l.idleTimeout = d
        case .some(.none): break
        case .none: ok = false
        }
        switch size(e.maxFrameSize, path("max_frame_size"), origin: e.origins["max_frame_size"]) {
        case .some(.some(let n)):
            if ServerConfiguration.frameSizeRange.contains(n) {
                l.maxFrameSize = Int(n)
            } else {
                problem(path("max_frame_size"), "must be from 480 bytes to 16MB, found \(n) bytes", origin: e.origins["max_frame_size"])
                ok = false
            }
        case .some(.none): break
        case .none: ok = false
        }
        if let f = e.framing {
            let name = f.lowercased() == "octet-counting" ? "octet" : f.lowercased()
            if let framing = SyslogFraming(rawValue: name) {
                l.framing = framing
            } else {
                problem(path("framing"), "\"\(f)\" is not one of auto, octet, lf, nul", origin: e.origins["framing"])
                ok = false
            }
        }

        // TLS files.
        let files: [(String, String?)] = [("certificate", e.certificate), ("key", e.key), ("client_ca", e.clientCA)]
        if transport != .tls {
            for (key, value) in files where value != nil {
                problem(path(key), "applies to tls listeners only", origin: e.origins[key])
                ok = false
            }
        } else {
            for (key, value) in files.prefix(2) where value == nil || value!.isEmpty {
                problem(path(key), "missing: a tls listener needs a certificate and a key (PEM files)", origin: e.origins[key])
                ok = false
            }
            for (key, value) in files {
                guard let file = value, !file.isEmpty, checkFiles else { continue }
                if let error = Self.checkPEM(file, key: key) {
                    problem(path(key), error, origin: e.origins[key])
                    ok = false
                }
            }
            if let cert = e.certificate, let key = e.key {
                l.tls = ListenerConfiguration.TLSFiles(certificateChain: cert, privateKey: key, clientCA: e.clientCA)
            }
        }
        return ok ? l : nil
    }

    /// Nil when the file is a readable PEM certificate (or key); else what is wrong.
    static func checkPEM(_ file: String, key: String) -> String? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: file) else { return "file not found: \(file)" }
        guard fm.isReadableFile(atPath: file) else { return "cannot read \(file) (permissions)" }
        do {
            if key == "key" {
                _ = try NIOSSLPrivateKey(file: file, format: .pem)
            } else if try NIOSSLCertificate.fromPEMFile(file).isEmpty {
                return "\(file) holds no PEM certificate"
            }
            return nil
        } catch {
            return "\(file) is not a PEM \(key == "key" ? "private key" : "certificate"): \(error)"
        }
    }

    // MARK: Ingest and retention

    mutating func ingest(_ i: ServerConfiguration.Ingest) -> IngestPipeline.Configuration {
        var out = IngestPipeline.Configuration()
        if let n = positive(i.queueCapacity, "ingest.queue_capacity", max: 100_000_000) { out.queueCapacity = n }
        if let n = positive(i.batchSize, "ingest.batch_size", max: 1_000_000) { out.batchSize = n }
        if case .some(.some(let d)) = duration(i.batchDelay, "ingest.batch_delay", positive: false) {
            if d > .seconds(60) {
                problem("ingest.batch_delay", "must be at most 60s, found \(ConfigurationValues.text(d))")
            } else {
                out.maxBatchDelay = d
            }
        }
        return out
    }

    /// Defaults: keep 30 days, no size limit.
    mutating func retention(_ r: ServerConfiguration.Retention) -> RetentionPolicy {
        var policy = RetentionPolicy(maxAgeSeconds: 30 * 86_400, maxBytes: nil)
        if r.maxAge != nil {
            switch duration(r.maxAge, "retention.max_age", allowOff: true) {
            case .some(.some(let d)):
                if d < .seconds(60) {
                    problem("retention.max_age", "must be at least 1m, found \(ConfigurationValues.text(d))")
                } else {
                    policy.maxAgeSeconds = d.components.seconds
                }
            case .some(.none): policy.maxAgeSeconds = nil
            case .none: break
            }
        }
        if r.maxSize != nil {
            switch size(r.maxSize, "retention.max_size", allowOff: true) {
            case .some(.some(let n)):
                if n < 1 << 20 {
                    problem("retention.max_size", "must be at least 1MB, found \(n) bytes (sizes take a unit: 512MB, 20GB)")
                } else {
                    policy.maxBytes = n
                }
            case .some(.none): policy.maxBytes = nil
            case .none: break
            }
        }
        return policy
    }

    // MARK: Time zones

    mutating func zone(_ name: String, _ path: String) -> TimeZone? {
        if name.lowercased() == "local" { return TimeZone.current }
        if let z = TimeZone(identifier: name) { return z }
        problem(path, "\"\(name)\" is not a time zone (an IANA name such as UTC, Europe/Berlin, America/New_York, or local)")
        return nil
    }

    mutating func zones() -> (TimeZone?, SourceParsers?) {
        let defaultZone = configuration.timeZone.map { zone($0, "time_zone") } ?? TimeZone.current
        var byHost: [String: TimeZone] = [:]
        var byRange: [(AddressRange, TimeZone)] = []
        var ok = true
        for (k, entry) in (configuration.sourceTimeZones ?? []).enumerated() {
            let base = "source_time_zones[\(k)]"
            let origin = configuration.origins["source_time_zones"]
            guard let match = entry.match, !match.isEmpty else {
                problem("\(base).match", "missing: an address range (10.0.0.0/8) or a host name", origin: origin)
                ok = false
                continue
            }
            guard let name = entry.zone, !name.isEmpty else {
                problem("\(base).zone", "missing: a time zone name such as Europe/Berlin", origin: origin)
                ok = false
                continue
            }
            guard let z = zone(name, "\(base).zone") else {
                ok = false
                continue
            }
            if let range = AddressRange(match) {
                byRange.append((range, z))
            } else if Self.isHostName(match) {
                byHost[match.lowercased()] = z
            } else {
                problem("\(base).match", "\"\(match)\" is neither an address range nor a host name", origin: origin)
                ok = false
            }
        }
        guard ok, let defaultZone else { return (nil, nil) }
        // A host-name rule wins over an address rule: the parser looks the message's host name up first.
        let parsers = SourceParsers(
            defaultParser: SyslogParser(timeZone: defaultZone, zoneByHostname: byHost),
            byRange: byRange.map { ($0.0, SyslogParser(timeZone: $0.1, zoneByHostname: byHost)) })
        return (defaultZone, parsers)
    }

    static func isHostName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 253 && !s.hasPrefix("-") && !s.hasPrefix(".")
            && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_") }
    }
}
