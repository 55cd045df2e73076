import Foundation

/// Reads one syslog frame into a `LogRecord`: RFC 5424, RFC 3164 as real senders write it, and the common
/// vendor shapes. It never throws input away: what it cannot read is kept with a `ParseProblem` saying what
/// and where.
///
/// A pure function of (frame, received-at, source, time zone for that source); the zone settings live in
/// the parser value so one parser serves one listener or source group.
public struct SyslogParser: Sendable {
    /// Zone for times that carry no offset (RFC 3164), unless `zoneByHostname` names one for the sender.
    public let timeZone: TimeZone
    /// Per-sender zones keyed by lower-cased host name as the message gives it.
    public let zoneByHostname: [String: TimeZone]
    /// `timeZone`'s offset when it has no daylight-saving rules (a fast path for UTC and fixed zones).
    let fixedOffset: Int?

    public init(timeZone: TimeZone = TimeZone(identifier: "UTC")!, zoneByHostname: [String: TimeZone] = [:]) {
        self.timeZone = timeZone
        self.zoneByHostname = Dictionary(zoneByHostname.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
        let now = Date()
        if timeZone.nextDaylightSavingTimeTransition(after: now) == nil, !timeZone.isDaylightSavingTime(for: now) {
            fixedOffset = timeZone.secondsFromGMT(for: now)
        } else {
            fixedOffset = nil
        }
    }

    /// Parses one frame (its trailing LF, CR and NUL are not part of the message).
    public func parse(_ frame: [UInt8], receivedAt: SyslogTimestamp, source: String? = nil) -> LogRecord {
        parseOwned(frame, receivedAt: receivedAt, source: source)
    }

    /// Parses a frame from a socket buffer; the record's storage is the one copy made, with room for the few
    /// bytes of text the parser may derive (vendor SD names).
    public func parse(_ frame: UnsafeRawBufferPointer, receivedAt: SyslogTimestamp, source: String? = nil) -> LogRecord {
        let storage = [UInt8](unsafeUninitializedCapacity: frame.count + Self.derivedTextRoom) { buffer, count in
            if let base = frame.baseAddress, frame.count > 0 {
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: base, byteCount: frame.count)
            }
            count = frame.count
        }
        return parseOwned(storage, receivedAt: receivedAt, source: source)
    }

    public func parse(_ frame: some StringProtocol, receivedAt: SyslogTimestamp, source: String? = nil) -> LogRecord {
        var storage: [UInt8] = []
        storage.reserveCapacity(frame.utf8.count + Self.derivedTextRoom)
        storage.append(contentsOf: frame.utf8)
        return parseOwned(storage, receivedAt: receivedAt, source: source)
    }

    /// Enough for the derived SD names (`timeQuality isSynced 0 meta sequenceId`).
    static let derivedTextRoom = 48

    private func parseOwned(_ frame: consuming [UInt8], receivedAt: SyslogTimestamp, source: String?) -> LogRecord {
        var storage = frame
        let frameLength = storage.count
        var state = storage.withUnsafeBufferPointer { p in
            var state = ParseState(p: p, parser: self, receivedAt: receivedAt)
            state.run()
            return state.detached()
        }
        // The derived text goes after the frame, in place when the storage is ours and has room.
        if !state.extra.isEmpty {
            storage.append(contentsOf: state.extra)
            state.extra = []
        }
        return state.makeRecord(storage: storage, frameLength: frameLength, source: source)
    }
}

/// The working state of one parse. Indexes are 0-based into the frame; problems report them 1-based.
struct ParseState {
    var p: UnsafeBufferPointer<UInt8>
    let parser: SyslogParser
    let receivedAt: SyslogTimestamp
    /// End of the message: the frame without its trailing LF, CR and NUL bytes.
    let end: Int
    var i = 0

    var facility: Facility?
    var severity: Severity?
    var priValid = false
    var timestamp: SyslogTimestamp?
    var wireTime: WireTime?
    var format = WireFormat.unparsed
    var hostname = ByteSpan.absent
    var app = ByteSpan.absent
    var procID = ByteSpan.absent
    var msgID = ByteSpan.absent
    var message = ByteSpan.absent
    var sd: [SDEntry]?
    var problems: [ParseProblem] = []
    var frameIsValidUTF8 = true
    /// Text the parser derives that is not in the frame (SD names for vendor metadata), stored after it.
    var extra: [UInt8] = []

    init(p: UnsafeBufferPointer<UInt8>, parser: SyslogParser, receivedAt: SyslogTimestamp) {
        self.p = p
        self.parser = parser
        self.receivedAt = receivedAt
        var e = p.count
        while e > 0, p[e - 1] == ASCII.lf || p[e - 1] == ASCII.cr || p[e - 1] == ASCII.nul { e -= 1 }
        self.end = e
    }

    mutating func problem(_ field: ParseProblem.Field, at index: Int, _ reason: String) {
        problems.append(ParseProblem(field: field, column: index + 1, reason: reason))
    }

    mutating func run() {
        if let bad = firstInvalidUTF8(p, end: p.count) {
            frameIsValidUTF8 = false
            problem(.encoding, at: bad, "invalid UTF-8; the frame is kept as raw bytes")
        }
        if let nul = firstNUL(p, from: 0, end: end) {
            problem(.encoding, at: nul, "embedded NUL byte")
        }
        if end == 0 {
            problem(.message, at: 0, "empty message")
            message = ByteSpan(0, 0)
            return
        }
        parsePRI()
        if i > 0, looksLikeRFC5424Version() {
            format = .rfc5424
            parseRFC5424()
        } else {
            parseRFC3164()
        }
        if let t = wireTime {
            let zone = hostname.isAbsent || parser.zoneByHostname.isEmpty ? nil : zoneForHostname()
            timestamp = parser.resolve(t, zone: zone, receivedAt: receivedAt, frame: p)
        }
    }

    func zoneForHostname() -> TimeZone? {
        let name = String(decoding: UnsafeBufferPointer(rebasing: p[hostname.range]), as: UTF8.self).lowercased()
        return parser.zoneByHostname[name]
    }

    // MARK: PRI

    /// `<PRIVAL>` at the start. A malformed PRI is left in place (the frame then reads as a header-less message).
    mutating func parsePRI() {
        guard p[0] == ASCII.lt else {
            problem(.pri, at: 0, "missing PRI")
            return
        }
        var j = 1
        var value = 0
        while j < end, j <= 4, ASCII.isDigit(p[j]) {
            value = value * 10 + Int(p[j] &- 48)
            j += 1
        }
        guard j > 1, j <= 4, j < end, p[j] == ASCII.gt else {
            problem(.pri, at: 0, "malformed PRI: expected '<' 1 to 3 digits '>'")
            return
        }
        if p[1] == UInt8(ascii: "0"), j > 2 {
            problem(.pri, at: 1, "leading zero in PRI")
        }
        i = j + 1
        if value > 191 {
            problem(.pri, at: 1, "PRI \(value) out of range 0-191")
            return
        }
        facility = Facility(rawValue: UInt8(value >> 3))
        severity = Severity(rawValue: UInt8(value & 7))
        priValid = true
    }

    /// `VERSION SP` followed by a timestamp or `-`: the RFC 5424 header.
    func looksLikeRFC5424Version() -> Bool {
        var j = i
        while j < end, j - i < 3, ASCII.isDigit(p[j]) { j += 1 }
        guard j > i, j - i <= 2, j + 1 < end, p[j] == ASCII.space, p[i] != UInt8(ascii: "0") else { return false }
        let next = p[j + 1]
        return next == ASCII.dash || ASCII.isDigit(next)
    }

    // MARK: Helpers shared by the formats

    /// Stores derived text after the frame and returns its span.
    mutating func derived(_ text: StaticString) -> ByteSpan {
        if extra.isEmpty { extra.reserveCapacity(SyslogParser.derivedTextRoom) }
        let start = p.count + extra.count
        text.withUTF8Buffer { extra.append(contentsOf: $0) }
        return ByteSpan(start, p.count + extra.count)
    }

    /// Adds a derived SD element with one parameter.
    mutating func addDerivedSD(id: StaticString, param: StaticString, value: ByteSpan) {
        let idSpan = derived(id)
        let paramSpan = derived(param)
        if sd == nil {
            sd = []
            sd!.reserveCapacity(4)
        }
        sd!.append(.element(idSpan))
        sd!.append(.param(paramSpan, value, escaped: false))
    }

    /// The message from `start` to the end, without a leading UTF-8 BOM.
    mutating func setMessage(from start: Int) {
        var s = min(start, end)
        if s + 3 <= end, p[s] == 0xEF, p[s + 1] == 0xBB, p[s + 2] == 0xBF { s += 3 }
        message = ByteSpan(s, end)
    }

    /// The state without its pointer into the frame, to outlive the buffer access.
    func detached() -> ParseState {
        var copy = self
        copy.p = UnsafeBufferPointer(start: nil, count: 0)
        return copy
    }

    func makeRecord(storage: [UInt8], frameLength: Int, source: String?) -> LogRecord {
        LogRecord(
            storage: storage, frameLength: frameLength, frameIsValidUTF8: frameIsValidUTF8, facility: facility,
            severity: severity, timestamp: timestamp, receivedAt: receivedAt, source: source, format: format,
            hostname: hostname, app: app, procID: procID, msgID: msgID, message: message, sd: sd, problems: problems)
    }
}
