import NotiLogCore

/// The value syntaxes a configuration uses: durations, byte sizes and `HOST:PORT` addresses.
public enum ConfigurationValues {
    /// `200ms`, `30s`, `15m`, `24h`, `30d`, `2w`, or several together (`1h30m`); a bare `0` is zero.
    public static func duration(_ text: String) -> Duration? {
        DurationText.parse(text)
    }

    /// `65536`, `64KB`, `512MB`, `20GB`, `1TB` (and `KiB`… or `K`, `M`, `G`, `T`): multiples of 1024, as journald
    /// and most log tools count them.
    public static func byteSize(_ text: String) -> Int64? {
        ByteSizeText.parse(text)
    }

    /// How a duration is written back in messages (`30s`, `200ms`).
    public static func text(_ d: Duration) -> String {
        let (s, atto) = d.components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60)] where s >= size && s % size == 0 {
            return "\(s / size)\(unit)"
        }
        return "\(s)s"
    }
}

/// A `HOST:PORT` address: `0.0.0.0:514`, `[::]:514`, `localhost:5514`. Port 0 means "any free port".
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Nil when `text` is not `HOST:PORT` with a port from 0 to 65535 (an IPv6 host goes in brackets).
    public init?(_ text: String) {
        let t = text.trimmingSpaces
        let hostPart: Substring
        let portPart: Substring
        if t.hasPrefix("[") {
            guard let close = t.firstIndex(of: "]") else { return nil }
            hostPart = t[t.index(after: t.startIndex)..<close]
            let after = t[t.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portPart = after.dropFirst()
            guard hostPart.contains(":") else { return nil }
        } else {
            guard let colon = t.lastIndex(of: ":") else { return nil }
            hostPart = t[..<colon]
            portPart = t[t.index(after: colon)...]
            // An unbracketed IPv6 address is ambiguous (`::1:514`).
            guard !hostPart.contains(":") else { return nil }
        }
        guard !hostPart.isEmpty, !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0.isASCII && $0.isNumber }),
            let port = Int(portPart), (0...65535).contains(port),
            hostPart.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:%".contains($0)) })
        else { return nil }
        host = String(hostPart)
        self.port = port
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The wildcard addresses: a listener there takes the port on every interface.
    var isWildcard: Bool { host == "0.0.0.0" || host == "::" || host == "*" }

    /// Whether two listeners of the same socket type would want the same port.
    func overlaps(_ other: HostPort) -> Bool {
        guard port == other.port, port != 0 else { return false }
        return host == other.host || isWildcard || other.isWildcard
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        let scalars = unicodeScalars.drop { $0 == " " || $0 == "\t" }
        var s = String(String.UnicodeScalarView(scalars))
        while let last = s.last, last == " " || last == "\t" { s.removeLast() }
        return s
    }
}
