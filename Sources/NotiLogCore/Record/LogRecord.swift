/// One syslog message as NotiLog keeps it.
///
/// Text fields live in one byte buffer (the received frame, plus any text added later) and are addressed by
/// ranges, so parsing a message costs one allocation for the frame and one for its structured data. The public
/// properties decode on access; `withBytes(of:)` reads a field without decoding.
public struct LogRecord: Sendable {
    public var facility: Facility?
    public var severity: Severity?
    /// What the message says the time was, normalised to UTC; nil when it carries no usable time.
    public var timestamp: SyslogTimestamp?
    /// When the collector received it (collector clock).
    public var receivedAt: SyslogTimestamp
    /// The sender's address as the collector saw it.
    public var source: String?
    public var format: WireFormat
    public var problems: [ParseProblem]

    @usableFromInline var storage: [UInt8]
    /// `storage[0..<frameLength]` is the frame as received (0 for a record built from fields).
    @usableFromInline var frameLength: Int32
    @usableFromInline var frameIsValidUTF8: Bool
    @usableFromInline var hostnameSpan: ByteSpan
    @usableFromInline var appSpan: ByteSpan
    @usableFromInline var procIDSpan: ByteSpan
    @usableFromInline var msgIDSpan: ByteSpan
    @usableFromInline var messageSpan: ByteSpan
    /// nil when the message has no structured data.
    @usableFromInline var sdEntries: [SDEntry]?

    /// Bytes the record's text takes (its buffer: the frame and the fields), for memory bounds such as the live
    /// tail's queues.
    public var textByteCount: Int { storage.count }

    /// A record from its fields (what the agent forwards, what tests expect).
    public init(
        facility: Facility? = .user, severity: Severity? = .notice, timestamp: SyslogTimestamp? = nil,
        receivedAt: SyslogTimestamp, hostname: String? = nil, appName: String? = nil, procID: String? = nil,
        msgID: String? = nil, structuredData: [StructuredDataElement]? = nil, message: String = "",
        source: String? = nil, format: WireFormat = .rfc5424, problems: [ParseProblem] = []
    ) {
        self.facility = facility
        self.severity = severity
        self.timestamp = timestamp
        self.receivedAt = receivedAt
        self.source = source
        self.format = format
        self.problems = problems
        self.storage = []
        self.frameLength = 0
        self.frameIsValidUTF8 = true
        self.hostnameSpan = .absent
        self.appSpan = .absent
        self.procIDSpan = .absent
        self.msgIDSpan = .absent
        self.messageSpan = .absent
        self.sdEntries = nil
        self.hostname = hostname
        self.appName = appName
        self.procID = procID
        self.msgID = msgID
        self.message = message
        self.structuredData = structuredData
    }

    /// Assembled by the parser: spans index into `storage`.
    @usableFromInline
    init(
        storage: [UInt8], frameLength: Int, frameIsValidUTF8: Bool, facility: Facility?, severity: Severity?,
        timestamp: SyslogTimestamp?, receivedAt: SyslogTimestamp, source: String?, format: WireFormat,
        hostname: ByteSpan, app: ByteSpan, procID: ByteSpan, msgID: ByteSpan, message: ByteSpan,
        sd: [SDEntry]?, problems: [ParseProblem]
    ) {
        self.storage = storage
        self.frameLength = Int32(truncatingIfNeeded: frameLength)
        self.frameIsValidUTF8 = frameIsValidUTF8
        self.facility = facility
        self.severity = severity
        self.timestamp = timestamp
        self.receivedAt = receivedAt
        self.source = source
        self.format = format
        self.hostnameSpan = hostname
        self.appSpan = app
        self.procIDSpan = procID
        self.msgIDSpan = msgID
        self.messageSpan = message
        self.sdEntries = sd
        self.problems = problems
    }

    // MARK: Text fields

    /// The header fields stored as text.
    public enum TextField: Sendable, CaseIterable {
        case hostname, appName, procID, msgID, message
    }

    public var hostname: String? {
        get { string(hostnameSpan) }
        set { hostnameSpan = append(newValue) }
    }

    public var appName: String? {
        get { string(appSpan) }
        set { appSpan = append(newValue) }
    }

    public var procID: String? {
        get { string(procIDSpan) }
        set { procIDSpan = append(newValue) }
    }

    public var msgID: String? {
        get { string(msgIDSpan) }
        set { msgIDSpan = append(newValue) }
    }

    /// The message text (BOM removed); bytes that are not UTF-8 read as U+FFFD here and are kept in `rawFrame`.
    public var message: String {
        get { string(messageSpan) ?? "" }
        set { messageSpan = append(newValue) }
    }

    /// The frame exactly as received, when it is not valid UTF-8 (otherwise the fields hold all of it).
    public var rawFrame: [UInt8]? {
        frameIsValidUTF8 ? nil : Array(storage[0..<Int(frameLength)])
    }

    /// Calls `body` with a field's bytes (nil when the field is absent) without allocating.
    @inlinable
    public func withBytes<R>(of field: TextField, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
        let span: ByteSpan
        switch field {
        case .hostname: span = hostnameSpan
        case .appName: span = appSpan
        case .procID: span = procIDSpan
        case .msgID: span = msgIDSpan
        case .message: span = messageSpan
        }
        if span.isAbsent { return try body(nil) }
        return try storage.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[span.range]))
        }
    }

    /// Every text field's bytes at once (nil when absent); valid only inside `withFieldBytes`.
    public struct FieldBytes {
        public var hostname: UnsafeRawBufferPointer?
        public var appName: UnsafeRawBufferPointer?
        public var procID: UnsafeRawBufferPointer?
        public var msgID: UnsafeRawBufferPointer?
        public var message: UnsafeRawBufferPointer?

        @inlinable init(hostname: UnsafeRawBufferPointer?, appName: UnsafeRawBufferPointer?, procID: UnsafeRawBufferPointer?,
            msgID: UnsafeRawBufferPointer?, message: UnsafeRawBufferPointer?)
        {
            self.hostname = hostname
            self.appName = appName
            self.procID = procID
            self.msgID = msgID
            self.message = message
        }
    }

    /// Calls `body` with the bytes of all text fields without allocating (a store binds them and writes the row
    /// inside one call).
    @inlinable
    public func withFieldBytes<R>(_ body: (FieldBytes) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { all in
            func slice(_ span: ByteSpan) -> UnsafeRawBufferPointer? {
                span.isAbsent ? nil : UnsafeRawBufferPointer(rebasing: all[span.range])
            }
            return try body(
                FieldBytes(
                    hostname: slice(hostnameSpan), appName: slice(appSpan), procID: slice(procIDSpan), msgID: slice(msgIDSpan),
                    message: slice(messageSpan)))
        }
    }

    // MARK: Structured data

    /// Structured data in wire order; nil when the message has none.
    public var structuredData: [StructuredDataElement]? {
        get {
            guard let entries = sdEntries else { return nil }
            var elements: [StructuredDataElement] = []
            for entry in entries {
                if entry.isElement {
                    elements.append(StructuredDataElement(id: string(entry.name) ?? ""))
                } else if !elements.isEmpty {
                    elements[elements.count - 1].parameters.append(
                        StructuredDataParameter(string(entry.name) ?? "", sdValue(entry)))
                }
            }
            return elements
        }
        set {
            guard let elements = newValue else {
                sdEntries = nil
                return
            }
            var entries: [SDEntry] = []
            for element in elements {
                entries.append(.element(append(element.id)))
                for p in element.parameters {
                    entries.append(.param(append(p.name), append(p.value), escaped: false))
                }
            }
            sdEntries = entries
        }
    }

    /// The first value of `param` in the element `id`, without building the whole structured data.
    public func structuredDataValue(id: String, param: String) -> String? {
        guard let entries = sdEntries else { return nil }
        var inElement = false
        for entry in entries {
            if entry.isElement {
                inElement = bytesEqual(entry.name, id)
            } else if inElement, bytesEqual(entry.name, param) {
                return sdValue(entry)
            }
        }
        return nil
    }

    /// Whether the structured data has an element `id`, without decoding anything.
    public func hasStructuredDataElement(id: String) -> Bool {
        guard let entries = sdEntries else { return false }
        return entries.contains { $0.isElement && bytesEqual($0.name, id) }
    }

    // MARK: Helpers

    @usableFromInline
    func string(_ span: ByteSpan) -> String? {
        if span.isAbsent { return nil }
        return storage.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[span.range]), as: UTF8.self) }
    }

    func sdValue(_ entry: SDEntry) -> String {
        if entry.value.isAbsent { return "" }
        if !entry.isEscaped { return string(entry.value) ?? "" }
        return String(decoding: unescapeSDValue(storage[entry.value.range]), as: UTF8.self)
    }

    func bytesEqual(_ span: ByteSpan, _ text: String) -> Bool {
        if span.isAbsent { return false }
        return storage[span.range].elementsEqual(text.utf8)
    }

    /// Appends text to the storage and returns its span (absent for nil).
    mutating func append(_ text: String?) -> ByteSpan {
        guard let text else { return .absent }
        let start = storage.count
        storage.append(contentsOf: text.utf8)
        return ByteSpan(start, storage.count)
    }
}

// MARK: - Equality compares what the record says, not how its storage is laid out.

extension LogRecord: Hashable {
    public static func == (lhs: LogRecord, rhs: LogRecord) -> Bool {
        lhs.facility == rhs.facility && lhs.severity == rhs.severity && lhs.timestamp == rhs.timestamp
            && lhs.receivedAt == rhs.receivedAt && lhs.source == rhs.source && lhs.format == rhs.format
            && lhs.problems == rhs.problems
            && lhs.fieldBytesEqual(rhs, lhs.hostnameSpan, rhs.hostnameSpan)
            && lhs.fieldBytesEqual(rhs, lhs.appSpan, rhs.appSpan)
            && lhs.fieldBytesEqual(rhs, lhs.procIDSpan, rhs.procIDSpan)
            && lhs.fieldBytesEqual(rhs, lhs.msgIDSpan, rhs.msgIDSpan)
            && lhs.fieldBytesEqual(rhs, lhs.messageSpan, rhs.messageSpan)
            && lhs.rawFrame == rhs.rawFrame
            && lhs.structuredData == rhs.structuredData
    }

    private func fieldBytesEqual(_ other: LogRecord, _ a: ByteSpan, _ b: ByteSpan) -> Bool {
        if a.isAbsent || b.isAbsent { return a.isAbsent == b.isAbsent }
        if !frameIsValidUTF8 || !other.frameIsValidUTF8 {
            // Text read from invalid UTF-8 compares as decoded (the raw frame is compared on its own).
            return string(a) == other.string(b)
        }
        return storage[a.range].elementsEqual(other.storage[b.range])
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(facility)
        hasher.combine(severity)
        hasher.combine(timestamp)
        hasher.combine(receivedAt)
        hasher.combine(hostname)
        hasher.combine(appName)
        hasher.combine(message)
    }
}

extension LogRecord: CustomStringConvertible {
    public var description: String { String(decoding: jsonBytes(), as: UTF8.self) }
}
