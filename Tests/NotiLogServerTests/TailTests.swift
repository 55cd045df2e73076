import Foundation
import Logging
import NotiLogCore
import NotiLogServer
import NotiLogTestSupport
import ServiceLifecycle
import Testing

@testable import NotiLogWeb

#if canImport(Glibc)
import Glibc
#endif

/// The live tail (`GET /api/v1/tail`, a WebSocket) of an in-process server on loopback, through a plain-socket
/// WebSocket client: who may open it, what it sends, resuming with `after_id`, gaps for a client that does not
/// read, errors; and `notilogctl tail` against the real server.
@Suite("Live tail", .serialized)
struct TailTests {
    struct Running {
        let services: ServerServices
        let group: ServiceGroup
        let task: Task<Void, Error>
        let admin: TestAPI
        let http: Int
        let tcp: Int

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    static func start(
        _ dir: TemporaryDirectory, credentialRecheck: Duration? = nil, adjust: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> Running {
        var c = ServerConfiguration(
            dataDir: dir.path, listeners: [.init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0", ingest: .init(batchDelay: "20ms"), timeZone: "UTC")
        c.adminPassword = SessionTests.adminPassword
        adjust(&c)
        var resolved = try c.resolved()
        resolved.httpSettings.sessions.passwordCost = 4
        if let credentialRecheck { resolved.httpSettings.tailCredentialRecheck = credentialRecheck }
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(settings: resolved, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let task = Task { try await group.run() }
        let bound = await services.readiness.ready()
        let tcp = try #require(bound.listeners.first).address.port
        let token = try String(contentsOfFile: dir.path + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return Running(
            services: services, group: group, task: task, admin: TestAPI(port: bound.http.port, token: token), http: bound.http.port, tcp: tcp)
    }

    /// An RFC 5424 line for app `app`, received now.
    static func line(_ app: String, _ text: String, severity: Int = 6, host: String = "web-1") -> String {
        "<\(8 + severity)>1 2026-12-05T10:00:00.000Z \(host) \(app) - - - \(text)"
    }

    static func send(_ lines: [String], port: Int) throws {
        let socket = try TestSocket(tcpPort: port)
        try socket.send(lines.flatMap { Array("\($0.utf8.count) \($0)".utf8) })
        guard socket.finish(seconds: 60) else { throw PeerError("the server did not read \(lines.count) lines within 60 s") }
    }

    static func connect(
        _ server: Running, query: [String: String] = [:], headers: [(String, String)]? = nil, receiveBuffer: Int32? = nil
    ) async throws -> (WebSocketTestClient.Handshake, WebSocketTestClient?) {
        var components = URLComponents()
        components.path = "/api/v1/tail"
        if !query.isEmpty {
            components.queryItems = query.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        let path = components.string!
        let headers = headers ?? [("Authorization", "Bearer \(server.admin.token!)")]
        let port = server.http
        return try await Peers.offThreadThrowing {
            try WebSocketTestClient.connect(port: port, path: path, headers: headers, receiveBuffer: receiveBuffer)
        }
    }

    /// What a tail sent, in order.
    struct Stream {
        var records: [[String: Any]] = []
        var gaps: [[String: Any]] = []
        var errors: [[String: Any]] = []
        var live: [[String: Any]] = []
        var stats: [[String: Any]] = []
        /// Message types in arrival order (`records` once per message).
        var kinds: [String] = []
        var close: WebSocketTestClient.Message?

        var messages: [String] { records.map { $0["message"] as? String ?? "" } }
        var ids: [Int] { records.map { $0["id"] as? Int ?? -1 } }
        var missed: Int { gaps.reduce(0) { $0 + ($1["missed"] as? Int ?? 0) } }
    }

    /// Reads messages into `stream` until `done` holds, the server closes, or `seconds` pass; returns `done`.
    @discardableResult
    static func read(_ client: WebSocketTestClient, into stream: inout Stream, seconds: Double = 30, until done: (Stream) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !done(stream) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            let message = try await Peers.offThreadThrowing { try client.next(seconds: min(left, 2)) }
            switch message {
            case .timeout:
                continue
            case .close:
                stream.close = message
                return done(stream)
            case .text(let text):
                let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text.prefix(200))")
                let type = object["type"] as? String ?? "?"
                stream.kinds.append(type)
                switch type {
                case "records": stream.records += object["records"] as? [[String: Any]] ?? []
                case "gap": stream.gaps.append(object)
                case "error": stream.errors.append(object)
                case "live": stream.live.append(object)
                case "stats": stream.stats.append(object)
                default: Issue.record("unknown message type \(type): \(text.prefix(200))")
                }
            }
        }
        return true
    }

    // MARK: Who may tail

    @Test func theTailNeedsAReadCredentialAndASessionNeedsThisServersOrigin() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        let origin = "http://127.0.0.1:\(server.http)"

        // Nothing, a wrong token, an ingest token: the upgrade is refused, nothing is streamed.
        let ingest = try await server.admin.request("POST", "/api/v1/tokens", body: #"{"name":"agent","scope":"ingest"}"#)
        let ingestToken = try #require(ingest.json["token"] as? String)
        for (name, headers) in [
            ("no credential", [(String, String)]()), ("an unknown token", [("Authorization", "Bearer nl_not-a-token")]),
            ("an ingest token", [("Authorization", "Bearer \(ingestToken)")]),
        ] {
            let (handshake, client) = try await Self.connect(server, headers: headers)
            #expect(handshake.status == 400 && client == nil, "\(name): \(handshake.head)")
        }

        // A read token: upgraded; the first message says the tail is live.
        let read = try await server.admin.request("POST", "/api/v1/tokens", body: #"{"name":"grafana","scope":"read"}"#)
        let readToken = try #require(read.json["token"] as? String)
        let (ok, tokenClient) = try await Self.connect(server, headers: [("Authorization", "Bearer \(readToken)")])
        #expect(ok.status == 101, "\(ok.head)")
        var tokenStream = Stream()
        try await Self.read(try #require(tokenClient), into: &tokenStream, seconds: 10) { !$0.kinds.isEmpty }
        #expect(tokenStream.kinds.first == "live", "\(tokenStream.kinds)")
        tokenClient?.close()

        // A session: only with this server's Origin (a page of another site must not read the user's logs).
        var browser = Browser(port: server.http)
        #expect(try await browser.signIn("admin", SessionTests.adminPassword).status == 201)
        let cookie = ("Cookie", "notilog_session=\(try #require(browser.cookie))")
        let (same, sessionClient) = try await Self.connect(server, headers: [cookie, ("Origin", origin)])
        #expect(same.status == 101, "\(same.head)")
        sessionClient?.close()
        for (name, headers) in [
            ("a session without Origin", [cookie]), ("a session from another site", [cookie, ("Origin", "http://evil.example")]),
            ("a session from another port", [cookie, ("Origin", "http://127.0.0.1:1")]),
            ("a token from another site", [("Authorization", "Bearer \(readToken)"), ("Origin", "https://evil.example")]),
        ] {
            let (handshake, client) = try await Self.connect(server, headers: headers)
            #expect(handshake.status == 400 && client == nil, "\(name): \(handshake.head)")
        }

        // Without the upgrade the same checks answer as the API does.
        let anonymous = try await server.admin.with(token: nil).request("GET", "/api/v1/tail")
        #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized", "\(anonymous.text)")
        let plain = try await server.admin.request("GET", "/api/v1/tail", ["q": "app:x"])
        #expect(plain.status == 426 && plain.errorCode == "upgrade_required", "\(plain.text)")
        let badQuery = try await server.admin.request("GET", "/api/v1/tail", ["q": "app:x ("])
        #expect(badQuery.status == 400 && badQuery.errorCode == "invalid_query", "\(badQuery.text)")

        // Signed out: the cookie opens nothing.
        _ = try await browser.request("DELETE", "/api/v1/session", headers: ["Origin": origin])
        let (ended, endedClient) = try await Self.connect(server, headers: [cookie, ("Origin", origin)])
        #expect(ended.status == 400 && endedClient == nil, "\(ended.head)")
        try await server.stop()
    }

    // MARK: What it sends

    @Test func onlyMatchingRecordsArriveLiveInOrder() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        let (_, all) = try await Self.connect(server, query: ["q": "app:tail-a"])
        let errors = try await Self.connect(server, query: ["q": "app:tail-a severity:<=err"]).1
        let a = try #require(all), e = try #require(errors)
        var stream = Stream(), errorStream = Stream()
        try await Self.read(a, into: &stream) { !$0.live.isEmpty }
        try await Self.read(e, into: &errorStream) { !$0.live.isEmpty }
        #expect(stream.records.isEmpty && stream.live.first?["stored"] as? Int == 0)

        try Self.send(
            [
                Self.line("tail-a", "first"), Self.line("tail-b", "other app"), Self.line("tail-a", "second", severity: 3),
                Self.line("tail-a", "third"), Self.line("tail-b", "other again", severity: 3),
            ], port: server.tcp)
        #expect(try await Self.read(a, into: &stream) { $0.records.count >= 3 }, "\(stream.kinds)")
        #expect(stream.messages == ["first", "second", "third"])
        #expect(stream.records.allSatisfy { $0["app"] as? String == "tail-a" })
        #expect(Set(stream.records.first?.keys.map { $0 } ?? []) == APITests.recordKeys, "the search API's record shape")
        #expect(try await Self.read(e, into: &errorStream) { $0.records.count >= 1 })
        #expect(errorStream.messages == ["second"])

        // Statistics every second, with a position at least the last id sent.
        #expect(try await Self.read(a, into: &stream, seconds: 5) { !$0.stats.isEmpty })
        let position = try #require(stream.stats.last?["position"] as? Int)
        #expect(position >= stream.ids.max() ?? 0)
        #expect(stream.gaps.isEmpty)
        a.close()
        e.close()
        try await server.stop()
    }

    @Test func afterIDResumesWithoutAGapOrARepeatWhileRecordsArrive() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try Self.send((0..<50).map { Self.line("seq", "seq \($0)") }, port: server.tcp)
        let stored = try await server.admin.waitForRecords("app:seq", count: 50)
        #expect(stored.count == 50)
        let resumeAfter = try #require(stored[19]["id"] as? Int)

        // More arrive while the client connects and catches up: the seam between stored and live must hold.
        let tcp = server.tcp
        let sender = Task.detached {
            for chunk in stride(from: 50, to: 2_050, by: 100) {
                try Self.send((chunk..<(chunk + 100)).map { Self.line("seq", "seq \($0)") }, port: tcp)
                try await Task.sleep(for: .milliseconds(15))
            }
        }
        try await Task.sleep(for: .milliseconds(40))
        let client = try #require(try await Self.connect(server, query: ["q": "app:seq", "after_id": "\(resumeAfter)"]).1)
        var stream = Stream()
        let complete = try await Self.read(client, into: &stream, seconds: 90) { $0.records.count >= 2_030 }
        try await sender.value
        #expect(complete, "\(stream.records.count) records, kinds \(stream.kinds.suffix(20))")
        #expect(stream.messages == (20..<2_050).map { "seq \($0)" }, "first \(stream.messages.prefix(3)), last \(stream.messages.suffix(3))")
        #expect(zip(stream.ids, stream.ids.dropFirst()).allSatisfy { $0 < $1 }, "ids ascending, none twice")
        #expect(stream.gaps.isEmpty)
        #expect(stream.live.count == 1)
        // Nothing more comes: no repeats after the last.
        try await Self.read(client, into: &stream, seconds: 1.5) { _ in false }
        #expect(stream.records.count == 2_030)
        client.close()

        // `last`: the newest N stored, oldest first, then live.
        let recent = try #require(try await Self.connect(server, query: ["q": "app:seq", "last": "5"]).1)
        var recentStream = Stream()
        #expect(try await Self.read(recent, into: &recentStream) { !$0.live.isEmpty })
        #expect(recentStream.messages == (2_045..<2_050).map { "seq \($0)" })
        #expect(recentStream.live.first?["stored"] as? Int == 5)
        #expect(recentStream.kinds.last == "live")
        try Self.send([Self.line("seq", "seq after")], port: server.tcp)
        #expect(try await Self.read(recent, into: &recentStream) { $0.records.count >= 6 })
        #expect(recentStream.messages.last == "seq after")
        recent.close()
        try await server.stop()
    }

    /// An open tail's credential is checked again now and then: a revoked token is told and closed (4401).
    @Test func aTailWhoseTokenIsRevokedIsToldAndClosed() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir, credentialRecheck: .milliseconds(200))
        let read = try await server.admin.request("POST", "/api/v1/tokens", body: #"{"name":"grafana","scope":"read"}"#)
        let token = try #require(read.json["token"] as? String), id = try #require(read.json["id"] as? Int)
        let client = try #require(try await Self.connect(server, headers: [("Authorization", "Bearer \(token)")]).1)
        var stream = Stream()
        #expect(try await Self.read(client, into: &stream) { !$0.live.isEmpty })
        // Still open after several checks while the token is valid.
        try Self.send([Self.line("app", "before")], port: server.tcp)
        #expect(try await Self.read(client, into: &stream) { $0.messages.contains("before") && $0.stats.count >= 2 })
        #expect(stream.close == nil)
        #expect(try await server.admin.request("DELETE", "/api/v1/tokens/\(id)").status == 200)
        #expect(try await Self.read(client, into: &stream) { $0.close != nil })
        #expect((stream.errors.last?["error"] as? [String: Any])?["code"] as? String == "unauthorized", "\(stream.errors)")
        #expect(stream.close == .close(code: 4401, reason: "unauthorized"), "\(String(describing: stream.close))")
        try await server.stop()
    }

    @Test func aClientThatDoesNotReadGetsAGapNeverASilentHole() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        // A small receive window, and a queue (16 MiB) that 4,000 lines of 8 KB overflow.
        let client = try #require(try await Self.connect(server, query: ["q": "app:flood"], receiveBuffer: 4_096).1)
        var stream = Stream()
        #expect(try await Self.read(client, into: &stream) { !$0.live.isEmpty })
        let total = 4_000
        let padding = String(repeating: "x", count: 8_000)
        for chunk in stride(from: 0, to: total, by: 500) {
            try Self.send((chunk..<(chunk + 500)).map { Self.line("flood", "flood \($0) \(padding)") }, port: server.tcp)
        }
        #expect(try await server.admin.waitForRecords("app:flood", count: total, seconds: 60).count == total)

        // Now read it all: what did not come is reported, in place. The queue has overflowed by now; what it
        // still holds (up to 16 MiB) would take long through a 4 KB window on a busy machine, so the client
        // reads as a client that wants to keep up would.
        client.setReceiveBuffer(1 << 20)
        let done = try await Self.read(client, into: &stream, seconds: 90) { $0.records.count + $0.missed >= total }
        #expect(done, "\(stream.records.count) records + \(stream.missed) missed of \(total); errors \(stream.errors), close \(String(describing: stream.close))")
        #expect(!stream.gaps.isEmpty, "the client did not read: some lines must have been dropped")
        #expect(stream.records.count + stream.missed == total)
        let numbers = stream.messages.map { Int($0.split(separator: " ")[1]) ?? -1 }
        #expect(zip(numbers, numbers.dropFirst()).allSatisfy { $0 < $1 }, "in order, none twice")
        for gap in stream.gaps {
            #expect(gap["reason"] as? String == "slow_client")
            let from = try #require(gap["from_id"] as? Int), to = try #require(gap["to_id"] as? Int)
            #expect(from <= to)
            #expect(!stream.ids.contains { (from...to).contains($0) }, "a gap holds no record that was sent")
            #expect(gap["from"] is String && gap["to"] is String)
        }
        // Counted where an operator looks: /metrics and status.
        let metrics = try await server.admin.request("GET", "/metrics").text
        #expect(metrics.contains("notilog_tail_missed_records_total \(stream.missed)\n"), "\(metrics.split(separator: "\n").filter { $0.hasPrefix("notilog_tail") })")
        #expect(metrics.contains("notilog_tail_connections 1\n"))
        let status = try await server.admin.request("GET", "/api/v1/status").json
        #expect((status["tail"] as? [String: Any])?["missed"] as? Int == stream.missed, "\(String(describing: status["tail"]))")
        let seen = stream.stats.count
        let stats = try await Self.read(client, into: &stream, seconds: 5) { $0.stats.count > seen }
        #expect(stats && (stream.stats.last?["missed"] as? Int ?? 0) == stream.missed)
        client.close()
        try await server.stop()
    }

    @Test func aBadQueryOrParameterIsAnErrorMessageThenClose() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        for (query, code) in [(["q": "host:web-1 (app:sshd"], "invalid_query"), (["after_id": "abc"], "invalid_parameter"), (["last": "100000"], "invalid_parameter")] {
            let client = try #require(try await Self.connect(server, query: query).1)
            var stream = Stream()
            try await Self.read(client, into: &stream, seconds: 10) { $0.close != nil }
            #expect(stream.kinds == ["error"], "\(query): \(stream.kinds)")
            let error = try #require(stream.errors.first?["error"] as? [String: Any])
            #expect(error["code"] as? String == code)
            #expect((error["message"] as? String)?.isEmpty == false)
            if code == "invalid_query" { #expect(error["column"] is Int, "\(error)") }
            #expect(stream.close == .close(code: 4400, reason: code), "\(String(describing: stream.close))")
        }

        // Tails still open, one of them not reading: the server still stops, and closes them.
        let reading = try #require(try await Self.connect(server).1)
        let idle = try #require(try await Self.connect(server, receiveBuffer: 4_096).1)
        var stream = Stream()
        #expect(try await Self.read(reading, into: &stream) { !$0.live.isEmpty })
        let started = ContinuousClock.now
        try await server.stop()
        #expect(ContinuousClock.now - started < .seconds(30), "stopping took \(ContinuousClock.now - started)")
        try await Self.read(reading, into: &stream, seconds: 10) { $0.close != nil }
        #expect(stream.close != nil, "the open tail was closed")
        idle.close()
    }

    /// Tails beyond the limit (100 open at once) get an error message and close 1013 (try again later); a place
    /// freed is taken by the next.
    @Test func aTailBeyondTheLimitIsToldAndClosed() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        let hub = server.services.api.tail
        // The open tails, held by the hub as connections would be (a hundred sockets would say no more).
        var held: [TailClient] = []
        while let client = hub.register(QueryMatcher(try QueryParser.parse(""))) { held.append(client) }
        #expect(held.count == hub.limits.connections)
        let refusedBefore = hub.counters.refused

        let refused = try #require(try await Self.connect(server).1)
        var stream = Stream()
        try await Self.read(refused, into: &stream, seconds: 10) { $0.close != nil }
        #expect(stream.kinds == ["error"], "\(stream.kinds)")
        let error = try #require(stream.errors.first?["error"] as? [String: Any])
        #expect(error["code"] as? String == "too_many_tails")
        #expect(stream.close == .close(code: 1013, reason: "too_many_tails"), "\(String(describing: stream.close))")
        #expect(hub.counters.refused == refusedBefore + 1)
        refused.close()

        hub.unregister(held.removeLast())
        let admitted = try #require(try await Self.connect(server).1)
        var live = Stream()
        #expect(try await Self.read(admitted, into: &live) { !$0.live.isEmpty })
        admitted.close()
        for client in held { hub.unregister(client) }
        try await server.stop()
    }

    @Test func theTailWorksOverHTTPS() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = try Peers.makeCertificate(in: dir.path)
        let server = try await Self.start(dir) { $0.httpTLS = .init(certFile: cert, keyFile: key) }
        // Python's ssl module as the TLS client: the handshake, then the first message.
        let script = """
            import socket, ssl, sys
            context = ssl.create_default_context(cafile=sys.argv[2])
            with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
                with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                    s.sendall(("GET /api/v1/tail?q=app:x HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n"
                               "Authorization: Bearer " + sys.argv[3] + "\\r\\n\\r\\n").encode())
                    data = b""
                    while b"live" not in data:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    print(data.decode("utf-8", "replace"))
            """
        let scriptPath = dir.path + "/wss.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let token = try #require(server.admin.token)
        let run = try await Peers.offThreadThrowing { try Peers.runProgram(Peers.python3, [scriptPath, "\(server.http)", cert, token]) }
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.hasPrefix("HTTP/1.1 101"), "\(run.output)")
        #expect(run.output.contains(#""type":"live""#), "\(run.output)")
        try await server.stop()
    }

    // MARK: notilogctl tail

    @Test func notilogctlTailPrintsTheLastLinesThenNewOnesInOrder() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }
        try server.send([Self.line("ctl-tail", "one"), Self.line("ctl-tail", "two"), Self.line("other", "not this"), Self.line("ctl-tail", "three")])
        #expect(try await server.waitForRecords(4) == 4)

        let dir = server.clientDirectory.path
        let environment = ["PATH": "/usr/bin:/bin", "HOME": dir, "NOTILOG_SERVER": server.url, "NOTILOG_TOKEN": server.adminToken]
        let json = try Peers.spawn(
            try ctlExecutable(), ["tail", "app:ctl-tail", "-n", "2", "--json", "--interval", "0.2"], environment: environment, directory: dir,
            stdoutPath: dir + "/json.out", stderrPath: dir + "/json.err")
        let table = try Peers.spawn(
            try ctlExecutable(), ["tail", "app:ctl-tail", "-n", "1", "--interval", "0.2"], environment: environment, directory: dir,
            stdoutPath: dir + "/table.out", stderrPath: dir + "/table.err")
        func lines(_ name: String) -> [String] {
            ((try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        func waitFor(_ name: String, count: Int) async throws -> [String] {
            let deadline = Date().addingTimeInterval(30)
            while lines(name).count < count, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return lines(name)
        }
        let firstTwo = try await waitFor("json.out", count: 2)
        #expect(firstTwo.compactMap { try? TailTests.json($0)["message"] as? String } == ["two", "three"], "\(firstTwo)")
        #expect(try await waitFor("table.out", count: 2).last?.hasSuffix("three") == true, "\(lines("table.out"))")

        try server.send([Self.line("ctl-tail", "four"), Self.line("other", "still not"), Self.line("ctl-tail", "five")])
        let all = try await waitFor("json.out", count: 4)
        let records = try all.map { try TailTests.json($0) }
        #expect(records.map { $0["message"] as? String } == ["two", "three", "four", "five"], "\(all)")
        let ids = records.compactMap { $0["id"] as? Int }
        #expect(ids.count == 4 && zip(ids, ids.dropFirst()).allSatisfy { $0 < $1 })
        let tableLines = try await waitFor("table.out", count: 4)
        #expect(tableLines.first?.hasPrefix("TIMESTAMP") == true && tableLines.filter { $0.hasPrefix("TIMESTAMP") }.count == 1, "\(tableLines)")
        #expect(tableLines.dropFirst().map { $0.split(separator: " ").last.map(String.init) } == ["three", "four", "five"], "\(tableLines)")

        // Nothing more: no repeats.
        try await Task.sleep(for: .milliseconds(600))
        #expect(lines("json.out").count == 4)
        for pid in [json, table] {
            kill(pid, SIGTERM)
            _ = try await Peers.waitForExit(pid, seconds: 10)
        }
        #expect(lines("json.err").isEmpty, "\(lines("json.err"))")

        // A bad query: exit 2 with the caret, as search.
        let bad = try await server.ctl(["tail", "app:ctl-tail ("])
        #expect(bad.status == 2 && bad.stderr.contains("^"), "\(bad)")
        let usage = try await server.ctl(["tail", "-n", "-1"])
        #expect(usage.status == 64, "\(usage)")
    }

    static func json(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not a JSON object: \(line)")
    }
}

extension BrowserSuites {
    /// The live tail page in a real browser (`Tests/peers/ui_tail_check.py`): a line sent with `logger` shows up
    /// (and how fast), pause and resume, hostile lines as text, 2,000 lines/s for 10 s (every line or a gap shown;
    /// render rate and the longest stall printed), and reconnecting through a proxy that drops the connection.
    @Suite("Live tail in a browser")
    struct TailBrowserTests {
        @Test(
            "live tail: logger line, pause/resume, hostile lines, 2,000 lines/s, reconnect",
            .enabled(if: BrowserCheck.missing == nil, "needs /usr/bin/chromium and playwright in .peers/python (scripts/setup installs both)"))
        func tailPage() async throws {
            try await BrowserCheck.run("ui_tail_check.py")
        }
    }
}
