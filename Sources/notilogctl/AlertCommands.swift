import ArgumentParser
import Foundation
import Yams

/// What `GET /api/v1/alerts` and `/rules` and `/silences` answer, as the commands print them.
struct AlertList: Decodable {
    struct Alert: Decodable {
        var id: Int
        var rule: String
        var group: String
        var state: String
        var count: Int
        var startedAt: String
        var resolvedAt: String?
        var acknowledgedBy: String?
    }

    var alerts: [Alert]
    var next: Int?
}

struct RuleList: Decodable {
    struct Rule: Decodable {
        var name: String
        var kind: String
        var query: String
        var enabled: Bool
        var channels: [String]
        var origin: String
        var inForce: Bool?
        var problem: String?
        var description: String?
        var groupBy: [String]?
        var severity: String?
        var definition: String?
        var createdBy: String?
        var updatedAt: String?
        var toggledBy: String?
        var toggledAt: String?
    }

    var rules: [Rule]
}

/// What `POST /api/v1/rules/test` answers.
struct RuleTestResult: Decodable {
    struct Event: Decodable {
        var at: String
        var transition: String
        var group: [String: String?]
        var count: Int
        var summary: String
        var notification: String?
        var durationSeconds: Int?
        var resolution: String?
    }

    struct OpenAlert: Decodable {
        var group: [String: String?]
        var state: String
        var startedAt: String
        var count: Int
    }

    var rule: String
    var kind: String
    var query: String
    var from: String
    var to: String
    var records: Int
    var truncated: Bool
    var fired: Int
    var resolved: Int
    var eventsTotal: Int
    var events: [Event]
    var openAtEnd: [OpenAlert]
}

struct SilenceItem: Decodable {
    var id: Int
    var startsAt: String
    var endsAt: String
    var comment: String
    var createdBy: String
}

struct SilenceList: Decodable {
    var silences: [SilenceItem]
}

/// `notilogctl alerts`: firing and past alerts.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List alerts, newest first.",
        discussion: "Exit status: 0 when alerts are listed, 1 when there are none, 2 on an error."
    )

    @Flag(help: "Only pending and firing alerts.")
    var open = false

    @Flag(help: "Only resolved and cancelled alerts.")
    var closed = false

    func validate() throws {
        if open && closed { throw ValidationError("--open and --closed exclude each other (neither lists all alerts)") }
    }

    @Option(help: "Only alerts of this rule.")
    var rule: String?

    @Option(help: "At most this many (1-1000).")
    var limit = 100

    @Flag(help: "Print the server's JSON answer.")
    var json = false

    @OptionGroup(title: "Connection")
    var connection: ConnectionOptions

    func run() throws {
        var found = false
        try runReportingErrors("alerts") { () throws(CtlError) in
            let client = try connection.client()
            let body = try client.get(
                "/api/v1/alerts", ["state": open ? "open" : closed ? "closed" : nil, "rule": rule, "limit": String(limit)])
            let list = try client.decode(AlertList.self, body, what: "alerts")
            found = !list.alerts.isEmpty
            if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
            var table = TextTable(["ID", "STATE", "RULE", "GROUP", "COUNT", "STARTED", "RESOLVED", "ACK"], rightAligned: [0, 4])
            for a in list.alerts {
                table.add([
                    String(a.id), a.state, a.rule, Terminal.visible(a.group), String(a.count), a.startedAt, a.resolvedAt ?? "-",
                    a.acknowledgedBy.map(Terminal.visible) ?? "-",
                ])
            }
            Terminal.write(table.render())
        }
        if !found { throw ExitCode(1) }
    }
}

/// `notilogctl rules list|reload`.
struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules", abstract: "List, show, test, change and reload the alert rules.",
        subcommands: [List.self, Show.self, Test.self, Reload.self, Add.self, Delete.self, Enable.self, Disable.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules in force, with where each comes from.")

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("rules list") { () throws(CtlError) in
                let client = try connection.client()
                let body = try client.get("/api/v1/rules")
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                RulesCommand.print(try client.decode(RuleList.self, body, what: "rules"))
            }
        }
    }


    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one rule: its definition (as YAML), origin and state.")

        @Argument(help: "The rule's name.")
        var name: String

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("rules show") { () throws(CtlError) in
                let client = try connection.client()
                let body = try client.get("/api/v1/rules/" + APIClient.percentEncoded(name))
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                let r = try client.decode(RuleList.Rule.self, body, what: "rule")
                var out = "# rule \(r.name): \(r.kind), \(r.enabled ? "enabled" : "disabled")"
                if let by = r.toggledBy, let at = r.toggledAt { out += " (set by \(by) at \(at))" }
                out += "\n# from: \(r.origin == "api" ? "the API" + (r.createdBy.map { ", created by \($0)" } ?? "") : r.origin)\n"
                if let problem = r.problem { out += "# NOT EVALUATED: \(Terminal.visible(problem))\n" }
                out += (r.definition ?? "").split(separator: "\n", omittingEmptySubsequences: false).map { Terminal.visible(String($0)) }.joined(separator: "\n")
                Terminal.write(out.hasSuffix("\n") ? out : out + "\n")
            }
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay stored logs through a rule: when it would have fired and resolved.",
            discussion: """
                The server runs the rule alone on the stored records of the time range, on a clock that follows them, \
                and prints every firing, reminder and resolution (with what throttling would have held back). \
                Test a rule before enabling it: a disabled rule can be tested, and --file tests a definition the \
                server does not have yet. Silences are not applied.
                """)

        @Argument(help: "The rule's name (leave out with --file).")
        var name: String?

        @Option(name: .shortAndLong, help: "Test this rule definition (a YAML file with one rule, - for standard input) instead.")
        var file: String?

        @Option(help: "Start of the replay: a duration ago (24h, 30m, 7d) or an RFC 3339 time.")
        var since = "24h"

        @Option(help: "End of the replay (default: now).")
        var until: String?

        @Option(help: "Replay at most this many matching records (the newest).")
        var maxRecords: Int?

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func validate() throws {
            if (name == nil) == (file == nil) { throw ValidationError("give a rule name or --file FILE (one of the two)") }
        }

        func run() throws {
            var object: [String: Any] = ["since": since]
            if let until { object["until"] = until }
            if let maxRecords { object["max_records"] = maxRecords }
            if let name { object["rule"] = name }
            if let file { object["definition"] = try RulesCommand.readDefinition(file) }
            let body = Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
            try runReportingErrors("rules test") { () throws(CtlError) in
                let client = try connection.client()
                let answer = try client.send(.post, "/api/v1/rules/test", body: body)
                if json { return Terminal.write(String(decoding: answer, as: UTF8.self) + "\n") }
                RulesCommand.print(try client.decode(RuleTestResult.self, answer, what: "rule test"))
            }
        }
    }

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read the rules again (configuration file and rules directory).",
            discussion: "With a problem in any rule the server keeps the rules in force and this prints every problem (exit 2)."
        )

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("rules reload") { () throws(CtlError) in
                let client = try connection.client()
                let body = try client.send(.post, "/api/v1/rules/reload")
                RulesCommand.print(try client.decode(RuleList.self, body, what: "reloaded rules"))
            }
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a rule through the API from a YAML file with one rule (- for standard input).",
            discussion: "The rule is stored in the server's database and listed with origin 'api'. --replace changes an existing API rule.")

        @Argument(help: "The YAML file.")
        var file: String

        @Flag(help: "Replace the API rule of the same name.")
        var replace = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            let text = try RulesCommand.readDefinition(file)
            let name = replace ? try RulesCommand.nameOf(text) : ""
            try runReportingErrors("rules add") { () throws(CtlError) in
                let client = try connection.client()
                let answer: [UInt8]
                if replace {
                    answer = try client.send(.put, "/api/v1/rules/" + APIClient.percentEncoded(name), body: Array(text.utf8))
                } else {
                    answer = try client.send(.post, "/api/v1/rules", body: Array(text.utf8))
                }
                let r = try client.decode(RuleList.Rule.self, answer, what: "rule")
                Terminal.write("rule \(r.name) \(replace ? "replaced" : "created")\(r.problem.map { " but not evaluated: " + Terminal.visible($0) } ?? "")\n")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a rule created through the API; its open alerts resolve.")

        @Argument(help: "The rule's name.")
        var name: String

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("rules delete") { () throws(CtlError) in
                _ = try connection.client().send(.delete, "/api/v1/rules/" + APIClient.percentEncoded(name))
                Terminal.write("rule \(name) deleted\n")
            }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a rule (any origin; stays so across reloads and restarts).")

        @Argument(help: "The rule's name.")
        var name: String

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws { try RulesCommand.toggle(name, "enable", connection) }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a rule (any origin; stays so across reloads and restarts); its open alerts resolve.")

        @Argument(help: "The rule's name.")
        var name: String

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws { try RulesCommand.toggle(name, "disable", connection) }
    }

    static func toggle(_ name: String, _ action: String, _ connection: ConnectionOptions) throws {
        try runReportingErrors("rules \(action)") { () throws(CtlError) in
            _ = try connection.client().send(.post, "/api/v1/rules/\(APIClient.percentEncoded(name))/\(action)")
            Terminal.write("rule \(name) \(action)d\n")
        }
    }

    /// A definition file's text (`-`: standard input).
    static func readDefinition(_ file: String) throws -> String {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data, let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read \(file == "-" ? "standard input" : file) (or it is not UTF-8)")
        }
        return text
    }

    /// The `name:` of a one-rule definition (a rule mapping, a one-item list, or a `rules:` list), for
    /// `--replace`; the server checks the rest.
    static func nameOf(_ text: String) throws -> String {
        var node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw ValidationError("the definition is not valid YAML: \(error)")
        }
        if case .mapping(let map)? = node, let list = map["rules"] { node = list }
        if case .sequence(let items)? = node { node = items.first }
        guard case .mapping(let map)? = node, let name = map["name"]?.string, !name.isEmpty else {
            throw ValidationError("the definition names no rule (no name:)")
        }
        return name
    }

    static func print(_ result: RuleTestResult) {
        func group(_ g: [String: String?]) -> String {
            g.keys.sorted().map { "\($0)=\(g[$0].flatMap { $0 } ?? "-")" }.joined(separator: " ")
        }
        var out = "rule \(result.rule) (\(result.kind)) from \(result.from) to \(result.to): \(result.records) matching records"
        if result.truncated { out += " (the newest; more matched)" }
        Terminal.write(Terminal.visible(out) + "\n")
        if !result.events.isEmpty {
            var table = TextTable(["TIME", "EVENT", "GROUP", "COUNT", "NOTE"])
            for e in result.events {
                var note = e.summary
                if e.transition == "resolved" {
                    note = "after \(e.durationSeconds.map { "\($0)s" } ?? "?")" + (e.resolution.map { " (\($0))" } ?? "")
                }
                if e.notification == "throttled" { note += " [throttled]" }
                table.add([e.at, e.transition, Terminal.visible(group(e.group)), String(e.count), Terminal.visible(note)])
            }
            Terminal.write(table.render())
            if result.eventsTotal > result.events.count { Terminal.write("… \(result.eventsTotal - result.events.count) more events not shown\n") }
        }
        var summary = "would have fired \(result.fired) time\(result.fired == 1 ? "" : "s"), resolved \(result.resolved)"
        if !result.openAtEnd.isEmpty {
            summary += "; still open at the end: " + result.openAtEnd.map { "\(group($0.group).isEmpty ? "(all)" : group($0.group)) \($0.state) since \($0.startedAt)" }.joined(separator: ", ")
        }
        Terminal.write(Terminal.visible(summary) + "\n")
    }

    static func print(_ list: RuleList) {
        var table = TextTable(["NAME", "KIND", "ENABLED", "CHANNELS", "FROM", "QUERY"])
        for r in list.rules {
            let enabled = r.inForce == false ? "NOT IN FORCE" : (r.enabled ? "yes" : "no")
            table.add([r.name, r.kind, enabled, r.channels.joined(separator: ","), r.origin, Terminal.visible(r.query)])
        }
        Terminal.write(table.render())
        for r in list.rules { if let problem = r.problem { Terminal.write("rule \(r.name) is not evaluated: \(Terminal.visible(problem))\n") } }
    }
}

/// `notilogctl silence add|list|remove`.
struct SilenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silence", abstract: "Mute notifications for a while (alerts are still recorded).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a silence by rule, group values and/or a query.")

        @Option(help: "The rule's name.")
        var rule: String?

        @Option(name: .customLong("group"), help: "A group value, FIELD=VALUE (e.g. host=web-3); repeatable.")
        var groups: [String] = []

        @Option(help: "A query matched against the alert's latest record.")
        var query: String?

        @Option(help: "How long: 30m, 2h, 1d.")
        var duration = "2h"

        @Option(help: "Why (shown with the silence).")
        var comment = ""

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            var group: [String: String] = [:]
            for g in groups {
                let parts = g.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--group wants FIELD=VALUE, got \(g)") }
                group[String(parts[0])] = String(parts[1])
            }
            var object: [String: Any] = ["duration": duration, "comment": comment]
            if let rule { object["rule"] = rule }
            if !group.isEmpty { object["group"] = group }
            if let query { object["query"] = query }
            let body = Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
            try runReportingErrors("silence add") { () throws(CtlError) in
                let client = try connection.client()
                let answer = try client.send(.post, "/api/v1/silences", body: body)
                let s = try client.decode(SilenceItem.self, answer, what: "silence")
                Terminal.write("silence \(s.id) until \(s.endsAt)\n")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List silences in force (--all: ended ones too).")

        @Flag(help: "Include silences that have ended.")
        var all = false

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("silence list") { () throws(CtlError) in
                let client = try connection.client()
                let body = try client.get("/api/v1/silences", ["all": all ? "1" : nil])
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                var table = TextTable(["ID", "FROM", "UNTIL", "BY", "COMMENT"], rightAligned: [0])
                for s in try client.decode(SilenceList.self, body, what: "silences").silences {
                    table.add([String(s.id), s.startsAt, s.endsAt, Terminal.visible(s.createdBy), Terminal.visible(s.comment)])
                }
                Terminal.write(table.render())
            }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a silence now.")

        @Argument(help: "The silence's id.")
        var id: Int

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("silence remove") { () throws(CtlError) in
                let client = try connection.client()
                let s = try client.decode(SilenceItem.self, try client.send(.delete, "/api/v1/silences/\(id)"), what: "silence")
                Terminal.write("silence \(s.id) ended at \(s.endsAt)\n")
            }
        }
    }
}
