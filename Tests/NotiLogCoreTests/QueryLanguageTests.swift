import Testing

@testable import NotiLogCore

@Suite("Query language")
struct QueryLanguageTests {
    static let now = SyslogTimestamp(seconds: 1_764_076_672)  // 2025-11-25T13:17:52Z

    static func record(_ wire: String, receivedAgo: Int64 = 0, source: String? = "192.0.2.7") -> LogRecord {
        SyslogParser().parse(wire, receivedAt: SyslogTimestamp(seconds: now.seconds - receivedAgo), source: source)
    }

    static let nginx = record("<11>1 2025-11-25T13:17:50Z web-1 nginx 812 - [origin@32473 ip=\"10.0.0.5\" ip=\"10.0.0.6\"] upstream timed out (110: Connection timed out) while reading")
    static let sshd = record("<38>Nov 25 13:10:00 bastion sshd[2201]: Failed password for invalid user admin from 203.0.113.7 port 51234 ssh2", receivedAgo: 600)
    static let health = record("<14>1 2025-11-25T13:17:51Z web-2 nginx - - - GET /healthcheck 200 UI_COMMIT naïve ->", receivedAgo: 7200)

    struct Case: Sendable, CustomTestStringConvertible {
        var query: String
        var matches: [String]  // names of the records above that match
        var testDescription: String { query }
    }

    static let cases: [Case] = [
        Case(query: "", matches: ["nginx", "sshd", "health"]),
        Case(query: "timed", matches: ["nginx"]),
        Case(query: "TIMED", matches: ["nginx"]),
        Case(query: "\"upstream timed out\"", matches: ["nginx"]),
        Case(query: "\"timed upstream\"", matches: []),
        Case(query: "time*", matches: ["nginx"]),
        Case(query: "tim", matches: []),
        Case(query: "host:web-1", matches: ["nginx"]),
        Case(query: "host:WEB-1", matches: ["nginx"]),
        Case(query: "host:web*", matches: ["nginx", "health"]),
        Case(query: "-host:web-1", matches: ["sshd", "health"]),
        Case(query: "app:nginx -healthcheck", matches: ["nginx"]),
        Case(query: "app:nginx AND NOT healthcheck", matches: ["nginx"]),
        Case(query: "host:bastion OR host:web-2", matches: ["sshd", "health"]),
        Case(query: "(host:bastion OR host:web-2) app:nginx", matches: ["health"]),
        Case(query: "(host:bastion OR host:web-2) nginx", matches: []),
        Case(query: "host:bastion OR host:web-2 app:nginx", matches: ["sshd", "health"]),
        Case(query: "severity:err", matches: ["nginx"]),
        Case(query: "severity:<=warning", matches: ["nginx"]),
        Case(query: "severity:>=info", matches: ["sshd", "health"]),
        Case(query: "severity:6", matches: ["sshd", "health"]),
        Case(query: "facility:auth", matches: ["sshd"]),
        Case(query: "facility:user", matches: ["nginx", "health"]),
        Case(query: "procid:2201", matches: ["sshd"]),
        Case(query: "pid:*", matches: ["nginx", "sshd"]),
        Case(query: "sd.origin@32473.ip:10.0.0.6", matches: ["nginx"]),
        Case(query: "sd.origin@32473.ip:10.0.0.*", matches: ["nginx"]),
        Case(query: "sd.origin@32473.nope:x", matches: []),
        Case(query: "message:/Failed password for .* from/", matches: ["sshd"]),
        Case(query: "/failed/", matches: []),
        Case(query: "/(?i)failed/", matches: ["sshd"]),
        Case(query: "203.0.113.7", matches: ["sshd"]),
        Case(query: "\"113.7 port\"", matches: ["sshd"]),
        Case(query: "commit", matches: ["health"]),
        Case(query: "UI_COMMIT", matches: ["health"]),
        Case(query: "naïve", matches: ["health"]),
        Case(query: "NAÏVE", matches: ["health"]),
        Case(query: "->", matches: ["health"]),
        Case(query: "\"->\"", matches: ["health"]),
        Case(query: "-\"->\"", matches: ["nginx", "sshd"]),
        Case(query: "since:-5m", matches: ["nginx"]),
        Case(query: "since:-1h", matches: ["nginx", "sshd"]),
        Case(query: "until:-1h", matches: ["health"]),
        Case(query: "since:2025-11-25T13:00:00Z until:2025-11-25T13:15:00Z", matches: ["sshd"]),
        Case(query: "since:2025-11-25", matches: ["nginx", "sshd", "health"]),
        Case(query: "format:rfc3164", matches: ["sshd"]),
        Case(query: "source:192.0.2.7", matches: ["nginx", "sshd", "health"]),
        Case(query: "msgid:x", matches: []),
        Case(query: "-msgid:x", matches: ["nginx", "sshd", "health"]),
    ]

    @Test(arguments: cases)
    func matching(_ c: Case) throws {
        let query = try QueryParser.parse(c.query)
        let matcher = QueryMatcher(query, now: Self.now)
        let records = [("nginx", Self.nginx), ("sshd", Self.sshd), ("health", Self.health)]
        let got = records.filter { matcher.matches($0.1) }.map(\.0)
        #expect(got == c.matches, "\(query)")
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var query: String
        var column: Int
        var reason: String
        var testDescription: String { query }
    }

    static let errors: [ErrorCase] = [
        ErrorCase(query: "hots:web-1", column: 1, reason: "unknown field 'hots'"),
        ErrorCase(query: "\"upstream timed", column: 1, reason: "quote is not closed"),
        ErrorCase(query: "app:nginx (host:a", column: 11, reason: "'(' is not closed"),
        ErrorCase(query: "host:a)", column: 7, reason: "')' without a matching '('"),
        ErrorCase(query: "a OR", column: 3, reason: "OR needs a term after it"),
        ErrorCase(query: "AND b", column: 1, reason: "AND needs a term before it"),
        ErrorCase(query: "severity:<=loud", column: 12, reason: "not a severity"),
        ErrorCase(query: "facility:local9", column: 10, reason: "not a facility"),
        ErrorCase(query: "message:/a(/", column: 9, reason: "invalid regular expression"),
        ErrorCase(query: "/abc", column: 1, reason: "not closed by '/'"),
        ErrorCase(query: "since:yesterday", column: 7, reason: "is not a time"),
        ErrorCase(query: "ti*me", column: 1, reason: "'*' is allowed only at the end"),
        ErrorCase(query: "host:", column: 6, reason: "expected a value for host"),
        ErrorCase(query: "sd.origin:x", column: 1, reason: "sd.ID.PARAM"),
        ErrorCase(query: "format:json", column: 8, reason: "format is rfc5424"),
        ErrorCase(query: "()", column: 1, reason: "empty parentheses"),
        ErrorCase(query: "NOT", column: 1, reason: "NOT needs a term"),
        ErrorCase(query: "*", column: 1, reason: "a wildcard needs a word"),
    ]

    @Test(arguments: errors)
    func malformedQueriesSayWhereAndWhy(_ c: ErrorCase) {
        #expect(throws: QueryError.self) { try QueryParser.parse(c.query) }
        do {
            _ = try QueryParser.parse(c.query)
        } catch {
            #expect(error.column == c.column, "\(error)")
            #expect(error.message.contains(c.reason), "\(error)")
        }
    }

    @Test func operatorsAreUpperCaseOnly() throws {
        let q = try QueryParser.parse("error or warning")
        #expect(q.root == .and([
            .term(QueryTerm(field: .message, predicate: .tokens(["error"], prefix: false))),
            .term(QueryTerm(field: .message, predicate: .tokens(["or"], prefix: false))),
            .term(QueryTerm(field: .message, predicate: .tokens(["warning"], prefix: false))),
        ]))
    }

    @Test func tokenizerSplitsLikeTheIndex() {
        #expect(LogTokenizer.tokens("UI_COMMIT: user 'Admin' from 10.0.0.1, naïve ÅSA") == ["ui", "commit", "user", "admin", "from", "10", "0", "0", "1", "naïve", "åsa"])
        #expect(LogTokenizer.tokens("--> ::") == [])
    }
}
