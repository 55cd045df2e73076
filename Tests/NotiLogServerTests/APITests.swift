import Foundation
import Logging
import NotiLogCore
import NotiLogServer
import NotiLogTestSupport
import ServiceLifecycle
import Testing

/// The HTTP API of an in-process server on loopback: auth and scopes, search and its pages, the read-only views.
@Suite("HTTP API", .serialized)
struct APITests {
    static let recordKeys: Set<String> = [
        "id", "facility", "severity", "timestamp", "received_at", "hostname", "app", "procid", "msgid", "sd", "message",
        "raw", "format", "source", "problems",
    ]

    /// Starts a server in `dir` with TCP and HTTP on port 0; returns it, its group's task, the API and the TCP port.
    static func start(_ dir: TemporaryDirectory) async throws -> (ServerServices, ServiceGroup, Task<Void, Error>, TestAPI, Int) {
        let c = ServerConfiguration(
            dataDir: dir.path, listeners: [.init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0", ingest: .init(batchDelay: "20ms"),
            timeZone: "UTC")
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(configuration: c, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let running = Task { try await group.run() }
        let bound = await services.readiness.ready()
        let tcp = try #require(bound.listeners.first).address.port
        return (services, group, running, try await TestAPI(services), tcp)
    }

    static func stop(_ group: ServiceGroup, _ running: Task<Void, Error>) async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }

    static func send(_ messages: [String], port: Int) throws {
        let socket = try TestSocket(tcpPort: port)
        try socket.send(messages.flatMap { Array("\($0.utf8.count) \($0)".utf8) })
        #expect(socket.finish())
    }

    @Test func everyEndpointButHealthNeedsATokenWithTheRightScope() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, admin, _) = try await Self.start(dir)

        // The first start's admin token: in the data directory, readable by its owner only.
        let attributes = try FileManager.default.attributesOfItem(atPath: dir.path + "/admin.token")
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)

        let anonymous = admin.with(token: nil)
        #expect(try await anonymous.request("GET", "/api/v1/healthz").json["status"] as? String == "ok")
        for path in ["/api/v1/logs", "/api/v1/logs/1", "/api/v1/hosts", "/api/v1/stats", "/api/v1/status", "/metrics", "/api/v1/tokens"] {
            let answer = try await anonymous.request("GET", path)
            #expect(answer.status == 401, "\(path): \(answer.text)")
            #expect(answer.errorCode == "unauthorized")
            #expect(answer.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        }
        let wrong = try await admin.with(token: "nl_not-a-token").request("GET", "/api/v1/logs")
        #expect(wrong.status == 401)
        #expect(try await admin.with(token: nil).request("GET", "/api/v1/logs").status == 401)

        // A read token reads, and may not manage tokens.
        let created = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"grafana","scope":"read"}"#)
        #expect(created.status == 201, "\(created.text)")
        let secret = try #require(created.json["token"] as? String)
        let id = try #require(created.json["id"] as? Int)
        #expect(created.json["scope"] as? String == "read")
        let reader = admin.with(token: secret)
        #expect(try await reader.request("GET", "/api/v1/logs").status == 200)
        #expect(try await reader.request("GET", "/metrics").status == 200)
        let forbidden = try await reader.request("GET", "/api/v1/tokens")
        #expect(forbidden.status == 403)
        #expect(forbidden.errorCode == "forbidden")
        #expect(try await reader.request("POST", "/api/v1/tokens", body: #"{"name":"x","scope":"admin"}"#).status == 403)
        #expect(try await reader.request("DELETE", "/api/v1/tokens/\(id)").status == 403)

        // An ingest token cannot read.
        let ingest = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"agent","scope":"ingest"}"#)
        let ingestSecret = try #require(ingest.json["token"] as? String)
        #expect(try await admin.with(token: ingestSecret).request("GET", "/api/v1/logs").status == 403)

        // Bad token requests say what is wrong.
        #expect(try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"x","scope":"root"}"#).errorCode == "invalid_parameter")
        #expect(try await admin.request("POST", "/api/v1/tokens", body: "not json").status == 400)
        #expect(try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"","scope":"read"}"#).status == 400)

        // Revoked: 401 at once, and listed as revoked; the secret is never listed.
        let revoked = try await admin.request("DELETE", "/api/v1/tokens/\(id)")
        #expect(revoked.status == 200)
        #expect(revoked.json["revoked_at"] is String)
        let afterRevoke = try await reader.request("GET", "/api/v1/logs")
        #expect(afterRevoke.status == 401)
        #expect(afterRevoke.errorMessage?.contains("revoked") == true)
        #expect(try await admin.request("DELETE", "/api/v1/tokens/999").status == 404)
        let list = try await admin.request("GET", "/api/v1/tokens")
        let tokens = try #require(list.json["tokens"] as? [[String: Any]])
        #expect(tokens.map { $0["name"] as? String } == ["admin (created on first start)", "grafana", "agent"])
        #expect(tokens.allSatisfy { $0["token"] == nil })
        #expect(tokens[1]["revoked_at"] is String)
        #expect(tokens[0]["revoked_at"] is NSNull)
        #expect(!list.text.contains(secret))

        try await Self.stop(group, running)
    }

    @Test func searchPagesNewestFirstWithoutGapsOrRepeats() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, api, tcp) = try await Self.start(dir)
        let messages = (0..<250).map { k in
            "<\(k % 2 == 0 ? 35 : 190)>1 2026-11-25T10:\(String(format: "%02d", k / 60)):\(String(format: "%02d", k % 60)).5Z web-\(k % 5) nginx \(1000 + k) REQ [req@32473 path=\"/item/\(k)\"] request \(k) \(k % 10 == 0 ? "slow" : "fast")"
        }
        try Self.send(messages, port: tcp)
        let all = try await api.waitForRecords("app:nginx", count: 250)
        #expect(all.count == 250)
        #expect(all.map { $0["message"] as? String } == messages.map { String($0.split(separator: "] ", maxSplits: 1)[1]) })

        // Pages of 100, newest first, chained by `next`, cover every record once.
        var ids: [Int] = []
        var cursor: String?
        var pages = 0
        repeat {
            var p = ["limit": "100"]
            if let cursor { p["cursor"] = cursor }
            let page = try await api.request("GET", "/api/v1/logs", p)
            #expect(page.status == 200)
            let records = try #require(page.json["records"] as? [[String: Any]])
            ids += records.compactMap { $0["id"] as? Int }
            cursor = page.json["next"] as? String
            pages += 1
        } while cursor != nil
        #expect(pages == 3)
        #expect(ids == Array(ids.sorted().reversed()))
        #expect(Set(ids).count == 250)

        // Each record has the shape `notilogctl parse --json` prints, plus its id; /logs/{id} gives the same.
        let first = try #require(all.first)
        #expect(Set(first.keys) == Self.recordKeys)
        #expect(first["hostname"] as? String == "web-0")
        #expect(first["app"] as? String == "nginx")
        #expect(first["procid"] as? String == "1000")
        #expect(first["msgid"] as? String == "REQ")
        #expect(first["facility"] as? Int == 4)
        #expect(first["severity"] as? Int == 3)
        #expect(first["timestamp"] as? String == "2026-11-25T10:00:00.5Z")
        #expect((first["sd"] as? [String: [String: String]])?["req@32473"]?["path"] == "/item/0")
        #expect(first["format"] as? String == "rfc5424")
        #expect((first["problems"] as? [Any])?.isEmpty == true)
        let one = try await api.request("GET", "/api/v1/logs/\(try #require(first["id"] as? Int))")
        #expect(one.json["message"] as? String == "request 0 slow")

        // Queries, with since/until parameters on top.
        #expect(try await api.records("slow host:web-0").count == 25)
        #expect(try await api.records("severity:err").count == 125)
        #expect(try await api.records("sd.req@32473.path:/^.item.7/").count == 11)
        let window = try await api.request("GET", "/api/v1/logs", ["q": "slow", "since": "-1h", "limit": "1000"])
        #expect((window.json["records"] as? [Any])?.count == 25)
        let future = try await api.request("GET", "/api/v1/logs", ["q": "slow", "since": "2099-01-01"])
        #expect((future.json["records"] as? [Any])?.isEmpty == true)
        #expect(future.json["next"] is NSNull)

        // Bad requests get a 400 saying where and why; nothing found is an empty page.
        let bad = try await api.request("GET", "/api/v1/logs", ["q": "host:web-0 AND (slow"])
        #expect(bad.status == 400)
        #expect(bad.errorCode == "invalid_query")
        #expect(((bad.json["error"] as? [String: Any])?["column"] as? Int ?? 0) > 0)
        #expect(try await api.request("GET", "/api/v1/logs", ["q": "/(unclosed/"]).errorCode == "invalid_query")
        #expect(try await api.request("GET", "/api/v1/logs", ["limit": "0"]).errorCode == "invalid_parameter")
        #expect(try await api.request("GET", "/api/v1/logs", ["limit": "10001"]).errorCode == "invalid_parameter")
        #expect(try await api.request("GET", "/api/v1/logs", ["cursor": "abc"]).errorCode == "invalid_parameter")
        #expect(try await api.request("GET", "/api/v1/logs", ["until": "tomorrow"]).errorCode == "invalid_parameter")
        #expect(try await api.request("GET", "/api/v1/logs/999999").status == 404)
        #expect(try await api.request("GET", "/api/v1/nothing-here").errorCode == "not_found")
        let none = try await api.request("GET", "/api/v1/logs", ["q": "nosuchwordanywhere"])
        #expect(none.status == 200)
        #expect((none.json["records"] as? [Any])?.isEmpty == true)

        try await Self.stop(group, running)
    }

    @Test func statsHostsStatusAndMetricsAgreeWithWhatWasSent() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, api, tcp) = try await Self.start(dir)
        let messages = (0..<120).map { k in
            "<\(8 * 16 + k % 8)>1 2026-11-25T10:00:00Z db-\(k % 3) \(k % 4 == 0 ? "postgres" : "cron") - - - job \(k)"
        }
        try Self.send(messages, port: tcp)
        _ = try await api.waitForRecords("job", count: 120)

        let stats = try await api.request("GET", "/api/v1/stats", ["since": "-1h", "buckets": "12"])
        #expect(stats.status == 200, "\(stats.text)")
        #expect(stats.json["total"] as? Int == 120)
        let hosts = try #require(stats.json["hosts"] as? [[String: Any]])
        #expect(Set(hosts.compactMap { $0["value"] as? String }) == ["db-0", "db-1", "db-2"])
        #expect(hosts.compactMap { $0["count"] as? Int } == [40, 40, 40])
        let apps = try #require(stats.json["apps"] as? [[String: Any]])
        #expect(apps.first?["value"] as? String == "cron")
        #expect(apps.first?["count"] as? Int == 90)
        let severities = try #require(stats.json["severities"] as? [[String: Any]])
        #expect(severities.compactMap { $0["value"] as? String } == ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"])
        #expect(severities.compactMap { $0["count"] as? Int } == Array(repeating: 15, count: 8))
        let histogram = try #require(stats.json["histogram"] as? [String: Any])
        let counts = try #require(histogram["counts"] as? [Int])
        #expect(counts.count == 12)
        #expect(counts.reduce(0, +) == 120)
        #expect(counts.last == 120)
        #expect(histogram["bucket_seconds"] as? Double == 300)
        let narrowed = try await api.request("GET", "/api/v1/stats", ["q": "app:postgres", "since": "-1h"])
        #expect(narrowed.json["total"] as? Int == 30)
        #expect(try await api.request("GET", "/api/v1/stats", ["since": "-1h", "until": "-2h"]).errorCode == "invalid_parameter")

        let hostList = try #require(try await api.request("GET", "/api/v1/hosts").json["hosts"] as? [[String: Any]])
        #expect(hostList.compactMap { $0["hostname"] as? String } == ["db-0", "db-1", "db-2"])
        #expect(hostList.allSatisfy { $0["messages"] as? Int == 40 && $0["parse_problems"] as? Int == 0 })
        #expect(hostList.allSatisfy { $0["first_seen"] is String && $0["clock_skew_seconds"] is Double })

        let status = try await api.request("GET", "/api/v1/status")
        #expect((status.json["ingest"] as? [String: Any])?["committed"] as? Int == 120)
        #expect((status.json["store"] as? [String: Any])?["records"] as? Int == 120)
        let listeners = try #require(status.json["listeners"] as? [[String: Any]])
        #expect(listeners.first?["protocol"] as? String == "tcp")
        #expect(listeners.first?["address"] as? String == "127.0.0.1:\(tcp)")
        #expect(listeners.first?["received"] as? Int == 120)
        #expect(status.json["version"] as? String == NotiLogVersion.current)

        let metrics = try await api.request("GET", "/metrics")
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.text.contains("notilog_ingest_committed_records_total 120\n"))
        #expect(metrics.text.contains("notilog_listener_received_total{protocol=\"tcp\",address=\"127.0.0.1:\(tcp)\"} 120\n"))
        #expect(metrics.text.contains("notilog_store_records 120\n"))
        #expect(metrics.text.contains("# TYPE notilog_ingest_commit_seconds histogram"))
        #expect(try await api.request("GET", "/api/v1/metrics").status == 200)

        try await Self.stop(group, running)
    }

    @Test func theAdminTokenOfTheFirstStartKeepsWorkingAfterARestart() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, api, tcp) = try await Self.start(dir)
        try Self.send(["<13>1 2026-11-25T10:00:00Z h app - - - kept across restarts"], port: tcp)
        _ = try await api.waitForRecords("kept", count: 1)
        try await Self.stop(group, running)
        let token = try String(contentsOfFile: dir.path + "/admin.token", encoding: .utf8)

        let (_, group2, running2, api2, _) = try await Self.start(dir)
        #expect(try String(contentsOfFile: dir.path + "/admin.token", encoding: .utf8) == token)
        #expect(api2.token == api.token)
        #expect(try await api2.records("kept").count == 1)
        let tokens = try #require(try await api2.request("GET", "/api/v1/tokens").json["tokens"] as? [Any])
        #expect(tokens.count == 1)
        try await Self.stop(group2, running2)
    }

    @Test func retentionBySizeKeepsTheNewestRecordsSearchable() async throws {
        let dir = TemporaryDirectory()
        var c = ServerConfiguration(
            dataDir: dir.path, listeners: [.init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0", ingest: .init(batchDelay: "20ms"),
            retention: .init(maxSize: "1MB"), timeZone: "UTC")
        c.retention.maxAge = "off"
        var settings = try c.resolved()
        settings.maintenance.retentionInterval = .milliseconds(100)
        settings.maintenance.retentionBatchSize = 500
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(settings: settings, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let running = Task { try await group.run() }
        let tcp = try #require(await services.readiness.ready().listeners.first).address.port
        let api = try await TestAPI(services)

        // About 4 MB of records against a 1 MB limit.
        let padding = String(repeating: "x", count: 150)
        let total = 20_000
        try Self.send((0..<total).map { "<13>1 2026-11-25T10:00:00Z h app - - - record \($0) \(padding)" }, port: tcp)
        _ = try await api.waitForRecords("\"record \(total - 1)\"", count: 1)
        let deadline = Date().addingTimeInterval(60)
        var store: [String: Any] = [:]
        repeat {
            try await Task.sleep(for: .milliseconds(200))
            store = try await api.request("GET", "/api/v1/status").json["store"] as? [String: Any] ?? [:]
        } while (store["bytes"] as? Int ?? .max) > 1 << 20 && Date() < deadline
        #expect((store["bytes"] as? Int ?? .max) <= 1 << 20, "\(store)")
        let kept = try #require(store["records"] as? Int)
        #expect(kept > 0 && kept < total)
        #expect((store["retention_deleted"] as? Int ?? 0) + kept == total)
        // The oldest went first; the newest are all still there, in order.
        #expect(try await api.records("\"record 0\"").isEmpty)
        let newest = try await api.request("GET", "/api/v1/logs", ["limit": "3"]).json["records"] as? [[String: Any]] ?? []
        #expect(newest.compactMap { ($0["message"] as? String)?.split(separator: " ").dropFirst().first } == ["\(total - 1)", "\(total - 2)", "\(total - 3)"])
        await group.triggerGracefulShutdown()
        try await running.value
    }

    /// `LEN SP MSG` frames.
    static func frames(_ messages: [String]) -> String {
        messages.map { "\($0.utf8.count) \($0)" }.joined()
    }

    @Test func ingestAnswersAfterCommitAndStoresARetriedBatchOnce() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, admin, _) = try await Self.start(dir)
        let created = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"agent-1","scope":"ingest"}"#)
        let agent = admin.with(token: try #require(created.json["token"] as? String))
        let batch = Self.frames([
            "<14>1 2026-12-05T10:00:00.000001Z db-1 postgres 77 - [origin@32473 unit=\"postgresql.service\"] checkpoint starting",
            "<11>Dec  5 10:00:01 db-1 cron[12]: job failed\nsecond line",
            "<13>1 2026-12-05T10:00:02Z db-1 app - - - " + String(repeating: "é", count: 3000),
        ])
        let params = ["agent": "db-1.example:agent", "batch": "41"]
        let first = try await agent.request("POST", "/api/v1/ingest", params, body: batch, contentType: "application/syslog")
        #expect(first.status == 200 && first.json["stored"] as? Int == 3 && first.json["duplicate"] as? Bool == false, "\(first.text)")
        // Answered after the commit: searchable at once, without waiting.
        let stored = try await admin.records("host:db-1")
        #expect(stored.count == 3, "\(stored)")
        #expect(stored.first?["app"] as? String == "postgres")
        #expect((stored.first?["sd"] as? [String: Any])?["origin@32473"] != nil, "\(stored.first ?? [:])")
        #expect(stored[1]["message"] as? String == "job failed\nsecond line")

        // The same batch again (a retry after a lost answer), and two copies at once: stored once.
        let again = try await agent.request("POST", "/api/v1/ingest", params, body: batch, contentType: "application/syslog")
        #expect(again.status == 200 && again.json["duplicate"] as? Bool == true && again.json["stored"] as? Int == 3, "\(again.text)")
        let next = ["agent": "db-1.example:agent", "batch": "42"]
        let one = Self.frames(["<14>1 2026-12-05T10:00:03Z db-1 app - - - batch 42"])
        async let a = agent.request("POST", "/api/v1/ingest", next, body: one, contentType: "application/syslog")
        async let b = agent.request("POST", "/api/v1/ingest", next, body: one, contentType: "application/syslog")
        let (ra, rb) = try await (a, b)
        #expect(ra.status == 200 && rb.status == 200, "\(ra.text) \(rb.text)")
        #expect(Set([ra.json["duplicate"] as? Bool, rb.json["duplicate"] as? Bool]) == [true, false], "\(ra.text) \(rb.text)")
        #expect(try await admin.records("host:db-1").count == 4)

        // Without agent and batch: stored, not idempotent.
        let plain = try await agent.request("POST", "/api/v1/ingest", body: Self.frames(["<14>1 - db-2 app - - - plain"]), contentType: "text/plain")
        #expect(plain.status == 200 && plain.json["stored"] as? Int == 1, "\(plain.text)")

        // Broken framing rejects the whole batch; nothing of it is stored.
        let good = Self.frames(["<14>1 - db-3 app - - - would be lost"])
        for body in [good + "12 short", good + "x" + good, good + "0 "] {
            let bad = try await agent.request("POST", "/api/v1/ingest", ["agent": "a", "batch": "1"], body: body, contentType: "application/syslog")
            #expect(bad.status == 400 && bad.errorCode == "invalid_body", "\(bad.text)")
        }
        #expect(try await admin.records("host:db-3").isEmpty)
        // The rejected batch was not marked: sent right, it is stored.
        let fixed = try await agent.request("POST", "/api/v1/ingest", ["agent": "a", "batch": "1"], body: good, contentType: "application/syslog")
        #expect(fixed.json["duplicate"] as? Bool == false && fixed.json["stored"] as? Int == 1, "\(fixed.text)")

        // Parameters, type and scope.
        #expect(try await agent.request("POST", "/api/v1/ingest", ["agent": "a"], body: good).errorCode == "invalid_parameter")
        #expect(try await agent.request("POST", "/api/v1/ingest", ["agent": "a b", "batch": "1"], body: good, contentType: "application/syslog").status == 400)
        #expect(try await agent.request("POST", "/api/v1/ingest", body: "{}").status == 415)
        let readToken = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"r","scope":"read"}"#).json["token"] as? String
        #expect(try await admin.with(token: readToken).request("POST", "/api/v1/ingest", body: good, contentType: "application/syslog").status == 403)
        #expect(try await agent.request("GET", "/api/v1/logs").status == 403)
        try await Self.stop(group, running)
    }
}
