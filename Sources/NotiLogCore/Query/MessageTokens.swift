/// A message's `LogTokenizer` words, read once and asked by many matchers (the rule engine asks up to hundreds
/// of rules about one record).
///
/// The folded words sit back to back in one byte buffer, each addressed by offset, length and hash, and the
/// buffers are kept from one message to the next: after the first few records, tokenizing allocates nothing.
/// A 256-bit signature of the words' hashes lets a phrase search give up without looking at the words when one
/// of its words is surely absent (a Bloom filter with one hash: it may say "maybe" for an absent word, never
/// "no" for a present one).
///
/// Call `reset()` before asking about the next record; a matcher fills the tokens the first time it needs them.
public struct MessageTokens: Sendable {
    /// One word: where its folded bytes are in `bytes`, and their hash.
    struct Token: Sendable {
        var start: Int32
        var length: Int32
        var hash: UInt64
    }

    /// The folded words, back to back: `bytes[0..<byteCount]` (the arrays are kept at their largest size).
    private var bytes: [UInt8] = []
    private var byteCount = 0
    /// The words: `tokens[0..<count]`.
    private var tokens: [Token] = []
    private(set) var count = 0
    private(set) var signature = TokenSignature()
    /// False until a matcher tokenized the current record's message.
    private(set) var isFilled = false

    public init() {}

    /// Forgets the current record (keeping the buffers): the next matcher tokenizes the next record's message.
    public mutating func reset() {
        isFilled = false
    }

    /// Calls `body` with the words and the bytes they address.
    @inline(__always)
    func withTokens<R>(_ body: (UnsafeBufferPointer<Token>, UnsafeBufferPointer<UInt8>) -> R) -> R {
        tokens.withUnsafeBufferPointer { t in
            bytes.withUnsafeBufferPointer { b in
                body(UnsafeBufferPointer(rebasing: t[0..<count]), UnsafeBufferPointer(rebasing: b[0..<byteCount]))
            }
        }
    }

    /// Tokenizes a message (nil: an absent message, which has no words), exactly as `LogTokenizer.forEachToken`.
    mutating func fill(_ text: UnsafeRawBufferPointer?) {
        count = 0
        byteCount = 0
        signature = TokenSignature()
        isFilled = true
        guard let text, !text.isEmpty else { return }
        let p = text.assumingMemoryBound(to: UInt8.self)
        // Words are separated, so there are at most (n + 1) / 2 of them; folding grows a text by half at most
        // (İ, 2 bytes, lower-cases to i̇, 3 bytes), so twice its size holds its words. Should that ever fall
        // short, the buffers grow and the text is read again.
        var room = 2 * p.count + 16
        while true {
            if bytes.count < room { bytes = [UInt8](repeating: 0, count: room) }
            if tokens.count < p.count / 2 + 1 {
                tokens = [Token](repeating: Token(start: 0, length: 0, hash: 0), count: p.count / 2 + 1)
            }
            let done = bytes.withUnsafeMutableBufferPointer { out in
                tokens.withUnsafeMutableBufferPointer { words in
                    Self.tokenize(p, into: out, words, &byteCount, &count, &signature)
                }
            }
            if done { return }
            room *= 2
        }
    }

    /// `LogTokenizer.forEachToken`'s loop, writing folded words into `out` and hashing each as it ends, instead
    /// of calling back per word (a test holds the two side by side on random text). False when `out` is too small.
    private static func tokenize(
        _ p: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>, _ words: UnsafeMutableBufferPointer<Token>,
        _ byteCount: inout Int, _ count: inout Int, _ signature: inout TokenSignature
    ) -> Bool {
        var w = 0
        var n = 0
        var sig = TokenSignature()
        var tokenStart = -1
        var i = 0
        let end = p.count
        @inline(__always) func endToken() {
            let h = hash(UnsafeBufferPointer(rebasing: out[tokenStart..<w]))
            words[n] = Token(start: Int32(truncatingIfNeeded: tokenStart), length: Int32(truncatingIfNeeded: w - tokenStart), hash: h)
            n += 1
            sig.insert(h)
            tokenStart = -1
        }
        return asciiFolding.withUnsafeBufferPointer { folding in
            while i < end {
                let b = p[i]
                if b < 0x80 {
                    let folded = folding[Int(b)]
                    if folded != 0 {
                        if tokenStart < 0 { tokenStart = w }
                        out[w] = folded
                        w += 1
                    } else if tokenStart >= 0 {
                        endToken()
                    }
                    i += 1
                    continue
                }
                // Non-ASCII: decode one scalar (invalid bytes are separators).
                let (scalar, length) = LogTokenizer.decodeScalar(p, at: i)
                if let scalar, LogTokenizer.isWordScalar(scalar) {
                    if tokenStart < 0 { tokenStart = w }
                    for c in scalar.properties.lowercaseMapping.utf8 {
                        guard w < out.count else { return false }
                        out[w] = c
                        w += 1
                    }
                } else if tokenStart >= 0 {
                    endToken()
                }
                i += length
            }
            if tokenStart >= 0 { endToken() }
            byteCount = w
            count = n
            signature = sig
            return true
        }
    }

    /// ASCII byte → its folded form when it belongs to a word (digits, letters lower-cased), else 0.
    private static let asciiFolding: [UInt8] = (0..<128).map { (b: UInt8) -> UInt8 in
        ASCII.isDigit(b) || ASCII.isLower(b) ? b : ASCII.isUpper(b) ? b | 0x20 : 0
    }

    /// A word's hash (how `fill` hashes a message's words, and a query its own): eight bytes at a time, one
    /// multiply each, where a byte-at-a-time hash would chain a multiply per byte.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
        var k = 0
        let n = bytes.count
        while k < n {
            var chunk: UInt64 = 0
            var shift: UInt64 = 0
            let stop = min(k + 8, n)
            while k < stop {
                chunk |= UInt64(bytes[k]) << shift
                shift += 8
                k += 1
            }
            h = (h ^ chunk) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
        }
        // Mixed once more, so that the signature's bits depend on every byte.
        h = (h ^ (h >> 29)) &* 0xC4CE_B9FE_1A85_EC53
        return h ^ (h >> 32)
    }

    /// The words as strings (tests).
    var words: [String] {
        withTokens { tokens, bytes in
            tokens.map { t in String(decoding: UnsafeBufferPointer(rebasing: bytes[Int(t.start)..<Int(t.start + t.length)]), as: UTF8.self) }
        }
    }
}

/// A set of word hashes in 256 bits, one bit per hash.
struct TokenSignature: Sendable, Equatable {
    private var w0: UInt64 = 0
    private var w1: UInt64 = 0
    private var w2: UInt64 = 0
    private var w3: UInt64 = 0

    init() {}

    var isEmpty: Bool { (w0 | w1 | w2 | w3) == 0 }

    @inline(__always)
    mutating func insert(_ hash: UInt64) {
        // The top bits of a multiplicative remix (low bits of a multiply mix least).
        let bit = (hash &* 0x9E37_79B9_7F4A_7C15) >> 56
        let mask: UInt64 = 1 << (bit & 63)
        switch bit >> 6 {
        case 0: w0 |= mask
        case 1: w1 |= mask
        case 2: w2 |= mask
        default: w3 |= mask
        }
    }

    func union(_ other: TokenSignature) -> TokenSignature {
        var u = self
        u.w0 |= other.w0
        u.w1 |= other.w1
        u.w2 |= other.w2
        u.w3 |= other.w3
        return u
    }

    func intersection(_ other: TokenSignature) -> TokenSignature {
        var u = self
        u.w0 &= other.w0
        u.w1 &= other.w1
        u.w2 &= other.w2
        u.w3 &= other.w3
        return u
    }

    /// True when every bit of `other` is set here (every word of `other` may be present).
    @inline(__always)
    func covers(_ other: TokenSignature) -> Bool {
        (w0 & other.w0) == other.w0 && (w1 & other.w1) == other.w1 && (w2 & other.w2) == other.w2
            && (w3 & other.w3) == other.w3
    }
}
