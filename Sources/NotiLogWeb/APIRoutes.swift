import Foundation
import Hummingbird
import NIOCore
import NotiLogCollector
import NotiLogCore
import NotiLogStore

/// The endpoints. Each handler checks who asks and what they may do first (`authorize(_:for:)`: a token or a
/// session, and its role), then reads its parameters; every answer is JSON.
struct APIRoutes: Sendable {
    let server: APIServer
    var store: any LogStore { server.sources.store }

    func register(on router: Router<APIRequestContext>) {
        let v1 = router.group("api/v1")
        v1.get("healthz") { _, _ in try await self.health() }
        v1.get("logs") { request, _ in try await self.logs(request) }
        v1.get("logs/:id") { request, context in try await self.log(request, context) }
        v1.get("hosts") { request, _ in try await self.hosts(request) }
        v1.get("stats") { request, _ in try await self.stats(request) }
        v1.get("status") { request, _ in try await self.status(request) }
        v1.get("metrics") { request, _ in try await self.metrics(request) }
        router.get("metrics") { request, _ in try await self.metrics(request) }
        v1.get("tokens") { request, _ in try await self.listTokens(request) }
        v1.post("tokens") { request, context in try await self.createToken(request, context) }
        v1.delete("tokens/:id") { request, context in try await self.revokeToken(request, context) }
        SessionRoutes(api: self).register(on: v1)
        UserRoutes(api: self).register(on: v1)
        SettingsRoutes(api: self).register(on: v1)
        WatchRoutes(api: self).register(on: v1)
        IngestRoutes(api: self).register(on: v1)
        TailRoutes(api: self).register(on: v1)
        if let alerting = server.sources.alerting {
            AlertRoutes(api: self, alerting: alerting).register(on: v1)
        }
    }

    // MARK: Helpers

    /// The token-only check (HTTP ingest): a bearer token with `scope`.
    @discardableResult
    func authorize(_ request: Request, _ scope: TokenScope) async throws(APIError) -> APIToken {
        try await server.tokens.authorize(request.headers[.authorization], needs: scope)
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        json(bytes: value.bytes, status: status)
    }

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The request's query parameters, form-decoded (`+` is a space, `%XX` a byte). Later duplicates win.
    static func parameters(_ request: Request) -> [String: String] {
        var result: [String: String] = [:]
        for pair in (request.uri.query ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    static func integer(_ parameters: [String: String], _ name: String, default value: Int, in range: ClosedRange<Int>) throws(APIError) -> Int {
        guard let text = parameters[name], !text.isEmpty else { return value }
        guard let n = Int(text), range.contains(n) else {
            throw APIError.invalidParameter(name, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return n
    }

    /// `since`/`until` parameters take what the query language's `since:`/`until:` take.
    static func timeTerm(_ parameters: [String: String], _ name: String) throws(APIError) -> QueryTerm? {
        guard let text = parameters[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        let parsed: Query
        do {
            parsed = try QueryParser.parse("\(name):\(text)")
        } catch {
            throw APIError.invalidParameter(name, "expected an RFC 3339 time, a date or a relative time such as -15m, got '\(text)'")
        }
        guard case .term(let term) = parsed.root, case .time = term.predicate else {
            throw APIError.invalidParameter(name, "expected an RFC 3339 time, a date or a relative time such as -15m, got '\(text)'")
        }
        return term
    }

    /// The `q` parameter, narrowed by `since` and `until`.
    static func query(_ parameters: [String: String]) throws(APIError) -> Query {
        let text = parameters["q"] ?? ""
        let query: Query
        do {
            query = try QueryParser.parse(text)
        } catch {
            throw APIError.invalidQuery(error)
        }
        let bounds = [try timeTerm(parameters, "since"), try timeTerm(parameters, "until")].compactMap { $0.map(QueryNode.term) }
        guard !bounds.isEmpty else { return query }
        return Query(root: .and([query.root] + bounds), text: text)
    }

    // MARK: Records

    func health() async throws -> Response {
        do {
            _ = try await store.figures()
            return Self.json(.object([("status", .string("ok"))]))
        } catch {
            return Self.json(.object([("status", .string("unhealthy")), ("error", .string(error.message))]), status: .serviceUnavailable)
        }
    }

    func logs(_ request: Request) async throws -> Response {
        try await authorize(request, for: .read)
        let p = Self.parameters(request)
        let query = try Self.query(p)
        let limit = try Self.integer(p, "limit", default: 100, in: 1...10_000)
        var before: Int64?
        if let cursor = p["cursor"], !cursor.isEmpty {
            guard let id = Int64(cursor), id > 0 else { throw APIError.invalidParameter("cursor", "not a cursor from a previous page: '\(cursor)'") }
            before = id
        }
        // Only records newer than this id (a poller's cursor: `notilogctl tail` without WebSockets).
        var after: Int64?
        if let text = p["after_id"], !text.isEmpty {
            guard let id = Int64(text), id >= 0 else {
                throw APIError.invalidParameter("after_id", "expected a record id (a whole number, 0 or more), got '\(text.prefix(40))'")
            }
            after = id
        }
        let page: SearchPage
        do {
            page = try await store.search(SearchRequest(query: query, now: .now(), limit: limit, before: before, after: after))
        } catch {
            throw APIError.store(error)
        }
        var out: [UInt8] = []
        out.reserveCapacity(64 + page.records.count * 600)
        out.append(contentsOf: #"{"records":["#.utf8)
        for (k, stored) in page.records.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            stored.record.appendJSON(to: &out, id: stored.id)
        }
        out.append(contentsOf: #"],"next":"#.utf8)
        JSONValue.string(page.next.map(String.init)).write(to: &out)
        out.append(UInt8(ascii: "}"))
        return Self.json(bytes: out)
    }

    func log(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await authorize(request, for: .read)
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError(.notFound, "not_found", "no record with id '\(context.parameters.get("id") ?? "")'")
        }
        let stored: StoredRecord?
        do {
            stored = try await store.record(id: id)
        } catch {
            throw APIError.store(error)
        }
        guard let stored else { throw APIError(.notFound, "not_found", "no record with id \(id)") }
        return Self.json(bytes: stored.record.jsonBytes(id: stored.id))
    }

    func hosts(_ request: Request) async throws -> Response {
        try await authorize(request, for: .read)
        let hosts: [HostSummary]
        do {
            hosts = try await store.hosts()
        } catch {
            throw APIError.store(error)
        }
        let now = SyslogTimestamp.now()
        let items: [JSONValue] = hosts.map { h in
            .object([
                ("hostname", .string(h.hostname)), ("first_seen", .time(h.firstSeen)), ("last_seen", .time(h.lastSeen)),
                ("messages", .int(h.messages)), ("parse_problems", .int(h.parseProblems)),
                ("clock_skew_seconds", h.clockSkewSeconds.map { .double($0) } ?? .null),
                (
                    "recent",
                    h.recent.map { r in
                        .object([
                            ("since", .time(r.since)), ("messages", .int(r.messages)), ("parse_problems", .int(r.parseProblems)),
                            ("messages_per_minute", .double(Self.perMinute(r.messages, since: r.since, now: now))),
                            ("parse_problems_per_minute", .double(Self.perMinute(r.parseProblems, since: r.since, now: now))),
                        ])
                    } ?? .null
                ),
            ])
        }
        return Self.json(.object([("hosts", .array(items))]))
    }

    /// A count over `since`…`now` as a rate per minute (two decimals), over at least one minute.
    static func perMinute(_ count: Int64, since: SyslogTimestamp, now: SyslogTimestamp) -> Double {
        let minutes = max(1, Double(now.nanosecondsSinceEpoch - since.nanosecondsSinceEpoch) / 60e9)
        return (Double(count) / minutes * 100).rounded() / 100
    }

    func stats(_ request: Request) async throws -> Response {
        try await authorize(request, for: .read)
        let p = Self.parameters(request)
        let now = SyslogTimestamp.now()
        let query: Query
        do {
            query = try QueryParser.parse(p["q"] ?? "")
        } catch {
            throw APIError.invalidQuery(error)
        }
        func bound(_ name: String, _ fallback: SyslogTimestamp) throws(APIError) -> SyslogTimestamp {
            guard let term = try Self.timeTerm(p, name), case .time(_, let t) = term.predicate else { return fallback }
            return t.resolved(now: now)
        }
        let since = try bound("since", SyslogTimestamp(seconds: now.seconds - 86_400, nanoseconds: now.nanoseconds, fractionDigits: 6))
        let until = try bound("until", now)
        guard since < until else { throw APIError.invalidParameter("since", "the range is empty: since \(since) is not before until \(until)") }
        let buckets = try Self.integer(p, "buckets", default: 60, in: 1...1000)
        let top = try Self.integer(p, "top", default: 10, in: 0...1000)
        let stats: LogStats
        do {
            stats = try await store.stats(StatsRequest(query: query, now: now, since: since, until: until, buckets: buckets, top: top))
        } catch {
            throw APIError.store(error)
        }
        func counts(_ list: [LogStats.Count], severityNames: Bool = false) -> JSONValue {
            .array(list.map { c in
                var value = JSONValue.string(c.value)
                if severityNames, let v = c.value.flatMap(UInt8.init), let s = Severity(rawValue: v) { value = .string(s.name) }
                return .object([("value", value), ("count", .int(c.count))])
            })
        }
        return Self.json(
            .object([
                ("total", .int(stats.total)), ("hosts", counts(stats.hosts)), ("apps", counts(stats.apps)),
                ("severities", counts(stats.severities, severityNames: true)),
                (
                    "histogram",
                    .object([
                        ("since", .time(since)), ("until", .time(until)),
                        ("bucket_seconds", .double(Double(stats.bucketNanoseconds) / 1e9)),
                        ("counts", .array(stats.histogram.map { .int($0) })),
                    ])
                ),
            ]))
    }

    // MARK: Operations

    func status(_ request: Request) async throws -> Response {
        try await authorize(request, for: .read)
        let figures: StoreFigures
        do {
            figures = try await store.figures()
        } catch {
            throw APIError.store(error)
        }
        let now = SyslogTimestamp.now()
        let c = server.sources.pipeline.counters
        let m = server.sources.maintenance.counters
        let t = server.tail.counters
        var listeners: [JSONValue] = []
        for l in server.sources.listeners {
            let s = l.counters.snapshot
            listeners.append(
                .object([
                    ("protocol", .string(l.configuration.transport.rawValue)), ("address", .string(await Self.address(of: l))),
                    ("received", .int(s.received)), ("parse_problems", .int(s.parseProblems)), ("frame_problems", .int(s.frameProblems)),
                    ("dropped", .int(s.droppedQueueFull)), ("rejected_not_allowed", .int(s.rejectedNotAllowed)),
                    ("rejected_limit", .int(s.rejectedLimit)), ("open_connections", .int(s.openConnections)),
                ]))
        }
        return Self.json(
            .object([
                ("version", .string(server.configuration.version)), ("started_at", .time(server.startedAt)),
                ("uptime_seconds", .int(now.seconds - server.startedAt.seconds)),
                ("listeners", .array(listeners)),
                (
                    "http",
                    .object([
                        ("address", .string((try? await server.boundAddress()).map(APIServer.describe))),
                        ("tls", .bool(server.configuration.tls != nil)),
                    ])
                ),
                ("data_dir", .string((server.sources.storePath as NSString).deletingLastPathComponent)),
                (
                    "ingest",
                    .object([
                        ("accepted", .int(c.accepted)), ("committed", .int(c.committed)), ("queued", .int(c.queued)),
                        ("queue_capacity", .int(server.sources.pipeline.configuration.queueCapacity)),
                        ("dropped", .int(c.droppedQueueFull)), ("batches", .int(c.batches)), ("failed_batches", .int(c.failedBatches)),
                        ("last_batch_size", .int(c.lastBatchSize)), ("last_commit_seconds", .double(c.lastCommitSeconds)),
                    ])
                ),
                (
                    "store",
                    .object([
                        ("path", .string(server.sources.storePath)), ("bytes", .int(figures.bytes)), ("records", .int(figures.records)),
                        ("newest_id", .int(figures.newestID)), ("indexed_up_to", .int(figures.indexedUpTo)),
                        ("indexed_rows", .int(m.indexedRows)), ("retention_deleted", .int(m.deletedRows)),
                        ("maintenance_failures", .int(m.failedSteps)), ("last_error", .string(m.lastError)),
                    ])
                ),
                (
                    "tail",
                    .object([
                        ("connections", .int(t.connections)), ("opened", .int(t.opened)), ("refused", .int(t.refused)),
                        ("missed", .int(t.missedRecords)),
                        ("read_back", .int(t.readBackRecords)), ("skipped_ids", .int(t.skippedIDs)),
                    ])
                ),
            ]))
    }

    /// `tcp 0.0.0.0:5514` as bound (the real port when configured with 0).
    static func address(of listener: SyslogListener) async -> String {
        if let a = try? await listener.boundAddress() { return APIServer.describe(a) }
        let host = listener.configuration.host
        return host.contains(":") ? "[\(host)]:\(listener.configuration.port)" : "\(host):\(listener.configuration.port)"
    }

    func metrics(_ request: Request) async throws -> Response {
        try await authorize(request, for: .read)
        let figures = try? await store.figures()
        var listeners: [(String, String, ListenerCounters.Snapshot)] = []
        for l in server.sources.listeners {
            listeners.append((l.configuration.transport.rawValue, await Self.address(of: l), l.counters.snapshot))
        }
        let text = PrometheusText.render(
            pipeline: server.sources.pipeline.counters, queueCapacity: server.sources.pipeline.configuration.queueCapacity,
            maintenance: server.sources.maintenance.counters, listeners: listeners, store: figures, startedAt: server.startedAt,
            tail: server.tail.counters)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Tokens

    static func tokenJSON(_ t: APIToken, secret: String? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .int(t.id)), ("name", .string(t.name)), ("scope", .string(t.scope.rawValue)), ("created_at", .time(t.createdAt)),
            ("last_used_at", .time(t.lastUsedAt)), ("revoked_at", .time(t.revokedAt)),
        ]
        if let secret { members.append(("token", .string(secret))) }
        return .object(members)
    }

    func listTokens(_ request: Request) async throws -> Response {
        try await authorize(request, for: .admin)
        do {
            return Self.json(.object([("tokens", .array(try await server.tokens.store.tokens().map { Self.tokenJSON($0) }))]))
        } catch {
            throw APIError.store(error)
        }
    }

    struct NewToken: Decodable {
        var name: String
        var scope: String
    }

    func createToken(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await authorize(request, for: .admin)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let new = try? JSONDecoder().decode(NewToken.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body {"name": "...", "scope": "read|ingest|admin"}"#)
        }
        let name = new.name.trimmingCharacters(in: .whitespaces)
        guard (1...100).contains(name.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.invalidParameter("name", "1 to 100 characters, no control characters")
        }
        guard let scope = TokenScope(rawValue: new.scope) else {
            throw APIError.invalidParameter("scope", "one of read, ingest, admin; got '\(new.scope)'")
        }
        do {
            let (token, secret) = try await server.tokens.create(name: name, scope: scope)
            return Self.json(Self.tokenJSON(token, secret: secret), status: .created)
        } catch {
            throw APIError.store(error)
        }
    }

    func revokeToken(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await authorize(request, for: .admin)
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError(.notFound, "not_found", "no token with id '\(context.parameters.get("id") ?? "")'")
        }
        do {
            guard let token = try await server.tokens.store.revokeToken(id: id, at: .now()) else {
                throw APIError(.notFound, "not_found", "no token with id \(id)")
            }
            return Self.json(Self.tokenJSON(token))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }
}
