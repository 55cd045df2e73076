import Testing

@testable import NotiLogCore

/// The compiled matcher (`MatchProgram` over `MessageTokens`) against a plain walk of the query AST over
/// `QuerySemantics` and `FieldTest` — the rules the store's SQL functions use — on generated records and queries,
/// including term shapes the parser never builds (a predicate on a field that cannot have it).
@Suite("Compiled query matcher agrees with the AST")
struct QueryMatcherModelTests {
    static let now = SyslogTimestamp(seconds: 1_764_076_672)

    /// SplitMix64: reproducible from the seed a failure prints.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let words = [
        "error", "Error", "ERROR", "error12", "12", "timeout", "timed", "out", "upstream", "ok", "user", "admin",
        "failed", "naïve", "Åsa", "straße", "İstanbul", "日本語", "e\u{301}clair", "10.0.0.1", "UI_COMMIT", "GET",
        "/healthcheck", "->", "%", "50%", "--", "a", "x'y",
    ]
    static let separators = [" ", ", ", ": ", "\t", "_", ".", "—", " 🙂 ", ""]
    static let hosts = ["web-1", "Web-1", "WEB-12", "db_2", "10.0.0.5", ""]
    static let apps = ["nginx", "sshd", "Nginx", "NGINX", "cron.d", "ng"]

    static func pick<T>(_ list: [T], _ g: inout Generator) -> T { list[Int(g.next() % UInt64(list.count))] }
    static func maybe(_ g: inout Generator) -> Bool { g.next() % 4 != 0 }

    static func record(_ g: inout Generator) -> LogRecord {
        var message = ""
        for k in 0..<Int(g.next() % 9) {
            if k > 0 { message += pick(separators, &g) }
            message += pick(words, &g)
        }
        var sd: [StructuredDataElement]? = nil
        if g.next() % 3 == 0 {
            sd = (0..<Int(1 + g.next() % 2)).map { _ in
                StructuredDataElement(
                    id: pick(["origin", "meta"], &g),
                    parameters: (0..<Int(1 + g.next() % 3)).map { _ in
                        StructuredDataParameter(pick(["ip", "env"], &g), pick(["10.0.0.1", "Prod", "prod", "pro"], &g))
                    })
            }
        }
        return LogRecord(
            facility: maybe(&g) ? Facility(rawValue: UInt8(g.next() % 24)) : nil,
            severity: maybe(&g) ? Severity(rawValue: UInt8(g.next() % 8)) : nil,
            receivedAt: SyslogTimestamp(seconds: now.seconds - Int64(g.next() % 7200), nanoseconds: 0, fractionDigits: 6),
            hostname: maybe(&g) ? pick(hosts, &g) : nil, appName: maybe(&g) ? pick(apps, &g) : nil,
            procID: maybe(&g) ? pick(["1", "12"], &g) : nil, msgID: maybe(&g) ? pick(["ID47", "id4"], &g) : nil,
            structuredData: sd, message: message, source: maybe(&g) ? pick(["192.0.2.7", "198.51.100.9"], &g) : nil,
            format: pick(WireFormat.allCases, &g))
    }

    static func predicate(_ g: inout Generator) -> QueryPredicate {
        switch g.next() % 8 {
        case 0, 1:
            let phrase = (0..<Int(g.next() % 3)).flatMap { _ in LogTokenizer.tokens(pick(words, &g)) }
            // Now and then a word the tokenizer never produces (upper case), which must match nothing.
            return .tokens(g.next() % 8 == 0 ? phrase.map { $0.uppercased() } : phrase, prefix: g.next() % 3 == 0)
        case 2: return .substring(pick(["->", "%", "--", "", ", ", "—", "🙂", "Error"], &g))
        case 3: return .equals(pick(hosts + apps + ["rfc5424", "RFC3164", "192.0.2.7", "12", "ID47", "prod"], &g))
        case 4: return .prefix(pick(["web", "WEB-1", "ng", "", "rfc", "192.", "1", "id", "PRO", "nginx-x"], &g))
        case 5: return .regex(pick(["err.r", "(?i)ERROR", "^web", "\\d{2}", "[", "^$", "Ås"], &g))
        case 6: return .compare(pick([.lt, .le, .eq, .ge, .gt], &g), Int(g.next() % 10) - 1)
        default:
            let t: QueryTime = g.next() % 2 == 0 ? .ago(Int64(g.next() % 7200)) : .absolute(SyslogTimestamp(seconds: now.seconds - 3600))
            return .time(pick([.lt, .le, .eq, .ge, .gt], &g), t)
        }
    }

    static func field(_ g: inout Generator) -> QueryField {
        pick(
            [.message, .message, .message, .hostname, .app, .procid, .msgid, .facility, .severity, .source, .format,
             .sd(id: "origin", param: "ip"), .sd(id: "meta", param: "env"), .receivedAt], &g)
    }

    static func node(_ g: inout Generator, depth: Int = 0) -> QueryNode {
        switch depth < 3 ? g.next() % 7 : 6 {
        case 0: return .and((0..<Int(g.next() % 4)).map { _ in node(&g, depth: depth + 1) })
        case 1: return .or((0..<Int(g.next() % 4)).map { _ in node(&g, depth: depth + 1) })
        case 2: return .not(node(&g, depth: depth + 1))
        case 3: return .all
        default:
            let f = field(&g)
            var p = predicate(&g)
            // Mostly the shapes the parser builds; a few odd ones stay.
            if g.next() % 4 != 0 {
                switch f {
                case .severity, .facility: p = .compare(pick([.lt, .le, .eq, .ge, .gt], &g), Int(g.next() % 9))
                case .receivedAt: if !p.isTime { p = .time(pick([.ge, .lt], &g), .ago(Int64(g.next() % 7200))) }
                default: break
                }
            }
            return .term(QueryTerm(field: f, predicate: p))
        }
    }

    /// The reference: each term decided from the AST with `QuerySemantics` and `FieldTest`.
    static func reference(_ node: QueryNode, _ r: LogRecord) -> Bool {
        switch node {
        case .all: return true
        case .and(let nodes): return nodes.allSatisfy { reference($0, r) }
        case .or(let nodes): return nodes.contains { reference($0, r) }
        case .not(let n): return !reference(n, r)
        case .term(let term):
            switch (term.field, term.predicate) {
            case (.message, .tokens(let t, let prefix)):
                return r.withBytes(of: .message) {
                    QuerySemantics.containsPhrase(QuerySemantics.tokens(of: $0), t.map { Array($0.utf8) }, prefix: prefix)
                }
            case (.message, .substring(let s)):
                return r.withBytes(of: .message) { QuerySemantics.contains($0, Array(s.utf8)) }
            case (.receivedAt, .time(let op, let t)):
                return op.holds(r.receivedAt, t.resolved(now: now))
            case (.severity, .compare(let op, let v)):
                return r.severity.map { op.holds(Int($0.rawValue), v) } ?? false
            case (.facility, .compare(let op, let v)):
                return r.facility.map { op.holds(Int($0.rawValue), v) } ?? false
            case (.sd(let id, let param), let p):
                let test = FieldTest(p)
                return (r.structuredData ?? []).contains { e in
                    e.id == id && e.parameters.contains { $0.name == param && test.matches($0.value) }
                }
            case (let field, let p):
                let test = FieldTest(p)
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
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func generatedQueriesAgreeWithTheAST(seed: UInt64) {
        var g = Generator(state: seed)
        let records = (0..<150).map { _ in Self.record(&g) }
        let queries = (0..<400).map { _ in Query(root: Self.node(&g), text: "") }
        let matchers = queries.map { QueryMatcher($0, now: Self.now) }
        // As the rule engine asks: one token buffer for all queries of a record, reused from record to record.
        var shared = MessageTokens()
        for r in records {
            shared.reset()
            for (q, m) in zip(queries, matchers) {
                let expected = Self.reference(q.root, r)
                #expect(m.matches(r) == expected, "seed \(seed): \(q) on \(r.message.debugDescription)")
                #expect(m.matches(r, sharing: &shared) == expected, "seed \(seed), shared: \(q) on \(r.message.debugDescription)")
            }
        }
    }

    /// A matcher that is the first to need the words of a record must not see the previous record's.
    @Test func resetTokenizesTheNextRecord() throws {
        let matcher = QueryMatcher(try QueryParser.parse("\"timed out\""), now: Self.now)
        let yes = LogRecord(receivedAt: Self.now, message: "upstream timed out")
        let no = LogRecord(receivedAt: Self.now, message: "all fine")
        var tokens = MessageTokens()
        #expect(matcher.matches(yes, sharing: &tokens))
        tokens.reset()
        #expect(!matcher.matches(no, sharing: &tokens))
        tokens.reset()
        #expect(matcher.matches(yes, sharing: &tokens))
    }

    /// `MessageTokens` reads a message into the words `LogTokenizer` gives the full-text index, byte for byte,
    /// including invalid UTF-8, combining marks and letters whose lower case is longer.
    @Test func messageTokensAreTheTokenizersWords() {
        var g = Generator(state: 7)
        let pieces: [[UInt8]] = (Self.words + Self.separators + ["\u{130}", "ǅ", "Ⅻ", "٣", "\u{200B}"]).map { Array($0.utf8) }
            + [[0xFF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F], [0xED, 0xA0, 0x80], [0xC0, 0xAF], [0]]
        var tokens = MessageTokens()
        for _ in 0..<2_000 {
            var text: [UInt8] = []
            for _ in 0..<Int(g.next() % 12) { text += Self.pick(pieces, &g) }
            var expected: [String] = []
            text.withUnsafeBufferPointer { buffer in
                LogTokenizer.forEachToken(in: buffer) { token, _ in expected.append(String(decoding: token, as: UTF8.self)) }
            }
            text.withUnsafeBytes { tokens.fill($0) }
            #expect(tokens.words == expected, "\(text)")
        }
        tokens.fill(nil)
        #expect(tokens.words.isEmpty)
    }
}

extension QueryPredicate {
    fileprivate var isTime: Bool {
        if case .time = self { return true }
        return false
    }
}
