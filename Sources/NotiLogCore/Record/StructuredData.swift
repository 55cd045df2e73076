/// One RFC 5424 SD-ELEMENT: an SD-ID and its parameters in wire order (a repeated name is kept each time).
public struct StructuredDataElement: Sendable, Hashable {
    public var id: String
    public var parameters: [StructuredDataParameter]

    public init(id: String, parameters: [StructuredDataParameter] = []) {
        self.id = id
        self.parameters = parameters
    }

    /// The first value of `name`, if any.
    public subscript(name: String) -> String? {
        parameters.first(where: { $0.name == name })?.value
    }
}

/// One SD-PARAM, its value un-escaped.
public struct StructuredDataParameter: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// A range of a record's byte storage. `start < 0` means the field is absent (NILVALUE or not sent).
@usableFromInline
struct ByteSpan: Sendable, Hashable {
    @usableFromInline var start: Int32
    @usableFromInline var count: Int32

    @inlinable init(start: Int32, count: Int32) {
        self.start = start
        self.count = count
    }

    @inlinable init(_ start: Int, _ end: Int) {
        self.start = Int32(truncatingIfNeeded: start)
        self.count = Int32(truncatingIfNeeded: end - start)
    }

    @usableFromInline static let absent = ByteSpan(start: -1, count: 0)
    @inlinable var isAbsent: Bool { start < 0 }
    @inlinable var range: Range<Int> { Int(start)..<Int(start + count) }
}

/// Structured data as stored in a record: a flat list where each element entry is followed by its parameters.
@usableFromInline
struct SDEntry: Sendable, Hashable {
    @usableFromInline var name: ByteSpan
    /// For a parameter: its value as written (escapes not yet removed). Unused for an element.
    @usableFromInline var value: ByteSpan
    @usableFromInline var flags: UInt8

    static let isElement: UInt8 = 1
    static let valueEscaped: UInt8 = 2

    var isElement: Bool { flags & SDEntry.isElement != 0 }
    var isEscaped: Bool { flags & SDEntry.valueEscaped != 0 }

    static func element(_ name: ByteSpan) -> SDEntry { SDEntry(name: name, value: .absent, flags: isElement) }
    static func param(_ name: ByteSpan, _ value: ByteSpan, escaped: Bool) -> SDEntry {
        SDEntry(name: name, value: value, flags: escaped ? valueEscaped : 0)
    }
}

/// Removes RFC 5424 PARAM-VALUE escapes: `\"`, `\\` and `\]` become the character; any other backslash stays.
func unescapeSDValue(_ bytes: some Collection<UInt8>) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var pendingBackslash = false
    for b in bytes {
        if pendingBackslash {
            pendingBackslash = false
            if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b == UInt8(ascii: "]") {
                out.append(b)
                continue
            }
            out.append(UInt8(ascii: "\\"))
        }
        if b == UInt8(ascii: "\\") {
            pendingBackslash = true
        } else {
            out.append(b)
        }
    }
    if pendingBackslash { out.append(UInt8(ascii: "\\")) }
    return out
}
