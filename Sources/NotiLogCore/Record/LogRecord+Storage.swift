/// What a store needs to keep a record and to rebuild it: structured data as RFC 5424 text (order, repeats
/// and escapes preserved), problems as JSON, and the raw frame.
extension LogRecord {
    /// Structured data in RFC 5424 wire form (`[id p="v"][id2 ...]`), or nil when there is none.
    public var structuredDataText: String? {
        guard let entries = sdEntries, !entries.isEmpty else { return nil }
        var out: [UInt8] = []
        RFC5424Formatter.appendStructuredData(entries, storage: storage, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads structured data written by `structuredDataText`; nil when the text is not RFC 5424 SD.
    public static func structuredData(fromText text: String) -> [StructuredDataElement]? {
        let record = SyslogParser().parse("<13>1 - - - - - \(text)", receivedAt: SyslogTimestamp(seconds: 0))
        // A repeated SD-ID is kept as it was received; anything left over means the text was not SD.
        guard record.format == .rfc5424, record.sdEntries != nil, record.messageSpan.count == 0 else { return nil }
        return record.structuredData
    }

    /// `[{"field":"sd","column":12,"reason":"..."}]`, or nil when there are no problems.
    public var problemsJSON: String? {
        guard !problems.isEmpty else { return nil }
        var out: [UInt8] = []
        JSON.append(problems: problems, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// A record as a store gives it back: like the field-wise initialiser, plus the raw frame of a message that
    /// was not valid UTF-8.
    public init(
        stored facility: Facility?, severity: Severity?, timestamp: SyslogTimestamp?, receivedAt: SyslogTimestamp,
        hostname: String?, appName: String?, procID: String?, msgID: String?, structuredData: [StructuredDataElement]?,
        message: String, rawFrame: [UInt8]?, source: String?, format: WireFormat, problems: [ParseProblem]
    ) {
        self.init(
            facility: facility, severity: severity, timestamp: timestamp, receivedAt: receivedAt, hostname: nil,
            appName: nil, procID: nil, msgID: nil, structuredData: nil, message: "", source: source, format: format,
            problems: problems)
        if let rawFrame {
            storage = rawFrame
            frameLength = Int32(truncatingIfNeeded: rawFrame.count)
            frameIsValidUTF8 = false
        }
        self.hostname = hostname
        self.appName = appName
        self.procID = procID
        self.msgID = msgID
        self.message = message
        self.structuredData = structuredData
    }
}
