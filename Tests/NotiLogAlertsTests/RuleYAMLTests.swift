import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

/// Rules read from YAML: good files give the rules they say, bad ones name the file, rule, field and reason.
struct RuleYAMLTests {
    struct Good: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var expected: [Rule]
        var testDescription: String { name }
    }

    static let origin = Rule.Origin.file("rules.d/test.yaml")

    static let good: [Good] = [
        Good(
            name: "ssh_brute_force_every_key",
            yaml: """
                rules:
                  - name: ssh-brute-force
                    description: Many failed SSH logins from one address
                    kind: threshold
                    query: app:sshd "Failed password"
                    group_by: [host, sd.origin.ip]
                    threshold: 5
                    window: 60s
                    severity: critical
                    channels: [ops-telegram, ops-mail]
                    for: 30s
                    repeat_interval: 1h
                    resolve_after: 10m
                    throttle: {max: 3, per: 1h}
                """,
            expected: [
                Rule(
                    name: "ssh-brute-force", description: "Many failed SSH logins from one address",
                    condition: .threshold(count: 5, window: .seconds(60)), query: try! QueryParser.parse("app:sshd \"Failed password\""),
                    groupBy: [.host, .sd(id: "origin", param: "ip")], severity: "critical", channels: ["ops-telegram", "ops-mail"],
                    pendingFor: .seconds(30), repeatInterval: .hours(1), resolveAfter: .minutes(10),
                    throttle: Rule.Throttle(max: 3, per: .hours(1)), origin: origin)
            ]),
        Good(
            name: "single_rule_mapping_with_defaults",
            yaml: """
                name: oom-killer
                kind: match
                query: app:kernel "Out of memory"
                """,
            expected: [
                Rule(name: "oom-killer", condition: .match, query: try! QueryParser.parse("app:kernel \"Out of memory\""), origin: origin)
            ]),
        Good(
            name: "absence_per_host_disabled",
            yaml: """
                rules:
                - name: host-silent
                  kind: absence
                  group_by: host
                  window: 1h30m
                  enabled: false
                  channels: ops
                """,
            expected: [
                Rule(
                    name: "host-silent", condition: .absence(window: .minutes(90)), groupBy: [.host], enabled: false, channels: ["ops"],
                    origin: origin)
            ]),
        Good(
            name: "state_defaults_to_crashed",
            yaml: """
                rules:
                  - name: service-crashed
                    kind: state
                    query: host:web-*
                """,
            expected: [
                Rule(
                    name: "service-crashed", condition: .state(states: [.crashed], restartLimit: nil),
                    query: try! QueryParser.parse("host:web-*"), origin: origin)
            ]),
        Good(
            name: "state_restart_limit",
            yaml: """
                rules:
                  - name: restart-loop
                    kind: state
                    states: [crashed, restarting]
                    max_restarts: 3
                    window: 10m
                """,
            expected: [
                Rule(
                    name: "restart-loop",
                    condition: .state(states: [.crashed, .restarting], restartLimit: Rule.RestartLimit(count: 3, window: .minutes(10))),
                    origin: origin)
            ]),
        Good(
            name: "new_value_user_default_learning",
            yaml: """
                rules:
                  - name: new-ssh-user
                    kind: new_value
                    query: app:sshd "Accepted"
                    field: sd.sshd.user
                    group_by: [host]
                  - name: new-host
                    kind: new_value
                    field: host
                    learn_for: 0s
                """,
            expected: [
                Rule(
                    name: "new-ssh-user", condition: .newValue(field: .sd(id: "sshd", param: "user"), learnFor: .hours(1)),
                    query: try! QueryParser.parse("app:sshd \"Accepted\""), groupBy: [.host], origin: origin),
                Rule(name: "new-host", condition: .newValue(field: .host, learnFor: .seconds(0)), origin: origin),
            ]),
        Good(
            name: "for_zero_is_no_delay",
            yaml: """
                name: disk-errors
                kind: match
                query: app:kernel "I/O error"
                for: 0s
                description:
                """,
            expected: [Rule(name: "disk-errors", condition: .match, query: try! QueryParser.parse("app:kernel \"I/O error\""), origin: origin)]),
        Good(name: "empty_file", yaml: "", expected: []),
        Good(name: "empty_rules_list", yaml: "rules: []", expected: []),
    ]

    @Test(arguments: good)
    func goodYAML(_ c: Good) throws {
        let rules = try RuleSet.load(yaml: c.yaml, origin: Self.origin)
        #expect(rules == c.expected)
    }

    /// The server configuration's other keys are the server's business.
    @Test func serverConfigurationKeepsItsOtherKeys() throws {
        let yaml = """
            data_dir: /var/lib/notilog
            listeners:
              - udp: 0.0.0.0:5514
            rules:
              - name: oom
                kind: match
                query: "Out of memory"
            """
        let rules = try RuleSet.load(yaml: yaml, origin: .config(file: "/etc/notilog/server.yaml"))
        #expect(rules.map(\.name) == ["oom"])
        #expect(rules[0].origin == .config(file: "/etc/notilog/server.yaml"))
        #expect(try RuleSet.load(yaml: "data_dir: /x", origin: .config(file: "server.yaml")).isEmpty)
    }

    struct Bad: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        /// Every problem's description, in order.
        var problems: [String]
        var testDescription: String { name }
    }

    static let bad: [Bad] = [
        Bad(
            name: "window_without_unit",
            yaml: """
                rules:
                  - name: ssh-brute-force
                    kind: threshold
                    query: app:sshd
                    threshold: 5
                    window: 60
                """,
            problems: [#"rules.d/ssh.yaml: rule "ssh-brute-force": window: "60" is not a duration (use 60s, 5m, 1h)"#]),
        Bad(
            name: "no_name_no_kind",
            yaml: "rules:\n  - query: app:sshd\n",
            problems: [
                "rules.d/ssh.yaml: rule #1: name: required",
                "rules.d/ssh.yaml: rule #1: kind: required (match, threshold, absence, state or new_value)",
            ]),
        Bad(
            name: "bad_name_and_kind",
            yaml: "name: ssh brute\nkind: burst\nquery: x\n",
            problems: [
                #"rules.d/ssh.yaml: rule #1: name: "ssh brute" is not a rule name (1 to 100 of A-Z a-z 0-9 _ . -)"#,
                #"rules.d/ssh.yaml: rule #1: kind: "burst" is not a kind (match, threshold, absence, state, new_value)"#,
            ]),
        Bad(
            name: "misspelt_key",
            yaml: "name: r\nkind: threshold\nquery: x\ntreshold: 5\nwindow: 1m\n",
            problems: [
                #"rules.d/ssh.yaml: rule "r": treshold: unknown key (did you mean threshold?)"#,
                #"rules.d/ssh.yaml: rule "r": threshold: required"#,
            ]),
        Bad(
            name: "threshold_zero",
            yaml: "name: r\nkind: threshold\nquery: x\nthreshold: 0\nwindow: 1m\n",
            problems: [#"rules.d/ssh.yaml: rule "r": threshold: 0 is out of range (1 to 10000)"#]),
        Bad(
            name: "query_error_has_column",
            yaml: "name: r\nkind: match\nquery: 'app:sshd (host:a'\n",
            problems: [#"rules.d/ssh.yaml: rule "r": query: column 10: '(' is not closed"#]),
        Bad(
            name: "query_with_since",
            yaml: "name: r\nkind: match\nquery: app:sshd since:-1h\n",
            problems: [#"rules.d/ssh.yaml: rule "r": query: since: and until: cannot be used in a rule (rules see records as they arrive)"#]),
        Bad(
            name: "match_needs_a_query",
            yaml: "name: r\nkind: match\n",
            problems: [#"rules.d/ssh.yaml: rule "r": query: required for kind match"#]),
        Bad(
            name: "setting_of_another_kind",
            yaml: "name: r\nkind: match\nquery: x\nwindow: 5m\nlearn_for: 1h\n",
            problems: [
                #"rules.d/ssh.yaml: rule "r": window: not a setting of kind match (only of threshold, absence or state)"#,
                #"rules.d/ssh.yaml: rule "r": learn_for: not a setting of kind match (only of new_value)"#,
            ]),
        Bad(
            name: "resolve_after_on_absence",
            yaml: "name: r\nkind: absence\nwindow: 5m\nresolve_after: 1m\n",
            problems: [#"rules.d/ssh.yaml: rule "r": resolve_after: not a setting of kind absence (only of match, threshold or new_value)"#]),
        Bad(
            name: "unknown_group_field",
            yaml: "name: r\nkind: match\nquery: x\ngroup_by: [host, user, host]\n",
            problems: [
                #"rules.d/ssh.yaml: rule "r": group_by[1]: "user" is not a field (host, app, procid, msgid, source, facility, severity, sd.ID.PARAM)"#,
                #"rules.d/ssh.yaml: rule "r": group_by[2]: host is listed twice"#,
            ]),
        Bad(
            name: "restart_limit_needs_window_and_restarting",
            yaml: "name: r\nkind: state\nmax_restarts: 3\n",
            problems: [#"rules.d/ssh.yaml: rule "r": window: required with max_restarts (more than max_restarts restarts within window)"#]),
        Bad(
            name: "restart_limit_without_restarting_state",
            yaml: "name: r\nkind: state\nmax_restarts: 3\nwindow: 10m\n",
            problems: [#"rules.d/ssh.yaml: rule "r": max_restarts: only used when states includes restarting"#]),
        Bad(
            name: "running_does_not_fire",
            yaml: "name: r\nkind: state\nstates: [running]\n",
            problems: [#"rules.d/ssh.yaml: rule "r": states[0]: "running" is not a state that fires (crashed, stopped, restarting)"#]),
        Bad(
            name: "throttle_incomplete",
            yaml: "name: r\nkind: match\nquery: x\nthrottle: {max: 0}\n",
            problems: [
                #"rules.d/ssh.yaml: rule "r": throttle.max: 0 is out of range (1 to 1000000)"#,
                #"rules.d/ssh.yaml: rule "r": throttle.per: required"#,
            ]),
        Bad(
            name: "new_value_needs_field",
            yaml: "name: r\nkind: new_value\nlearn_for: soon\n",
            problems: [
                #"rules.d/ssh.yaml: rule "r": field: required"#,
                #"rules.d/ssh.yaml: rule "r": learn_for: "soon" is not a duration (use 60s, 5m, 1h)"#,
            ]),
        Bad(
            name: "every_rule_reported",
            yaml: """
                rules:
                  - name: one
                    kind: absence
                    window: 0s
                  - name: two
                    kind: match
                    query: x
                    enabled: maybe
                  - name: one
                    kind: match
                    query: y
                """,
            problems: [
                #"rules.d/ssh.yaml: rule "one": window: must be longer than 0s"#,
                #"rules.d/ssh.yaml: rule "two": enabled: "maybe" is not true or false"#,
            ]),
        Bad(
            name: "duplicate_names",
            yaml: "rules:\n- {name: a, kind: match, query: x}\n- {name: a, kind: match, query: y}\n",
            problems: [#"rules.d/ssh.yaml: rule "a": name: rule #1 has the same name"#]),
        Bad(
            name: "not_yaml",
            yaml: "rules: [a, b\n",
            problems: []),
        Bad(
            name: "rules_is_not_a_list",
            yaml: "rules: {name: a}\n",
            problems: ["rules.d/ssh.yaml: rules: expected a list of rules"]),
    ]

    @Test(arguments: bad)
    func badYAML(_ c: Bad) throws {
        #expect(throws: RuleError.self) { try RuleSet.load(yaml: c.yaml, origin: .file("rules.d/ssh.yaml")) }
        do {
            _ = try RuleSet.load(yaml: c.yaml, origin: .file("rules.d/ssh.yaml"))
        } catch {
            if c.problems.isEmpty {
                #expect(error.code == .notYAML)
                #expect(error.description.hasPrefix("rules.d/ssh.yaml: not valid YAML: line "))
            } else {
                #expect(error.problems.map(\.description) == c.problems)
                #expect(error.problems.allSatisfy { $0.line != nil })
            }
        }
    }

    @Test func problemsCarryTheLine() throws {
        let yaml = "rules:\n  - name: r\n    kind: absence\n    window: 60\n"
        #expect {
            try RuleSet.load(yaml: yaml, origin: .file("a.yaml"))
        } throws: { error in
            (error as? RuleError)?.problems.first?.line == 4
        }
    }

    @Test(arguments: [
        ("30s", Int64(30)), ("5m", 300), ("1h", 3600), ("2d", 172_800), ("1w", 604_800), ("1h30m", 5400), ("1d2h3m4s", 93_784),
        ("0s", 0),
    ])
    func durations(_ text: String, _ seconds: Int64) throws {
        let d = try #require(RuleDuration(text))
        #expect(d.seconds == seconds)
        #expect(RuleDuration(d.description) == d)
    }

    @Test(arguments: ["60", "", "m", "5 m", "1m1h", "1h1h", "-5m", "1.5h", "5M", "99999999999999999999s", "100000w"])
    func notDurations(_ text: String) {
        #expect(RuleDuration(text) == nil)
    }

    @Test func unknownChannelsAndNamesAcrossSources() throws {
        let config = try RuleSet.load(
            yaml: "rules:\n- {name: oom, kind: match, query: x, channels: [ops]}\n", origin: .config(file: "server.yaml"))
        let file = try RuleSet.load(
            yaml: "rules:\n- {name: oom, kind: match, query: y, channels: [opps]}\n", origin: .file("rules.d/more.yaml"))
        let set = RuleSet(config + file)
        #expect {
            try set.validate(knownChannels: ["ops", "mail"])
        } throws: { error in
            (error as? RuleError)?.problems.map(\.description) == [
                #"rules.d/more.yaml: rule "oom": name: also defined in server.yaml"#,
                #"rules.d/more.yaml: rule "oom": channels[0]: unknown channel "opps" (known: mail, ops)"#,
            ]
        }
        try RuleSet(config).validate(knownChannels: ["ops"])
    }

    @Test func directoryOfFiles() throws {
        let dir = TemporaryDirectory()
        try "rules:\n- {name: a, kind: match, query: x}\n".write(toFile: dir.path + "/10-a.yaml", atomically: true, encoding: .utf8)
        try "name: b\nkind: absence\nwindow: 5m\ngroup_by: [host]\n".write(toFile: dir.path + "/20-b.yml", atomically: true, encoding: .utf8)
        try "not: a rule file".write(toFile: dir.path + "/README.md", atomically: true, encoding: .utf8)
        try "name: [".write(toFile: dir.path + "/.20-b.yml.swp", atomically: true, encoding: .utf8)
        let rules = try RuleSet.loadDirectory(dir.path)
        #expect(rules.map(\.name) == ["a", "b"])
        #expect(rules[1].origin == .file(dir.path + "/20-b.yml"))

        // Problems of every file at once, and a name used in two files.
        try "name: a\nkind: match\nquery: z\n".write(toFile: dir.path + "/30-dup.yaml", atomically: true, encoding: .utf8)
        try "name: c\nkind: threshold\nquery: z\nthreshold: 5\nwindow: 60\n".write(
            toFile: dir.path + "/40-bad.yaml", atomically: true, encoding: .utf8)
        #expect {
            try RuleSet.loadDirectory(dir.path)
        } throws: { error in
            (error as? RuleError)?.problems.map(\.description) == [
                #"\#(dir.path)/40-bad.yaml: rule "c": window: "60" is not a duration (use 60s, 5m, 1h)"#,
                #"\#(dir.path)/30-dup.yaml: rule "a": name: also defined in \#(dir.path)/10-a.yaml"#,
            ]
        }
        #expect(try RuleSet.loadDirectory(dir.path + "/missing").isEmpty)
    }
}
