import NotiLogCore

extension FileSource {
    /// The record for one line. Its message keeps the line's bytes exactly, even when they are not UTF-8:
    /// `LogRecord`'s public initialisers take the message as a `String`, which would turn such bytes into
    /// U+FFFD before the RFC 5424 formatter ever sees them, so those (rare) lines go through the parser, which
    /// keeps a message's bytes as they are, with the same header and structured data.
    func record(_ bytes: UnsafeRawBufferPointer, problems: [ParseProblem], app: String, path: String, time: SyslogTimestamp)
        -> LogRecord
    {
        let sd = [StructuredDataElement(id: "file@32473", parameters: [StructuredDataParameter("path", path)])]
        let c = configuration
        if let text = String(validating: bytes, as: UTF8.self) {
            return LogRecord(
                facility: c.facility, severity: c.severity, timestamp: time, receivedAt: time, hostname: hostname, appName: app,
                structuredData: sd, message: text, problems: problems)
        }
        let encoding = ParseProblem(
            field: .encoding, column: (firstInvalidUTF8(bytes) ?? 0) + 1, reason: "invalid UTF-8; the line's bytes are kept as they are")
        let header = LogRecord(
            facility: c.facility, severity: c.severity, timestamp: time, receivedAt: time, hostname: hostname, appName: app,
            structuredData: sd)
        var frame = RFC5424Formatter().format(header)
        frame.append(UInt8(ascii: " "))
        frame.append(contentsOf: bytes)
        var parsed = parser.parse(frame, receivedAt: time)
        // The parser drops a leading BOM and trailing CR/NUL bytes from a message: such a line keeps its bytes in
        // `rawFrame` instead (the message text then reads them as U+FFFD).
        if parsed.format == .rfc5424, parsed.withBytes(of: .message, { $0?.elementsEqual(bytes) ?? false }) {
            parsed.timestamp = time
            parsed.problems = problems + [encoding]
            return parsed
        }
        return LogRecord(
            stored: c.facility, severity: c.severity, timestamp: time, receivedAt: time, hostname: hostname, appName: app,
            procID: nil, msgID: nil, structuredData: sd, message: String(decoding: bytes, as: UTF8.self), rawFrame: Array(bytes),
            source: nil, format: .rfc5424, problems: problems + [encoding])
    }
}

/// The index of the first byte that is not part of valid UTF-8, or nil.
func firstInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int? {
    var iterator = bytes.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    var index = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let scalar): index += scalar.count
        case .emptyInput: return nil
        case .error: return index
        }
    }
}
