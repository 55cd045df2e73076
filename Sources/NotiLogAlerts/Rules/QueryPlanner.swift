import NotiLogCore

/// Reorders a rule's query so cheap tests run first.
///
/// `QueryMatcher` evaluates AND terms in the order written and stops at the first that fails; a rule written
/// `"Failed password" app:sshd` would tokenize every record's message before looking at its app. AND and OR are
/// commutative and matching has no side effects, so the reordered query matches exactly the same records.
enum QueryPlanner {
    static func cheapFirst(_ query: Query) -> Query {
        Query(root: reorder(query.root), text: query.text)
    }

    static func reorder(_ node: QueryNode) -> QueryNode {
        switch node {
        case .and(let nodes): .and(nodes.map(reorder).enumerated().sorted { order($0, $1) }.map(\.element))
        case .or(let nodes): .or(nodes.map(reorder).enumerated().sorted { order($0, $1) }.map(\.element))
        case .not(let inner): .not(reorder(inner))
        case .all, .term: node
        }
    }

    /// By cost, then as written (a stable sort).
    private static func order(_ a: (offset: Int, element: QueryNode), _ b: (offset: Int, element: QueryNode)) -> Bool {
        let (ca, cb) = (cost(a.element), cost(b.element))
        return ca != cb ? ca < cb : a.offset < b.offset
    }

    /// A rough price: a number compare, a header field, structured data, a substring, tokenizing, a regex.
    static func cost(_ node: QueryNode) -> Int {
        switch node {
        case .all: return 0
        case .and(let nodes), .or(let nodes): return nodes.reduce(0) { $0 + cost($1) }
        case .not(let inner): return cost(inner)
        case .term(let term):
            switch (term.field, term.predicate) {
            case (_, .regex): return 20
            case (.message, .tokens): return 10
            case (.message, .substring): return 6
            case (.message, _): return 6
            case (.sd, _): return 4
            case (.severity, _), (.facility, _), (.receivedAt, _): return 1
            default: return 2
            }
        }
    }
}
