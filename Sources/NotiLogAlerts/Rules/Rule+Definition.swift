import Yams

extension Rule {
    /// The rule as a rules file would write it: one YAML mapping with every setting that differs from its default,
    /// in the order the README documents them. `RuleSet.load(yaml:origin:)` reads it back as an equal rule (except
    /// for `origin`). Rules stored through the API are kept in this form, and `notilogctl rules show` prints it.
    ///
    /// Built as a YAML node tree and serialized by Yams, so every value is quoted as YAML needs — rule text comes
    /// from people and may hold `:`, `#`, quotes or line breaks.
    public var definitionYAML: String {
        var pairs: [(String, Node)] = [("name", str(name))]
        if let description { pairs.append(("description", str(description))) }
        pairs.append(("kind", str(kind.rawValue)))
        if !query.text.isEmpty { pairs.append(("query", str(query.text))) }
        if !groupBy.isEmpty { pairs.append(("group_by", .sequence(.init(groupBy.map { str($0.description) }, .implicit, .flow)))) }
        switch condition {
        case .match:
            break
        case .threshold(let count, let window):
            pairs += [("threshold", int(count)), ("window", str(window.description))]
        case .absence(let window):
            pairs.append(("window", str(window.description)))
        case .state(let states, let limit):
            let ordered = ServiceState.allCases.filter(states.contains)
            pairs.append(("states", .sequence(.init(ordered.map { str($0.rawValue) }, .implicit, .flow))))
            if let limit { pairs += [("max_restarts", int(limit.count)), ("window", str(limit.window.description))] }
        case .newValue(let field, let learnFor):
            pairs.append(("field", str(field.description)))
            if learnFor != Rule.defaultLearnFor { pairs.append(("learn_for", str(learnFor.description))) }
        }
        if !enabled { pairs.append(("enabled", .scalar(.init("false")))) }
        if let severity { pairs.append(("severity", str(severity))) }
        if !channels.isEmpty { pairs.append(("channels", .sequence(.init(channels.map(str), .implicit, .flow)))) }
        if let pendingFor { pairs.append(("for", str(pendingFor.description))) }
        if let repeatInterval { pairs.append(("repeat_interval", str(repeatInterval.description))) }
        if resolveAfter != Rule.defaultResolveAfter, kind != .absence, kind != .state {
            pairs.append(("resolve_after", str(resolveAfter.description)))
        }
        if let throttle {
            pairs.append(("throttle", .mapping(.init([(str("max"), int(throttle.max)), (str("per"), str(throttle.per.description))], .implicit, .flow))))
        }
        let node = Node.mapping(.init(pairs.map { (str($0.0), $0.1) }))
        return (try? Yams.serialize(node: node, width: -1, allowUnicode: true)) ?? "name: \(name)\n"
    }
}

private func str(_ text: String) -> Node {
    // A plain scalar that YAML would read as something else (a number, a boolean, null) is quoted.
    .scalar(.init(text, .implicit, plainResolves(text) ? .plain : .doubleQuoted))
}

private func int(_ n: Int) -> Node {
    .scalar(.init(String(n)))
}

/// Whether `text` written plain reads back as the same string.
private func plainResolves(_ text: String) -> Bool {
    guard !text.isEmpty, text.allSatisfy({ $0.isLetter || $0.isNumber || "_.-@/ ".contains($0) }), text.first != " ", text.last != " ",
        text.first != "-"
    else { return false }
    let lower = text.lowercased()
    if ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"].contains(lower) { return false }
    if Double(text) != nil || Int(text) != nil { return false }
    return true
}
