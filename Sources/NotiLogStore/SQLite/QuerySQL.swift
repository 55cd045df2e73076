import GRDB
import NotiLogCore

/// Compiles a query's AST to an SQL condition on `logs`. Values only ever reach SQL as bound arguments.
///
/// Every condition is two-valued (never NULL), so `NOT` means what the in-memory matcher means. Message words
/// use the FTS5 index for rows it covers (`indexed`), and the `notilog_tokens()` function — the same tokenizer
/// and phrase rule — for the not-yet-indexed tail.
struct QuerySQL {
    var sql = ""
    var arguments: [DatabaseValue] = []

    static func compile(_ node: QueryNode, now: SyslogTimestamp, indexed: Bool) -> QuerySQL {
        var c = QuerySQL()
        c.append(node, now: now, indexed: indexed)
        return c
    }

    private mutating func bind(_ value: some DatabaseValueConvertible) {
        arguments.append(value.databaseValue)
    }

    private mutating func append(_ node: QueryNode, now: SyslogTimestamp, indexed: Bool) {
        switch node {
        case .all:
            sql += "1"
        case .and(let nodes), .or(let nodes):
            let joiner: String
            if case .and = node { joiner = " AND " } else { joiner = " OR " }
            sql += "("
            for (k, n) in nodes.enumerated() {
                if k > 0 { sql += joiner }
                append(n, now: now, indexed: indexed)
            }
            sql += ")"
        case .not(let inner):
            sql += "NOT ("
            append(inner, now: now, indexed: indexed)
            sql += ")"
        case .term(let term):
            append(term, now: now, indexed: indexed)
        }
    }

    private static func column(_ field: QueryField) -> String? {
        switch field {
        case .message: "logs.message"
        case .hostname: "logs.hostname"
        case .app: "logs.app"
        case .procid: "logs.procid"
        case .msgid: "logs.msgid"
        case .source: "logs.source"
        default: nil
        }
    }

    private mutating func append(_ term: QueryTerm, now: SyslogTimestamp, indexed: Bool) {
        switch (term.field, term.predicate) {
        case (.message, .tokens(let tokens, let prefix)):
            if indexed {
                sql += "logs.id IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)"
                bind(Self.ftsPhrase(tokens, prefix: prefix))
            } else {
                sql += "notilog_tokens(CAST(logs.message AS BLOB), ?, ?)"
                bind(tokens.joined(separator: " "))
                bind(prefix ? 1 : 0)
            }
        case (.message, .substring(let text)):
            sql += "instr(logs.message, ?) > 0"
            bind(text)
        case (.receivedAt, .time(let op, let bound)):
            sql += "logs.received_at \(op.rawValue) ?"
            bind(bound.resolved(now: now).nanosecondsSinceEpoch)
        case (.severity, .compare(let op, let value)), (.facility, .compare(let op, let value)):
            let col = term.field == .severity ? "logs.severity" : "logs.facility"
            sql += "(\(col) IS NOT NULL AND \(col) \(op.rawValue) ?)"
            bind(value)
        case (.format, let predicate):
            let test = FieldTest(predicate)
            let codes = WireFormat.allCases.filter { test.matches($0.rawValue) }.map { String(SQLiteLogStore.formatCode($0)) }
            sql += codes.isEmpty ? "0" : "logs.format IN (\(codes.joined(separator: ",")))"
        case (.sd(let id, let param), let predicate):
            sql += "notilog_sd(CAST(logs.sd AS BLOB), ?, ?, ?, ?)"
            bind(id)
            bind(param)
            appendModeAndValue(predicate)
        case (.hostname, .equals(let value)), (.app, .equals(let value)):
            // Through the key's index (FieldNames); -1 when no record ever had that name.
            let (col, code) = term.field == .hostname ? ("logs.host_key", FieldNames.Field.hostname) : ("logs.app_key", .app)
            sql += "(\(col) IS NOT NULL AND \(col) = coalesce((SELECT id FROM field_names WHERE field = \(code.rawValue) AND name = ?), -1))"
            bind(value)
        case (let field, .equals(let value)):
            guard let col = Self.column(field) else { return sql += "0" }
            sql += "(\(col) IS NOT NULL AND \(col) = ? COLLATE NOCASE)"
            bind(value)
        case (let field, .prefix(let value)):
            guard let col = Self.column(field) else { return sql += "0" }
            sql += "(\(col) IS NOT NULL AND \(col) LIKE ? ESCAPE '\\')"
            bind(Self.likeEscaped(value) + "%")
        case (let field, .regex(let pattern)):
            guard let col = Self.column(field) else { return sql += "0" }
            if let literal = RegexPrefilter.requiredLiteral(pattern) {
                sql += "(instr(\(col), ?) > 0 AND notilog_regex(CAST(\(col) AS BLOB), ?))"
                bind(literal)
            } else {
                sql += "notilog_regex(CAST(\(col) AS BLOB), ?)"
            }
            bind(pattern)
        default:
            sql += "0"
        }
    }

    private mutating func appendModeAndValue(_ predicate: QueryPredicate) {
        switch predicate {
        case .equals(let v):
            bind(0)
            bind(v)
        case .prefix(let v):
            bind(1)
            bind(v)
        case .regex(let r):
            bind(2)
            bind(r)
        default:
            bind(-1)
            bind("")
        }
    }

    /// For queries whose top level requires message words (`disk error host:db*`): an FTS5 expression for those
    /// words and the rest of the query. A search can then walk the full-text index newest first and stop after
    /// one page, whether the words are rare or in every other record (`id IN (SELECT … MATCH …)` would first
    /// collect every match).
    static func fullTextDriver(_ root: QueryNode) -> (match: String, rest: QueryNode)? {
        /// The node as an FTS5 expression when it is made of message words, AND and OR only.
        func expression(_ node: QueryNode) -> String? {
            switch node {
            case .term(let t):
                guard t.field == .message, case .tokens(let tokens, let prefix) = t.predicate, !tokens.isEmpty else { return nil }
                return ftsPhrase(tokens, prefix: prefix)
            case .and(let nodes), .or(let nodes):
                let parts = nodes.map(expression)
                guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
                let joiner: String
                if case .and = node { joiner = " AND " } else { joiner = " OR " }
                return "(" + parts.compactMap { $0 }.joined(separator: joiner) + ")"
            default:
                return nil
            }
        }
        if let e = expression(root) { return (e, .all) }
        guard case .and(let nodes) = root else { return nil }
        let expressions = nodes.compactMap(expression)
        guard !expressions.isEmpty else { return nil }
        let others = nodes.filter { expression($0) == nil }
        return (expressions.joined(separator: " AND "), others.isEmpty ? .all : .and(others))
    }

    /// The reception-time range every matching record is in, from the query's top-level `since:` / `until:`
    /// terms (both ends inclusive, ns since epoch; nil where the query sets no bound). Terms under OR or NOT
    /// bound nothing here; they are still evaluated on each row.
    static func receivedRange(_ root: QueryNode, now: SyslogTimestamp) -> (lower: Int64?, upper: Int64?) {
        let terms: [QueryNode]
        switch root {
        case .and(let nodes): terms = nodes
        case .term: terms = [root]
        default: terms = []
        }
        var lower: Int64? = nil
        var upper: Int64? = nil
        func raise(_ v: Int64) { lower = Swift.max(lower ?? v, v) }
        func cut(_ v: Int64) { upper = Swift.min(upper ?? v, v) }
        for case .term(let t) in terms {
            guard t.field == .receivedAt, case .time(let op, let bound) = t.predicate else { continue }
            let v = bound.resolved(now: now).nanosecondsSinceEpoch
            switch op {
            case .ge: raise(v)
            case .gt: raise(v == .max ? v : v + 1)
            case .le: cut(v)
            case .lt: cut(v == .min ? v : v - 1)
            case .eq:
                raise(v)
                cut(v)
            }
        }
        return (lower, upper)
    }

    /// An FTS5 phrase of folded tokens (they hold only letters, digits and marks, so quoting is plain).
    static func ftsPhrase(_ tokens: [String], prefix: Bool) -> String {
        "\"" + tokens.joined(separator: " ") + "\"" + (prefix ? " *" : "")
    }

    static func likeEscaped(_ value: String) -> String {
        var out = ""
        for c in value {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
