import NIOCore
import NotiLogCore

/// One syslog listener: a transport on an address, with its own limits.
public struct ListenerConfiguration: Sendable, Hashable {
    public enum Transport: String, Sendable, Hashable, CaseIterable {
        case udp, tcp, tls
    }

    /// Certificate files for a TLS listener (RFC 5425).
    public struct TLSFiles: Sendable, Hashable {
        public var certificateChain: String
        public var privateKey: String
        /// When set, clients must present a certificate signed by this CA (PEM file).
        public var clientCA: String?

        public init(certificateChain: String, privateKey: String, clientCA: String? = nil) {
            self.certificateChain = certificateChain
            self.privateKey = privateKey
            self.clientCA = clientCA
        }
    }

    public var transport: Transport
    public var host: String
    public var port: Int
    /// Senders allowed to connect or send; empty allows everyone.
    public var allow: [AddressRange]
    /// Open connections on this listener (TCP/TLS).
    public var maxConnections: Int
    /// Open connections from one address (TCP/TLS).
    public var maxConnectionsPerAddress: Int
    /// A connection that sends nothing for this long is closed (TCP/TLS).
    public var idleTimeout: Duration
    public var maxFrameSize: Int
    public var framing: SyslogFraming
    public var tls: TLSFiles?

    public init(
        transport: Transport, host: String, port: Int, allow: [AddressRange] = [], maxConnections: Int = 4096,
        maxConnectionsPerAddress: Int = 256, idleTimeout: Duration = .seconds(3600), maxFrameSize: Int = 65536,
        framing: SyslogFraming = .auto, tls: TLSFiles? = nil
    ) {
        self.transport = transport
        self.host = host
        self.port = port
        self.allow = allow
        self.maxConnections = maxConnections
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
        self.idleTimeout = idleTimeout
        self.maxFrameSize = maxFrameSize
        self.framing = framing
        self.tls = tls
    }

    /// `udp://host:port`-style name used in logs and metrics.
    public var name: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(transport.rawValue)://\(h):\(port)"
    }
}

/// Chooses the parser (and so the time zone) for a sender by its address.
public struct SourceParsers: Sendable {
    public var defaultParser: SyslogParser
    public var byRange: [(AddressRange, SyslogParser)]

    public init(defaultParser: SyslogParser = SyslogParser(), byRange: [(AddressRange, SyslogParser)] = []) {
        self.defaultParser = defaultParser
        self.byRange = byRange
    }

    public func parser(for address: SocketAddress?) -> SyslogParser {
        guard let address, !byRange.isEmpty else { return defaultParser }
        for (range, parser) in byRange where range.contains(address) { return parser }
        return defaultParser
    }
}
