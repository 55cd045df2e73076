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
public struct QueryMatcher: @unchecked Sendable {
    // Regex values are immutable once compiled; the matcher is safe to share.
    private let root: Node

    public init(_ query: Query, now: SyslogTimestamp = .now()) {
        root = Node(query.root, now: now)
    }

    public func matches(_ record: LogRecord) -> Bool {
        var tokens: [[UInt8]]? = nil
        return root.matches(record, &tokens)
    }

    /// The same, sharing the message's tokens among matchers asked about one record (the rule engine asks up to
    /// hundreds): start with `nil` for each record and pass the same variable to every matcher.
    public func matches(_ record: LogRecord, sharingTokens tokens: inout [[UInt8]]?) -> Bool {
        root.matches(record, &tokens)
    }
}

private indirect enum Node {
    case all
    case and([Node])
    case or([Node])
    case not(Node)
    case tokens([[UInt8]], prefix: Bool)
    case substring([UInt8])
    case text(QueryField, FieldTest)
    case sd(id: String, param: String, FieldTest)
    case compare(QueryField, Comparison, Int)
    case time(Comparison, SyslogTimestamp)

    init(_ node: QueryNode, now: SyslogTimestamp) {
        switch node {
        case .all: self = .all
        case .and(let nodes): self = .and(nodes.map { Node($0, now: now) })
        case .or(let nodes): self = .or(nodes.map { Node($0, now: now) })
        case .not(let n): self = .not(Node(n, now: now))
        case .term(let term):
            switch (term.field, term.predicate) {
            case (.message, .tokens(let t, let prefix)): self = .tokens(t.map { Array($0.utf8) }, prefix: prefix)
            case (.message, .substring(let text)): self = .substring(Array(text.utf8))
            case (.receivedAt, .time(let op, let t)): self = .time(op, t.resolved(now: now))
            case (.severity, .compare(let op, let v)), (.facility, .compare(let op, let v)):
                self = .compare(term.field, op, v)
            case (.sd(let id, let param), let p): self = .sd(id: id, param: param, FieldTest(p))
            case (let field, let p): self = .text(field, FieldTest(p))
            }
        }
    }

    func matches(_ r: LogRecord, _ tokens: inout [[UInt8]]?) -> Bool {
        switch self {
        case .all:
            return true
        case .and(let nodes):
            for n in nodes where !n.matches(r, &tokens) { return false }
            return true
        case .or(let nodes):
            for n in nodes where n.matches(r, &tokens) { return true }
            return false
        case .not(let n):
            return !n.matches(r, &tokens)
        case .tokens(let wanted, let prefix):
            if tokens == nil { tokens = r.withBytes(of: .message) { QuerySemantics.tokens(of: $0) } }
            return QuerySemantics.containsPhrase(tokens!, wanted, prefix: prefix)
        case .substring(let needle):
            return r.withBytes(of: .message) { bytes in
                QuerySemantics.contains(bytes, needle)
            }
        case .text(let field, let test):
            switch field {
            case .hostname: return r.withBytes(of: .hostname) { test.matches($0) }
            case .app: return r.withBytes(of: .appName) { test.matches($0) }
            case .procid: return r.withBytes(of: .procID) { test.matches($0) }
            case .msgid: return r.withBytes(of: .msgID) { test.matches($0) }
            case .message: return r.withBytes(of: .message) { test.matches($0) }
            case .source: return test.matches(r.source)
            case .format: return test.matches(r.format.rawValue)
            default: return false
            }
        case .sd(let id, let param, let test):
            guard let elements = r.structuredData else { return false }
            for e in elements where e.id == id {
                for p in e.parameters where p.name == param && test.matches(p.value) { return true }
            }
            return false
        case .compare(let field, let op, let value):
            let actual = field == .severity ? r.severity.map { Int($0.rawValue) } : r.facility.map { Int($0.rawValue) }
            guard let actual else { return false }
            return op.holds(actual, value)
        case .time(let op, let bound):
            return op.holds(r.receivedAt, bound)
        }
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
