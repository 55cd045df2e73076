import Foundation
import NotiLogCore
import Yams

/// The rules from every source (the server configuration, `rules.d/*.yaml`, the API) taken together, and the
/// loaders that read them from YAML.
///
/// A rules file holds a `rules:` list or a single rule mapping:
///
/// ```yaml
/// rules:
///   - name: ssh-brute-force
///     kind: threshold
///     query: app:sshd "Failed password"
///     group_by: [host, sd.origin.ip]
///     threshold: 5
///     window: 60s
///     channels: [ops-telegram]
/// ```
public struct RuleSet: Sendable, Hashable {
    public var rules: [Rule]

    public init(_ rules: [Rule]) {
        self.rules = rules
    }

    /// Checks what only the whole set can tell: names unique across all sources, and channels that exist.
    public func validate(knownChannels: Set<String>) throws(RuleError) {
        var problems = nameProblems()
        for rule in rules {
            for (i, channel) in rule.channels.enumerated() where !knownChannels.contains(channel) {
                let known = knownChannels.isEmpty ? "no channels are configured" : "known: " + knownChannels.sorted().joined(separator: ", ")
                problems.append(
                    RuleProblem(
                        origin: rule.origin.description, rule: "rule \"\(rule.name)\"", field: "channels[\(i)]",
                        reason: "unknown channel \"\(channel)\" (\(known))"))
            }
        }
        if !problems.isEmpty { throw RuleError(.invalid, problems) }
    }

    // MARK: Loading

    /// The rules in YAML text: a `rules:` list, a single rule mapping, or (for `.config`) a whole server
    /// configuration whose other keys are left alone. Empty text has no rules.
    public static func load(yaml: String, origin: Rule.Origin) throws(RuleError) -> [Rule] {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw RuleError(.notYAML, [RuleProblem(origin: origin.description, reason: "not valid YAML: \(describe(error))")])
        }
        guard let node else { return [] }
        return try load(node: node, origin: origin)
    }

    /// The rules in a YAML node already composed (the server passes its configuration's root or `rules:` node).
    public static func load(node: Node, origin: Rule.Origin) throws(RuleError) -> [Rule] {
        var reader = RuleYAMLReader(origin: origin)
        let rules = reader.document(node)
        if !reader.problems.isEmpty { throw RuleError(.invalid, reader.problems) }
        return rules
    }

    /// The rules of every `*.yaml` / `*.yml` file in a directory, in file-name order. Problems of all files are
    /// collected, and a name used twice in the directory is one of them. A missing directory has no rules.
    public static func loadDirectory(_ path: String) throws(RuleError) -> [Rule] {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        guard isDirectory.boolValue else {
            throw RuleError(.unreadable, [RuleProblem(origin: path, reason: "not a directory")])
        }
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: path)
        } catch {
            throw RuleError(.unreadable, [RuleProblem(origin: path, reason: "cannot list the directory")])
        }
        var rules: [Rule] = []
        var problems: [RuleProblem] = []
        var code = RuleError.Code.invalid
        // Hidden files are editors' backups and swap files, not rules.
        let files = names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
        for name in files {
            let file = path.hasSuffix("/") ? path + name : path + "/" + name
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                problems.append(RuleProblem(origin: file, reason: "cannot read the file (or it is not UTF-8)"))
                code = .unreadable
                continue
            }
            do {
                rules += try load(yaml: text, origin: .file(file))
            } catch {
                problems += error.problems
                if error.code != .invalid { code = error.code }
            }
        }
        problems += RuleSet(rules).nameProblems()
        if !problems.isEmpty { throw RuleError(code, problems) }
        return rules
    }

    /// A rule whose name an earlier rule already has.
    func nameProblems() -> [RuleProblem] {
        var firstOrigin: [String: Rule.Origin] = [:]
        var problems: [RuleProblem] = []
        for rule in rules {
            if let earlier = firstOrigin[rule.name] {
                problems.append(
                    RuleProblem(
                        origin: rule.origin.description, rule: "rule \"\(rule.name)\"", field: "name", reason: "also defined in \(earlier)"))
            } else {
                firstOrigin[rule.name] = rule.origin
            }
        }
        return problems
    }

    static func describe(_ error: any Error) -> String {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
                .composer(let context, let problem, let mark, _):
                var text = "line \(mark.line), column \(mark.column): \(problem)"
                if let context { text += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
                return text
            default: break
            }
        }
        return String("\(error)".split(separator: "\n", maxSplits: 1).first ?? "")
    }
}
