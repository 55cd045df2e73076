import ArgumentParser
import Foundation

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
    }

    var rules: [Rule]
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
            let body = try client.get("/api/v1/alerts", ["state": open ? "open" : nil, "rule": rule, "limit": String(limit)])
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
        commandName: "rules", abstract: "List or reload the alert rules.", subcommands: [List.self, Reload.self])

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

    static func print(_ list: RuleList) {
        var table = TextTable(["NAME", "KIND", "ENABLED", "CHANNELS", "FROM", "QUERY"])
        for r in list.rules {
            table.add([r.name, r.kind, r.enabled ? "yes" : "no", r.channels.joined(separator: ","), r.origin, Terminal.visible(r.query)])
        }
        Terminal.write(table.render())
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
