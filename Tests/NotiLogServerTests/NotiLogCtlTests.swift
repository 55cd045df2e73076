import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

/// `notilogctl`'s server commands, run as a child process against the built `notilog-server` on loopback.
@Suite("notilogctl against notilog-server", .serialized)
struct NotiLogCtlTests {
    /// Real shapes: rsyslog's RFC 5424 forward with structured data, nginx, and a BSD line with a terminal escape.
    static let messages = [
        #"<38>1 2026-11-25T13:17:50.120Z web-1 sshd 812 - [origin ip="10.0.0.1"] Failed password for root from 10.0.0.9 port 52144 ssh2"#,
        "<190>1 2026-11-25T13:17:51.000Z web-2 nginx 42 access - GET /index.html 200 5123",
        "<11>Nov 25 13:17:52 db-1 postgres[77]: FATAL: \u{1B}]0;owned\u{07}\u{1B}[31mred",
    ]

    static func json(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(line)")
    }

    @Test func searchFindsRecordsReportsNoneAndShowsWhereAQueryIsWrong() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }
        try server.send(Self.messages)
        #expect(try await server.waitForRecords(3) == 3, "\(server.child.text)")

        // Found: exit 0, each record as the server returns it, one JSON object per line.
        let sshd = try await server.ctl(["search", "app:sshd", "--json"])
        #expect(sshd.status == 0, "\(sshd)")
        #expect(sshd.lines.count == 1, "\(sshd)")
        let record = try Self.json(try #require(sshd.lines.first))
        #expect(record["id"] is Int)
        #expect(record["hostname"] as? String == "web-1")
        #expect(record["app"] as? String == "sshd")
        #expect(record["procid"] as? String == "812")
        #expect(record["severity"] as? Int == 6)
        #expect(record["facility"] as? Int == 4)
        #expect(record["format"] as? String == "rfc5424")
        #expect(record["message"] as? String == "Failed password for root from 10.0.0.9 port 52144 ssh2")
        #expect((record["sd"] as? [String: [String: String]])?["origin"]?["ip"] == "10.0.0.1")
        #expect(record["source"] as? String == "127.0.0.1")

        // The table: log text's escape sequences are shown, never sent to the terminal.
        let table = try await server.ctl(["search", "host:db-1"])
        #expect(table.status == 0, "\(table)")
        #expect(table.lines.first?.hasPrefix("TIMESTAMP") == true, "\(table)")
        #expect(table.stdout.contains(#"FATAL: \x1b]0;owned\x07\x1b[31mred"#), "\(table)")
        #expect(!table.stdout.unicodeScalars.contains { $0.value == 0x1B || $0.value == 0x07 }, "\(table)")
        let all = try await server.ctl(["search"])
        #expect(all.status == 0 && all.lines.count == 1 + 3 + 1, "header, three records, one sd line\n\(all)")

        // Nothing found: exit 1, nothing on standard output.
        let none = try await server.ctl(["search", "app:no-such-app", "--json"])
        #expect(none.status == 1 && none.stdout.isEmpty, "\(none)")
        let before = try await server.ctl(["search", "--until", "2001-01-01T00:00:00Z"])
        #expect(before.status == 1 && before.stdout.isEmpty, "\(before)")

        // A malformed query: exit 2, the server's message with the column, and a caret under it.
        let query = "host:web-1 (app:sshd"
        let bad = try await server.ctl(["search", query])
        #expect(bad.status == 2, "\(bad)")
        #expect(bad.stdout.isEmpty)
        let column = try #require(bad.stderr.firstMatch(of: /column (\d+)/).flatMap { Int($0.output.1) }, "\(bad)")
        let errorLines = bad.stderr.split(separator: "\n").map(String.init)
        let queryLine = try #require(errorLines.firstIndex { $0.hasSuffix(query) }, "\(bad)")
        let caretLine = try #require(errorLines.dropFirst(queryLine + 1).first, "\(bad)")
        let queryStart = errorLines[queryLine].count - query.count
        #expect(caretLine == String(repeating: " ", count: queryStart + column - 1) + "^", "\(bad)")

        // A bad parameter is the server's message too.
        let badSince = try await server.ctl(["search", "--since", "not-a-time"])
        #expect(badSince.status == 2 && badSince.stderr.contains("400"), "\(badSince)")

        // Usage errors are ArgumentParser's 64.
        let usage = try await server.ctl(["search", "--limit", "-1"])
        #expect(usage.status == 64, "\(usage)")
    }

    @Test func alertsRulesAndSilences() async throws {
        let server = try await CtlTestServer.start(
            config: """
                rules:
                  - name: disk-errors
                    kind: match
                    query: '"I/O error"'
                    group_by: [host]
                """)
        defer { server.stop() }
        let none = try await server.ctl(["alerts"])
        #expect(none.status == 1, "\(none)")
        let rules = try await server.ctl(["rules", "list"])
        #expect(rules.status == 0 && rules.stdout.contains("disk-errors") && rules.stdout.contains("match"), "\(rules)")

        try server.send(["<3>1 2026-12-05T10:00:00Z db-2 kernel - - - blk_update_request: I/O error, dev sda, sector 42"])
        var alerts = try await server.ctl(["alerts", "--open"])
        for _ in 0..<100 where alerts.status != 0 {
            try await Task.sleep(for: .milliseconds(100))
            alerts = try await server.ctl(["alerts", "--open"])
        }
        #expect(alerts.status == 0 && alerts.stdout.contains("disk-errors") && alerts.stdout.contains("db-2"), "\(alerts)")
        // Nothing has resolved: no closed alert (exit 1); both filters at once is a usage error.
        let closed = try await server.ctl(["alerts", "--closed"])
        #expect(closed.status == 1, "\(closed)")
        let both = try await server.ctl(["alerts", "--open", "--closed"])
        #expect(both.status != 0 && both.stderr.contains("exclude each other"), "\(both)")

        let added = try await server.ctl(["silence", "add", "--rule", "disk-errors", "--group", "host=db-2", "--duration", "1h", "--comment", "disk swap"])
        #expect(added.status == 0 && added.stdout.hasPrefix("silence "), "\(added)")
        let listed = try await server.ctl(["silence", "list"])
        #expect(listed.stdout.contains("disk swap"), "\(listed)")
        let id = try #require(added.stdout.split(separator: " ").dropFirst().first.map(String.init))
        let removed = try await server.ctl(["silence", "remove", id])
        #expect(removed.status == 0, "\(removed)")
        #expect(try await server.ctl(["silence", "list"]).stdout.contains("disk swap") == false)
        let wrong = try await server.ctl(["silence", "add", "--duration", "1h"])
        #expect(wrong.status == 2 && wrong.stderr.contains("needs a rule"), "\(wrong)")
        let reloaded = try await server.ctl(["rules", "reload"])
        #expect(reloaded.status == 0 && reloaded.stdout.contains("disk-errors"), "\(reloaded)")
    }

    @Test func rulesThroughTheAPIAndReplay() async throws {
        let server = try await CtlTestServer.start(
            config: """
                rules:
                  - name: disk-errors
                    kind: match
                    query: '"I/O error"'
                """)
        defer { server.stop() }
        // Seven failed logins from one host, within a minute.
        try server.send((0..<7).map { "<38>1 \(SyslogTimestamp.now()) bastion sshd 4242 - - Failed password for root from 10.0.0.\($0) port 22" })
        #expect(try await server.waitForRecords(7) == 7, "\(server.child.text)")
        let file = server.clientDirectory.path + "/ssh.yaml"
        try """
            name: ssh-brute-force
            kind: threshold
            query: app:sshd "Failed password"
            group_by: [host]
            threshold: 5
            window: 60s
            """.write(toFile: file, atomically: true, encoding: .utf8)

        // Tried before the server has it: when it would have fired.
        let tried = try await server.ctl(["rules", "test", "--file", file, "--since", "1h"])
        #expect(tried.status == 0 && tried.stdout.contains("7 matching records") && tried.stdout.contains("would have fired 1 time"), "\(tried)")
        #expect(tried.stdout.contains("firing") && tried.stdout.contains("host=bastion"), "\(tried)")

        // Changing rules needs an admin token; trying one, a read token.
        let reader = try await server.ctl(["token", "create", "viewer", "--scope", "read"])
        let readToken = reader.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let forbidden = try await server.ctl(["rules", "add", file], auth: .token(readToken))
        #expect(forbidden.status == 2 && forbidden.stderr.contains("403"), "\(forbidden)")
        #expect(try await server.ctl(["rules", "test", "--file", file], auth: .token(readToken)).status == 0)
        let added = try await server.ctl(["rules", "add", file])
        #expect(added.status == 0 && added.stdout.contains("rule ssh-brute-force created"), "\(added)")
        let again = try await server.ctl(["rules", "add", file])
        #expect(again.status == 2 && again.stderr.contains("409"), "\(again)")
        let list = try await server.ctl(["rules", "list"])
        #expect(list.stdout.contains("ssh-brute-force") && list.stdout.contains(" api "), "\(list)")
        let shown = try await server.ctl(["rules", "show", "ssh-brute-force"])
        #expect(shown.status == 0 && shown.stdout.contains("threshold: 5") && shown.stdout.contains("window: 1m"), "\(shown)")
        // --replace finds the rule's name in any form of one-rule definition (here a flow mapping in a rules:
        // list, after a description that looks like a name: line).
        try """
            rules:
              - {description: "name: not-this-one", name: ssh-brute-force, kind: threshold, query: 'app:sshd "Failed password"',
                 threshold: 5, window: 2m, group_by: [host]}
            """.write(toFile: file + ".new", atomically: true, encoding: .utf8)
        let replaced = try await server.ctl(["rules", "add", "--replace", file + ".new"])
        #expect(replaced.status == 0 && replaced.stdout.contains("rule ssh-brute-force replaced"), "\(replaced)")
        #expect(try await server.ctl(["rules", "show", "ssh-brute-force"]).stdout.contains("window: 2m"))
        try "kind: match\nquery: app:x\n".write(toFile: file + ".nameless", atomically: true, encoding: .utf8)
        let nameless = try await server.ctl(["rules", "add", "--replace", file + ".nameless"])
        #expect(nameless.status != 0 && nameless.stderr.contains("names no rule"), "\(nameless)")
        #expect(try await server.ctl(["rules", "add", "--replace", file]).status == 0)
        let byName = try await server.ctl(["rules", "test", "ssh-brute-force", "--since", "1h", "--json"])
        let replay = try Self.json(byName.stdout)
        #expect(byName.status == 0 && replay["fired"] as? Int == 1, "\(byName)")

        // A file's rule can be disabled, not deleted, through the API.
        let fileDelete = try await server.ctl(["rules", "delete", "disk-errors"])
        #expect(fileDelete.status == 2 && fileDelete.stderr.contains("edit the file"), "\(fileDelete)")
        #expect(try await server.ctl(["rules", "disable", "disk-errors"]).status == 0)
        let disabled = try await server.ctl(["rules", "list", "--json"])
        let rules = try #require(try Self.json(disabled.stdout)["rules"] as? [[String: Any]])
        #expect(rules.first { $0["name"] as? String == "disk-errors" }?["enabled"] as? Bool == false, "\(disabled)")

        // A bad definition names the field, line by line.
        try "name: broken\nkind: thresold\n".write(toFile: file, atomically: true, encoding: .utf8)
        let broken = try await server.ctl(["rules", "add", file])
        #expect(broken.status == 2 && broken.stderr.contains("422") && broken.stderr.contains("\n  api: rule \"broken\": kind"), "\(broken)")

        #expect(try await server.ctl(["rules", "delete", "ssh-brute-force"]).status == 0)
        let gone = try await server.ctl(["rules", "test", "ssh-brute-force"])
        #expect(gone.status == 2 && gone.stderr.contains("404"), "\(gone)")
    }

    @Test func searchFollowsCursorsUpToTheLimit() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }
        // More than one page (notilogctl asks for 1,000 records a request).
        let total = 1_250
        try server.send((0..<total).map { "<134>1 2026-11-25T13:17:50.\(String(format: "%06d", $0))Z web-\($0 % 3) app - - request \($0)" })
        #expect(try await server.waitForRecords(total) == total, "\(server.child.text)")

        let everything = try await server.ctl(["search", "--limit", "0", "--json"])
        #expect(everything.status == 0, "\(everything.stderr)")
        let messages = try everything.lines.map { try Self.json($0)["message"] as? String }
        #expect(messages.count == total)
        #expect(Set(messages.compactMap { $0 }).count == total, "every record once")
        #expect(messages.first == "request \(total - 1)", "newest first")

        let some = try await server.ctl(["search", "--limit", "1100", "--json"])
        #expect(some.status == 0 && some.lines.count == 1100, "\(some.stderr)")
        let byDefault = try await server.ctl(["search", "app:app", "--json"])
        #expect(byDefault.status == 0 && byDefault.lines.count == 100, "\(byDefault.stderr)")
    }

    @Test func tokensScopesAndRevocation() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }
        try server.send(Self.messages)
        #expect(try await server.waitForRecords(3) == 3, "\(server.child.text)")

        // No token, or a wrong one: 401, exit 2.
        let anonymous = try await server.ctl(["search"], auth: .none)
        #expect(anonymous.status == 2 && anonymous.stderr.contains("401"), "\(anonymous)")
        let wrong = try await server.ctl(["hosts"], auth: .token("nl_not_a_token"))
        #expect(wrong.status == 2 && wrong.stderr.contains("401"), "\(wrong)")

        // The default token file (`./data/admin.token`, as `make run` writes it) when nothing else gives one.
        let local = try await server.ctl(["status", "--json"], auth: .none, in: server.directory.path)
        #expect(local.status == 0, "\(local)")
        let fromFile = try await server.ctl(["hosts", "--token-file", server.adminTokenFile], auth: .none)
        #expect(fromFile.status == 0, "\(fromFile)")

        // Create a read token: the secret once on standard output, the note on standard error.
        let created = try await server.ctl(["token", "create", "grafana", "--scope", "read"])
        #expect(created.status == 0, "\(created)")
        let secret = try #require(created.lines.first, "\(created)")
        #expect(created.lines.count == 1 && !secret.isEmpty && !secret.contains(" "), "\(created)")
        #expect(created.stderr.contains("cannot be shown again"), "\(created)")

        // It reads, but may not manage tokens.
        let reads = try await server.ctl(["search", "app:sshd", "--json"], auth: .token(secret))
        #expect(reads.status == 0 && reads.lines.count == 1, "\(reads)")
        let forbidden = try await server.ctl(["token", "list"], auth: .token(secret))
        #expect(forbidden.status == 2 && forbidden.stderr.contains("403"), "\(forbidden)")

        // The admin sees it listed, without its secret.
        let listed = try await server.ctl(["token", "list", "--json"])
        #expect(listed.status == 0, "\(listed)")
        #expect(!listed.stdout.contains(secret))
        let tokens = try #require(try Self.json(listed.stdout)["tokens"] as? [[String: Any]], "\(listed)")
        let grafana = try #require(tokens.first { $0["name"] as? String == "grafana" }, "\(listed)")
        #expect(grafana["scope"] as? String == "read")
        let id = try #require(grafana["id"] as? Int)
        let table = try await server.ctl(["token", "list"])
        #expect(table.status == 0 && table.stdout.contains("grafana") && table.stdout.contains("read"), "\(table)")

        // Revoked: 401 from then on; an unknown ID is an error.
        let revoked = try await server.ctl(["token", "revoke", String(id)])
        #expect(revoked.status == 0 && revoked.stdout.contains("grafana"), "\(revoked)")
        let afterwards = try await server.ctl(["search"], auth: .token(secret))
        #expect(afterwards.status == 2 && afterwards.stderr.contains("401"), "\(afterwards)")
        let unknown = try await server.ctl(["token", "revoke", "999999"])
        #expect(unknown.status == 2 && unknown.stderr.contains("404"), "\(unknown)")
    }

    @Test func hostsAndStatus() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }
        try server.send(Self.messages)
        #expect(try await server.waitForRecords(3) == 3, "\(server.child.text)")

        let hostsJSON = try await server.ctl(["hosts", "--json"])
        #expect(hostsJSON.status == 0, "\(hostsJSON)")
        let hosts = try #require(try Self.json(hostsJSON.stdout)["hosts"] as? [[String: Any]], "\(hostsJSON)")
        #expect(Set(hosts.compactMap { $0["hostname"] as? String }) == ["web-1", "web-2", "db-1"], "\(hostsJSON)")
        let web1 = try #require(hosts.first { $0["hostname"] as? String == "web-1" })
        #expect(web1["messages"] as? Int == 1)
        #expect(web1["parse_problems"] as? Int == 0)
        #expect(web1["first_seen"] is String && web1["last_seen"] is String)
        let hostsTable = try await server.ctl(["hosts"])
        #expect(hostsTable.status == 0 && hostsTable.lines.count == 4, "\(hostsTable)")
        #expect(hostsTable.lines.first?.contains("CLOCK SKEW") == true, "\(hostsTable)")

        let statusJSON = try await server.ctl(["status", "--json"])
        #expect(statusJSON.status == 0, "\(statusJSON)")
        let status = try Self.json(statusJSON.stdout)
        let listeners = try #require(status["listeners"] as? [[String: Any]], "\(statusJSON)")
        #expect(listeners.contains { $0["protocol"] as? String == "tcp" && $0["address"] as? String == "127.0.0.1:\(server.tcpPort)" }, "\(statusJSON)")
        let ingest = try #require(status["ingest"] as? [String: Any], "\(statusJSON)")
        #expect(ingest["committed"] as? Int == 3, "\(statusJSON)")
        let readable = try await server.ctl(["status"])
        #expect(readable.status == 0 && readable.stdout.contains("127.0.0.1:\(server.tcpPort)") && readable.stdout.contains("ingest:"), "\(readable)")
    }

    @Test func connectionSettingsAndFailures() async throws {
        let dir = TemporaryDirectory()
        // Nothing listens: a clear "cannot connect", exit 2.
        let port = try freeLoopbackPort()
        let refused = try await runCtl(["status", "--server", "http://127.0.0.1:\(port)", "--token", "x"], in: dir.path)
        #expect(refused.status == 2 && refused.stderr.contains("cannot connect to http://127.0.0.1:\(port)"), "\(refused)")

        // ctl.yaml under $XDG_CONFIG_HOME: server and token_file (relative to the file) are used...
        let config = dir.path + "/config/notilog"
        try FileManager.default.createDirectory(atPath: config, withIntermediateDirectories: true)
        try "server: http://127.0.0.1:\(port)\ntoken_file: token\n".write(toFile: config + "/ctl.yaml", atomically: true, encoding: .utf8)
        try "nl_x\n".write(toFile: config + "/token", atomically: true, encoding: .utf8)
        let fromConfig = try await runCtl(["hosts"], in: dir.path, environment: ["XDG_CONFIG_HOME": dir.path + "/config"])
        #expect(fromConfig.status == 2 && fromConfig.stderr.contains("cannot connect to http://127.0.0.1:\(port)"), "\(fromConfig)")
        // ...the flag wins over it...
        let port2 = try freeLoopbackPort()
        let flagWins = try await runCtl(["hosts", "--server", "http://127.0.0.1:\(port2)"], in: dir.path, environment: ["XDG_CONFIG_HOME": dir.path + "/config"])
        #expect(flagWins.stderr.contains("127.0.0.1:\(port2)"), "\(flagWins)")
        // ...and a malformed file is named with the key.
        try "server: http://127.0.0.1:\(port)\ntokn: abc\n".write(toFile: config + "/ctl.yaml", atomically: true, encoding: .utf8)
        let typo = try await runCtl(["hosts"], in: dir.path, environment: ["XDG_CONFIG_HOME": dir.path + "/config"])
        #expect(typo.status == 2 && typo.stderr.contains(config + "/ctl.yaml") && typo.stderr.contains("tokn"), "\(typo)")
        try "server: [http://a, http://b]\n".write(toFile: config + "/ctl.yaml", atomically: true, encoding: .utf8)
        let list = try await runCtl(["hosts"], in: dir.path, environment: ["XDG_CONFIG_HOME": dir.path + "/config"])
        #expect(list.status == 2 && list.stderr.contains("'server'"), "\(list)")

        // A missing token file named in the environment.
        let missing = try await runCtl(["hosts"], in: dir.path, environment: ["NOTILOG_TOKEN_FILE": dir.path + "/nope"])
        #expect(missing.status == 2 && missing.stderr.contains(dir.path + "/nope"), "\(missing)")

        // Usage errors: 64.
        let both = try await runCtl(["hosts", "--token", "a", "--token-file", "b"], in: dir.path)
        #expect(both.status == 64, "\(both)")
        let scheme = try await runCtl(["hosts", "--server", "ftp://127.0.0.1"], in: dir.path)
        #expect(scheme.status == 64, "\(scheme)")
        let scope = try await runCtl(["token", "create", "x", "--scope", "root"], in: dir.path)
        #expect(scope.status == 64, "\(scope)")
    }
}
