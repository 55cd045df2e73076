import Foundation
import NotiLogServer
import NotiLogTestSupport
import Testing

/// What the alerts, rules and channels pages need from the API beyond the alerting endpoints' own tests: an
/// alert's `search_query`, a rule's problems with their keys and lines, and a channel's delivery log — each with
/// the role that may use it. In-process, against a server with a webhook channel to a closed port.
@Suite("Web UI alerts API", .serialized)
struct WebUIAlertsAPITests {
    static func start(_ dir: TemporaryDirectory) async throws -> SessionTests.Running {
        try await SessionTests.start(dir) { c in
            c.channels = """
                channels:
                  hook-down:
                    type: webhook
                    url: http://127.0.0.1:\(Peers.closedPort())/hook
                """
            c.rules = """
                rules:
                  - name: ui-boom
                    kind: match
                    query: '"ui-boom"'
                    group_by: [host]
                    channels: [hook-down]
                """
        }
    }

    /// Sends JSON lines through the acknowledged ingest endpoint (an ingest token); answers after the commit.
    static func ingest(_ server: SessionTests.Running, _ lines: [[String: String]]) async throws {
        let created = try await server.admin.request("POST", "/api/v1/tokens", body: #"{"name":"ingest","scope":"ingest"}"#)
        let token = try #require(created.json["token"] as? String, "\(created.text)")
        let body = try lines.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }.joined(separator: "\n")
        let answer = try await server.admin.with(token: token).request("POST", "/api/v1/ingest", body: body, contentType: "application/x-ndjson")
        #expect(answer.status == 200, "\(answer.text)")
    }

    static func waitForAlert(_ server: SessionTests.Running, rule: String) async throws -> [String: Any]? {
        for _ in 0..<200 {
            let list = try await server.admin.request("GET", "/api/v1/alerts", ["state": "open"])
            if let alert = (list.json["alerts"] as? [[String: Any]])?.first(where: { $0["rule"] as? String == rule }) { return alert }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    @Test func anAlertCarriesTheSearchForItsLines() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try await Self.ingest(server, [["message": #"ui-boom "quoted" disk"#, "host": "web-5", "app": "disk"]])
        let alert = try #require(try await Self.waitForAlert(server, rule: "ui-boom"))
        #expect(alert["search_query"] as? String == #"("ui-boom") host:"web-5""#)
        let id = try #require(alert["id"] as? Int)
        let one = try await server.admin.request("GET", "/api/v1/alerts/\(id)")
        #expect(one.json["search_query"] as? String == #"("ui-boom") host:"web-5""#)
        // The search finds the line.
        let found = try await server.admin.records(#"("ui-boom") host:"web-5""#)
        #expect(found.count == 1)
        // The list by state: open, closed (none yet), all, one state; anything else is refused.
        for (state, count) in [("closed", 0), ("resolved", 0), ("all", 1), ("firing", 1), ("open", 1)] {
            let list = try await server.admin.request("GET", "/api/v1/alerts", ["state": state])
            #expect(list.status == 200 && (list.json["alerts"] as? [[String: Any]])?.count == count, "\(state): \(list.text)")
        }
        let bad = try await server.admin.request("GET", "/api/v1/alerts", ["state": "resolvedd"])
        #expect(bad.status == 400 && (bad.json["error"] as? [String: Any])?["code"] as? String == "invalid_parameter", "\(bad.text)")
        try await server.stop()
    }

    @Test func anInvalidRuleNamesTheKeyAndLineOfEachProblem() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        let definition = "name: bad-one\nkind: match\nquery: x\nresolve_after: soon\n"
        for (method, path, body, contentType) in [
            ("POST", "/api/v1/rules", definition, "application/yaml"),
            ("POST", "/api/v1/rules/test", String(decoding: try JSONSerialization.data(withJSONObject: ["definition": definition]), as: UTF8.self), "application/json"),
        ] {
            let answer = try await server.admin.request(method, path, body: body, contentType: contentType)
            #expect(answer.status == 422, "\(path): \(answer.text)")
            #expect(answer.errorCode == "invalid_rule")
            let problems = try #require((answer.json["error"] as? [String: Any])?["problems"] as? [[String: Any]], "\(answer.text)")
            let problem = try #require(problems.first { $0["field"] as? String == "resolve_after" }, "\(problems)")
            #expect(problem["line"] as? Int == 4, "\(problem)")
            #expect((problem["reason"] as? String)?.isEmpty == false)
            #expect((problem["text"] as? String)?.contains("resolve_after") == true)
        }
        try await server.stop()
    }

    @Test func aChannelsDeliveryLogListsEachNotificationWithItsAttempts() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try await SessionTests.addUser(server, "vera", role: "viewer")
        var viewer = server.browser()
        #expect(try await viewer.signIn("vera", "a long enough password").status == 201)

        // Unknown channel: 404; the list names the rules that use each channel, and no address.
        #expect(try await server.admin.request("GET", "/api/v1/channels/nope/deliveries").status == 404)
        let channels = try await viewer.request("GET", "/api/v1/channels")
        #expect(channels.status == 200)
        let listed = try #require((channels.json["channels"] as? [[String: Any]])?.first)
        #expect(listed["name"] as? String == "hook-down" && listed["type"] as? String == "webhook")
        #expect(listed["rules"] as? [String] == ["ui-boom"])
        #expect(!channels.text.contains("127.0.0.1"))

        // A viewer reads the (empty) log; only an editor sends a test message.
        let empty = try await viewer.request("GET", "/api/v1/channels/hook-down/deliveries")
        #expect(empty.status == 200, "\(empty.text)")
        #expect((empty.json["notifications"] as? [Any])?.isEmpty == true)
        #expect(try await viewer.request("POST", "/api/v1/channels/hook-down/test").status == 403)
        #expect(try await server.admin.request("POST", "/api/v1/channels/hook-down/test").status == 202)
        #expect(try await viewer.request("GET", "/api/v1/channels/hook-down/deliveries?limit=0").status == 400)

        // The closed port fails; the attempt is logged with its error.
        var test: [String: Any]?
        for _ in 0..<300 {
            let log = try await viewer.request("GET", "/api/v1/channels/hook-down/deliveries")
            test = (log.json["notifications"] as? [[String: Any]])?.first { ($0["deliveries"] as? [Any])?.isEmpty == false }
            if test != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let notification = try #require(test)
        #expect(notification["notice_state"] as? String == "test")
        #expect(notification["rule"] as? String == "notilog-test")
        #expect(notification["alert_id"] is NSNull)
        let attempt = try #require((notification["deliveries"] as? [[String: Any]])?.first)
        #expect(["retry", "failed"].contains(attempt["outcome"] as? String), "\(attempt)")
        #expect((attempt["detail"] as? String)?.isEmpty == false)
        try await server.stop()
    }
}

extension BrowserSuites {
    /// The alerts, rules and channels pages in headless Chromium (`Tests/peers/ui_alerts_check.py`) against the real
    /// binary with a rule and two webhook channels: one to a receiver that answers 200, one to a closed port.
    @Suite("Web UI alerts in a browser")
    struct WebUIAlertsBrowserTests {
        @Test(
            "alerts, ack, silences, rules from a search, tests, channels and their delivery logs",
            .enabled(if: BrowserCheck.missing == nil, "needs /usr/bin/chromium and playwright in .peers/python (scripts/setup installs both)"))
        func alertsFlow() async throws {
            let dir = TemporaryDirectory()
            let hook = try await Peers.webhook(in: dir)
            defer { hook.stop() }
            let config = """
                channels:
                  hook-ok:
                    type: webhook
                    url: http://127.0.0.1:\(hook.port)/hooks/notilog
                  hook-down:
                    type: webhook
                    url: http://127.0.0.1:\(Peers.closedPort())/hooks/notilog
                rules:
                  - name: uialert-boom
                    kind: match
                    query: '"uialert-boom"'
                    group_by: [host]
                    severity: critical
                    channels: [hook-ok]
                  - name: uialert-brief
                    kind: match
                    query: '"uialert-brief"'
                    group_by: [host]
                    resolve_after: 2s
                """
            try await BrowserCheck.run("ui_alerts_check.py", config: config)
        }
    }
}
