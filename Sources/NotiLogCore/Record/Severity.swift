/// Syslog severity (RFC 5424 §6.2.1), 0 = most severe.
public enum Severity: UInt8, Sendable, Hashable, CaseIterable, Comparable {
    case emerg = 0, alert, crit, err, warning, notice, info, debug

    /// The keyword used in configs, queries and output (`err`, `warning`, ...).
    public var name: String {
        switch self {
        case .emerg: "emerg"
        case .alert: "alert"
        case .crit: "crit"
        case .err: "err"
        case .warning: "warning"
        case .notice: "notice"
        case .info: "info"
        case .debug: "debug"
        }
    }

    /// Accepts the keyword, the usual aliases (`error`, `warn`, `critical`, `emergency`, `panic`,
    /// `informational`) or the number, case-insensitively.
    public init?(name: some StringProtocol) {
        let lower = name.lowercased()
        if let number = UInt8(lower), let s = Severity(rawValue: number) {
            self = s
            return
        }
        switch lower {
        case "emerg", "emergency", "panic": self = .emerg
        case "alert": self = .alert
        case "crit", "critical": self = .crit
        case "err", "error": self = .err
        case "warning", "warn": self = .warning
        case "notice": self = .notice
        case "info", "informational": self = .info
        case "debug": self = .debug
        default: return nil
        }
    }

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Syslog facility (RFC 5424 §6.2.1).
public enum Facility: UInt8, Sendable, Hashable, CaseIterable {
    case kern = 0, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console,
        clock, local0, local1, local2, local3, local4, local5, local6, local7

    public var name: String {
        switch self {
        case .kern: "kern"
        case .user: "user"
        case .mail: "mail"
        case .daemon: "daemon"
        case .auth: "auth"
        case .syslog: "syslog"
        case .lpr: "lpr"
        case .news: "news"
        case .uucp: "uucp"
        case .cron: "cron"
        case .authpriv: "authpriv"
        case .ftp: "ftp"
        case .ntp: "ntp"
        case .security: "security"
        case .console: "console"
        case .clock: "clock"
        case .local0: "local0"
        case .local1: "local1"
        case .local2: "local2"
        case .local3: "local3"
        case .local4: "local4"
        case .local5: "local5"
        case .local6: "local6"
        case .local7: "local7"
        }
    }

    /// Accepts the keyword (and `audit` for 13, `cron2`/`solaris-cron` for 15) or the number.
    public init?(name: some StringProtocol) {
        let lower = name.lowercased()
        if let number = UInt8(lower), let f = Facility(rawValue: number) {
            self = f
            return
        }
        switch lower {
        case "audit": self = .security
        case "cron2", "solaris-cron": self = .clock
        default:
            guard let f = Facility.allCases.first(where: { $0.name == lower }) else { return nil }
            self = f
        }
    }
}

/// How a record arrived on the wire.
public enum WireFormat: String, Sendable, Hashable, CaseIterable {
    case rfc5424
    case rfc3164
    /// No syslog header could be read: the whole frame is the message.
    case unparsed
}

/// Encoded by name (`err`, `warning`, ...).
extension Severity: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let s = Severity(name: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a severity: \(text)"))
        }
        self = s
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(name)
    }
}
