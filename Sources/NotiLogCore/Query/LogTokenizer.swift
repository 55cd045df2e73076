/// Splits message text into the words that search matches: maximal runs of letters, digits and combining
/// marks, folded to lower case. Everything else (space, punctuation, `_`, `.`, `-`, `/`) separates words, so
/// `UI_COMMIT` is the two words `ui` `commit` and `10.0.0.1` the four words `10` `0` `0` `1`.
///
/// The in-memory matcher and the store's full-text index use this one tokenizer, so both read a message
/// into exactly the same words.
public enum LogTokenizer {
    /// Calls `body` with each folded token and the byte range it came from in `text`.
    public static func forEachToken(
        in text: UnsafeBufferPointer<UInt8>, _ body: (_ token: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Void
    ) {
        var folded: [UInt8] = []
        folded.reserveCapacity(64)
        var tokenStart = -1
        var i = 0
        let n = text.count
        func flush(_ end: Int) {
            if tokenStart >= 0 {
                folded.withUnsafeBufferPointer { body($0, tokenStart..<end) }
                folded.removeAll(keepingCapacity: true)
                tokenStart = -1
            }
        }
        while i < n {
            let b = text[i]
            if b < 0x80 {
                if ASCII.isDigit(b) || ASCII.isLower(b) {
                    if tokenStart < 0 { tokenStart = i }
                    folded.append(b)
                } else if ASCII.isUpper(b) {
                    if tokenStart < 0 { tokenStart = i }
                    folded.append(b | 0x20)
                } else {
                    flush(i)
                }
                i += 1
                continue
            }
            // Non-ASCII: decode one scalar (invalid bytes are separators).
            let (scalar, length) = decodeScalar(text, at: i)
            if let scalar, isWordScalar(scalar) {
                if tokenStart < 0 { tokenStart = i }
                appendLowercased(scalar, to: &folded)
            } else {
                flush(i)
            }
            i += length
        }
        flush(n)
    }

    /// The folded tokens of `text`.
    public static func tokens(_ text: String) -> [String] {
        var out: [String] = []
        var copy = text
        copy.withUTF8 { buffer in
            forEachToken(in: buffer) { token, _ in out.append(String(decoding: token, as: UTF8.self)) }
        }
        return out
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }

    static func appendLowercased(_ s: Unicode.Scalar, to out: inout [UInt8]) {
        let lower = s.properties.lowercaseMapping
        out.append(contentsOf: lower.utf8)
    }

    /// One UTF-8 scalar at `i`; `nil` with length 1 for an invalid byte.
    @inline(__always)
    static func decodeScalar(_ p: UnsafeBufferPointer<UInt8>, at i: Int) -> (Unicode.Scalar?, Int) {
        let b0 = UInt32(p[i])
        let n = p.count
        func cont(_ k: Int) -> UInt32? {
            guard i + k < n, p[i + k] & 0xC0 == 0x80 else { return nil }
            return UInt32(p[i + k] & 0x3F)
        }
        switch b0 {
        case 0xC2...0xDF:
            guard let c1 = cont(1) else { return (nil, 1) }
            return (Unicode.Scalar((b0 & 0x1F) << 6 | c1), 2)
        case 0xE0...0xEF:
            guard let c1 = cont(1), let c2 = cont(2) else { return (nil, 1) }
            let v = (b0 & 0x0F) << 12 | c1 << 6 | c2
            guard v >= 0x800, let s = Unicode.Scalar(v) else { return (nil, 1) }
            return (s, 3)
        case 0xF0...0xF4:
            guard let c1 = cont(1), let c2 = cont(2), let c3 = cont(3) else { return (nil, 1) }
            let v = (b0 & 0x07) << 18 | c1 << 12 | c2 << 6 | c3
            guard v >= 0x10000, let s = Unicode.Scalar(v) else { return (nil, 1) }
            return (s, 4)
        default:
            return (nil, 1)
        }
    }
}
