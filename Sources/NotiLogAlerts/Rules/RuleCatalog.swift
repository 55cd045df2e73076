import NotiLogCore
import NotiLogStore

/// Every rule the server knows, whatever its origin, and the changes the API makes to them.
///
/// Rules come from the configuration's `rules:` and `rules.d/` (read again on SIGHUP and `rules reload`) and from
/// the database (created, replaced and deleted through the API). Any rule can be disabled or enabled through the
/// API; that setting is stored too and outlasts reloads and restarts. The catalog puts them together and hands
/// the rules in force to the engine after every change.
///
/// A file's rule is never overridden by the API: an API rule whose name a file now uses, or whose channel is no
/// longer configured, is kept in the database but not evaluated, and listed with the reason (`problem`). The
/// file rules themselves are checked on load; a reload with problems keeps the rules in force.
public actor RuleCatalog {
    /// One rule as listings show it.
    public struct Entry: Sendable {
        public var rule: Rule
        /// For a rule created through the API: who created and last changed it.
        public var stored: StoredRuleRow?
        /// The enabled/disabled setting made through the API, if any.
        public var toggle: RuleToggleRow?
        /// Why a rule stored through the API is not evaluated (nil when it is in force).
        public var problem: String?

        public var inForce: Bool { problem == nil }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public enum Code: Sendable { case notFound, conflict, invalid }
        public var code: Code
        public var message: String
        public var problems: [RuleProblem]

        init(_ code: Code, _ message: String, problems: [RuleProblem] = []) {
            self.code = code
            self.message = message
            self.problems = problems
        }

        public var description: String {
            ([message] + problems.map { "  " + $0.description }).joined(separator: "\n")
        }
    }

    private let store: any AlertStore
    private let knownChannels: Set<String>
    private let loadFiles: @Sendable () throws -> [Rule]
    private let apply: @Sendable ([Rule]) -> Void
    private var fileRules: [Rule]
    private var current: [Entry] = []

    /// - Parameters:
    ///   - fileRules: the configuration's and `rules.d/`'s rules, already checked.
    ///   - loadFiles: reads them again (a reload); throws `RuleError` with every problem.
    ///   - apply: hands the rules in force (enabled or not) to the engine.
    public init(
        store: any AlertStore, knownChannels: Set<String>, fileRules: [Rule], loadFiles: @escaping @Sendable () throws -> [Rule],
        apply: @escaping @Sendable ([Rule]) -> Void
    ) {
        self.store = store
        self.knownChannels = knownChannels
        self.fileRules = fileRules
        self.loadFiles = loadFiles
        self.apply = apply
    }

    /// Every rule: the files' first, in their order, then the API's by name.
    public var entries: [Entry] { current }

    public func entry(named name: String) -> Entry? {
        current.first { $0.rule.name == name }
    }

    /// Reads the API's rules and settings from the store and applies the whole set; returns the rules in force.
    @discardableResult
    public func refresh() async throws(StoreError) -> [Rule] {
        let stored = try await store.storedRules()
        let toggles = try await store.ruleToggles()
        current = Self.compose(fileRules: fileRules, stored: stored, toggles: toggles, knownChannels: knownChannels)
        let rules = current.filter(\.inForce).map(\.rule)
        apply(rules)
        return rules
    }

    /// Reads the configuration's and `rules.d/`'s rules again and applies them with the API's.
    @discardableResult
    public func reloadFiles() async throws -> [Rule] {
        fileRules = try loadFiles()
        return try await refresh()
    }

    // MARK: Changes through the API

    /// Creates a rule from its YAML (or JSON) definition.
    public func create(definition: String, by user: String) async throws -> Entry {
        let rule = try Self.parse(definition)
        if let existing = entry(named: rule.name) {
            throw Failure(.conflict, "a rule named \"\(rule.name)\" exists (\(Self.originText(existing.rule.origin)))")
        }
        try checkChannels(rule)
        let now = SyslogTimestamp.now()
        let row = StoredRuleRow(name: rule.name, definition: rule.definitionYAML, createdBy: user, createdAt: now, updatedBy: user, updatedAt: now)
        guard try await store.saveRule(row, replacing: false) else {
            throw Failure(.conflict, "a rule named \"\(rule.name)\" exists")
        }
        try await refresh()
        return entry(named: rule.name)!
    }

    /// Replaces the definition of a rule created through the API (its name stays).
    public func replace(name: String, definition: String, by user: String) async throws -> Entry {
        let existing = try apiEntry(name, doing: "replaced")
        let rule = try Self.parse(definition)
        guard rule.name == name else {
            throw Failure(.invalid, "the definition names rule \"\(rule.name)\", not \"\(name)\" (a rule cannot be renamed; create a new one)")
        }
        try checkChannels(rule)
        let now = SyslogTimestamp.now()
        let row = StoredRuleRow(
            name: name, definition: rule.definitionYAML, createdBy: existing.stored?.createdBy ?? user,
            createdAt: existing.stored?.createdAt ?? now, updatedBy: user, updatedAt: now)
        guard try await store.saveRule(row, replacing: true) else { throw Failure(.notFound, "no rule named \"\(name)\"") }
        try await refresh()
        return entry(named: name)!
    }

    /// Deletes a rule created through the API; its open alerts resolve ("rule removed").
    public func delete(name: String) async throws {
        _ = try apiEntry(name, doing: "deleted")
        guard try await store.deleteRule(name: name) else { throw Failure(.notFound, "no rule named \"\(name)\"") }
        try await refresh()
    }

    /// Enables or disables any rule; disabling resolves its open alerts ("rule disabled").
    public func setEnabled(name: String, _ enabled: Bool, by user: String) async throws -> Entry {
        guard entry(named: name) != nil else { throw Failure(.notFound, "no rule named \"\(name)\"") }
        try await store.setRuleToggle(RuleToggleRow(name: name, enabled: enabled, changedBy: user, changedAt: .now()))
        try await refresh()
        return entry(named: name)!
    }

    // MARK: Internals

    private func apiEntry(_ name: String, doing what: String) throws(Failure) -> Entry {
        // An API rule whose name a file took since is still the API's to change or delete.
        if let stored = current.first(where: { $0.rule.name == name && $0.stored != nil }) { return stored }
        guard let existing = entry(named: name) else { throw Failure(.notFound, "no rule named \"\(name)\"") }
        throw Failure(
            .conflict, "rule \"\(name)\" is defined in \(existing.rule.origin.description) and cannot be \(what) through the API; edit the file and reload")
    }

    private func checkChannels(_ rule: Rule) throws(Failure) {
        do {
            try RuleSet([rule]).validate(knownChannels: knownChannels)
        } catch {
            throw Failure(.invalid, "rule \"\(rule.name)\" is not valid", problems: error.problems)
        }
    }

    /// One rule from a definition sent to the API.
    public static func parse(_ definition: String) throws(Failure) -> Rule {
        let rules: [Rule]
        do {
            rules = try RuleSet.load(yaml: definition, origin: .api)
        } catch {
            throw Failure(.invalid, "the rule is not valid", problems: error.problems)
        }
        guard rules.count == 1 else {
            throw Failure(.invalid, rules.isEmpty ? "the definition holds no rule" : "the definition holds \(rules.count) rules; send one at a time")
        }
        return rules[0]
    }

    static func originText(_ origin: Rule.Origin) -> String {
        origin == .api ? "created through the API" : "defined in \(origin.description)"
    }

    /// The files' rules and the API's, with the enabled/disabled settings applied.
    static func compose(fileRules: [Rule], stored: [StoredRuleRow], toggles: [RuleToggleRow], knownChannels: Set<String>) -> [Entry] {
        var toggleByName: [String: RuleToggleRow] = [:]
        for t in toggles { toggleByName[t.name] = t }
        var entries: [Entry] = []
        var origins: [String: Rule.Origin] = [:]
        for var rule in fileRules {
            let toggle = toggleByName[rule.name]
            if let toggle { rule.enabled = toggle.enabled }
            origins[rule.name] = rule.origin
            entries.append(Entry(rule: rule, stored: nil, toggle: toggle, problem: nil))
        }
        for row in stored {
            let toggle = toggleByName[row.name]
            var problem: String? = nil
            var rule: Rule
            do {
                rule = try parse(row.definition)
                if rule.name != row.name { problem = "the stored definition names rule \"\(rule.name)\"" }
                do {
                    try RuleSet([rule]).validate(knownChannels: knownChannels)
                } catch {
                    problem = error.problems.map(\.reason).joined(separator: "; ")
                }
            } catch {
                // Kept so that it can be listed, replaced or deleted; never evaluated.
                rule = Rule(name: row.name, condition: .match, enabled: false, origin: .api)
                problem = "the stored definition is no longer valid: " + error.description
            }
            if let origin = origins[row.name] {
                problem = "the name is also used in \(origin.description), whose rule is in force; rename or delete this one"
            }
            if let toggle { rule.enabled = toggle.enabled }
            entries.append(Entry(rule: rule, stored: row, toggle: toggle, problem: problem))
        }
        return entries
    }
}
