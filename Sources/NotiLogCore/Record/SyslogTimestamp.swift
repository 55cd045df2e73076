#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A UTC instant with nanosecond resolution that remembers how many fraction digits it was written with,
/// so `2023-10-11T22:14:15.003Z` prints back exactly as it came.
public struct SyslogTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// 0 ..< 1_000_000_000.
    public var nanoseconds: Int32
    /// Digits of second fraction to print (0...9).
    public var fractionDigits: Int8

    public init(seconds: Int64, nanoseconds: Int32 = 0, fractionDigits: Int8 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.fractionDigits = fractionDigits
    }

    /// The inverse of `nanosecondsSinceEpoch`.
    public init(nanosecondsSinceEpoch ns: Int64, fractionDigits: Int8) {
        let seconds = floorDiv(ns, 1_000_000_000)
        self.init(seconds: seconds, nanoseconds: Int32(ns - seconds * 1_000_000_000), fractionDigits: fractionDigits)
    }

    /// Reads RFC 3339 as RFC 5424 writes it (`2026-11-25T10:00:00Z`, `...T10:00:00.123+01:00`); nil for anything
    /// else, including the forms RFC 5424 forbids (lowercase `t`/`z`, no offset, more than 6 fraction digits).
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        var lenient: [String] = []
        let parsed = bytes.withUnsafeBufferPointer {
            SyslogParser.parseRFC3339($0, start: 0, end: $0.count, requireOffset: true, lenient: &lenient)
        }
        guard case .ok(let t, _) = parsed, lenient.isEmpty, let instant = t.instant else { return nil }
        self = instant
    }

    /// The system clock, in microseconds.
    public static func now() -> SyslogTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return SyslogTimestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec / 1000 * 1000), fractionDigits: 6)
    }

    /// Nanoseconds since the epoch (saturating far outside ±292 years).
    public var nanosecondsSinceEpoch: Int64 {
        let (m, o) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if o { return seconds < 0 ? .min : .max }
        return m &+ Int64(nanoseconds)
    }

    public static func < (lhs: SyslogTimestamp, rhs: SyslogTimestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// The same instant compared without regard to the digits it was written with.
    public func isSameInstant(as other: SyslogTimestamp) -> Bool {
        seconds == other.seconds && nanoseconds == other.nanoseconds
    }

    /// RFC 3339 in UTC: `2023-10-11T22:14:15.003Z`.
    public var description: String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        appendRFC3339(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the RFC 3339 UTC form, with `fractionDigits` digits of fraction (truncated to `maxFractionDigits`).
    public func appendRFC3339(to out: inout [UInt8], maxFractionDigits: Int = 9) {
        let days = floorDiv(seconds, 86_400)
        let secOfDay = Int(seconds - days * 86_400)
        let (y, m, d) = CivilCalendar.civil(fromDays: days)
        if y < 0 || y > 9999 {
            // Outside RFC 3339; print a signed year rather than garbage.
            out.append(contentsOf: Array(String(y).utf8))
        } else {
            appendDigits(Int(y), width: 4, to: &out)
        }
        out.append(UInt8(ascii: "-"))
        appendDigits(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(secOfDay / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secOfDay / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(secOfDay % 60, width: 2, to: &out)
        let digits = min(Int(fractionDigits), maxFractionDigits)
        if digits > 0 {
            out.append(UInt8(ascii: "."))
            var scaled = Int(nanoseconds)
            for _ in digits..<9 { scaled /= 10 }
            appendDigits(scaled, width: digits, to: &out)
        }
        out.append(UInt8(ascii: "Z"))
    }
}

@inline(__always)
func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
    var divisor = 1
    for _ in 1..<max(width, 1) { divisor &*= 10 }
    var v = value
    while divisor > 0 {
        out.append(UInt8(truncatingIfNeeded: 48 &+ (v / divisor) % 10))
        v %= divisor
        divisor /= 10
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// Proleptic Gregorian calendar arithmetic without Foundation (H. Hinnant's days-from-civil algorithms).
enum CivilCalendar {
    /// Days since 1970-01-01 for a civil date (month 1...12, day 1...31; not validated).
    @inline(__always)
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func isLeap(_ y: Int64) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Seconds since the epoch for a civil date-time read as UTC; nil when a field is out of range.
    static func epochSeconds(year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second)
        else { return nil }
        // A leap second (:60) is folded onto the next second, as most systems do.
        return days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
    }
}

/// Encoded as its RFC 3339 text (`description`), as the API's records show it.
extension SyslogTimestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let t = SyslogTimestamp(rfc3339: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an RFC 3339 time: \(text)"))
        }
        self = t
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
