/// Evaluates a query against records in memory (rules, live tail, and the store's not-yet-indexed tail).
///
/// Semantics the store's SQL must reproduce exactly:
/// * message words match whole tokens of `LogTokenizer`, consecutively for a phrase; `word*` lets the last one
///   be a prefix; search text with no word characters is a case-sensitive substring of the message;
/// * text fields compare ASCII case-insensitively (`value`, `value*`); an absent field never matches;
/// * `/regex/` searches anywhere in the field (Swift `Regex` syntax, case-sensitive unless `(?i)`);
/// * `sd.ID.PARAM` matches when any value of that parameter in any element with that SD-ID matches;
/// * `severity:`/`facility:` compare numbers (a smaller severity is more severe); no PRI never matches;
/// * `since:` is received-at ≥ bound, `until:` is received-at < bound, relative times counted from `now`.
public struct QueryMatcher: Sendable {
    private let program: MatchProgram

    public init(_ query: Query, now: SyslogTimestamp = .now()) {
        program = MatchProgram([query.root], now: now)
    }

    public func matches(_ record: LogRecord) -> Bool {
        var tokens = MessageTokens()
        return program.matches(0, record, &tokens)
    }

    /// The same, sharing the message's words among matchers asked about one record (the rule engine asks up to
    /// hundreds): call `tokens.reset()` before each record and pass the same variable to every matcher. Its
    /// buffers are kept from record to record, so a steady stream tokenizes without allocating.
    public func matches(_ record: LogRecord, sharing tokens: inout MessageTokens) -> Bool {
        program.matches(0, record, &tokens)
    }
}

/// Many queries compiled together, each asked by its position: the rule engine's rules, asked about one record
/// after another. The same semantics as `QueryMatcher`; holding one object for all of them spares a reference
/// count per query asked.
public struct QueryMatchers: Sendable {
    private let program: MatchProgram

    public init(_ queries: [Query], now: SyslogTimestamp = .now()) {
        program = MatchProgram(queries.map(\.root), now: now)
    }

    public var count: Int { program.count }

    /// Whether query `k` matches the record. Share `tokens` among all queries asked about one record, and call
    /// `tokens.reset()` before the next record.
    public func matches(_ k: Int, _ record: LogRecord, sharing tokens: inout MessageTokens) -> Bool {
        program.matches(k, record, &tokens)
    }
}

/// A test on one text field (equals / prefix ASCII case-insensitively, or a regular expression), shared by the
/// matcher and the store's SQL functions.
public enum FieldTest: @unchecked Sendable {
    case equals([UInt8])
    case prefix([UInt8])
    case regex(Regex<AnyRegexOutput>)
    case never

    public init(_ p: QueryPredicate) {
        switch p {
        case .equals(let v): self = .equals(Array(v.utf8))
        case .prefix(let v): self = .prefix(Array(v.utf8))
        case .regex(let pattern): self = (try? Regex(pattern)).map { .regex($0) } ?? .never
        case .tokens(let t, _): self = .equals(Array(t.joined(separator: " ").utf8))
        case .substring(let s): self = .equals(Array(s.utf8))
        case .compare, .time: self = .never
        }
    }

    public func matches(_ bytes: UnsafeRawBufferPointer?) -> Bool {
        guard let bytes else { return false }
        switch self {
        case .equals(let v): return bytes.count == v.count && asciiCaseInsensitiveEqual(bytes, v[...])
        case .prefix(let v): return bytes.count >= v.count && asciiCaseInsensitiveEqual(bytes.prefix(v.count), v[...])
        case .regex(let re):
            let text = String(decoding: bytes, as: UTF8.self)
            return (try? re.firstMatch(in: text)) != nil
        case .never: return false
        }
    }

    public func matches(_ text: String?) -> Bool {
        guard var text else { return false }
        return text.withUTF8 { matches(UnsafeRawBufferPointer($0)) }
    }
}

@inline(__always)
private func asciiCaseInsensitiveEqual(_ a: some Collection<UInt8>, _ b: ArraySlice<UInt8>) -> Bool {
    var j = b.startIndex
    for x in a {
        let y = b[j]
        if x != y {
            let fx = ASCII.isUpper(x) ? x | 0x20 : x
            let fy = ASCII.isUpper(y) ? y | 0x20 : y
            if fx != fy { return false }
        }
        j += 1
    }
    return true
}

/// The message rules of the query language, shared by the matcher and the store's SQL functions.
public enum QuerySemantics {
    /// The folded `LogTokenizer` tokens of a text.
    public static func tokens(of text: UnsafeRawBufferPointer?) -> [[UInt8]] {
        var out: [[UInt8]] = []
        guard let text else { return out }
        LogTokenizer.forEachToken(in: text.assumingMemoryBound(to: UInt8.self)) { token, _ in out.append(Array(token)) }
        return out
    }

    /// True when `wanted` appears as consecutive tokens; with `prefix` the last may be the start of a token.
    public static func containsPhrase(_ tokens: [[UInt8]], _ wanted: [[UInt8]], prefix: Bool) -> Bool {
        guard !wanted.isEmpty, tokens.count >= wanted.count else { return false }
        let last = wanted.count - 1
        outer: for start in 0...(tokens.count - wanted.count) {
            for k in 0..<wanted.count {
                let t = tokens[start + k]
                if k == last && prefix {
                    if !t.starts(with: wanted[k]) { continue outer }
                } else if t != wanted[k] {
                    continue outer
                }
            }
            return true
        }
        return false
    }

    /// Case-sensitive byte substring.
    public static func contains(_ haystack: UnsafeRawBufferPointer?, _ needle: [UInt8]) -> Bool {
        guard let haystack else { return false }
        return NotiLogCore.contains(haystack, needle)
    }
}

private func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
    guard !needle.isEmpty else { return true }
    guard haystack.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    while i <= haystack.count - needle.count {
        if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return true }
        i += 1
    }
    return false
}
