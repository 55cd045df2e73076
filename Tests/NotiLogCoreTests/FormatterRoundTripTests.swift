import Foundation
import NotiLogCore
import Testing

/// `parse(format(r)) == r` for every record RFC 5424 can represent, and what the formatter does to the rest.
@Suite struct FormatterRoundTripTests {
    static let receivedAt = SyslogTimestamp(seconds: 1_700_000_000, nanoseconds: 250_000_000, fractionDigits: 3)
    static let source = "198.51.100.23"
    static let recordCount = 5_000

    /// The seed; set NOTILOG_ROUNDTRIP_SEED to replay a failure (the failure message prints it).
    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["NOTILOG_ROUNDTRIP_SEED"].flatMap { UInt64($0) } ?? 0x5EED_0F_5424
    }

    @Test(arguments: [false, true])
    func formattedRecordsParseBackEqual(includeBOM: Bool) {
        let formatter = RFC5424Formatter(includeBOM: includeBOM)
        let seed = Self.seed
        var rng = SplitMix64(seed: seed)
        let parser = SyslogParser()
        var failures = 0
        for n in 0..<Self.recordCount {
            let record = RepresentableRecord.make(using: &rng, receivedAt: Self.receivedAt, source: Self.source)
            let wire = formatter.format(record)
            let parsed = parser.parse(wire, receivedAt: Self.receivedAt, source: Self.source)
            guard parsed != record || !parsed.problems.isEmpty else { continue }
            failures += 1
            Issue.record(
                """
                seed \(seed) record #\(n) (includeBOM: \(includeBOM)) does not read back:
                  wire:   \(String(decoding: wire, as: UTF8.self).debugDescription)
                  record: \(record)
                  parsed: \(parsed)
                """)
            if failures >= 5 { break }
        }
    }

    @Test func generatorCoversTheInterestingCases() {
        var rng = SplitMix64(seed: Self.seed)
        var sawRepeatedParam = false
        var sawEscapable = false
        var sawNilTimestamp = false
        var sawSixDigits = false
        var sawEmptyMessage = false
        var sawThreeElements = false
        var severities = Set<Severity>()
        var facilities = Set<Facility>()
        for _ in 0..<Self.recordCount {
            let r = RepresentableRecord.make(using: &rng, receivedAt: Self.receivedAt, source: Self.source)
            for element in r.structuredData ?? [] {
                let names = element.parameters.map(\.name)
                if Set(names).count < names.count { sawRepeatedParam = true }
                if element.parameters.contains(where: { $0.value.contains(where: { "\"\\]".contains($0) }) }) {
                    sawEscapable = true
                }
            }
            if r.structuredData?.count == 3 { sawThreeElements = true }
            if r.timestamp == nil { sawNilTimestamp = true }
            if r.timestamp?.fractionDigits == 6 { sawSixDigits = true }
            if r.message.isEmpty { sawEmptyMessage = true }
            if let s = r.severity { severities.insert(s) }
            if let f = r.facility { facilities.insert(f) }
        }
        #expect(sawRepeatedParam && sawEscapable && sawNilTimestamp && sawSixDigits && sawEmptyMessage && sawThreeElements)
        #expect(severities.count == Severity.allCases.count)
        #expect(facilities.count == Facility.allCases.count)
    }

    // MARK: Fields RFC 5424 cannot carry

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var record: LogRecord
        var includeBOM = false
        var wire: String
        var testDescription: String { name }
    }

    static let t = SyslogTimestamp(seconds: 1_697_062_455, nanoseconds: 3_000_000, fractionDigits: 3)  // 2023-10-11T22:14:15.003Z

    static let cases: [Case] = [
        Case(
            name: "non_ascii_hostname_bytes_become_underscores",
            record: LogRecord(severity: .info, timestamp: t, receivedAt: receivedAt, hostname: "wéb-1", message: "x"),
            wire: "<14>1 2023-10-11T22:14:15.003Z w__b-1 - - - - x"),
        Case(
            name: "space_in_app_becomes_underscore",
            record: LogRecord(timestamp: t, receivedAt: receivedAt, hostname: "h", appName: "my app", message: "x"),
            wire: "<13>1 2023-10-11T22:14:15.003Z h my_app - - - x"),
        Case(
            name: "over_long_fields_are_cut_to_the_rfc_limits",
            record: LogRecord(
                timestamp: t, receivedAt: receivedAt, hostname: String(repeating: "h", count: 300),
                appName: String(repeating: "a", count: 60), procID: String(repeating: "9", count: 200),
                msgID: String(repeating: "M", count: 40)),
            wire: "<13>1 2023-10-11T22:14:15.003Z \(String(repeating: "h", count: 255)) \(String(repeating: "a", count: 48)) "
                + "\(String(repeating: "9", count: 128)) \(String(repeating: "M", count: 32)) -"),
        Case(
            name: "empty_fields_are_nilvalue",
            record: LogRecord(receivedAt: receivedAt, hostname: "", appName: "", procID: "", msgID: "", message: ""),
            wire: "<13>1 - - - - - -"),
        Case(
            name: "missing_pri_becomes_user_notice",
            record: LogRecord(facility: nil, severity: nil, receivedAt: receivedAt, message: "m"),
            wire: "<13>1 - - - - - - m"),
        Case(
            name: "nine_fraction_digits_are_cut_to_six",
            record: LogRecord(
                facility: .local7, severity: .debug,
                timestamp: SyslogTimestamp(seconds: 1_697_062_455, nanoseconds: 123_456_789, fractionDigits: 9),
                receivedAt: receivedAt),
            wire: "<191>1 2023-10-11T22:14:15.123456Z - - - - -"),
        Case(
            name: "sd_names_made_valid_and_values_escaped",
            record: LogRecord(
                receivedAt: receivedAt,
                structuredData: [
                    StructuredDataElement(
                        id: "bad id=\"x\"]" + String(repeating: "i", count: 40),
                        parameters: [
                            StructuredDataParameter("", "empty name"),
                            StructuredDataParameter("q", #"say "hi" \ [a]"#),
                        ])
                ]),
            wire: #"<13>1 - - - - - [bad_id__x__iiiiiiiiiiiiiiiiiiiii _="empty name" q="say \"hi\" \\ [a\]"]"#),
        Case(
            name: "empty_structured_data_is_nilvalue",
            record: LogRecord(receivedAt: receivedAt, structuredData: [], message: "m"),
            wire: "<13>1 - - - - - - m"),
        Case(
            name: "bom_only_before_non_ascii_messages",
            record: LogRecord(receivedAt: receivedAt, message: "plain"), includeBOM: true,
            wire: "<13>1 - - - - - - plain"),
        Case(
            name: "bom_before_utf8_message",
            record: LogRecord(receivedAt: receivedAt, message: "Grüße"), includeBOM: true,
            wire: "<13>1 - - - - - - \u{FEFF}Grüße"),
    ]

    @Test(arguments: cases)
    func unrepresentableFields(_ c: Case) {
        let wire = RFC5424Formatter(includeBOM: c.includeBOM).format(c.record)
        #expect(String(decoding: wire, as: UTF8.self) == c.wire)
        // Whatever the formatter made valid, it reads back without problems.
        #expect(SyslogParser().parse(wire, receivedAt: Self.receivedAt).problems == [])
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough to drive generators.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random records within what RFC 5424 can carry: printable US-ASCII header fields within the RFC's lengths
/// and never "-", SD names of SD-NAME characters with unique SD-IDs (a repeated SD-ID is a parse problem),
/// values and messages of any text but NUL, a message that does not start with a BOM or end in CR/LF (those
/// are framing), and times with 0–6 fraction digits. "No structured data" is nil: `[]` is written as `-` too.
enum RepresentableRecord {
    static let printable: [Character] = (33...126).map { Character(UnicodeScalar(UInt8($0))) }
    static let sdNameCharacters = printable.filter { !"=]\"".contains($0) }
    /// Pieces text is built from: quoting and escaping hazards, whitespace, multi-byte UTF-8.
    static let textPieces: [String] = [
        "a", "b", "Z", "0", "7", " ", "  ", "\t", "\"", "\\", "]", "[", "=", "-", "'", "%", "ü", "ß", "é", "e\u{301}",
        "Ж", "Привет", "日本語", "€", "🚀", "👩‍💻", "\n", "\\\"", "\\]", "\\\\", "\\n",
    ]

    static func make(using rng: inout SplitMix64, receivedAt: SyslogTimestamp, source: String) -> LogRecord {
        let facility = Facility.allCases.randomElement(using: &rng)!
        let severity = Severity.allCases.randomElement(using: &rng)!
        return LogRecord(
            facility: facility, severity: severity, timestamp: timestamp(&rng), receivedAt: receivedAt,
            hostname: headerField(&rng, maxLength: 255), appName: headerField(&rng, maxLength: 48),
            procID: headerField(&rng, maxLength: 128), msgID: headerField(&rng, maxLength: 32),
            structuredData: structuredData(&rng), message: message(&rng), source: source, format: .rfc5424)
    }

    static func timestamp(_ rng: inout SplitMix64) -> SyslogTimestamp? {
        if Int.random(in: 0..<8, using: &rng) == 0 { return nil }
        // 1900-01-01 ... 2100-01-01, so negative epoch seconds too.
        let seconds = Int64.random(in: -2_208_988_800..<4_102_444_800, using: &rng)
        let digits = Int.random(in: 0...6, using: &rng)
        var unit = 1
        for _ in digits..<9 { unit *= 10 }
        let fraction = digits == 0 ? 0 : Int.random(in: 0..<(1_000_000_000 / unit), using: &rng)
        return SyslogTimestamp(seconds: seconds, nanoseconds: Int32(fraction * unit), fractionDigits: Int8(digits))
    }

    static func headerField(_ rng: inout SplitMix64, maxLength: Int) -> String? {
        if Int.random(in: 0..<5, using: &rng) == 0 { return nil }
        // Mostly short, sometimes at the limit.
        let length = Bool.random(using: &rng) ? Int.random(in: 1...min(12, maxLength), using: &rng) : Int.random(in: 1...maxLength, using: &rng)
        var s = String((0..<length).map { _ in printable.randomElement(using: &rng)! })
        if s == "-" { s = "_" }
        return s
    }

    static func sdName(_ rng: inout SplitMix64) -> String {
        let length = Int.random(in: 1...(Bool.random(using: &rng) ? 8 : 32), using: &rng)
        return String((0..<length).map { _ in sdNameCharacters.randomElement(using: &rng)! })
    }

    static func text(_ rng: inout SplitMix64, maxPieces: Int) -> String {
        (0..<Int.random(in: 0...maxPieces, using: &rng)).map { _ in textPieces.randomElement(using: &rng)! }.joined()
    }

    static func structuredData(_ rng: inout SplitMix64) -> [StructuredDataElement]? {
        let count = Int.random(in: 0...3, using: &rng)
        if count == 0 { return nil }
        var ids = Set<String>()
        var elements: [StructuredDataElement] = []
        while elements.count < count {
            let id = sdName(&rng)
            guard ids.insert(id).inserted else { continue }
            var params: [StructuredDataParameter] = []
            for _ in 0..<Int.random(in: 0...4, using: &rng) {
                // Reuse an earlier name now and then: repeated names are kept in order.
                let name = !params.isEmpty && Int.random(in: 0..<4, using: &rng) == 0
                    ? params.randomElement(using: &rng)!.name : sdName(&rng)
                params.append(StructuredDataParameter(name, text(&rng, maxPieces: 6)))
            }
            elements.append(StructuredDataElement(id: id, parameters: params))
        }
        return elements
    }

    static func message(_ rng: inout SplitMix64) -> String {
        var m = text(&rng, maxPieces: 20)
        if m.hasSuffix("\n") { m += "." }
        return m
    }
}
