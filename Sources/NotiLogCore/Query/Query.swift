/// A parsed search: the one AST that the store compiles to SQL and that rules and live tail evaluate in memory.
public struct Query: Sendable, Hashable, CustomStringConvertible {
    public var root: QueryNode
    /// The text it was parsed from.
    public var text: String

    public init(root: QueryNode, text: String) {
        self.root = root
        self.text = text
    }

    /// Matches every record.
    public static let all = Query(root: .all, text: "")

    public var description: String { root.description }
}

public indirect enum QueryNode: Sendable, Hashable, CustomStringConvertible {
    case all
    case and([QueryNode])
    case or([QueryNode])
    case not(QueryNode)
    case term(QueryTerm)

    public var description: String {
        switch self {
        case .all: "*"
        case .and(let nodes): "(" + nodes.map(\.description).joined(separator: " AND ") + ")"
        case .or(let nodes): "(" + nodes.map(\.description).joined(separator: " OR ") + ")"
        case .not(let node): "NOT " + node.description
        case .term(let term): term.description
        }
    }
}

/// The parts of a record a query can name.
public enum QueryField: Sendable, Hashable, CustomStringConvertible {
    case message, hostname, app, procid, msgid, facility, severity, source, format
    /// A structured-data parameter: `sd.ID.PARAM`.
    case sd(id: String, param: String)
    /// Reception time (`since:` / `until:`).
    case receivedAt

    public var description: String {
        switch self {
        case .message: "message"
        case .hostname: "host"
        case .app: "app"
        case .procid: "procid"
        case .msgid: "msgid"
        case .facility: "facility"
        case .severity: "severity"
        case .source: "source"
        case .format: "format"
        case .sd(let id, let param): "sd.\(id).\(param)"
        case .receivedAt: "received_at"
        }
    }
}

public enum Comparison: String, Sendable, Hashable {
    case lt = "<", le = "<=", eq = "=", ge = ">=", gt = ">"

    public func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .lt: lhs < rhs
        case .le: lhs <= rhs
        case .eq: lhs == rhs
        case .ge: lhs >= rhs
        case .gt: lhs > rhs
        }
    }
}

/// A point in time in `since:` / `until:`: absolute, or relative to the moment the query is evaluated.
public enum QueryTime: Sendable, Hashable, CustomStringConvertible {
    case absolute(SyslogTimestamp)
    /// Seconds before now (0 is now).
    case ago(Int64)

    public func resolved(now: SyslogTimestamp) -> SyslogTimestamp {
        switch self {
        case .absolute(let t): t
        case .ago(let seconds): SyslogTimestamp(seconds: now.seconds - seconds, nanoseconds: now.nanoseconds, fractionDigits: 6)
        }
    }

    public var description: String {
        switch self {
        case .absolute(let t): t.description
        case .ago(let s): "-\(s)s"
        }
    }
}

/// What a term asks of its field.
public enum QueryPredicate: Sendable, Hashable {
    /// Message: these folded tokens appear consecutively; with `prefix` the last one may be the start of a word.
    case tokens([String], prefix: Bool)
    /// Message: a search text with no word characters, matched as a case-sensitive substring.
    case substring(String)
    /// Text field equals the value, ASCII case-insensitively.
    case equals(String)
    /// Text field starts with the value, ASCII case-insensitively (`value*`).
    case prefix(String)
    /// The field (message or text field) matches a regular expression somewhere.
    case regex(String)
    /// Severity or facility number compared with a value.
    case compare(Comparison, Int)
    /// Reception time compared with a bound: `since:` is `>=`, `until:` is `<`.
    case time(Comparison, QueryTime)
}

public struct QueryTerm: Sendable, Hashable, CustomStringConvertible {
    public var field: QueryField
    public var predicate: QueryPredicate

    public init(field: QueryField, predicate: QueryPredicate) {
        self.field = field
        self.predicate = predicate
    }

    public var description: String {
        switch predicate {
        case .tokens(let t, let prefix): "\(field):\"\(t.joined(separator: " "))\"\(prefix ? "*" : "")"
        case .substring(let s): "\(field):substr(\(s))"
        case .equals(let v): "\(field):=\(v)"
        case .prefix(let v): "\(field):\(v)*"
        case .regex(let r): "\(field):/\(r)/"
        case .compare(let op, let v): "\(field):\(op.rawValue)\(v)"
        case .time(let op, let t): "\(field)\(op.rawValue)\(t)"
        }
    }
}

/// A query that could not be parsed: where (1-based character column) and why.
public struct QueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public var column: Int
    public var message: String

    public init(column: Int, message: String) {
        self.column = column
        self.message = message
    }

    public var description: String { "column \(column): \(message)" }
}
