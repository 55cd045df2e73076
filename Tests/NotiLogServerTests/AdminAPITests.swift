import Foundation
import NotiLogCore
import NotiLogServer
import NotiLogStore
import NotiLogTestSupport
import Testing

/// The endpoints behind the hosts, users and settings pages: recent rates and watched processes per host, the
/// retention setting changed at run time (kept in the store, applied by the running maintenance task), and the
/// roles they need — against an in-process server on loopback.
@Suite("Admin pages' API (hosts, watches, retention settings)", .serialized)
struct AdminAPITests {
    static func records(_ lines: [String], ago: Int64 = 0) -> [LogRecord] {
        let parser = SyslogParser()
        let now = SyslogTimestamp.now()
        let at = SyslogTimestamp(seconds: now.seconds - ago, nanoseconds: now.nanoseconds, fractionDigits: 6)
        return lines.map { parser.parse($0, receivedAt: at, source: "192.0.2.7") }
    }

    static func watch(_ host: String, kind: String, name: String, state: String, extra: String = "") -> String {
        #"<30>1 2026-12-05T10:00:00Z \#(host) notilog-agent - WATCH [watch@32473 kind="\#(kind)" name="\#(name)" state="\#(state)"\#(extra)] \#(name) is \#(state)"#
    }

    static func json(_ object: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func hostsCarryRecentRatesAndWatchesTheLatestStateOfEachProcessAndUnit() async throws {
        let dir = TemporaryDirectory()
        let server = try await SessionTests.start(dir)
        let store = server.services.store
        _ = try await store.insert(Self.records((0..<30).map { "<14>1 2026-12-05T10:00:00Z web-1 app - - - line \($0)" }))
        _ = try await store.insert(Self.records(["<14>1 2026-12-05T10:00:00Z WEB-1 app - - - one more", "<99999> not a good line"]))
        // Older than the window: counted in the totals, not in the rates.
        _ = try await store.insert(Self.records(["<14>1 2026-12-05T10:00:00Z web-1 app - - - long ago"], ago: 3 * 3600))
        // Watch reports, oldest first as the agent sends them: nginx crashed, restarted and runs; the unit failed.
        _ = try await store.insert(Self.records([
            Self.watch("web-1", kind: "process", name: "nginx", state: "running"),
            Self.watch("web-1", kind: "unit", name: "backup.service", state: "running"),
        ], ago: 600))
        _ = try await store.insert(Self.records([
            Self.watch("web-1", kind: "process", name: "nginx", state: "crashed", extra: #" signal="KILL""#),
            Self.watch("web-1", kind: "process", name: "nginx", state: "restarting", extra: #" restarts="1""#),
        ], ago: 300))
        _ = try await store.insert(Self.records([
            Self.watch("web-1", kind: "process", name: "nginx", state: "running", extra: #" restarts="1" pid="4242""#),
            Self.watch("web-1", kind: "unit", name: "backup.service", state: "crashed", extra: #" exit_code="3""#),
            Self.watch("db-2", kind: "unit", name: "postgresql.service", state: "running"),
        ], ago: 60))
        _ = try await store.insert(Self.records([Self.watch("web-1", kind: "process", name: "nginx", state: "running", extra: #" restarts="1""#)]))

        var viewer = server.browser()
        try await SessionTests.addUser(server, "vera", role: "viewer")
        #expect(try await viewer.signIn("vera", "a long enough password").status == 201)

        let hosts = try await viewer.request("GET", "/api/v1/hosts")
        #expect(hosts.status == 200, "\(hosts.text)")
        let list = try #require(hosts.json["hosts"] as? [[String: Any]])
        let web = try #require(list.first { ($0["hostname"] as? String)?.lowercased() == "web-1" })
        let recent = try #require(web["recent"] as? [String: Any])
        // 31 lines and 7 watch reports within the hour; the line of three hours ago only in the total.
        #expect(recent["messages"] as? Int == 38, "\(recent)")
        #expect(web["messages"] as? Int == 39)
        #expect((recent["messages_per_minute"] as? Double ?? 0) > 0)
        #expect(recent["since"] is String)
        // A line the parser could not read: its sender (by address) has one parse problem, within the hour too.
        let broken = try #require(list.first { ($0["hostname"] as? String) == "192.0.2.7" })
        #expect(broken["parse_problems"] as? Int == 1, "\(list)")
        #expect((broken["recent"] as? [String: Any])?["parse_problems"] as? Int == 1)

        let all = try await viewer.request("GET", "/api/v1/watches")
        #expect(all.status == 200, "\(all.text)")
        #expect(all.json["complete"] as? Bool == true)
        let watches = try #require(all.json["watches"] as? [[String: Any]])
        func find(_ host: String, _ name: String) -> [String: Any]? {
            watches.first { ($0["host"] as? String) == host && ($0["name"] as? String) == name }
        }
        #expect(watches.count == 3, "\(watches)")
        let nginx = try #require(find("web-1", "nginx"))
        #expect(nginx["kind"] as? String == "process")
        #expect(nginx["state"] as? String == "running")
        #expect(nginx["restarts"] as? Int == 1)
        // The newest run of "running" began with the report of a minute ago (after the restart), not ten minutes ago.
        let since = try #require((nginx["since"] as? String).flatMap { SyslogTimestamp(rfc3339: $0) })
        #expect(SyslogTimestamp.now().seconds - since.seconds >= 50 && SyslogTimestamp.now().seconds - since.seconds < 300)
        #expect(nginx["since_exact"] as? Bool == true)
        let backup = try #require(find("web-1", "backup.service"))
        #expect(backup["kind"] as? String == "unit")
        #expect(backup["state"] as? String == "crashed")
        #expect(backup["exit_code"] as? Int == 3)
        #expect(find("db-2", "postgresql.service")?["state"] as? String == "running")

        let one = try await viewer.request("GET", "/api/v1/hosts/db-2/watches")
        #expect(one.status == 200)
        #expect((one.json["watches"] as? [[String: Any]])?.map { $0["name"] as? String } == ["postgresql.service"])
        let none = try await viewer.request("GET", "/api/v1/hosts/nobody%20here/watches")
        #expect(none.status == 200)
        #expect((none.json["watches"] as? [[String: Any]])?.isEmpty == true)
        #expect(try await server.browser().request("GET", "/api/v1/watches").status == 401)
        try await server.stop()
    }

    @Test func retentionSetThroughTheAPIIsValidatedAppliedAndKeptOverARestart() async throws {
        let dir = TemporaryDirectory()
        var server = try await SessionTests.start(dir, adjust: { $0.retention = .init(maxAge: "off", maxSize: "off") })
        let store = server.services.store
        _ = try await store.insert(Self.records((0..<50).map { "<14>1 2026-12-05T10:00:00Z web-1 app - - - old \($0)" }, ago: 3 * 3600))
        _ = try await store.insert(Self.records((0..<20).map { "<14>1 2026-12-05T10:00:00Z web-1 app - - - new \($0)" }))

        var admin = server.browser()
        #expect(try await admin.signIn("admin", SessionTests.adminPassword).status == 201)
        let before = try await admin.request("GET", "/api/v1/settings/retention")
        #expect(before.status == 200, "\(before.text)")
        #expect(before.json["source"] as? String == "config")
        #expect((before.json["effective"] as? [String: Any])?["max_age"] as? String == "off")
        #expect((before.json["store"] as? [String: Any])?["records"] as? Int == 70)
        #expect((before.json["store"] as? [String: Any])?["oldest_received_at"] is String)

        // The server's validation, naming the key.
        for (body, fragment) in [
            (["max_age": "soon", "max_size": "off"], "max_age: expected a duration"),
            (["max_age": "30s", "max_size": "off"], "max_age: must be at least 1m"),
            (["max_age": "off", "max_size": "12"], "max_size: must be at least 1MB"),
            (["max_age": "off", "max_size": "lots"], "max_size: expected a size"),
        ] {
            let bad = try await admin.request("PUT", "/api/v1/settings/retention", body: Self.json(body))
            #expect(bad.status == 400)
            #expect(bad.errorCode == "invalid_parameter")
            #expect(bad.errorMessage?.contains(fragment) == true, "\(bad.text)")
        }
        #expect(try await admin.request("PUT", "/api/v1/settings/retention", body: "not json").status == 400)
        #expect(server.services.maintenance.retentionOverride == nil, "a refused value changes nothing")

        // Set: the running maintenance task deletes what the new policy no longer keeps, without a restart (the
        // server's retention interval is 30 s; the change starts a run at once).
        let set = try await admin.request("PUT", "/api/v1/settings/retention", body: Self.json(["max_age": "2h", "max_size": "off"]))
        #expect(set.status == 200, "\(set.text)")
        #expect(set.json["source"] as? String == "ui")
        #expect((set.json["effective"] as? [String: Any])?["max_age"] as? String == "2h")
        #expect((set.json["effective"] as? [String: Any])?["max_age_seconds"] as? Int == 7200)
        #expect((set.json["config"] as? [String: Any])?["max_age"] as? String == "off")
        #expect(((set.json["override"] as? [String: Any])?["updated_by"] as? String) == "admin")
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, try await store.count() != 20 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await store.count() == 20)

        // Kept in the database: a restart reads it back.
        try await server.stop()
        server = try await SessionTests.start(dir, adjust: { $0.retention = .init(maxAge: "off", maxSize: "off") })
        #expect(server.services.maintenance.retention == RetentionPolicy(maxAgeSeconds: 7200, maxBytes: nil))
        admin = server.browser()
        #expect(try await admin.signIn("admin", SessionTests.adminPassword).status == 201)
        let kept = try await admin.request("GET", "/api/v1/settings/retention")
        #expect(kept.json["source"] as? String == "ui")
        #expect((kept.json["effective"] as? [String: Any])?["max_age"] as? String == "2h")

        // A size limit with units, and back to the file's value.
        let sized = try await admin.request("PUT", "/api/v1/settings/retention", body: Self.json(["max_age": "30d", "max_size": "20GB"]))
        #expect((sized.json["effective"] as? [String: Any])?["max_size"] as? String == "20GB")
        #expect((sized.json["effective"] as? [String: Any])?["max_bytes"] as? Int == 20 << 30)
        let reset = try await admin.request("DELETE", "/api/v1/settings/retention")
        #expect(reset.status == 200)
        #expect(reset.json["source"] as? String == "config")
        #expect(reset.json["override"] is NSNull)
        #expect(server.services.maintenance.retentionOverride == nil)
        #expect(server.services.maintenance.retention == RetentionPolicy())
        try await server.stop()
    }

    @Test func onlyAdminsMayReadOrChangeSettings() async throws {
        let dir = TemporaryDirectory()
        let server = try await SessionTests.start(dir)
        try await SessionTests.addUser(server, "edith", role: "editor")
        try await SessionTests.addUser(server, "vera", role: "viewer")
        let body = Self.json(["max_age": "7d", "max_size": "off"])
        for name in ["edith", "vera"] {
            var b = server.browser()
            #expect(try await b.signIn(name, "a long enough password").status == 201)
            for (method, body) in [("GET", nil), ("PUT", body), ("DELETE", nil)] as [(String, String?)] {
                let answer = try await b.request(method, "/api/v1/settings/retention", body: body)
                #expect(answer.status == 403, "\(name) \(method): \(answer.text)")
                #expect(answer.errorCode == "forbidden")
            }
            #expect(try await b.request("GET", "/api/v1/hosts").status == 200)
            #expect(try await b.request("GET", "/api/v1/watches").status == 200)
        }
        let created = try await server.admin.request("POST", "/api/v1/tokens", body: #"{"name":"reader","scope":"read"}"#)
        let reader = server.admin.with(token: created.json["token"] as? String)
        #expect(try await reader.request("GET", "/api/v1/settings/retention").status == 403)
        #expect(try await reader.request("PUT", "/api/v1/settings/retention", body: body).status == 403)
        #expect(try await reader.request("GET", "/api/v1/watches").status == 200)
        // An admin token may (programs need no CSRF token).
        #expect(try await server.admin.request("PUT", "/api/v1/settings/retention", body: body).status == 200)
        #expect(server.services.maintenance.retention == RetentionPolicy(maxAgeSeconds: 604_800, maxBytes: nil))
        // Status names the data directory and the HTTP listener for the settings page.
        let status = try await reader.request("GET", "/api/v1/status")
        #expect(status.json["data_dir"] as? String == dir.path)
        #expect(((status.json["http"] as? [String: Any])?["address"] as? String)?.hasPrefix("127.0.0.1:") == true)
        try await server.stop()
    }
}
