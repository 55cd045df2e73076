/// Reads a JSON-lines batch (`application/x-ndjson`): one JSON object per line, each becoming the record an
/// RFC 5424 message with the same fields would become. Blank lines are skipped.
///
///     {"message": "disk full", "timestamp": "2026-12-05T10:00:00.25Z", "host": "db-1", "app": "backup",
///      "procid": "812", "msgid": "DF", "severity": "err", "facility": "local3",
///      "sd": {"origin@32473": {"unit": "backup.service"}}}
///
/// * `message` (required) — a string.
/// * `timestamp` — RFC 3339 with `Z` or an offset, or Unix seconds (a number, up to 9 fraction digits, no
///   exponent). Absent: the reception time, as the agent stamps a file's line with the time it read it (a
///   sender that means "no time" has nothing to gain from RFC 5424's `-` here).
/// * `host`, `app`, `procid`, `msgid` — strings as RFC 5424 allows them: printable US-ASCII without spaces, at most
///   255, 48, 128 and 32 characters.
/// * `severity`, `facility` — a name (`err`, `warning`, `local3`) or a number (0–7, 0–23); default `user.notice`.
/// * `sd` — `{SD-ID: {PARAM: "value"}}`, names as RFC 5424 allows them (1–32 printable US-ASCII characters
///   except `=`, SP, `]`, `"`).
///
/// `null` or `""` leaves an optional field out. Anything else — invalid JSON, a wrong type, an unknown or repeated
/// key, a missing message — is an error naming the line and column, and the caller stores nothing of the batch.
/// A message over `maxMessageBytes` is cut and noted as a problem, as the syslog paths do. The JSON line itself is
/// not kept as the record's raw frame: like a UTF-8 syslog frame, it is fully held by the fields.
///
/// Each record costs one buffer for its text (decoded straight from the line) and one for its structured data.
public enum JSONLinesReader {
    /// What is wrong with a line; `line` and `column` are 1-based (the column counts bytes).
    public struct LineError: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var reason: String

        public var description: String { "line \(line), column \(column): \(reason)" }
    }

    public static let keys = ["app", "facility", "host", "message", "msgid", "procid", "sd", "severity", "timestamp"]

    public static func records(
        _ body: UnsafeRawBufferPointer, receivedAt: SyslogTimestamp, source: String?, maxMessageBytes: Int = 256 * 1024
    ) throws(LineError) -> [LogRecord] {
        guard let base = body.baseAddress, !body.isEmpty else { return [] }
        let all = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: body.count)
        var records: [LogRecord] = []
        var start = 0
        var line = 0
        while start < all.count {
            line += 1
            var end = start
            while end < all.count, all[end] != ASCII.lf { end += 1 }
            let p = UnsafeBufferPointer(rebasing: all[start..<end])
            start = end + 1
            if p.allSatisfy({ $0 == ASCII.space || $0 == ASCII.tab || $0 == ASCII.cr }) { continue }
            var reader = LineReader(p: p, line: line, maxMessageBytes: maxMessageBytes)
            records.append(try reader.record(receivedAt: receivedAt, source: source))
        }
        return records
    }
}

/// One line's object, read into a record's storage.
struct LineReader {
    let p: UnsafeBufferPointer<UInt8>
    let line: Int
    let maxMessageBytes: Int
    var i = 0
    var storage: [UInt8] = []

    init(p: UnsafeBufferPointer<UInt8>, line: Int, maxMessageBytes: Int) {
        self.p = p
        self.line = line
        self.maxMessageBytes = maxMessageBytes
    }

    func error(_ reason: String, at index: Int? = nil) -> JSONLinesReader.LineError {
        JSONLinesReader.LineError(line: line, column: (index ?? i) + 1, reason: reason)
    }

    mutating func record(receivedAt: SyslogTimestamp, source: String?) throws(JSONLinesReader.LineError) -> LogRecord {
        storage.reserveCapacity(p.count)
        var message = ByteSpan.absent
        var hostname = ByteSpan.absent, app = ByteSpan.absent, procID = ByteSpan.absent, msgID = ByteSpan.absent
        var timestamp: SyslogTimestamp?
        var severity = Severity.notice
        var facility = Facility.user
        var sd: [SDEntry]?
        var problems: [ParseProblem] = []
        var seen: UInt16 = 0

        skipSpace()
        guard i < p.count, p[i] == UInt8(ascii: "{") else { throw error("expected a JSON object ('{')") }
        i += 1
        skipSpace()
        if i < p.count, p[i] == UInt8(ascii: "}") {
            i += 1
        } else {
            while true {
                skipSpace()
                let keyStart = i
                let key = try keyName()
                guard let k = JSONLinesReader.keys.firstIndex(of: key) else {
                    let shown = key.count > 40 ? String(key.prefix(40)) + "…" : key
                    throw error(
                        "unknown key \"\(shown)\" (known: \(JSONLinesReader.keys.joined(separator: ", ")))", at: keyStart)
                }
                guard seen & (1 << k) == 0 else { throw error("\"\(key)\" appears twice", at: keyStart) }
                seen |= 1 << k
                try colon()
                let valueStart = i
                switch key {
                case "message":
                    guard let span = try string(orNull: false, "message") else { break }
                    message = span
                    if span.count > maxMessageBytes {
                        var cut = Int(span.start) + maxMessageBytes
                        while cut > Int(span.start), storage[cut] & 0xC0 == 0x80 { cut -= 1 }
                        message = ByteSpan(Int(span.start), cut)
                        problems.append(
                            ParseProblem(
                                field: .message, column: valueStart + 1,
                                reason: "message longer than \(maxMessageBytes) bytes; \(Int(span.count) - (cut - Int(span.start))) bytes skipped"))
                    }
                case "host": hostname = try headerField("host", maxLength: 255)
                case "app": app = try headerField("app", maxLength: 48)
                case "procid": procID = try headerField("procid", maxLength: 128)
                case "msgid": msgID = try headerField("msgid", maxLength: 32)
                case "timestamp": timestamp = try self.timestamp()
                case "severity":
                    let known = "emerg, alert, crit, err, warning, notice, info, debug"
                    if let v = try nameOrNumber("severity", max: 7, known: known, { Severity(name: $0) }, { Severity(rawValue: $0) }) {
                        severity = v
                    }
                case "facility":
                    let known = "kern, user, mail, daemon, auth, syslog, … local0 to local7"
                    if let v = try nameOrNumber("facility", max: 23, known: known, { Facility(name: $0) }, { Facility(rawValue: $0) }) {
                        facility = v
                    }
                case "sd": sd = try structuredData()
                default: break
                }
                skipSpace()
                guard i < p.count else { throw error("the object is not closed ('}')") }
                if p[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard p[i] == UInt8(ascii: "}") else { throw error("expected ',' or '}' after the value of \"\(key)\"") }
                i += 1
                break
            }
        }
        skipSpace()
        guard i == p.count else { throw error("unexpected text after the object") }
        guard !message.isAbsent else { throw error("\"message\" is required (a string)", at: 0) }
        return LogRecord(
            storage: storage, frameLength: 0, frameIsValidUTF8: true, facility: facility, severity: severity,
            timestamp: timestamp ?? receivedAt,
            receivedAt: receivedAt, source: source, format: .rfc5424, hostname: hostname, app: app, procID: procID, msgID: msgID,
            message: message, sd: sd, problems: problems)
    }

    // MARK: Values

    /// A header field: absent for null or "", else printable US-ASCII up to `maxLength`.
    mutating func headerField(_ key: String, maxLength: Int) throws(JSONLinesReader.LineError) -> ByteSpan {
        let start = i
        guard let span = try string(orNull: true, key), span.count > 0 else { return .absent }
        if span.count > maxLength { throw error("\"\(key)\" is longer than \(maxLength) bytes", at: start) }
        for b in storage[span.range] where !ASCII.isPrintUSASCII(b) {
            throw error("\"\(key)\" may hold only printable US-ASCII without spaces (RFC 5424)", at: start)
        }
        return span
    }

    mutating func timestamp() throws(JSONLinesReader.LineError) -> SyslogTimestamp? {
        let start = i
        guard i < p.count else { throw error("expected a value") }
        if p[i] == ASCII.quote {
            guard let span = try string(orNull: false, "timestamp"), span.count > 0 else { return nil }
            var lenient: [String] = []
            let parsed = storage.withUnsafeBufferPointer {
                SyslogParser.parseRFC3339($0, start: span.range.lowerBound, end: span.range.upperBound, requireOffset: true, lenient: &lenient)
            }
            guard case .ok(let t, _) = parsed, let instant = t.instant else {
                var reason = "expected an RFC 3339 time with 'Z' or an offset"
                if case .bad(_, let why) = parsed { reason += " (\(why))" }
                throw error("\"timestamp\": \(reason), or Unix seconds", at: start)
            }
            return instant
        }
        if literal("null") { return nil }
        guard let n = try number() else { throw error("\"timestamp\": expected an RFC 3339 string or Unix seconds (a number)", at: start) }
        guard !n.negative, !n.hasExponent, n.integer < 253_402_300_800 else {
            throw error("\"timestamp\": Unix seconds from 0 to 253402300799, without an exponent (milliseconds are not seconds)", at: start)
        }
        return SyslogTimestamp(seconds: n.integer, nanoseconds: n.nanoseconds, fractionDigits: n.fractionDigits)
    }

    /// A severity or facility: a name (or a number) in a string, or a number; nil for null or "".
    mutating func nameOrNumber<T>(
        _ key: String, max: Int, known: String, _ named: (String) -> T?, _ numbered: (UInt8) -> T?
    ) throws(JSONLinesReader.LineError) -> T? {
        let start = i
        let problem = "\"\(key)\": expected a name (\(known)) or a number from 0 to \(max)"
        guard i < p.count else { throw error("expected a value") }
        if p[i] == ASCII.quote {
            let mark = storage.count
            guard let span = try string(orNull: false, key) else { return nil }
            let text = String(decoding: storage[span.range], as: UTF8.self)
            storage.removeSubrange(mark...)
            if text.isEmpty { return nil }
            guard let value = named(text) else { throw error(problem, at: start) }
            return value
        }
        if literal("null") { return nil }
        guard let n = try number(), !n.negative, !n.hasExponent, !n.hasFraction, n.integer <= max, let value = numbered(UInt8(n.integer))
        else { throw error(problem, at: start) }
        return value
    }

    /// `{SD-ID: {PARAM: "value", …}, …}`; nil for null or `{}`.
    mutating func structuredData() throws(JSONLinesReader.LineError) -> [SDEntry]? {
        guard i < p.count else { throw error("expected a value") }
        if literal("null") { return nil }
        guard p[i] == UInt8(ascii: "{") else { throw error("\"sd\": expected an object of SD-ID → {param: \"value\"}") }
        i += 1
        var entries: [SDEntry] = []
        try members { (me: inout LineReader, idStart: Int) throws(JSONLinesReader.LineError) in
            let id = try me.sdName(at: idStart, what: "SD-ID")
            for e in entries where e.isElement && me.storage[e.name.range].elementsEqual(me.storage[id.range]) {
                throw me.error("\"sd\": SD-ID appears twice", at: idStart)
            }
            entries.append(.element(id))
            try me.colon()
            guard me.i < me.p.count, me.p[me.i] == UInt8(ascii: "{") else {
                throw me.error("\"sd\": the value of an SD-ID is an object of param → \"value\"")
            }
            me.i += 1
            let first = entries.count
            try me.members { (me: inout LineReader, nameStart: Int) throws(JSONLinesReader.LineError) in
                let name = try me.sdName(at: nameStart, what: "PARAM-NAME")
                for e in entries[first...] where me.storage[e.name.range].elementsEqual(me.storage[name.range]) {
                    throw me.error("\"sd\": PARAM-NAME appears twice in the element", at: nameStart)
                }
                try me.colon()
                let valueStart = me.i
                guard me.i < me.p.count, me.p[me.i] == ASCII.quote, let value = try me.string(orNull: false, "sd") else {
                    throw me.error("\"sd\": a PARAM-VALUE is a string", at: valueStart)
                }
                entries.append(.param(name, value, escaped: false))
            }
        }
        return entries.isEmpty ? nil : entries
    }

    /// The members of an object whose `{` has been read, up to and including its `}`; `body` reads each key and value.
    mutating func members(_ body: (inout LineReader, Int) throws(JSONLinesReader.LineError) -> Void) throws(JSONLinesReader.LineError) {
        skipSpace()
        if i < p.count, p[i] == UInt8(ascii: "}") {
            i += 1
            return
        }
        while true {
            skipSpace()
            try body(&self, i)
            skipSpace()
            guard i < p.count else { throw error("an object is not closed ('}')") }
            if p[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard p[i] == UInt8(ascii: "}") else { throw error("expected ',' or '}'") }
            i += 1
            return
        }
    }

    /// An SD-ID or PARAM-NAME key, into the storage.
    mutating func sdName(at start: Int, what: String) throws(JSONLinesReader.LineError) -> ByteSpan {
        guard i < p.count, p[i] == ASCII.quote, let span = try string(orNull: false, what) else {
            throw error("expected a string key", at: start)
        }
        guard span.count >= 1, span.count <= 32, storage[span.range].allSatisfy(ASCII.isSDNameChar) else {
            throw error(
                "\"sd\": an \(what) is 1 to 32 printable US-ASCII characters except '=', space, ']' and '\"' (RFC 5424)", at: start)
        }
        return span
    }

    // MARK: JSON

    mutating func skipSpace() {
        while i < p.count, p[i] == ASCII.space || p[i] == ASCII.tab || p[i] == ASCII.cr { i += 1 }
    }

    mutating func colon() throws(JSONLinesReader.LineError) {
        skipSpace()
        guard i < p.count, p[i] == ASCII.colon else { throw error("expected ':' after the key") }
        i += 1
        skipSpace()
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let matches = word.withUTF8Buffer { w in i + w.count <= p.count && w.indices.allSatisfy { p[i + $0] == w[$0] } }
        let n = word.utf8CodeUnitCount
        if matches { i += n }
        return matches
    }

    /// A key (kept out of the record's storage).
    mutating func keyName() throws(JSONLinesReader.LineError) -> String {
        guard i < p.count, p[i] == ASCII.quote else { throw error("expected a key (a string)") }
        let mark = storage.count
        guard let span = try string(orNull: false, "key") else { throw error("expected a key (a string)") }
        let key = String(decoding: storage[span.range], as: UTF8.self)
        storage.removeSubrange(mark...)
        return key
    }

    /// A string value decoded into the storage; nil for `null` when `orNull`.
    mutating func string(orNull: Bool, _ key: String) throws(JSONLinesReader.LineError) -> ByteSpan? {
        guard i < p.count else { throw error("expected a value") }
        if orNull, literal("null") { return nil }
        guard p[i] == ASCII.quote else { throw error("\"\(key)\": expected a string") }
        let open = i
        i += 1
        let start = storage.count
        var plainFrom = i
        while true {
            guard i < p.count else { throw error("a string is not closed ('\"')", at: open) }
            let b = p[i]
            if b == ASCII.quote { break }
            if b < 0x20 { throw error("a control character in a string must be escaped") }
            if b != ASCII.backslash {
                i += 1
                continue
            }
            storage.append(contentsOf: UnsafeBufferPointer(rebasing: p[plainFrom..<i]))
            guard i + 1 < p.count else { throw error("a string is not closed ('\"')", at: open) }
            let e = p[i + 1]
            i += 2
            switch e {
            case ASCII.quote, ASCII.backslash, UInt8(ascii: "/"): storage.append(e)
            case UInt8(ascii: "b"): storage.append(0x08)
            case UInt8(ascii: "f"): storage.append(0x0C)
            case UInt8(ascii: "n"): storage.append(ASCII.lf)
            case UInt8(ascii: "r"): storage.append(ASCII.cr)
            case UInt8(ascii: "t"): storage.append(ASCII.tab)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < p.count, p[i] == ASCII.backslash, p[i + 1] == UInt8(ascii: "u") else {
                        throw error("a \\u escape of a lone surrogate")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("a \\u escape of a lone surrogate") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    throw error("a \\u escape of a lone surrogate")
                }
                appendUTF8(scalar)
            default:
                throw error("an unknown escape '\\\(Character(Unicode.Scalar(e)))'", at: i - 2)
            }
            plainFrom = i
        }
        storage.append(contentsOf: UnsafeBufferPointer(rebasing: p[plainFrom..<i]))
        i += 1
        let span = ByteSpan(start, storage.count)
        let valid = storage.withUnsafeBufferPointer { firstInvalidUTF8(UnsafeBufferPointer(rebasing: $0[span.range]), end: span.range.count) == nil }
        guard valid else { throw error("a string is not valid UTF-8", at: open) }
        return span
    }

    mutating func hex4() throws(JSONLinesReader.LineError) -> UInt32 {
        guard i + 4 <= p.count else { throw error("expected 4 hex digits after \\u") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = p[i]
            let d: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(b - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(b - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(b - 55)
            default: throw error("expected 4 hex digits after \\u")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    mutating func appendUTF8(_ scalar: UInt32) {
        if scalar < 0x80 {
            storage.append(UInt8(scalar))
        } else if scalar < 0x800 {
            storage.append(contentsOf: [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)])
        } else if scalar < 0x10000 {
            storage.append(contentsOf: [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)])
        } else {
            storage.append(contentsOf: [
                UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F),
            ])
        }
    }

    struct Number {
        var negative = false
        var integer: Int64 = 0
        var nanoseconds: Int32 = 0
        var fractionDigits: Int8 = 0
        var hasFraction = false
        var hasExponent = false
    }

    /// A JSON number (its integer part saturates; up to 9 fraction digits are kept); nil when there is none here.
    mutating func number() throws(JSONLinesReader.LineError) -> Number? {
        var n = Number()
        let start = i
        if i < p.count, p[i] == ASCII.dash {
            n.negative = true
            i += 1
        }
        let digitsStart = i
        while i < p.count, ASCII.isDigit(p[i]) {
            let (m, o1) = n.integer.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(p[i] - 48))
            n.integer = o1 || o2 ? .max : s
            i += 1
        }
        if i == digitsStart {
            i = start
            return nil
        }
        if i - digitsStart > 1, p[digitsStart] == ASCII.zero { throw error("a number with a leading zero", at: start) }
        if i < p.count, p[i] == ASCII.dot {
            i += 1
            n.hasFraction = true
            let fractionStart = i
            (n.nanoseconds, n.fractionDigits) = SyslogParser.readFraction(p, &i, end: p.count)
            if i == fractionStart { throw error("expected digits after '.'") }
        }
        if i < p.count, p[i] | 0x20 == UInt8(ascii: "e") {
            i += 1
            n.hasExponent = true
            if i < p.count, p[i] == ASCII.plus || p[i] == ASCII.dash { i += 1 }
            let expStart = i
            while i < p.count, ASCII.isDigit(p[i]) { i += 1 }
            if i == expStart { throw error("expected digits in the exponent") }
        }
        return n
    }
}
