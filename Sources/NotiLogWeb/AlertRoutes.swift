import Foundation
import Hummingbird
import NotiLogAlerts
import NotiLogCore
import NotiLogStore

/// What the API needs from the alerting side: its store, the running engine service, and the server's hooks for
/// reloading rules and testing a channel (they read configuration, which only the server has).
public struct AlertingSources: Sendable {
    public var store: any AlertStore
    public var service: AlertingService
    /// Channel name → type (`telegram`, `email`, `webhook`); never their secrets.
    public var channels: [String: String]
    /// Reads the rules again (config file and rules directory) and applies them; throws with every problem.
    public var reload: @Sendable () async throws -> [Rule]
    /// Queues a test notice for a channel; false when there is no such channel.
    public var testChannel: @Sendable (_ channel: String, _ requestedBy: String) async throws -> Bool

    public init(
        store: any AlertStore, service: AlertingService, channels: [String: String], reload: @escaping @Sendable () async throws -> [Rule],
        testChannel: @escaping @Sendable (_ channel: String, _ requestedBy: String) async throws -> Bool
    ) {
        self.store = store
        self.service = service
        self.channels = channels
        self.reload = reload
        self.testChannel = testChannel
    }
}

/// `/api/v1/alerts`, `/rules`, `/silences`, `/channels`.
struct AlertRoutes: Sendable {
    let api: APIRoutes
    let alerting: AlertingSources

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.get("alerts") { request, _ in try await self.alerts(request) }
        v1.get("alerts/:id") { request, context in try await self.alert(request, context) }
        v1.post("alerts/:id/ack") { request, context in try await self.acknowledge(request, context) }
        v1.get("rules") { request, _ in try await self.rules(request) }
        v1.post("rules/reload") { request, _ in try await self.reload(request) }
        v1.get("silences") { request, _ in try await self.silences(request) }
        v1.post("silences") { request, context in try await self.addSilence(request, context) }
        v1.delete("silences/:id") { request, context in try await self.expireSilence(request, context) }
        v1.get("channels") { request, _ in try await self.channels(request) }
        v1.post("channels/:name/test") { request, context in try await self.testChannel(request, context) }
    }

    static func id(_ context: APIRequestContext, _ what: String) throws(APIError) -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError(.notFound, "not_found", "no \(what) with id '\(context.parameters.get("id") ?? "")'")
        }
        return id
    }

    // MARK: Alerts

    static func alertJSON(_ a: AlertRow) -> JSONValue {
        .object([
            ("id", .int(a.id)), ("rule", .string(a.rule)), ("group", .string(a.groupKey)), ("state", .string(a.state.rawValue)),
            ("count", .int(a.count)), ("started_at", .time(a.startedAt)), ("updated_at", .time(a.updatedAt)),
            ("resolved_at", .time(a.resolvedAt)), ("acknowledged_at", .time(a.acknowledgedAt)),
            ("acknowledged_by", .string(a.acknowledgedBy)), ("detail", .raw(Array(a.detail.utf8))),
        ])
    }

    func alerts(_ request: Request) async throws -> Response {
        try await api.authorize(request, .read)
        let p = APIRoutes.parameters(request)
        let limit = try APIRoutes.integer(p, "limit", default: 100, in: 1...1000)
        let before = try p["before"].map { text throws(APIError) -> Int64 in
            guard let n = Int64(text) else { throw APIError.invalidParameter("before", "an alert id") }
            return n
        }
        let filter = AlertFilter(openOnly: p["state"] == "open", rule: p["rule"].flatMap { $0.isEmpty ? nil : $0 }, before: before, limit: limit + 1)
        do {
            var rows = try await alerting.store.alerts(filter)
            let more = rows.count > limit
            if more { rows.removeLast() }
            return APIRoutes.json(.object([("alerts", .array(rows.map(Self.alertJSON))), ("next", more ? .int(rows.last?.id) : .null)]))
        } catch {
            throw APIError.store(error)
        }
    }

    func alert(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, .read)
        let id = try Self.id(context, "alert")
        do {
            guard let row = try await alerting.store.alert(id: id) else { throw APIError(.notFound, "not_found", "no alert with id \(id)") }
            var notifications: [JSONValue] = []
            for item in try await alerting.store.notifications(alertID: id, limit: 100) {
                let attempts = try await alerting.store.deliveryLog(outboxID: item.id).map { a -> JSONValue in
                    .object([("at", .time(a.at)), ("outcome", .string(a.outcome.rawValue)), ("detail", .string(a.detail)), ("retry_at", .time(a.retryAt))])
                }
                notifications.append(
                    .object([
                        ("id", .int(item.id)), ("channel", .string(item.channel)), ("idempotency_key", .string(item.idempotencyKey)),
                        ("state", .string(item.state.rawValue)), ("attempts", .int(item.attempts)), ("created_at", .time(item.createdAt)),
                        ("done_at", .time(item.doneAt)), ("last_error", .string(item.lastError)), ("deliveries", .array(attempts)),
                    ]))
            }
            guard case .object(var members) = Self.alertJSON(row) else { fatalError("an alert is an object") }
            members.append(("notifications", .array(notifications)))
            return APIRoutes.json(.object(members))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    func acknowledge(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let token = try await api.authorize(request, .admin)
        let id = try Self.id(context, "alert")
        do {
            guard let row = try await alerting.store.acknowledgeAlert(id: id, by: token.name, at: .now()) else {
                throw APIError(.notFound, "not_found", "no alert with id \(id)")
            }
            return APIRoutes.json(Self.alertJSON(row))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    // MARK: Rules

    static func ruleJSON(_ r: Rule) -> JSONValue {
        .object([
            ("name", .string(r.name)), ("kind", .string(r.kind.rawValue)), ("description", .string(r.description)),
            ("query", .string(r.query.text)), ("group_by", .array(r.groupBy.map { .string($0.description) })),
            ("enabled", .bool(r.enabled)), ("severity", .string(r.severity)), ("channels", .array(r.channels.map { .string($0) })),
            ("origin", .string(r.origin.description)),
        ])
    }

    func rules(_ request: Request) async throws -> Response {
        try await api.authorize(request, .read)
        return APIRoutes.json(.object([("rules", .array(alerting.service.rules.map(Self.ruleJSON)))]))
    }

    func reload(_ request: Request) async throws -> Response {
        try await api.authorize(request, .admin)
        do {
            let rules = try await alerting.reload()
            return APIRoutes.json(.object([("reloaded", .int(rules.count)), ("rules", .array(rules.map(Self.ruleJSON)))]))
        } catch let error as RuleError {
            // The rules in force stay; every problem is listed.
            throw APIError(.unprocessableContent, "invalid_rules", "\(error)")
        }
    }

    // MARK: Silences

    static func silenceJSON(_ s: SilenceRow) -> JSONValue {
        .object([
            ("id", .int(s.id)), ("matchers", .raw(Array(s.matchers.utf8))), ("starts_at", .time(s.startsAt)), ("ends_at", .time(s.endsAt)),
            ("comment", .string(s.comment)), ("created_by", .string(s.createdBy)), ("created_at", .time(s.createdAt)),
        ])
    }

    func silences(_ request: Request) async throws -> Response {
        try await api.authorize(request, .read)
        let all = APIRoutes.parameters(request)["all"].map { $0 == "1" || $0 == "true" } ?? false
        do {
            let rows = try await alerting.store.silences(includeExpired: all, at: .now())
            return APIRoutes.json(.object([("silences", .array(rows.map(Self.silenceJSON)))]))
        } catch {
            throw APIError.store(error)
        }
    }

    struct NewSilence: Decodable {
        var rule: String?
        var group: [String: String]?
        var query: String?
        /// `2h`, `30m`, `1d` from now; or `ends_at` (RFC 3339).
        var duration: String?
        var endsAt: String?
        var comment: String?

        enum CodingKeys: String, CodingKey {
            case rule, group, query, duration, comment
            case endsAt = "ends_at"
        }
    }

    func addSilence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let token = try await api.authorize(request, .admin)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let new = try? JSONDecoder().decode(NewSilence.self, from: Data(buffer: body)) else {
            throw APIError(
                .badRequest, "invalid_parameter",
                #"expected a JSON body {"rule": "...", "group": {"host": "..."}, "query": "...", "duration": "2h", "comment": "..."}"#)
        }
        var matchers: [Silence.Matcher] = []
        if let rule = new.rule, !rule.isEmpty { matchers.append(.rule(rule)) }
        for (field, value) in (new.group ?? [:]).sorted(by: { $0.key < $1.key }) { matchers.append(.group(field: field, value: value)) }
        if let text = new.query, !text.isEmpty {
            do {
                matchers.append(.query(try QueryParser.parse(text)))
            } catch {
                throw APIError.invalidQuery(error)
            }
        }
        guard !matchers.isEmpty else { throw APIError.invalidParameter("rule", "a silence needs a rule, group values or a query") }
        let now = SyslogTimestamp.now()
        let ends: SyslogTimestamp
        if let text = new.endsAt {
            guard let t = SyslogTimestamp(rfc3339: text), t > now else { throw APIError.invalidParameter("ends_at", "an RFC 3339 time in the future") }
            ends = t
        } else {
            guard let d = RuleDuration(new.duration ?? "2h"), d.seconds > 0 else {
                throw APIError.invalidParameter("duration", "a duration such as 30m, 2h, 1d")
            }
            ends = SyslogTimestamp(seconds: now.seconds + d.seconds, nanoseconds: now.nanoseconds, fractionDigits: 6)
        }
        let silence = Silence(id: 0, matchers: matchers, startsAt: now, endsAt: ends, comment: new.comment ?? "", createdBy: token.name)
        do {
            let row = try await alerting.store.addSilence(
                SilenceRow(matchers: silence.matchersJSON, startsAt: now, endsAt: ends, comment: silence.comment, createdBy: token.name, createdAt: now))
            try await refreshSilences()
            return APIRoutes.json(Self.silenceJSON(row), status: .created)
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    func expireSilence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, .admin)
        let id = try Self.id(context, "silence")
        do {
            guard let row = try await alerting.store.expireSilence(id: id, at: .now()) else {
                throw APIError(.notFound, "not_found", "no silence with id \(id)")
            }
            try await refreshSilences()
            return APIRoutes.json(Self.silenceJSON(row))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    private func refreshSilences() async throws {
        let rows = try await alerting.store.silences(includeExpired: false, at: .now())
        alerting.service.update(silences: rows.compactMap(Silence.init(row:)))
    }

    // MARK: Channels

    func channels(_ request: Request) async throws -> Response {
        try await api.authorize(request, .read)
        let list = alerting.channels.sorted { $0.key < $1.key }.map { JSONValue.object([("name", .string($0.key)), ("type", .string($0.value))]) }
        return APIRoutes.json(.object([("channels", .array(list))]))
    }

    func testChannel(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let token = try await api.authorize(request, .admin)
        let name = context.parameters.get("name") ?? ""
        guard try await alerting.testChannel(name, token.name) else {
            throw APIError(.notFound, "not_found", "no channel named '\(name)'")
        }
        return APIRoutes.json(.object([("queued", .bool(true)), ("channel", .string(name))]), status: .accepted)
    }
}
