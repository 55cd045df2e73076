import Foundation
import NotiLogCore
import Testing

/// `SyslogTimestamp`'s own calendar arithmetic (no Foundation) against Foundation's Gregorian calendar, and its
/// RFC 3339 printing.
@Suite struct TimestampTests {
    static let utcCalendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return calendar
    }()

    /// RFC 3339 UTC text for an instant, as Foundation's calendar reads it.
    static func foundationText(_ seconds: Int64) -> String {
        let c = utcCalendar.dateComponents(
            [.year, .month, .day, .hour, .minute, .second], from: Date(timeIntervalSince1970: TimeInterval(seconds)))
        func pad(_ value: Int?, _ width: Int) -> String {
            let digits = String(value!)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(c.year, 4))-\(pad(c.month, 2))-\(pad(c.day, 2))T\(pad(c.hour, 2)):\(pad(c.minute, 2)):\(pad(c.second, 2))Z"
    }

    /// Every day from 1900-01-01 to 2200-01-01, at a time that moves through the day.
    @Test func everyDayOfThreeCenturiesMatchesFoundation() {
        let firstDay: Int64 = -25_567  // 1900-01-01
        let lastDay: Int64 = 84_006  // 2200-01-01
        var mismatches = 0
        for day in firstDay...lastDay {
            let secondOfDay = ((day &* 7_919) % 86_400 + 86_400) % 86_400
            let seconds = day * 86_400 + secondOfDay
            let ours = SyslogTimestamp(seconds: seconds).description
            let theirs = Self.foundationText(seconds)
            if ours != theirs {
                mismatches += 1
                if mismatches <= 5 { Issue.record("day \(day): \(ours) != \(theirs)") }
            }
        }
        #expect(mismatches == 0)
    }

    /// Random instants from 1600 to 2400 (Foundation's calendar is Julian before 1582): printing matches
    /// Foundation, and reading the printed text back through the RFC 5424 parser gives the same instant.
    @Test func randomInstantsMatchFoundationBothWays() {
        let seed: UInt64 = 0x7135_7A3B
        var rng = SplitMix64(seed: seed)
        let parser = SyslogParser()
        for n in 0..<4_000 {
            let seconds = Int64.random(in: -11_676_096_000..<13_569_465_600, using: &rng)
            let text = Self.foundationText(seconds)
            let ours = SyslogTimestamp(seconds: seconds)
            #expect(ours.description == text, "seed \(seed) #\(n): \(seconds)")
            let parsed = parser.parse("<13>1 \(text) - - - - -", receivedAt: SyslogTimestamp(seconds: 0))
            #expect(parsed.timestamp == ours, "seed \(seed) #\(n): \(text)")
            #expect(parsed.problems.isEmpty)
        }
    }

    @Test(arguments: 0...9)
    func printsTheFractionDigitsItWasWrittenWith(digits: Int) {
        let t = SyslogTimestamp(seconds: 1_697_062_455, nanoseconds: 123_456_789, fractionDigits: Int8(digits))
        let fraction = digits == 0 ? "" : "." + String("123456789".prefix(digits))
        #expect(t.description == "2023-10-11T22:14:15\(fraction)Z")
    }

    @Test func fractionIsTruncatedNotRounded() {
        let t = SyslogTimestamp(seconds: 59, nanoseconds: 999_999_999, fractionDigits: 3)
        #expect(t.description == "1970-01-01T00:00:59.999Z")
        let zeros = SyslogTimestamp(seconds: 0, nanoseconds: 5_000, fractionDigits: 6)
        #expect(zeros.description == "1970-01-01T00:00:00.000005Z")
    }

    @Test func maxFractionDigitsCutsTheFraction() {
        let t = SyslogTimestamp(seconds: 0, nanoseconds: 123_456_789, fractionDigits: 9)
        var out: [UInt8] = []
        t.appendRFC3339(to: &out, maxFractionDigits: 6)
        #expect(String(decoding: out, as: UTF8.self) == "1970-01-01T00:00:00.123456Z")
        out = []
        t.appendRFC3339(to: &out, maxFractionDigits: 0)
        #expect(String(decoding: out, as: UTF8.self) == "1970-01-01T00:00:00Z")
    }

    @Test(arguments: [
        (Int64(0), Int32(0), Int8(0), "1970-01-01T00:00:00Z"),
        (-1, 0, 0, "1969-12-31T23:59:59Z"),
        (-1, 500_000_000, 1, "1969-12-31T23:59:59.5Z"),
        (-86_400, 0, 0, "1969-12-31T00:00:00Z"),
        (-86_401, 0, 0, "1969-12-30T23:59:59Z"),
        (-2_208_988_800, 0, 0, "1900-01-01T00:00:00Z"),
        (-2_203_891_200, 0, 0, "1900-03-01T00:00:00Z"),  // 1900 is not a leap year
        (-62_135_596_800, 0, 0, "0001-01-01T00:00:00Z"),
        (951_782_400, 0, 0, "2000-02-29T00:00:00Z"),  // 2000 is
        (4_107_542_400, 0, 0, "2100-03-01T00:00:00Z"),  // 2100 is not
        (253_402_300_799, 999_999_000, 6, "9999-12-31T23:59:59.999999Z"),
    ])
    func knownInstants(seconds: Int64, nanoseconds: Int32, digits: Int8, text: String) {
        #expect(SyslogTimestamp(seconds: seconds, nanoseconds: nanoseconds, fractionDigits: digits).description == text)
    }

    @Test func yearsOutsideRFC3339PrintSigned() {
        #expect(SyslogTimestamp(seconds: -62_135_596_801).description == "0000-12-31T23:59:59Z")
        #expect(SyslogTimestamp(seconds: -62_167_219_201).description == "-1-12-31T23:59:59Z")
        #expect(SyslogTimestamp(seconds: 253_402_300_800).description == "10000-01-01T00:00:00Z")
    }

    @Test func leapSecondIsFoldedOntoTheNextSecond() {
        let record = SyslogParser().parse("<13>1 2016-12-31T23:59:60Z - - - - -", receivedAt: SyslogTimestamp(seconds: 0))
        #expect(record.timestamp?.description == "2017-01-01T00:00:00Z")
        #expect(record.problems.isEmpty)
    }

    @Test func impossibleDatesAreRejected() {
        for text in ["2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2023-13-01T00:00:00Z", "2023-10-11T24:00:00Z"] {
            let record = SyslogParser().parse("<13>1 \(text) - - - - -", receivedAt: SyslogTimestamp(seconds: 0))
            #expect(record.timestamp == nil, "\(text)")
            #expect(record.problems.map(\.field) == [.timestamp], "\(text)")
        }
    }

    @Test func orderingAndSameInstant() {
        let a = SyslogTimestamp(seconds: -1, nanoseconds: 999_999_999, fractionDigits: 9)
        let b = SyslogTimestamp(seconds: 0, nanoseconds: 0, fractionDigits: 0)
        let b3 = SyslogTimestamp(seconds: 0, nanoseconds: 0, fractionDigits: 3)
        #expect(a < b)
        #expect(b != b3, "equality includes the digits it was written with")
        #expect(b.isSameInstant(as: b3))
        #expect(!(b < b3) && !(b3 < b))
        #expect(a.nanosecondsSinceEpoch == -1)
        #expect(SyslogTimestamp(seconds: 1_697_062_455, nanoseconds: 3).nanosecondsSinceEpoch == 1_697_062_455_000_000_003)
        #expect(SyslogTimestamp(seconds: .max / 2).nanosecondsSinceEpoch == .max)
        #expect(SyslogTimestamp(seconds: .min / 2).nanosecondsSinceEpoch == .min)
    }

    @Test(arguments: [Int64(0), 1, -1, 1_697_062_455_003_000_000, -1_000_000_001, -86_400_000_000_000])
    func nanosecondsRoundTrip(_ ns: Int64) {
        let t = SyslogTimestamp(nanosecondsSinceEpoch: ns, fractionDigits: 9)
        #expect(t.nanosecondsSinceEpoch == ns)
        #expect((0..<1_000_000_000).contains(t.nanoseconds))
    }

    @Test func rfc3339TextReadsAsRFC5424WritesIt() {
        #expect(SyslogTimestamp(rfc3339: "2026-11-25T10:00:00Z") == SyslogTimestamp(seconds: 1_795_600_800))
        #expect(SyslogTimestamp(rfc3339: "2026-11-25T11:00:00.123+01:00")
            == SyslogTimestamp(seconds: 1_795_600_800, nanoseconds: 123_000_000, fractionDigits: 3))
        for text in ["2026-11-25T10:00:00", "2026-11-25t10:00:00Z", "2026-11-25T10:00:00.1234567Z", "2026-11-25",
                     "2026-02-30T10:00:00Z", "yesterday", ""] {
            #expect(SyslogTimestamp(rfc3339: text) == nil, "\(text)")
        }
    }
}
