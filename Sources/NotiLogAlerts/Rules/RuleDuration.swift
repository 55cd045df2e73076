/// A length of time as rules write it: `30s`, `5m`, `1h`, `2d`, `1w`, or units combined largest first (`1h30m`).
///
/// A bare number is refused: `window: 60` could mean seconds or minutes, and a rule that waits 60 minutes instead
/// of 60 seconds fails silently.
public struct RuleDuration: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var seconds: Int64

    public init(seconds: Int64) {
        self.seconds = seconds
    }

    public static func seconds(_ n: Int64) -> RuleDuration { RuleDuration(seconds: n) }
    public static func minutes(_ n: Int64) -> RuleDuration { RuleDuration(seconds: n * 60) }
    public static func hours(_ n: Int64) -> RuleDuration { RuleDuration(seconds: n * 3600) }

    /// The longest duration a rule may name (ten years): keeps nanosecond arithmetic far from overflow.
    public static let maximum = RuleDuration(seconds: 10 * 366 * 86_400)

    static let units: [(symbol: Character, seconds: Int64)] = [("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]

    /// Reads `1h30m`-style text; nil when it is anything else.
    public init?(_ text: String) {
        var total: Int64 = 0
        var digits: Int64? = nil
        var lastUnit = -1
        for c in text {
            if let d = c.wholeNumberValue, c.isASCII {
                let (m, o1) = (digits ?? 0).multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int64(d))
                if o1 || o2 { return nil }
                digits = s
            } else if let unit = Self.units.firstIndex(where: { $0.symbol == c }), let n = digits, unit > lastUnit {
                let (m, o1) = n.multipliedReportingOverflow(by: Self.units[unit].seconds)
                let (s, o2) = total.addingReportingOverflow(m)
                if o1 || o2 { return nil }
                total = s
                digits = nil
                lastUnit = unit
            } else {
                return nil
            }
        }
        guard digits == nil, lastUnit >= 0, total <= Self.maximum.seconds else { return nil }
        seconds = total
    }

    public var nanoseconds: Int64 { seconds * 1_000_000_000 }

    /// The shortest text that reads back as this duration (`90s` prints as `1m30s`).
    public var description: String {
        if seconds == 0 { return "0s" }
        var rest = seconds
        var out = ""
        for (symbol, size) in Self.units where rest >= size {
            out += "\(rest / size)\(symbol)"
            rest %= size
        }
        return out
    }

    public static func < (lhs: RuleDuration, rhs: RuleDuration) -> Bool { lhs.seconds < rhs.seconds }

    /// Encoded as its text (`5m`), as rules write it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let d = RuleDuration(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a duration: \(text)"))
        }
        self = d
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
