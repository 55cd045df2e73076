/// One thing wrong with a rule: where it is (file, rule, field, line) and why.
///
/// Reads as `rules.d/ssh.yaml: rule "ssh-brute-force": window: "60" is not a duration (use 60s, 5m, 1h)`.
public struct RuleProblem: Sendable, Hashable, CustomStringConvertible {
    /// The file (or `api`) the rule came from.
    public var origin: String
    /// `rule "name"`, or `rule #3` (1-based position) when the rule has no usable name; nil for the file itself.
    public var rule: String?
    /// The key at fault (`window`, `throttle.per`, `group_by[1]`); nil when the problem is the whole rule.
    public var field: String?
    public var reason: String
    /// The line in the file, when known (not part of `description`, which keeps one stable form).
    public var line: Int?

    public init(origin: String, rule: String? = nil, field: String? = nil, reason: String, line: Int? = nil) {
        self.origin = origin
        self.rule = rule
        self.field = field
        self.reason = reason
        self.line = line
    }

    public var description: String {
        var text = origin + ": "
        if let rule { text += rule + ": " }
        if let field { text += field + ": " }
        return text + reason
    }
}

/// Rules that cannot be used, with every problem found (not just the first), so one `validate` run lists them all.
public struct RuleError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A file or directory could not be read.
        case unreadable
        /// The text is not YAML.
        case notYAML
        /// A rule is wrong (a field, a duplicate name, an unknown channel).
        case invalid
    }

    public var code: Code
    public var problems: [RuleProblem]

    public init(_ code: Code, _ problems: [RuleProblem]) {
        self.code = code
        self.problems = problems
    }

    /// One problem a line.
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}
