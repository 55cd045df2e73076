import Foundation

extension Rule {
    /// A rule's query narrowed to an alert's group, in the query language (for a link to the alert's records).
    public static func searchQuery(ruleQuery: String, group: [AlertNotice.GroupValue]) -> String {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var terms: [String] = []
        for g in group {
            switch g.field {
            case "unit", "process":
                // Not a field of records: the name is searched in the message.
                if let v = g.value { terms.append(quoted(v)) }
            case "facility", "severity":
                // Level names are read unquoted; a missing level cannot be searched for.
                if let v = g.value { terms.append("\(g.field):\(v)") }
            default:
                terms.append(g.value.map { "\(g.field):\(quoted($0))" } ?? "-\(g.field):*")
            }
        }
        let query = ruleQuery.trimmingCharacters(in: .whitespaces)
        if query.isEmpty { return terms.joined(separator: " ") }
        if terms.isEmpty { return query }
        return "(\(query)) " + terms.joined(separator: " ")
    }
}
