/// A JSON value with the byte range it was read from; objects keep their keys in document order.
///
/// Foundation's decoders cannot hand back a value's original bytes and lose key order. `search --json` passes each
/// record through byte for byte, and the table shows structured data in wire order, so this small reader exists.
/// It reads untrusted bytes: nesting is bounded and every failure is an error, never a crash.
struct JSONNode: Sendable {
    enum Value: Sendable {
        case null
        case bool(Bool)
        /// The number as written (validated as a JSON number).
        case number(String)
        case string(String)
        case array([JSONNode])
        case object([(key: String, value: JSONNode)])
    }

    var value: Value
    /// Where the value is in the parsed bytes.
    var range: Range<Int>

    /// Parses one JSON document (surrounding whitespace allowed).
    static func parse(_ bytes: [UInt8]) throws(JSONReadError) -> JSONNode {
        var reader = JSONReader(bytes: bytes)
        reader.skipSpace()
        let node = try reader.readValue(depth: 0)
        reader.skipSpace()
        guard reader.index == bytes.count else { throw reader.fail("unexpected text after the JSON value") }
        return node
    }

    subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    var string: String? {
        if case .string(let s) = value { return s }
        return nil
    }

    var int: Int? {
        if case .number(let text) = value { return Int(text) ?? Double(text).flatMap { Int(exactly: $0) } }
        return nil
    }

    var double: Double? {
        if case .number(let text) = value { return Double(text) }
        return nil
    }

    var array: [JSONNode]? {
        if case .array(let items) = value { return items }
        return nil
    }

    var members: [(key: String, value: JSONNode)]? {
        if case .object(let members) = value { return members }
        return nil
    }

    var isNull: Bool {
        if case .null = value { return true }
        return false
    }
}

/// Why bytes are not JSON, with the byte offset (1-based) where reading stopped.
struct JSONReadError: Error, CustomStringConvertible {
    var offset: Int
    var reason: String

    var description: String { "\(reason) at byte \(offset)" }
}

private struct JSONReader {
    let bytes: [UInt8]
    var index = 0
    /// Deeper documents are refused rather than risking the stack.
    static let maxDepth = 256

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    func fail(_ reason: String) -> JSONReadError { JSONReadError(offset: index + 1, reason: reason) }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func readValue(depth: Int) throws(JSONReadError) -> JSONNode {
        guard depth < Self.maxDepth else { throw fail("nested too deeply") }
        guard index < bytes.count else { throw fail("unexpected end of input") }
        let start = index
        let value: JSONNode.Value
        switch bytes[index] {
        case UInt8(ascii: "{"): value = .object(try readObject(depth: depth))
        case UInt8(ascii: "["): value = .array(try readArray(depth: depth))
        case UInt8(ascii: "\""): value = .string(try readString())
        case UInt8(ascii: "t"): try readLiteral("true"); value = .bool(true)
        case UInt8(ascii: "f"): try readLiteral("false"); value = .bool(false)
        case UInt8(ascii: "n"): try readLiteral("null"); value = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): value = .number(try readNumber())
        default: throw fail("unexpected character")
        }
        return JSONNode(value: value, range: start..<index)
    }

    mutating func readLiteral(_ word: StaticString) throws(JSONReadError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            word.withUTF8Buffer({ bytes[index..<index + count].elementsEqual($0) })
        else { throw fail("unexpected character") }
        index += count
    }

    /// `-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?`
    mutating func readNumber() throws(JSONReadError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let intStart = index
        guard skipDigits() > 0, bytes[intStart] != UInt8(ascii: "0") || index == intStart + 1 else {
            throw fail("malformed number")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard skipDigits() > 0 else { throw fail("malformed number") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard skipDigits() > 0 else { throw fail("malformed number") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    /// Skips ASCII digits; returns how many.
    mutating func skipDigits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index - start
    }

    mutating func readArray(depth: Int) throws(JSONReadError) -> [JSONNode] {
        index += 1
        var items: [JSONNode] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return items
        }
        while true {
            skipSpace()
            items.append(try readValue(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of input in an array") }
            if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return items
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw fail("expected ',' or ']'") }
            index += 1
        }
    }

    mutating func readObject(depth: Int) throws(JSONReadError) -> [(key: String, value: JSONNode)] {
        index += 1
        var members: [(key: String, value: JSONNode)] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let key = try readString()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipSpace()
            members.append((key, try readValue(depth: depth + 1)))
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of input in an object") }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return members
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw fail("expected ',' or '}'") }
            index += 1
        }
    }

    /// A string starting at the opening quote; invalid UTF-8 and lone surrogates read as U+FFFD.
    mutating func readString() throws(JSONReadError) -> String {
        index += 1
        let start = index
        var decoded: [UInt8]? = nil
        var runStart = index
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                let text: String
                if var d = decoded {
                    d.append(contentsOf: bytes[runStart..<index])
                    text = String(decoding: d, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[start..<index], as: UTF8.self)
                }
                index += 1
                return text
            }
            if b < 0x20 { throw fail("control character in a string") }
            guard b == UInt8(ascii: "\\") else {
                index += 1
                continue
            }
            var d = decoded ?? []
            d.append(contentsOf: bytes[runStart..<index])
            index += 1
            guard index < bytes.count else { break }
            switch bytes[index] {
            case UInt8(ascii: "\""): d.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): d.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): d.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): d.append(0x08)
            case UInt8(ascii: "f"): d.append(0x0C)
            case UInt8(ascii: "n"): d.append(0x0A)
            case UInt8(ascii: "r"): d.append(0x0D)
            case UInt8(ascii: "t"): d.append(0x09)
            case UInt8(ascii: "u"):
                index += 1
                var scalar = try readHex4()
                if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\\"),
                    index + 2 < bytes.count, bytes[index + 2] == UInt8(ascii: "u")
                {
                    let save = index
                    index += 3
                    let low = try readHex4()
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save
                    }
                }
                d.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: throw fail("unknown escape")
            }
            index += 1
            runStart = index
            decoded = d
        }
        throw fail("unterminated string")
    }

    /// Four hex digits from `index`; leaves `index` on the last digit.
    mutating func readHex4() throws(JSONReadError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for k in index..<index + 4 {
            guard let digit = Self.hexValue(bytes[k]) else { throw fail("bad \\u escape") }
            value = value << 4 | digit
        }
        index += 3
        return value
    }

    static func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
