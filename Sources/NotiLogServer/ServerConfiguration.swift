/// The server's configuration as written: `/etc/notilog/server.yaml`, then `NOTILOG_*` environment variables,
/// then flags (see `ServerConfiguration.load`). Values stay as written until `resolved()` checks them all and
/// turns them into the settings the services take; a key left out takes its default there.
///
/// ```yaml
/// data_dir: /var/lib/notilog          # default ./data, or $STATE_DIRECTORY under systemd
/// listeners:                          # default: udp and tcp on 0.0.0.0:5514
///   - udp: "0.0.0.0:514"
///   - tcp: "[::]:514"
///     allow: [10.0.0.0/8, 2001:db8::/32]
///     max_connections: 4096
///     max_connections_per_address: 256
///     idle_timeout: 1h
///     max_frame_size: 64KB
///     framing: auto                    # auto, octet, lf, nul
///   - tls: "0.0.0.0:6514"
///     certificate: /etc/notilog/tls/server.crt
///     key: /etc/notilog/tls/server.key
///     client_ca: /etc/notilog/tls/clients-ca.crt
/// http: "127.0.0.1:8514"                # or a mapping: address, tls {cert_file, key_file}, session
/// ingest: {queue_capacity: 100000, batch_size: 5000, batch_delay: 200ms}
/// retention: {max_age: 30d, max_size: 20GB}
/// time_zone: UTC
/// source_time_zones:
///   - {match: 10.20.0.0/16, zone: Europe/Berlin}
///   - {match: core-sw-1, zone: America/New_York}
/// ```
public struct ServerConfiguration: Sendable, Hashable, Codable {
    /// Where the database lives.
    public var dataDir: String?
    /// Syslog listeners; nil means the defaults (UDP and TCP on 0.0.0.0:5514).
    public var listeners: [Listener]?
    /// The HTTP API's address (`http:` as a string, or `http.address`).
    public var http: String?
    /// `http.tls`: serve the UI and API over HTTPS with these PEM files.
    public var httpTLS: HTTPTLS?
    /// `http.session`: how long sign-ins last.
    public var httpSession = HTTPSession()
    /// The first start's password for the user `admin` (`NOTILOG_ADMIN_PASSWORD` only, never the file).
    public var adminPassword: String?
    public var ingest: Ingest
    public var retention: Retention
    /// Zone for RFC 3164 senders whose messages carry no offset (an IANA name such as `Europe/Berlin`).
    public var timeZone: String?
    /// Zones by sender: an address range (`10.0.0.0/8`) or a host name as the messages give it.
    public var sourceTimeZones: [SourceTimeZone]?

    /// `rules:` as written: YAML text of a mapping with that one key, read by the rule loader (NotiLogAlerts), so
    /// rule errors name their own fields. nil when the file has none.
    public var rules: String?
    /// A directory of `*.yaml` rule files; default `rules.d` beside the configuration file.
    public var rulesDir: String?
    /// `channels:` as written (YAML text of the mapping of channel names), read by the notifiers' configuration.
    public var channels: String?
    /// The web UI's address as users reach it, for links in notifications (`https://logs.example.com`).
    public var publicURL: String?

    /// The file this was read from, if any.
    public var file: String?
    /// Where a value came from when not from the file, by key path (`retention.max_age` → `NOTILOG_RETENTION_MAX_AGE`).
    public var origins: [String: String] = [:]
    /// Problems found while reading (YAML syntax, wrong types, unknown keys); `resolved()` reports them too.
    public var readingProblems: [ConfigurationProblem] = []

    /// One syslog listener: exactly one of `udp`, `tcp`, `tls` gives its transport and address.
    public struct Listener: Sendable, Hashable, Codable {
        public var udp: String?
        public var tcp: String?
        public var tls: String?
        /// Address ranges allowed to send (`10.0.0.0/8`, `192.0.2.7`, `2001:db8::/32`); none means everyone.
        public var allow: [String]?
        public var maxConnections: Int?
        public var maxConnectionsPerAddress: Int?
        public var idleTimeout: String?
        public var maxFrameSize: String?
        public var framing: String?
        /// TLS only: PEM certificate chain, private key, and the CA that client certificates must chain to.
        public var certificate: String?
        public var key: String?
        public var clientCA: String?
        /// Where values came from when not from the file, by key (`tcp` → `--tcp`, `allow` → `NOTILOG_LISTENERS_ALLOW`).
        public var origins: [String: String] = [:]

        public init(
            udp: String? = nil, tcp: String? = nil, tls: String? = nil, allow: [String]? = nil, maxConnections: Int? = nil,
            maxConnectionsPerAddress: Int? = nil, idleTimeout: String? = nil, maxFrameSize: String? = nil, framing: String? = nil,
            certificate: String? = nil, key: String? = nil, clientCA: String? = nil
        ) {
            self.udp = udp
            self.tcp = tcp
            self.tls = tls
            self.allow = allow
            self.maxConnections = maxConnections
            self.maxConnectionsPerAddress = maxConnectionsPerAddress
            self.idleTimeout = idleTimeout
            self.maxFrameSize = maxFrameSize
            self.framing = framing
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case udp, tcp, tls, allow, framing, certificate, key
            case maxConnections = "max_connections"
            case maxConnectionsPerAddress = "max_connections_per_address"
            case idleTimeout = "idle_timeout"
            case maxFrameSize = "max_frame_size"
            case clientCA = "client_ca"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            udp = try c.lenient(.udp, "HOST:PORT", decoder)
            tcp = try c.lenient(.tcp, "HOST:PORT", decoder)
            tls = try c.lenient(.tls, "HOST:PORT", decoder)
            allow = try c.lenientList(.allow, "an address range", decoder)
            maxConnections = try c.lenient(.maxConnections, "a whole number", decoder)
            maxConnectionsPerAddress = try c.lenient(.maxConnectionsPerAddress, "a whole number", decoder)
            idleTimeout = try c.lenient(.idleTimeout, "a duration", decoder)
            maxFrameSize = try c.lenient(.maxFrameSize, "a size", decoder)
            framing = try c.lenient(.framing, "a framing", decoder)
            certificate = try c.lenient(.certificate, "a file path", decoder)
            key = try c.lenient(.key, "a file path", decoder)
            clientCA = try c.lenient(.clientCA, "a file path", decoder)
        }

        /// The transport and address text, when exactly one is given.
        var transports: [(ListenerTransportKey, String)] {
            [(.udp, udp), (.tcp, tcp), (.tls, tls)].compactMap { k, v in v.map { (k, $0) } }
        }
    }

    public struct Ingest: Sendable, Hashable, Codable {
        /// Records waiting for the writer before TCP senders are slowed and UDP datagrams dropped.
        public var queueCapacity: Int?
        /// Records per transaction.
        public var batchSize: Int?
        /// How long a partial batch waits to fill.
        public var batchDelay: String?

        public init(queueCapacity: Int? = nil, batchSize: Int? = nil, batchDelay: String? = nil) {
            self.queueCapacity = queueCapacity
            self.batchSize = batchSize
            self.batchDelay = batchDelay
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case queueCapacity = "queue_capacity"
            case batchSize = "batch_size"
            case batchDelay = "batch_delay"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            queueCapacity = try c.lenient(.queueCapacity, "a whole number", decoder)
            batchSize = try c.lenient(.batchSize, "a whole number", decoder)
            batchDelay = try c.lenient(.batchDelay, "a duration", decoder)
        }
    }

    public struct Retention: Sendable, Hashable, Codable {
        /// Records older than this (by reception time) are deleted; `off` keeps them.
        public var maxAge: String?
        /// The database is kept under this size by deleting the oldest records; `off` for no limit.
        public var maxSize: String?

        public init(maxAge: String? = nil, maxSize: String? = nil) {
            self.maxAge = maxAge
            self.maxSize = maxSize
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxAge = "max_age"
            case maxSize = "max_size"
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            maxAge = try c.lenient(.maxAge, "a duration", decoder)
            maxSize = try c.lenient(.maxSize, "a size", decoder)
        }
    }

    public struct SourceTimeZone: Sendable, Hashable, Codable {
        /// An address range (`10.0.0.0/8`, one address) or a host name (matched case-insensitively).
        public var match: String?
        public var zone: String?

        public init(match: String, zone: String) {
            self.match = match
            self.zone = zone
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case match, zone
        }

        public init(from decoder: any Decoder) throws {
            try decoder.reportUnknownKeys(CodingKeys.self)
            let c = try decoder.container(keyedBy: CodingKeys.self)
            match = try c.lenient(.match, "an address range or a host name", decoder)
            zone = try c.lenient(.zone, "a time zone name", decoder)
        }
    }

    public init(
        dataDir: String? = nil, listeners: [Listener]? = nil, http: String? = nil, ingest: Ingest = Ingest(),
        retention: Retention = Retention(), timeZone: String? = nil, sourceTimeZones: [SourceTimeZone]? = nil
    ) {
        self.dataDir = dataDir
        self.listeners = listeners
        self.http = http
        self.ingest = ingest
        self.retention = retention
        self.timeZone = timeZone
        self.sourceTimeZones = sourceTimeZones
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listeners, http, ingest, retention, rules, channels
        case rulesDir = "rules_dir"
        case publicURL = "public_url"
        case dataDir = "data_dir"
        case timeZone = "time_zone"
        case sourceTimeZones = "source_time_zones"
    }

    public init(from decoder: any Decoder) throws {
        try decoder.reportUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        dataDir = try c.lenient(.dataDir, "a directory path", decoder)
        listeners = try c.lenientList(.listeners, "a listener (a mapping with udp, tcp or tls)", decoder)
        ingest = try c.lenient(.ingest, "a mapping", decoder) ?? Ingest()
        retention = try c.lenient(.retention, "a mapping", decoder) ?? Retention()
        timeZone = try c.lenient(.timeZone, "a time zone name", decoder)
        sourceTimeZones = try c.lenientList(.sourceTimeZones, "a mapping with match and zone", decoder)
        rulesDir = try c.lenient(.rulesDir, "a directory path", decoder)
        publicURL = try c.lenient(.publicURL, "a URL (https://logs.example.com)", decoder)
        try decodeHTTP(c, decoder)
        // `rules` and `channels` are taken from the YAML as text (`parse(yaml:)`) and checked by their own readers.
    }
}

enum ListenerTransportKey: String, CaseIterable {
    case udp, tcp, tls
}
