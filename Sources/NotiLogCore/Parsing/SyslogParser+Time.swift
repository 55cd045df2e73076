import Foundation

/// A wall-clock time read from a message before its year and zone are settled.
struct WireTime {
    var year: Int64?
    var month: Int
    var day: Int
    var hour: Int
    var minute: Int
    var second: Int
    var nanoseconds: Int32
    var fractionDigits: Int8
    /// Seconds east of UTC when the message says; nil means "the source's zone".
    var utcOffset: Int?
    /// A zone abbreviation the sender wrote (Cisco `UTC:`), as a range of the frame.
    var zoneName: Range<Int>?

    /// The instant, when the time says its year and offset (RFC 3339 as RFC 5424 writes it) and is a real date.
    var instant: SyslogTimestamp? {
        guard let utcOffset, let year,
            let local = CivilCalendar.epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return SyslogTimestamp(seconds: local - Int64(utcOffset), nanoseconds: nanoseconds, fractionDigits: fractionDigits)
    }
}

enum TimeParse {
    case ok(WireTime, end: Int)
    /// `column` is a 0-based frame index.
    case bad(column: Int, reason: String)
}

extension SyslogParser {
    /// Reads `fractionDigits` digits after a `.`, starting at `i` (the first digit).
    @inline(__always)
    static func readFraction(_ p: UnsafeBufferPointer<UInt8>, _ i: inout Int, end: Int) -> (Int32, Int8) {
        var nanos: Int32 = 0
        var digits: Int8 = 0
        while i < end, ASCII.isDigit(p[i]) {
            if digits < 9 {
                nanos = nanos &* 10 &+ Int32(p[i] &- 48)
                digits += 1
            }
            i += 1
        }
        var scale = digits
        while scale < 9 {
            nanos &*= 10
            scale += 1
        }
        return (nanos, digits)
    }

    @inline(__always)
    static func twoDigits(_ p: UnsafeBufferPointer<UInt8>, _ i: Int, end: Int) -> Int? {
        guard i + 1 < end, ASCII.isDigit(p[i]), ASCII.isDigit(p[i + 1]) else { return nil }
        return Int(p[i] &- 48) * 10 + Int(p[i + 1] &- 48)
    }

    /// RFC 3339 `YYYY-MM-DDThh:mm:ss[.frac](Z|±hh:mm)` in `p[start..<end]`, which must be exactly the timestamp.
    /// With `requireOffset` false (BSD-style senders) a missing offset means the source's zone.
    /// `lenient` collects what RFC 5424 forbids but senders do (lowercase t/z, >6 digits, `+hhmm`).
    static func parseRFC3339(
        _ p: UnsafeBufferPointer<UInt8>, start: Int, end: Int, requireOffset: Bool, lenient: inout [String]
    ) -> TimeParse {
        var i = start
        guard i + 19 <= end, ASCII.isDigit(p[i]), ASCII.isDigit(p[i + 1]), ASCII.isDigit(p[i + 2]),
            ASCII.isDigit(p[i + 3]), p[i + 4] == ASCII.dash
        else { return .bad(column: start, reason: "expected YYYY-MM-DDThh:mm:ss") }
        let year = Int64(p[i] &- 48) * 1000 + Int64(p[i + 1] &- 48) * 100 + Int64(p[i + 2] &- 48) * 10 + Int64(p[i + 3] &- 48)
        guard let month = twoDigits(p, i + 5, end: end), p[i + 7] == ASCII.dash,
            let day = twoDigits(p, i + 8, end: end)
        else { return .bad(column: start + 5, reason: "expected MM-DD") }
        let sep = p[i + 10]
        if sep == UInt8(ascii: "t") {
            lenient.append("lowercase 't' separator")
        } else if sep != UInt8(ascii: "T") {
            return .bad(column: start + 10, reason: "expected 'T' between date and time")
        }
        guard let hour = twoDigits(p, i + 11, end: end), p[i + 13] == ASCII.colon,
            let minute = twoDigits(p, i + 14, end: end), p[i + 16] == ASCII.colon,
            let second = twoDigits(p, i + 17, end: end)
        else { return .bad(column: start + 11, reason: "expected hh:mm:ss") }
        i += 19
        var nanos: Int32 = 0
        var digits: Int8 = 0
        if i < end, p[i] == ASCII.dot {
            i += 1
            let fracStart = i
            (nanos, digits) = readFraction(p, &i, end: end)
            if digits == 0 { return .bad(column: fracStart, reason: "expected digits after '.'") }
            if i - fracStart > 6 { lenient.append("more than 6 digits of second fraction") }
        }
        var offset: Int? = nil
        if i < end {
            let c = p[i]
            if c == UInt8(ascii: "Z") || c == UInt8(ascii: "z") {
                if c == UInt8(ascii: "z") { lenient.append("lowercase 'z' offset") }
                offset = 0
                i += 1
            } else if c == ASCII.plus || c == ASCII.dash {
                let sign = c == ASCII.plus ? 1 : -1
                guard let oh = twoDigits(p, i + 1, end: end), oh <= 23 else {
                    return .bad(column: i + 1, reason: "expected offset hours")
                }
                var j = i + 3
                if j < end, p[j] == ASCII.colon { j += 1 } else { lenient.append("offset without ':'") }
                guard let om = twoDigits(p, j, end: end), om <= 59 else {
                    return .bad(column: j, reason: "expected offset minutes")
                }
                offset = sign * (oh * 3600 + om * 60)
                i = j + 2
            }
        }
        if offset == nil && requireOffset {
            return .bad(column: i, reason: "expected 'Z' or a ±hh:mm offset")
        }
        if i != end { return .bad(column: i, reason: "unexpected character after the time") }
        guard CivilCalendar.epochSeconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second) != nil
        else { return .bad(column: start, reason: "date or time out of range") }
        let t = WireTime(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second, nanoseconds: nanos,
            fractionDigits: digits, utcOffset: offset, zoneName: nil)
        return .ok(t, end: i)
    }

    /// Month abbreviation at `p[i..<i+3]`, any case.
    @inline(__always)
    static func month(_ p: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let a = p[i] | 0x20, b = p[i + 1] | 0x20, c = p[i + 2] | 0x20
        switch (a, b, c) {
        case (0x6A, 0x61, 0x6E): return 1  // jan
        case (0x66, 0x65, 0x62): return 2  // feb
        case (0x6D, 0x61, 0x72): return 3  // mar
        case (0x61, 0x70, 0x72): return 4  // apr
        case (0x6D, 0x61, 0x79): return 5  // may
        case (0x6A, 0x75, 0x6E): return 6  // jun
        case (0x6A, 0x75, 0x6C): return 7  // jul
        case (0x61, 0x75, 0x67): return 8  // aug
        case (0x73, 0x65, 0x70): return 9  // sep
        case (0x6F, 0x63, 0x74): return 10  // oct
        case (0x6E, 0x6F, 0x76): return 11  // nov
        case (0x64, 0x65, 0x63): return 12  // dec
        default: return nil
        }
    }

    /// BSD `Mmm dd hh:mm:ss` as senders write it: day space-padded or not, an optional year before the time
    /// (or before the month, as NX-OS writes it), an optional fraction, and (with `allowZone`, for Cisco) a zone
    /// abbreviation before a `:`.
    static func parseBSDTime(_ p: UnsafeBufferPointer<UInt8>, start: Int, end: Int, allowZone: Bool) -> (WireTime, Int)? {
        var i = start
        var year: Int64? = nil
        if i + 5 <= end, ASCII.isDigit(p[i]), ASCII.isDigit(p[i + 1]), ASCII.isDigit(p[i + 2]), ASCII.isDigit(p[i + 3]),
            p[i + 4] == ASCII.space
        {
            year = Int64(p[i] &- 48) * 1000 + Int64(p[i + 1] &- 48) * 100 + Int64(p[i + 2] &- 48) * 10 + Int64(p[i + 3] &- 48)
            i += 5
        }
        guard i + 14 <= end, let month = month(p, i), p[i + 3] == ASCII.space else { return nil }
        i += 4
        if p[i] == ASCII.space { i += 1 }
        guard i < end, ASCII.isDigit(p[i]) else { return nil }
        var day = Int(p[i] &- 48)
        i += 1
        if i < end, ASCII.isDigit(p[i]) {
            day = day * 10 + Int(p[i] &- 48)
            i += 1
        }
        guard i < end, p[i] == ASCII.space else { return nil }
        i += 1
        if year == nil, i + 5 <= end, ASCII.isDigit(p[i]), ASCII.isDigit(p[i + 1]), ASCII.isDigit(p[i + 2]), ASCII.isDigit(p[i + 3]),
            p[i + 4] == ASCII.space
        {
            year = Int64(p[i] &- 48) * 1000 + Int64(p[i + 1] &- 48) * 100 + Int64(p[i + 2] &- 48) * 10 + Int64(p[i + 3] &- 48)
            i += 5
        }
        guard let hour = twoDigits(p, i, end: end), i + 8 <= end, p[i + 2] == ASCII.colon,
            let minute = twoDigits(p, i + 3, end: end), p[i + 5] == ASCII.colon,
            let second = twoDigits(p, i + 6, end: end), hour < 24, minute < 60, second <= 60, day >= 1, day <= 31
        else { return nil }
        i += 8
        var nanos: Int32 = 0
        var digits: Int8 = 0
        if i + 1 < end, p[i] == ASCII.dot, ASCII.isDigit(p[i + 1]) {
            i += 1
            (nanos, digits) = readFraction(p, &i, end: end)
        }
        var zone: Range<Int>? = nil
        // A zone name only where Cisco puts one: `UTC:` right before a `%FAC-SEV-MNEMONIC`, or an upper-case name
        // after a time that carries Cisco's marks (sequence number or clock marker: `allowZone`). Elsewhere an
        // upper-case word before a colon is a tag (`WEB: ...`) and must not vanish. `clock timezone` names may be
        // mixed case ("NewYork"); such a name is taken only right before a mnemonic.
        if i + 3 < end, p[i] == ASCII.space, ASCII.isUpper(p[i + 1]) {
            var j = i + 1
            var allUpper = true
            while j < end, j - i <= 7, ASCII.isAlpha(p[j]) {
                if !ASCII.isUpper(p[j]) { allUpper = false }
                j += 1
            }
            let beforeMnemonic = j + 2 < end && p[j + 1] == ASCII.space && p[j + 2] == ASCII.percent
            if j < end, p[j] == ASCII.colon, j - i >= 3, (allUpper && j - i <= 6 && allowZone) || beforeMnemonic {
                zone = (i + 1)..<j
                i = j
            }
        }
        // A trailing year after the time ("Oct 11 22:14:15 2023 host") is rare; it is left to the hostname step.
        return (
            WireTime(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second, nanoseconds: nanos,
                fractionDigits: digits, utcOffset: nil, zoneName: zone),
            i
        )
    }

    /// The UTC instant of a wire time: its own offset, else a zone it names, else the source's zone;
    /// a missing year is the one that puts the time closest to `receivedAt`.
    func resolve(_ t: WireTime, zone: TimeZone?, receivedAt: SyslogTimestamp, frame p: UnsafeBufferPointer<UInt8>)
        -> SyslogTimestamp?
    {
        var offsetKnown = t.utcOffset
        if offsetKnown == nil, let name = t.zoneName {
            let abbreviation = String(decoding: UnsafeBufferPointer(rebasing: p[name]), as: UTF8.self)
            if abbreviation == "UTC" || abbreviation == "GMT" || abbreviation == "Z" {
                offsetKnown = 0
            } else if let fixed = Self.utcOffset(abbreviation: abbreviation, near: receivedAt.seconds) {
                offsetKnown = fixed
            }
        }
        func utc(_ year: Int64) -> Int64? {
            guard
                let local = CivilCalendar.epochSeconds(
                    year: year, month: t.month, day: t.day, hour: t.hour, minute: t.minute, second: t.second)
            else { return nil }
            if let off = offsetKnown { return local - Int64(off) }
            return toUTC(localSeconds: local, zone: zone)
        }
        let seconds: Int64
        if let year = t.year {
            guard let s = utc(year) else { return nil }
            seconds = s
        } else {
            let approxLocal = receivedAt.seconds + Int64(offsetKnown ?? offset(at: receivedAt.seconds, zone: zone))
            let receivedYear = CivilCalendar.civil(fromDays: floorDiv(approxLocal, 86_400)).year
            var best: Int64? = nil
            for year in [receivedYear, receivedYear - 1, receivedYear + 1] {
                guard let s = utc(year) else { continue }
                if let b = best, abs(b - receivedAt.seconds) <= abs(s - receivedAt.seconds) { continue }
                best = s
                if abs(s - receivedAt.seconds) < 180 * 86_400 { break }
            }
            guard let b = best else { return nil }
            seconds = b
        }
        return SyslogTimestamp(seconds: seconds, nanoseconds: t.nanoseconds, fractionDigits: t.fractionDigits)
    }

    /// The one offset a zone abbreviation stands for, whatever the season: a device that says `CET` in July has
    /// no summer time configured and is at +01:00; `CEST` is +02:00. Nil for a name Foundation does not know.
    static func utcOffset(abbreviation: String, near seconds: Int64) -> Int? {
        guard let zone = TimeZone(abbreviation: abbreviation) else { return nil }
        let date = Date(timeIntervalSince1970: Double(seconds))
        let standard = zone.secondsFromGMT(for: date) - Int(zone.daylightSavingTimeOffset(for: date))
        return daylightAbbreviations.contains(abbreviation) ? standard + 3600 : standard
    }

    /// The summer-time names among `TimeZone.abbreviationDictionary`'s keys (each one hour ahead of standard).
    static let daylightAbbreviations: Set<String> = [
        "ADT", "AKDT", "BRST", "BST", "CDT", "CEST", "CLST", "EDT", "EEST", "MDT", "MSD", "NDT", "NZDT", "PDT", "WEST",
    ]

    @inline(__always)
    func offset(at utcSeconds: Int64, zone: TimeZone?) -> Int {
        if zone == nil, let fixed = fixedOffset { return fixed }
        return (zone ?? timeZone).secondsFromGMT(for: Date(timeIntervalSince1970: Double(utcSeconds)))
    }

    @inline(__always)
    func toUTC(localSeconds: Int64, zone: TimeZone?) -> Int64 {
        if zone == nil, let fixed = fixedOffset { return localSeconds - Int64(fixed) }
        let first = offset(at: localSeconds, zone: zone)
        let second = offset(at: localSeconds - Int64(first), zone: zone)
        return localSeconds - Int64(second)
    }
}
