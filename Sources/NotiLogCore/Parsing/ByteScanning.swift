#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte constants and classifiers used by the parsers.
enum ASCII {
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let lf = UInt8(ascii: "\n")
    static let cr = UInt8(ascii: "\r")
    static let nul: UInt8 = 0
    static let zero = UInt8(ascii: "0")
    static let lt = UInt8(ascii: "<")
    static let gt = UInt8(ascii: ">")
    static let colon = UInt8(ascii: ":")
    static let dash = UInt8(ascii: "-")
    static let dot = UInt8(ascii: ".")
    static let comma = UInt8(ascii: ",")
    static let lbracket = UInt8(ascii: "[")
    static let rbracket = UInt8(ascii: "]")
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")
    static let equals = UInt8(ascii: "=")
    static let plus = UInt8(ascii: "+")
    static let star = UInt8(ascii: "*")
    static let percent = UInt8(ascii: "%")

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
    @inline(__always) static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 97 < 26 }
    @inline(__always) static func isUpper(_ b: UInt8) -> Bool { b &- 65 < 26 }
    @inline(__always) static func isLower(_ b: UInt8) -> Bool { b &- 97 < 26 }
    /// RFC 5424 PRINTUSASCII: %d33-126.
    @inline(__always) static func isPrintUSASCII(_ b: UInt8) -> Bool { b &- 33 < 94 }
    /// RFC 5424 SD-NAME characters: PRINTUSASCII except `=`, SP, `]`, `"`.
    @inline(__always) static func isSDNameChar(_ b: UInt8) -> Bool {
        isPrintUSASCII(b) && b != equals && b != rbracket && b != quote
    }
    /// Characters of a host name or address as senders write it.
    @inline(__always) static func isHostnameChar(_ b: UInt8) -> Bool {
        isDigit(b) || isAlpha(b) || b == dash || b == dot || b == UInt8(ascii: "_")
    }
}

/// Index of the first byte that is not part of valid UTF-8, or nil when all of `p[..<end]` is valid.
func firstInvalidUTF8(_ p: UnsafeBufferPointer<UInt8>, end: Int) -> Int? {
    guard let base = p.baseAddress else { return nil }
    var i = 0
    while i < end {
        // Eight ASCII bytes at a time.
        if i + 8 <= end {
            let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            if word & 0x8080_8080_8080_8080 == 0 {
                i += 8
                continue
            }
        }
        let b0 = base[i]
        if b0 < 0x80 {
            i += 1
            continue
        }
        let need: Int
        var lower: UInt8 = 0x80
        var upper: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: need = 1
        case 0xE0: need = 2; lower = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: need = 2
        case 0xED: need = 2; upper = 0x9F
        case 0xF0: need = 3; lower = 0x90
        case 0xF1...0xF3: need = 3
        case 0xF4: need = 3; upper = 0x8F
        default: return i
        }
        if i + need >= end { return i }  // sequence cut short
        let b1 = base[i + 1]
        if b1 < lower || b1 > upper { return i }
        for k in 2..<(need + 1) where base[i + k] & 0xC0 != 0x80 { return i }
        i += need + 1
    }
    return nil
}

/// Index of the first NUL in `p[from..<end]`.
@inline(__always)
func firstNUL(_ p: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> Int? {
    guard from < end, let base = p.baseAddress else { return nil }
    guard let hit = memchr(base + from, 0, end - from) else { return nil }
    return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
}

/// Index of the first `byte` in `p[from..<end]`, or `end`.
@inline(__always)
func indexOf(_ byte: UInt8, _ p: UnsafeBufferPointer<UInt8>, from: Int, end: Int) -> Int {
    guard from < end, let base = p.baseAddress else { return end }
    guard let hit = memchr(base + from, Int32(byte), end - from) else { return end }
    return UnsafeRawPointer(hit) - UnsafeRawPointer(base)
}
