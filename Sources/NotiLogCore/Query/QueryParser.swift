/// Parses the search language:
///
///     host:web-1 app:nginx severity:<=err "upstream timed out" -healthcheck
///     app:sshd* message:/Failed password for .* from/ since:-1h
///     (host:db-1 OR host:db-2) AND NOT msgid:HEARTBEAT
///
/// Terms side by side must all match (AND); `OR` binds looser than AND; `-term` or `NOT term` negates;
/// parentheses group. `AND`, `OR` and `NOT` are operators only in upper case.
public enum QueryParser {
    /// Field names and their aliases.
    static let fields: [String: QueryField] = [
        "message": .message, "msg": .message,
        "host": .hostname, "hostname": .hostname,
        "app": .app, "program": .app, "tag": .app,
        "procid": .procid, "pid": .procid,
        "msgid": .msgid,
        "facility": .facility,
        "severity": .severity, "level": .severity, "sev": .severity,
        "source": .source, "src": .source,
        "format": .format,
    ]

    public static func parse(_ text: String) throws(QueryError) -> Query {
        var p = Parser(text)
        let root = try p.parseQuery()
        return Query(root: root, text: text)
    }
}

private struct Parser {
    let s: [Unicode.Scalar]
    var i = 0

    init(_ text: String) {
        s = Array(text.unicodeScalars)
    }

    func fail(_ at: Int, _ message: String) -> QueryError { QueryError(column: at + 1, message: message) }

    mutating func skipSpace() {
        while i < s.count, s[i].properties.isWhitespace { i += 1 }
    }

    func isOperator(_ word: String) -> Bool {
        guard i + word.unicodeScalars.count <= s.count else { return false }
        let end = i + word.unicodeScalars.count
        guard String(String.UnicodeScalarView(s[i..<end])) == word else { return false }
        return end == s.count || s[end].properties.isWhitespace || s[end] == "(" || s[end] == ")"
    }

    mutating func parseQuery() throws(QueryError) -> QueryNode {
        skipSpace()
        if i == s.count { return .all }
        let node = try parseOr()
        skipSpace()
        if i < s.count {
            throw fail(i, s[i] == ")" ? "')' without a matching '('" : "unexpected '\(s[i])'")
        }
        return node
    }

    mutating func parseOr() throws(QueryError) -> QueryNode {
        var nodes = [try parseAnd()]
        while true {
            skipSpace()
            guard isOperator("OR") else { break }
            let at = i
            i += 2
            skipSpace()
            if i == s.count || s[i] == ")" { throw fail(at, "OR needs a term after it") }
            nodes.append(try parseAnd())
        }
        return nodes.count == 1 ? nodes[0] : .or(nodes)
    }

    mutating func parseAnd() throws(QueryError) -> QueryNode {
        var nodes: [QueryNode] = []
        while true {
            skipSpace()
            if i == s.count || s[i] == ")" || isOperator("OR") { break }
            if isOperator("AND") {
                let at = i
                if nodes.isEmpty { throw fail(at, "AND needs a term before it") }
                i += 3
                skipSpace()
                if i == s.count || s[i] == ")" || isOperator("OR") { throw fail(at, "AND needs a term after it") }
                continue
            }
            nodes.append(try parseUnary())
        }
        if nodes.isEmpty {
            throw fail(i, i == s.count ? "the query ends where a term was expected" : "expected a term before '\(s[i])'")
        }
        return nodes.count == 1 ? nodes[0] : .and(nodes)
    }

    mutating func parseUnary() throws(QueryError) -> QueryNode {
        skipSpace()
        if isOperator("NOT") {
            let at = i
            i += 3
            skipSpace()
            if i == s.count || s[i] == ")" { throw fail(at, "NOT needs a term after it") }
            return .not(try parseUnary())
        }
        // `-` negates when a term follows it; otherwise (`->`, `--`) it is part of the search text.
        if s[i] == "-", i + 1 < s.count, startsTerm(s[i + 1]) {
            i += 1
            return .not(try parseUnary())
        }
        if s[i] == "(" {
            let open = i
            i += 1
            skipSpace()
            if i < s.count, s[i] == ")" { throw fail(open, "empty parentheses") }
            let inner = try parseOr()
            skipSpace()
            guard i < s.count, s[i] == ")" else { throw fail(open, "'(' is not closed") }
            i += 1
            return inner
        }
        return try parseTerm()
    }

    func startsTerm(_ c: Unicode.Scalar) -> Bool {
        if !c.isASCII { return c.properties.isAlphabetic || c.properties.numericType != nil }
        return c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "\"" || c == "(" || c == "/"
    }

    // MARK: Terms

    mutating func parseTerm() throws(QueryError) -> QueryNode {
        let start = i
        // field:value — a name of field characters followed by ':'.
        var j = i
        while j < s.count, isFieldNameChar(s[j]) { j += 1 }
        if j > i, j < s.count, s[j] == ":" {
            let name = String(String.UnicodeScalarView(s[i..<j]))
            let field = try resolveField(name, at: start)
            i = j + 1
            return try parseFieldValue(field, nameAt: start)
        }
        let value = try readValue(context: "search text")
        return .term(try messageTerm(value, at: start))
    }

    func isFieldNameChar(_ c: Unicode.Scalar) -> Bool {
        c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "." || c == "-" || c == "@")
    }

    func resolveField(_ name: String, at: Int) throws(QueryError) -> QueryField {
        let lower = name.lowercased()
        if let f = QueryParser.fields[lower] { return f }
        if lower == "since" || lower == "until" { return .receivedAt }
        if lower.hasPrefix("sd.") {
            // sd.ID.PARAM: the SD-ID may itself contain dots (`origin`, `junos@2636.1.1.1.2.18`); the param is last.
            let rest = name.dropFirst(3)
            guard let dot = rest.lastIndex(of: "."), dot != rest.startIndex, rest.index(after: dot) != rest.endIndex else {
                throw fail(at, "structured data is named sd.ID.PARAM, e.g. sd.origin.ip")
            }
            return .sd(id: String(rest[..<dot]), param: String(rest[rest.index(after: dot)...]))
        }
        let known = "host, app, procid, msgid, facility, severity, source, format, message, sd.ID.PARAM, since, until"
        throw fail(at, "unknown field '\(name)' (known: \(known)); to search for the text, put it in quotes")
    }

    /// A value as written: a bare word, a "quoted phrase" or a /regex/.
    enum Value {
        case bare(String, wildcard: Bool, at: Int)
        case quoted(String, wildcard: Bool, at: Int)
        case regex(String, at: Int)
    }

    mutating func readValue(context: String) throws(QueryError) -> Value {
        let start = i
        guard i < s.count, !s[i].properties.isWhitespace, s[i] != ")" else {
            throw fail(i, "expected a value for \(context)")
        }
        if s[i] == "\"" {
            i += 1
            var text = String.UnicodeScalarView()
            while i < s.count, s[i] != "\"" {
                if s[i] == "\\", i + 1 < s.count, s[i + 1] == "\"" || s[i + 1] == "\\" { i += 1 }
                text.append(s[i])
                i += 1
            }
            guard i < s.count else { throw fail(start, "quote is not closed") }
            i += 1
            var wildcard = false
            if i < s.count, s[i] == "*" {
                wildcard = true
                i += 1
            }
            try expectEndOfTerm()
            return .quoted(String(text), wildcard: wildcard, at: start)
        }
        if s[i] == "/" {
            i += 1
            var pattern = String.UnicodeScalarView()
            while i < s.count, s[i] != "/" {
                if s[i] == "\\", i + 1 < s.count, s[i + 1] == "/" { i += 1 }
                pattern.append(s[i])
                i += 1
            }
            guard i < s.count else { throw fail(start, "regular expression is not closed by '/'") }
            i += 1
            try expectEndOfTerm()
            let text = String(pattern)
            if text.isEmpty { throw fail(start, "empty regular expression") }
            do {
                _ = try Regex(text)
            } catch {
                throw fail(start, "invalid regular expression: \(error)")
            }
            return .regex(text, at: start)
        }
        var text = String.UnicodeScalarView()
        while i < s.count, !s[i].properties.isWhitespace, s[i] != "(", s[i] != ")" {
            if s[i] == "\"" { throw fail(i, "a quote inside a word; quote the whole phrase instead") }
            text.append(s[i])
            i += 1
        }
        var word = String(text)
        var wildcard = false
        if word.hasSuffix("*") {
            wildcard = true
            word.removeLast()
            if word.contains("*") { throw fail(start, "'*' is allowed only at the end of a word") }
        } else if word.contains("*") {
            throw fail(start, "'*' is allowed only at the end of a word")
        }
        return .bare(word, wildcard: wildcard, at: start)
    }

    func expectEndOfTerm() throws(QueryError) {
        if i < s.count, !s[i].properties.isWhitespace, s[i] != ")" {
            throw fail(i, "expected a space after the value")
        }
    }

    func messageTerm(_ value: Value, at: Int) throws(QueryError) -> QueryTerm {
        switch value {
        case .regex(let pattern, _):
            return QueryTerm(field: .message, predicate: .regex(pattern))
        case .bare(let text, let wildcard, let vat), .quoted(let text, let wildcard, let vat):
            let tokens = LogTokenizer.tokens(text)
            if tokens.isEmpty {
                if wildcard { throw fail(vat, "a wildcard needs a word before '*'") }
                if text.isEmpty { throw fail(vat, "empty search text") }
                return QueryTerm(field: .message, predicate: .substring(text))
            }
            // `timeout*` is a prefix only if the '*' follows word characters directly.
            let prefix = wildcard && text.unicodeScalars.last.map(LogTokenizer.isWordScalarOrASCII) == true
            if wildcard && !prefix { throw fail(vat, "'*' must follow a letter or digit") }
            return QueryTerm(field: .message, predicate: .tokens(tokens, prefix: prefix))
        }
    }

    mutating func parseFieldValue(_ field: QueryField, nameAt: Int) throws(QueryError) -> QueryNode {
        let name = String(String.UnicodeScalarView(s[nameAt..<(i - 1)])).lowercased()
        switch field {
        case .message:
            let v = try readValue(context: "message")
            return .term(try messageTerm(v, at: nameAt))
        case .severity, .facility:
            return .term(try parseLevel(field))
        case .receivedAt:
            let at = i
            let v = try readValue(context: name)
            guard case .bare(let text, false, _) = v else { throw fail(at, "\(name): takes a time such as -1h or 2026-11-25T10:00:00Z") }
            guard let t = parseTime(text) else {
                throw fail(at, "\(name): '\(text)' is not a time; use -30s, -15m, -2h, -7d, -1w, now, 2026-11-25 or 2026-11-25T10:00:00Z")
            }
            return .term(QueryTerm(field: .receivedAt, predicate: .time(name == "since" ? .ge : .lt, t)))
        default:
            let v = try readValue(context: name)
            switch v {
            case .regex(let pattern, _):
                return .term(QueryTerm(field: field, predicate: .regex(pattern)))
            case .bare(let text, let wildcard, let vat), .quoted(let text, let wildcard, let vat):
                if field == .format, !wildcard, WireFormat(rawValue: text.lowercased()) == nil {
                    throw fail(vat, "format is rfc5424, rfc3164 or unparsed")
                }
                if text.isEmpty && !wildcard { throw fail(vat, "empty value for \(name)") }
                return .term(QueryTerm(field: field, predicate: wildcard ? .prefix(text) : .equals(text)))
            }
        }
    }

    /// `severity:err`, `severity:<=warning`, `severity:3`, `facility:local4`.
    mutating func parseLevel(_ field: QueryField) throws(QueryError) -> QueryTerm {
        var op = Comparison.eq
        for candidate in [Comparison.le, .ge, .lt, .gt, .eq] {
            let sym = Array(candidate.rawValue.unicodeScalars)
            if i + sym.count <= s.count, Array(s[i..<(i + sym.count)]) == sym {
                op = candidate
                i += sym.count
                break
            }
        }
        let at = i
        var text = String.UnicodeScalarView()
        while i < s.count, !s[i].properties.isWhitespace, s[i] != ")" {
            text.append(s[i])
            i += 1
        }
        let word = String(text)
        if field == .severity {
            guard let sev = Severity(name: word) else {
                throw fail(at, "'\(word)' is not a severity (emerg alert crit err warning notice info debug, or 0-7)")
            }
            return QueryTerm(field: .severity, predicate: .compare(op, Int(sev.rawValue)))
        }
        guard let fac = Facility(name: word) else {
            throw fail(at, "'\(word)' is not a facility (kern user mail daemon auth syslog ... local7, or 0-23)")
        }
        return QueryTerm(field: .facility, predicate: .compare(op, Int(fac.rawValue)))
    }

    /// `now`, `-15m` / `15m` (ago; units s m h d w), `2026-11-25`, `2026-11-25T10:00[:00]` (UTC) or RFC 3339.
    func parseTime(_ text: String) -> QueryTime? {
        if text == "now" { return .ago(0) }
        var body = Substring(text)
        if body.hasPrefix("-") { body = body.dropFirst() }
        if let unit = body.last, let n = Int64(body.dropLast()), n >= 0 {
            let scale: Int64?
            switch unit {
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86_400
            case "w": scale = 604_800
            default: scale = nil
            }
            if let scale { return .ago(n * scale) }
        }
        var candidate = text
        if candidate.count == 10 { candidate += "T00:00:00Z" }
        if candidate.count == 16 { candidate += ":00" }
        if candidate.count == 19 { candidate += "Z" }
        return SyslogTimestamp(rfc3339: candidate).map { .absolute($0) }
    }
}

extension LogTokenizer {
    static func isWordScalarOrASCII(_ s: Unicode.Scalar) -> Bool {
        if s.isASCII {
            let b = UInt8(s.value)
            return ASCII.isDigit(b) || ASCII.isAlpha(b)
        }
        return isWordScalar(s)
    }
}
