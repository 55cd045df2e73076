/// Queries compiled for `QueryMatcher` and `QueryMatchers`: each AST flattened into an array of operations in pre-order, evaluated by
/// index.
///
/// Why not walk the AST (or an enum tree like it)? The rule engine asks hundreds of queries about every
/// committed record; switching over an indirect enum with array payloads copies, retains and releases those
/// payloads at every node, and that was most of the engine's time. Here every operation is a plain value
/// (no references), the data it compares with lives in buffers the program owns (text values pre-folded, phrase
/// words with their hashes), and only regular expressions and structured data reach Swift objects. Operations
/// are immutable after `init`, so a program is safe to share between threads.
///
/// The semantics are `QueryMatcher`'s (see there); the property tests hold this evaluator against a plain walk
/// of the AST over `QuerySemantics`.
final class MatchProgram: @unchecked Sendable {
    // @unchecked: the buffers are written only in `init` and freed in `deinit`; regexes are immutable.

    /// One operation. An AND / OR / NOT's operands follow it; `end` is the index after its last operand (after
    /// itself for a leaf), so an operand's successor is found without a stack.
    struct Op {
        enum Code: UInt8 {
            case all, never, and, or, not
            /// Message words: `a` indexes `phrases`.
            case phrase
            /// Message bytes contain `pool[a..<a+b]` (case-sensitive).
            case substring
            /// The text field `slot` equals / starts with `pool[a..<a+b]` (stored ASCII lower-cased).
            case equals, prefix
            /// The text field `slot` matches the regex `tests[a]`.
            case regex
            /// A structured-data parameter (`sdNames[b]`) matches `tests[a]`.
            case sd
            /// Severity / facility compared with `a`.
            case severity, facility
            /// Received-at compared with `times[a]`.
            case time
        }

        var code: Code
        var slot: Slot = .message
        var comparison: Comparison = .eq
        var end: Int32 = 0
        var a: Int = 0
        var b: Int = 0
    }

    /// The text fields a query names, as the record keeps them.
    enum Slot: UInt8 {
        case hostname, app, procid, msgid, message, source, format

        init?(_ field: QueryField) {
            switch field {
            case .hostname: self = .hostname
            case .app: self = .app
            case .procid: self = .procid
            case .msgid: self = .msgid
            case .message: self = .message
            case .source: self = .source
            case .format: self = .format
            case .facility, .severity, .sd, .receivedAt: return nil
            }
        }
    }

    /// Words that must appear consecutively: `words[firstWord..<firstWord+count]`.
    struct Phrase {
        var firstWord: Int
        var count: Int
        var prefix: Bool
        /// The words that must appear whole (all but a prefix), for the message's signature to rule out cheaply.
        var required: TokenSignature
    }

    /// A phrase word: its bytes in `pool`, and its hash (as `MessageTokens` hashes a message's words).
    struct Word {
        var offset: Int
        var length: Int
        var hash: UInt64
    }

    /// What a record surely needs to match a query, read from its ANDs and ORs when compiling: allowed
    /// severities and facilities (a bit per value, plus one for "none"), and words that must be in the message.
    /// Checked before the query itself, it turns most queries away without walking them; it is a necessary
    /// condition only, so it never decides a match.
    struct Guard {
        static let anySeverity: UInt16 = 0x1FF
        static let anyFacility: UInt32 = 0x1FF_FFFF

        /// Bit `s` for severity `s` (0...7), bit 8 for a record without one.
        var severities = anySeverity
        /// Bit `f` for facility `f` (0...23), bit 24 for a record without one.
        var facilities = anyFacility
        /// Words every match contains; checked only once the message is tokenized anyway (by an earlier query
        /// about the record), so a guard never makes a record's words be read sooner than the query would.
        var words = TokenSignature()

        static let none = Guard()

        @inline(__always)
        func admits(_ r: LogRecord, _ tokens: MessageTokens) -> Bool {
            let s = r.severity.map { UInt16(1) << ($0.rawValue & 15) } ?? 0x100
            let f = r.facility.map { UInt32(1) << ($0.rawValue & 31) } ?? 0x100_0000
            return severities & s != 0 && facilities & f != 0 && (!tokens.isFilled || tokens.signature.covers(words))
        }

        /// Both guards hold (AND).
        func and(_ other: Guard) -> Guard {
            Guard(severities: severities & other.severities, facilities: facilities & other.facilities, words: words.union(other.words))
        }

        /// One of the guards holds (OR).
        func or(_ other: Guard) -> Guard {
            Guard(severities: severities | other.severities, facilities: facilities | other.facilities, words: words.intersection(other.words))
        }
    }

    private let ops: UnsafeMutableBufferPointer<Op>
    private let pool: UnsafeMutableBufferPointer<UInt8>
    private let phrases: UnsafeMutableBufferPointer<Phrase>
    private let words: UnsafeMutableBufferPointer<Word>
    private let times: UnsafeMutableBufferPointer<SyslogTimestamp>
    /// Regex and structured-data tests (the rare operations that need Swift objects).
    private let tests: [FieldTest]
    private let sdNames: [(id: String, param: String)]

    /// Where each query starts in `ops`.
    private let roots: UnsafeMutableBufferPointer<Int>
    /// Each query's guard.
    private let guards: UnsafeMutableBufferPointer<Guard>
    let count: Int

    /// Compiles queries side by side into one program (one object to hold for all of the engine's rules).
    init(_ queries: [QueryNode], now: SyslogTimestamp) {
        var b = Builder(now: now)
        var starts: [Int] = []
        for q in queries {
            starts.append(b.ops.count)
            b.emit(q)
        }
        count = queries.count
        roots = Self.frozen(starts)
        guards = Self.frozen(queries.map(Self.guardOf))
        ops = Self.frozen(b.ops)
        pool = Self.frozen(b.pool)
        phrases = Self.frozen(b.phrases)
        words = Self.frozen(b.words)
        times = Self.frozen(b.times)
        tests = b.tests
        sdNames = b.sdNames
    }

    deinit {
        roots.deallocate()
        guards.deallocate()
        ops.deallocate()
        pool.deallocate()
        phrases.deallocate()
        words.deallocate()
        times.deallocate()
    }

    /// A buffer with the array's (trivial) elements; never empty, so its base address is never nil.
    private static func frozen<T>(_ array: [T]) -> UnsafeMutableBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: max(array.count, 1))
        _ = buffer.initialize(from: array)
        return buffer
    }

    /// Whether query `k` matches.
    @inline(__always)
    func matches(_ k: Int, _ record: LogRecord, _ tokens: inout MessageTokens) -> Bool {
        precondition(k >= 0 && k < count, "no such query")
        return guards[k].admits(record, tokens) && eval(roots[k], record, &tokens)
    }

    // MARK: Evaluation

    private func eval(_ i: Int, _ r: LogRecord, _ tokens: inout MessageTokens) -> Bool {
        let op = ops[i]
        switch op.code {
        case .all:
            return true
        case .never:
            return false
        case .and:
            var j = i + 1
            let end = Int(op.end)
            while j < end {
                if !eval(j, r, &tokens) { return false }
                j = Int(ops[j].end)
            }
            return true
        case .or:
            var j = i + 1
            let end = Int(op.end)
            while j < end {
                if eval(j, r, &tokens) { return true }
                j = Int(ops[j].end)
            }
            return false
        case .not:
            return !eval(i + 1, r, &tokens)
        case .phrase:
            if !tokens.isFilled { r.withBytes(of: .message) { tokens.fill($0) } }
            return contains(phrases[op.a], in: tokens)
        case .substring:
            let needle = poolBytes(op.a, op.b)
            return r.withBytes(of: .message) { bytes in
                guard let bytes else { return false }
                return Self.contains(bytes, needle)
            }
        case .equals:
            let value = poolBytes(op.a, op.b)
            return Self.withText(op.slot, of: r) { bytes in
                guard let bytes, bytes.count == value.count else { return false }
                return Self.foldedEqual(bytes, value)
            }
        case .prefix:
            let value = poolBytes(op.a, op.b)
            return Self.withText(op.slot, of: r) { bytes in
                guard let bytes, bytes.count >= value.count else { return false }
                return Self.foldedEqual(bytes, value)
            }
        case .regex:
            return regexMatches(op, r)
        case .sd:
            return sdMatches(op, r)
        case .severity:
            guard let actual = r.severity else { return false }
            return op.comparison.holds(Int(actual.rawValue), op.a)
        case .facility:
            guard let actual = r.facility else { return false }
            return op.comparison.holds(Int(actual.rawValue), op.a)
        case .time:
            return op.comparison.holds(r.receivedAt, times[op.a])
        }
    }

    @inline(__always)
    private func poolBytes(_ offset: Int, _ count: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: pool.baseAddress.unsafelyUnwrapped + offset, count: count)
    }

    // Regex and structured-data tests are kept out of `eval`: `Regex` is a resilient type, and a local of it
    // makes every call of `eval` instantiate its metadata and size its frame at run time.

    @inline(never)
    private func regexMatches(_ op: Op, _ r: LogRecord) -> Bool {
        let test = tests[op.a]
        return Self.withText(op.slot, of: r) { test.matches($0) }
    }

    @inline(never)
    private func sdMatches(_ op: Op, _ r: LogRecord) -> Bool {
        guard let elements = r.structuredData else { return false }
        let test = tests[op.a]
        let (id, param) = sdNames[op.b]
        for e in elements where e.id == id {
            for p in e.parameters where p.name == param && test.matches(p.value) { return true }
        }
        return false
    }

    /// A text field's bytes (nil when absent); `source` and `format` are kept as strings.
    @inline(__always)
    private static func withText<R>(_ slot: Slot, of r: LogRecord, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        switch slot {
        case .hostname: return r.withBytes(of: .hostname, body)
        case .app: return r.withBytes(of: .appName, body)
        case .procid: return r.withBytes(of: .procID, body)
        case .msgid: return r.withBytes(of: .msgID, body)
        case .message: return r.withBytes(of: .message, body)
        case .source:
            guard var text = r.source else { return body(nil) }
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        case .format:
            var text = r.format.rawValue
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// True when the phrase's words appear consecutively among the message's (the last may be a prefix).
    @inline(__always)
    private func contains(_ phrase: Phrase, in tokens: MessageTokens) -> Bool {
        let m = phrase.count
        guard m > 0, tokens.count >= m, tokens.signature.covers(phrase.required) else { return false }
        let wanted = UnsafeBufferPointer(start: words.baseAddress.unsafelyUnwrapped + phrase.firstWord, count: m)
        let pool = UnsafeBufferPointer(self.pool)
        let last = m - 1
        return tokens.withTokens { toks, bytes in
            outer: for start in 0...(toks.count - m) {
                for k in 0..<m {
                    let t = toks[start + k]
                    let w = wanted[k]
                    let length = Int(t.length)
                    if k == last && phrase.prefix {
                        if length < w.length { continue outer }
                    } else if t.hash != w.hash || length != w.length {
                        continue outer
                    }
                    if !Self.equal(bytes, Int(t.start), pool, w.offset, w.length) { continue outer }
                }
                return true
            }
            return false
        }
    }

    @inline(__always)
    private static func equal(
        _ a: UnsafeBufferPointer<UInt8>, _ i: Int, _ b: UnsafeBufferPointer<UInt8>, _ j: Int, _ n: Int
    ) -> Bool {
        var k = 0
        while k < n {
            if a[i + k] != b[j + k] { return false }
            k += 1
        }
        return true
    }

    /// The first `value.count` bytes of `bytes` equal `value` (stored folded) ASCII case-insensitively; the
    /// caller checked the length.
    @inline(__always)
    private static func foldedEqual(_ bytes: UnsafeRawBufferPointer, _ value: UnsafeBufferPointer<UInt8>) -> Bool {
        var k = 0
        while k < value.count {
            let x = bytes[k]
            if (ASCII.isUpper(x) ? x | 0x20 : x) != value[k] { return false }
            k += 1
        }
        return true
    }

    /// Case-sensitive byte substring (an empty needle is in every present message).
    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = needle.count
        guard n > 0 else { return true }
        guard haystack.count >= n else { return false }
        let first = needle[0]
        var i = 0
        let last = haystack.count - n
        outer: while i <= last {
            if haystack[i] == first {
                var k = 1
                while k < n {
                    if haystack[i + k] != needle[k] {
                        i += 1
                        continue outer
                    }
                    k += 1
                }
                return true
            }
            i += 1
        }
        return false
    }

    // MARK: Compiling

    /// The guard of a query: what its ANDs require of every match, what one of its ORs' branches requires.
    static func guardOf(_ node: QueryNode) -> Guard {
        switch node {
        case .and(let nodes):
            return nodes.reduce(Guard.none) { $0.and(guardOf($1)) }
        case .or(let nodes):
            guard let first = nodes.first else { return .none }
            return nodes.dropFirst().reduce(guardOf(first)) { $0.or(guardOf($1)) }
        case .all, .not:
            return .none
        case .term(let term):
            var g = Guard.none
            switch (term.field, term.predicate) {
            case (.severity, .compare(let op, let v)):
                g.severities = 0
                for s in 0..<8 where op.holds(s, v) { g.severities |= 1 << s }
            case (.facility, .compare(let op, let v)):
                g.facilities = 0
                for f in 0..<24 where op.holds(f, v) { g.facilities |= 1 << f }
            case (.message, .tokens(let words, let prefix)):
                // As a phrase's own check: every word but a prefix is a whole word of the message.
                for (k, word) in words.enumerated() where !(prefix && k == words.count - 1) {
                    let bytes = Array(word.utf8)
                    g.words.insert(bytes.withUnsafeBufferPointer { MessageTokens.hash($0) })
                }
            default:
                break
            }
            return g
        }
    }

    private struct Builder {
        var ops: [Op] = []
        var pool: [UInt8] = []
        var phrases: [Phrase] = []
        var words: [Word] = []
        var times: [SyslogTimestamp] = []
        var tests: [FieldTest] = []
        var sdNames: [(id: String, param: String)] = []
        let now: SyslogTimestamp

        init(now: SyslogTimestamp) {
            self.now = now
        }

        mutating func emit(_ node: QueryNode) {
            let at = ops.count
            ops.append(Op(code: .all))
            switch node {
            case .all:
                break
            case .and(let nodes):
                ops[at].code = .and
                for n in nodes { emit(n) }
            case .or(let nodes):
                ops[at].code = .or
                for n in nodes { emit(n) }
            case .not(let n):
                ops[at].code = .not
                emit(n)
            case .term(let term):
                ops[at] = leaf(term)
            }
            ops[at].end = Int32(ops.count)
        }

        /// One term, decided as `QueryMatcher` documents (a predicate a field cannot have never matches).
        private mutating func leaf(_ term: QueryTerm) -> Op {
            switch (term.field, term.predicate) {
            case (.message, .tokens(let t, let prefix)):
                return Op(code: .phrase, a: phrase(t, prefix: prefix))
            case (.message, .substring(let text)):
                let offset = pool.count
                pool += Array(text.utf8)
                return Op(code: .substring, a: offset, b: pool.count - offset)
            case (.receivedAt, .time(let op, let t)):
                times.append(t.resolved(now: now))
                return Op(code: .time, comparison: op, a: times.count - 1)
            case (.severity, .compare(let op, let v)):
                return Op(code: .severity, comparison: op, a: v)
            case (.facility, .compare(let op, let v)):
                return Op(code: .facility, comparison: op, a: v)
            case (.sd(let id, let param), let p):
                tests.append(FieldTest(p))
                sdNames.append((id, param))
                return Op(code: .sd, a: tests.count - 1, b: sdNames.count - 1)
            case (let field, let p):
                guard let slot = Slot(field) else { return Op(code: .never) }
                switch FieldTest(p) {
                case .equals(let v): return folded(v, .equals, slot)
                case .prefix(let v): return folded(v, .prefix, slot)
                case .regex(let re):
                    tests.append(.regex(re))
                    return Op(code: .regex, slot: slot, a: tests.count - 1)
                case .never:
                    return Op(code: .never)
                }
            }
        }

        /// An equals / prefix value, ASCII lower-cased once here instead of on every comparison.
        private mutating func folded(_ value: [UInt8], _ code: Op.Code, _ slot: Slot) -> Op {
            let offset = pool.count
            pool += value.map { ASCII.isUpper($0) ? $0 | 0x20 : $0 }
            return Op(code: code, slot: slot, a: offset, b: value.count)
        }

        private mutating func phrase(_ tokens: [String], prefix: Bool) -> Int {
            var required = TokenSignature()
            let first = words.count
            for (k, token) in tokens.enumerated() {
                let bytes = Array(token.utf8)
                let hash = bytes.withUnsafeBufferPointer { MessageTokens.hash($0) }
                words.append(Word(offset: pool.count, length: bytes.count, hash: hash))
                pool += bytes
                if !(prefix && k == tokens.count - 1) { required.insert(hash) }
            }
            phrases.append(Phrase(firstWord: first, count: tokens.count, prefix: prefix, required: required))
            return phrases.count - 1
        }
    }
}
