import NotiLogCore
import Yams

/// Reads rules from composed YAML, collecting every problem instead of stopping at the first.
///
/// Walks `Yams.Node` rather than using `Codable`: the walk knows the rule's name and each key's line when it
/// reports a problem, and it goes on after a wrong value.
struct RuleYAMLReader {
    let origin: Rule.Origin
    var problems: [RuleProblem] = []

    init(origin: Rule.Origin) {
        self.origin = origin
    }

    static let keys: [String] = [
        "name", "description", "kind", "query", "group_by", "enabled", "severity", "channels", "for", "repeat_interval",
        "resolve_after", "throttle", "threshold", "window", "field", "learn_for", "states", "max_restarts",
    ]

    /// Keys that belong to some kinds only.
    static let kindKeys: [String: Set<Rule.Kind>] = [
        "threshold": [.threshold],
        "window": [.threshold, .absence, .state],
        "field": [.newValue],
        "learn_for": [.newValue],
        "states": [.state],
        "max_restarts": [.state],
        // Absence and state alerts end when records say so, not after a quiet time.
        "resolve_after": [.match, .threshold, .newValue],
    ]

    // MARK: Document

    mutating func document(_ root: Node) -> [Rule] {
        switch root {
        case .sequence(let list):
            return ruleList(Array(list))
        case .mapping(let map):
            if let list = map["rules"] {
                if case .file = origin {
                    for (key, value) in map where key.string != "rules" {
                        problem(
                            nil, nil, "unknown key \"\(key.string ?? "?")\" next to rules: (a rules file holds a rules: list or one rule)",
                            value)
                    }
                }
                if list.null != nil { return [] }
                guard case .sequence(let items) = list else {
                    problem(nil, "rules", "expected a list of rules", list)
                    return []
                }
                return ruleList(Array(items))
            }
            // A server configuration without rules has none; any other mapping is a single rule.
            if case .config = origin { return [] }
            return rule(root, index: 1).map { [$0] } ?? []
        case .scalar(let s) where root.null != nil || s.string.isEmpty:
            return []
        default:
            problem(nil, nil, "expected a rules: list or a rule mapping", root)
            return []
        }
    }

    mutating func ruleList(_ items: [Node]) -> [Rule] {
        var rules: [Rule] = []
        var seen: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            guard let r = rule(item, index: i + 1) else { continue }
            if let first = seen[r.name] {
                problem("rule \"\(r.name)\"", "name", "rule #\(first) has the same name", item)
                continue
            }
            seen[r.name] = i + 1
            rules.append(r)
        }
        return rules
    }

    // MARK: One rule

    mutating func rule(_ node: Node, index: Int) -> Rule? {
        guard case .mapping(let map) = node else {
            problem("rule #\(index)", nil, "expected a mapping of rule settings (name, kind, query, ...)", node)
            return nil
        }
        let before = problems.count
        var label = "rule #\(index)"

        // The name first: every later problem names the rule by it.
        var name: String? = nil
        if let n = map["name"] {
            if let text = string(n, label, "name") {
                if Self.isValidName(text) {
                    name = text
                    label = "rule \"\(text)\""
                } else {
                    problem(label, "name", "\"\(text)\" is not a rule name (1 to 100 of A-Z a-z 0-9 _ . -)", n)
                }
            }
        } else {
            problem(label, "name", "required", node)
        }

        var values: [String: Node] = [:]
        var written: [String] = []
        for (keyNode, value) in map {
            guard let key = keyNode.scalar?.string else {
                problem(label, nil, "a key must be text", keyNode)
                continue
            }
            if values[key] != nil {
                problem(label, key, "given twice", keyNode)
                continue
            }
            if !Self.keys.contains(key) {
                let hint = Self.closest(to: key, in: Self.keys).map { " (did you mean \($0)?)" } ?? ""
                problem(label, key, "unknown key\(hint)", keyNode)
                continue
            }
            values[key] = value
            written.append(key)
        }

        var kind: Rule.Kind? = nil
        if let k = values["kind"] {
            if let text = string(k, label, "kind") {
                kind = Rule.Kind(rawValue: text)
                if kind == nil {
                    problem(label, "kind", "\"\(text)\" is not a kind (match, threshold, absence, state, new_value)", k)
                }
            }
        } else {
            problem(label, "kind", "required (match, threshold, absence, state or new_value)", node)
        }
        if let kind {
            for key in written {
                guard let kinds = Self.kindKeys[key], !kinds.contains(kind) else { continue }
                let names = Rule.Kind.allCases.filter(kinds.contains).map(\.rawValue)
                problem(label, key, "not a setting of kind \(kind.rawValue) (only of \(Self.orList(names)))", values[key]!)
            }
        }

        var query = Query.all
        var queryRead = true
        if let q = values["query"], let text = string(q, label, "query") {
            do {
                query = try QueryParser.parse(text)
                if Self.usesReceptionTime(query.root) {
                    problem(label, "query", "since: and until: cannot be used in a rule (rules see records as they arrive)", q)
                }
            } catch {
                problem(label, "query", error.description, q)
                queryRead = false
            }
        }
        if kind == .match && queryRead && query.root == .all {
            problem(label, "query", values["query"] == nil ? "required for kind match" : "must not be empty for kind match", node)
        }

        let description = values["description"].flatMap { optionalString($0, label, "description") }
        let enabled = values["enabled"].flatMap { bool($0, label, "enabled") } ?? true
        let severity = values["severity"].flatMap { optionalString($0, label, "severity") }
        let channels = values["channels"].map { channelList($0, label) } ?? []
        let groupBy = values["group_by"].map { fieldList($0, label, "group_by") } ?? []
        let pendingFor = values["for"].flatMap { duration($0, label, "for", allowZero: true) }
        let repeatInterval = values["repeat_interval"].flatMap { duration($0, label, "repeat_interval") }
        let resolveAfter = values["resolve_after"].flatMap { duration($0, label, "resolve_after") } ?? Rule.defaultResolveAfter
        let throttle = values["throttle"].flatMap { throttleValue($0, label) }

        var condition: Rule.Condition? = nil
        switch kind {
        case .match?:
            condition = .match
        case .threshold?:
            let count = required(values, "threshold", label, node) { r, n in r.integer(n, label, "threshold", in: 1...10_000) }
            let window = required(values, "window", label, node) { r, n in r.duration(n, label, "window") }
            if let count, let window { condition = .threshold(count: count, window: window) }
        case .absence?:
            if let window = required(values, "window", label, node, { r, n in r.duration(n, label, "window") }) {
                condition = .absence(window: window)
            }
        case .state?:
            var states: Set<ServiceState> = [.crashed]
            if let s = values["states"] { states = stateList(s, label) }
            var limit: Rule.RestartLimit? = nil
            let maxRestarts = values["max_restarts"].flatMap { integer($0, label, "max_restarts", in: 0...100_000) }
            let window = values["window"].flatMap { duration($0, label, "window") }
            switch (values["max_restarts"], values["window"]) {
            case (nil, nil): break
            case (_?, nil): problem(label, "window", "required with max_restarts (more than max_restarts restarts within window)", node)
            case (nil, let w?): problem(label, "window", "only used with max_restarts", w)
            case (let m?, _?):
                if !states.contains(.restarting) {
                    problem(label, "max_restarts", "only used when states includes restarting", m)
                }
                if let maxRestarts, let window { limit = Rule.RestartLimit(count: maxRestarts, window: window) }
            }
            condition = .state(states: states, restartLimit: limit)
        case .newValue?:
            let field = required(values, "field", label, node) { r, n in r.field(n, label, "field") }
            let learnFor = values["learn_for"].flatMap { duration($0, label, "learn_for", allowZero: true) } ?? Rule.defaultLearnFor
            if let field { condition = .newValue(field: field, learnFor: learnFor) }
            if let field, groupBy.contains(field) {
                problem(label, "field", "\(field) is also in group_by (each group would only ever see one value)", values["field"]!)
            }
        case nil:
            break
        }

        guard problems.count == before, let name, let condition else { return nil }
        return Rule(
            name: name, description: description, condition: condition, query: query, groupBy: groupBy, enabled: enabled,
            severity: severity, channels: channels, pendingFor: pendingFor.flatMap { $0.seconds == 0 ? nil : $0 },
            repeatInterval: repeatInterval, resolveAfter: resolveAfter, throttle: throttle, origin: origin)
    }

    // MARK: Values

    mutating func problem(_ rule: String?, _ field: String?, _ reason: String, _ node: Node?) {
        problems.append(RuleProblem(origin: origin.description, rule: rule, field: field, reason: reason, line: node?.mark?.line))
    }

    mutating func required<T>(
        _ values: [String: Node], _ key: String, _ label: String, _ ruleNode: Node, _ read: (inout RuleYAMLReader, Node) -> T?
    ) -> T? {
        guard let node = values[key] else {
            problem(label, key, "required", ruleNode)
            return nil
        }
        return read(&self, node)
    }

    /// Text as written; quoted or not, a scalar is text (`severity: 1` is the label "1").
    mutating func string(_ node: Node, _ label: String, _ field: String) -> String? {
        guard case .scalar(let s) = node, node.null == nil else {
            problem(label, field, "expected text", node)
            return nil
        }
        return s.string
    }

    /// Text, or nothing for an empty value (`description:`).
    mutating func optionalString(_ node: Node, _ label: String, _ field: String) -> String? {
        if node.null != nil { return nil }
        guard let text = string(node, label, field) else { return nil }
        return text.isEmpty ? nil : text
    }

    mutating func bool(_ node: Node, _ label: String, _ field: String) -> Bool? {
        guard let value = node.bool else {
            problem(label, field, "\(quoted(node)) is not true or false", node)
            return nil
        }
        return value
    }

    mutating func integer(_ node: Node, _ label: String, _ field: String, in range: ClosedRange<Int>) -> Int? {
        guard case .scalar(let s) = node, let n = Int(s.string) else {
            problem(label, field, "\(quoted(node)) is not a whole number", node)
            return nil
        }
        guard range.contains(n) else {
            problem(label, field, "\(n) is out of range (\(range.lowerBound) to \(range.upperBound))", node)
            return nil
        }
        return n
    }

    mutating func duration(_ node: Node, _ label: String, _ field: String, allowZero: Bool = false) -> RuleDuration? {
        guard case .scalar(let s) = node, let d = RuleDuration(s.string) else {
            problem(label, field, "\(quoted(node)) is not a duration (use 60s, 5m, 1h)", node)
            return nil
        }
        if d.seconds == 0 && !allowZero {
            problem(label, field, "must be longer than 0s", node)
            return nil
        }
        return d
    }

    mutating func field(_ node: Node, _ label: String, _ key: String) -> RuleField? {
        guard let text = string(node, label, key) else { return nil }
        guard let f = RuleField(text) else {
            problem(label, key, "\"\(text)\" is not a field (host, app, procid, msgid, source, facility, severity, sd.ID.PARAM)", node)
            return nil
        }
        return f
    }

    /// A list, or one scalar standing for a list of one (`channels: ops`).
    mutating func items(_ node: Node, _ label: String, _ field: String) -> [Node] {
        switch node {
        case .sequence(let s): return Array(s)
        case .scalar where node.null != nil: return []
        case .scalar: return [node]
        default:
            problem(label, field, "expected a list", node)
            return []
        }
    }

    mutating func fieldList(_ node: Node, _ label: String, _ key: String) -> [RuleField] {
        var out: [RuleField] = []
        for (i, item) in items(node, label, key).enumerated() {
            guard let f = field(item, label, "\(key)[\(i)]") else { continue }
            if out.contains(f) {
                problem(label, "\(key)[\(i)]", "\(f) is listed twice", item)
            } else {
                out.append(f)
            }
        }
        return out
    }

    mutating func channelList(_ node: Node, _ label: String) -> [String] {
        var out: [String] = []
        for (i, item) in items(node, label, "channels").enumerated() {
            guard let name = string(item, label, "channels[\(i)]") else { continue }
            if name.isEmpty {
                problem(label, "channels[\(i)]", "empty channel name", item)
            } else if out.contains(name) {
                problem(label, "channels[\(i)]", "\"\(name)\" is listed twice", item)
            } else {
                out.append(name)
            }
        }
        return out
    }

    mutating func stateList(_ node: Node, _ label: String) -> Set<ServiceState> {
        var out: Set<ServiceState> = []
        let list = items(node, label, "states")
        for (i, item) in list.enumerated() {
            guard let text = string(item, label, "states[\(i)]") else { continue }
            guard let s = ServiceState(rawValue: text), s != .running else {
                problem(label, "states[\(i)]", "\"\(text)\" is not a state that fires (crashed, stopped, restarting)", item)
                continue
            }
            out.insert(s)
        }
        if list.isEmpty { problem(label, "states", "list at least one of crashed, stopped, restarting", node) }
        return out
    }

    mutating func throttleValue(_ node: Node, _ label: String) -> Rule.Throttle? {
        guard case .mapping(let map) = node else {
            problem(label, "throttle", "expected {max: N, per: DURATION}, e.g. {max: 3, per: 1h}", node)
            return nil
        }
        var max: Int? = nil
        var per: RuleDuration? = nil
        for (keyNode, value) in map {
            switch keyNode.string {
            case "max": max = integer(value, label, "throttle.max", in: 1...1_000_000)
            case "per": per = duration(value, label, "throttle.per")
            default: problem(label, "throttle", "unknown key \"\(keyNode.string ?? "?")\" (throttle has max and per)", keyNode)
            }
        }
        if map["max"] == nil { problem(label, "throttle.max", "required", node) }
        if map["per"] == nil { problem(label, "throttle.per", "required", node) }
        guard let max, let per else { return nil }
        return Rule.Throttle(max: max, per: per)
    }

    func quoted(_ node: Node) -> String {
        if case .scalar(let s) = node { return "\"\(s.string)\"" }
        return "a \(node.sequence != nil ? "list" : "mapping")"
    }

    // MARK: Helpers

    static func isValidName(_ name: String) -> Bool {
        guard (1...100).contains(name.utf8.count) else { return false }
        return name.utf8.allSatisfy { b in
            (b | 0x20) &- 97 < 26 || b &- 48 < 10 || b == UInt8(ascii: "_") || b == UInt8(ascii: ".") || b == UInt8(ascii: "-")
        }
    }

    static func usesReceptionTime(_ node: QueryNode) -> Bool {
        switch node {
        case .all: false
        case .and(let nodes), .or(let nodes): nodes.contains(where: usesReceptionTime)
        case .not(let n): usesReceptionTime(n)
        case .term(let t): t.field == .receivedAt
        }
    }

    static func orList(_ items: [String]) -> String {
        items.count <= 1 ? items.joined() : items.dropLast().joined(separator: ", ") + " or " + items.last!
    }

    /// The known key within two edits of a misspelt one (`treshold` → `threshold`).
    static func closest(to word: String, in candidates: [String]) -> String? {
        func distance(_ a: [Character], _ b: [Character]) -> Int {
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            return a.isEmpty ? b.count : row[b.count]
        }
        let w = Array(word)
        let best = candidates.map { ($0, distance(w, Array($0))) }.min { $0.1 < $1.1 }
        guard let best, best.1 <= 2 else { return nil }
        return best.0
    }
}
