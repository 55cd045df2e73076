import Foundation
import Hummingbird
import NotiLogAlerts
import NotiLogCore
import NotiLogStore

/// What the API needs from the alerting side: its store, the running engine service, the rules of every origin,
/// and the server's hook for testing a channel (it reads configuration, which only the server has).
public struct AlertingSources: Sendable {
    public var store: any AlertStore
    public var service: AlertingService
    /// Every rule, and the changes the API makes to them (reloading the files too).
    public var catalog: RuleCatalog
    /// Channel name → type (`telegram`, `email`, `webhook`); never their secrets.
    public var channels: [String: String]
    /// Queues a test notice for a channel; false when there is no such channel.
    public var testChannel: @Sendable (_ channel: String, _ requestedBy: String) async throws -> Bool

    public init(
        store: any AlertStore, service: AlertingService, catalog: RuleCatalog, channels: [String: String],
        testChannel: @escaping @Sendable (_ channel: String, _ requestedBy: String) async throws -> Bool
    ) {
        self.store = store
        self.service = service
        self.catalog = catalog
        self.channels = channels
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
        v1.post("rules") { request, context in try await self.createRule(request, context) }
        v1.post("rules/reload") { request, _ in try await self.reload(request) }
        v1.post("rules/test") { request, context in try await self.testRule(request, context) }
        v1.get("rules/:name") { request, context in try await self.rule(request, context) }
        v1.put("rules/:name") { request, context in try await self.replaceRule(request, context) }
        v1.delete("rules/:name") { request, context in try await self.deleteRule(request, context) }
        v1.post("rules/:name/enable") { request, context in try await self.toggleRule(request, context, enabled: true) }
        v1.post("rules/:name/disable") { request, context in try await self.toggleRule(request, context, enabled: false) }
        v1.get("silences") { request, _ in try await self.silences(request) }
        v1.post("silences") { request, context in try await self.addSilence(request, context) }
        v1.delete("silences/:id") { request, context in try await self.expireSilence(request, context) }
        v1.get("channels") { request, _ in try await self.channels(request) }
        v1.post("channels/:name/test") { request, context in try await self.testChannel(request, context) }
        v1.get("channels/:name/deliveries") { request, context in try await self.deliveries(request, context) }
    }

    static func id(_ context: APIRequestContext, _ what: String) throws(APIError) -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else {
            throw APIError(.notFound, "not_found", "no \(what) with id '\(context.parameters.get("id") ?? "")'")
        }
        return id
    }

    // MARK: Alerts

    /// An alert; `ruleQuery` (the rule's query, when the rule still exists) makes its `search_query`: the rule's
    /// query narrowed to the alert's group values, for a link to its records.
    static func alertJSON(_ a: AlertRow, ruleQuery: String? = nil) -> JSONValue {
        .object([
            ("id", .int(a.id)), ("rule", .string(a.rule)), ("group", .string(a.groupKey)), ("state", .string(a.state.rawValue)),
            ("count", .int(a.count)), ("started_at", .time(a.startedAt)), ("updated_at", .time(a.updatedAt)),
            ("resolved_at", .time(a.resolvedAt)), ("acknowledged_at", .time(a.acknowledgedAt)),
            ("acknowledged_by", .string(a.acknowledgedBy)), ("search_query", .string(searchQuery(a, ruleQuery: ruleQuery))),
            ("detail", .raw(Array(a.detail.utf8))),
        ])
    }

    /// The group values an alert's detail (its notice, in snake_case) names.
    private struct DetailGroup: Decodable {
        var group: [AlertNotice.GroupValue]?
    }

    static func searchQuery(_ a: AlertRow, ruleQuery: String?) -> String? {
        guard let ruleQuery else { return nil }
        let group = (try? JSONDecoder().decode(DetailGroup.self, from: Data(a.detail.utf8)))?.group ?? []
        return Rule.searchQuery(ruleQuery: ruleQuery, group: group)
    }

    /// Rule name → its query text, for `search_query`.
    func ruleQueries() async -> [String: String] {
        var queries: [String: String] = [:]
        for entry in await alerting.catalog.entries where queries[entry.rule.name] == nil { queries[entry.rule.name] = entry.rule.query.text }
        return queries
    }

    func alerts(_ request: Request) async throws -> Response {
        try await api.authorize(request, for: .read)
        let p = APIRoutes.parameters(request)
        let limit = try APIRoutes.integer(p, "limit", default: 100, in: 1...1000)
        let before = try p["before"].map { text throws(APIError) -> Int64 in
            guard let n = Int64(text) else { throw APIError.invalidParameter("before", "an alert id") }
            return n
        }
        let state = p["state"] ?? ""
        let states: Set<AlertRowState>?
        switch state {
        case "", "all": states = nil
        case "open": states = AlertFilter.open
        case "closed": states = AlertFilter.closed
        default:
            guard let one = AlertRowState(rawValue: state) else {
                throw APIError.invalidParameter(
                    "state", "expected open (pending, firing), closed (resolved, cancelled), all, or one of pending, firing, resolved, "
                        + "cancelled; got '\(state.prefix(40))'")
            }
            states = [one]
        }
        let filter = AlertFilter(states: states, rule: p["rule"].flatMap { $0.isEmpty ? nil : $0 }, before: before, limit: limit + 1)
        do {
            var rows = try await alerting.store.alerts(filter)
            let more = rows.count > limit
            if more { rows.removeLast() }
            let queries = await ruleQueries()
            let list = rows.map { Self.alertJSON($0, ruleQuery: queries[$0.rule]) }
            return APIRoutes.json(.object([("alerts", .array(list)), ("next", more ? .int(rows.last?.id) : .null)]))
        } catch {
            throw APIError.store(error)
        }
    }

    func alert(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .read)
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
            guard case .object(var members) = Self.alertJSON(row, ruleQuery: await ruleQueries()[row.rule]) else {
                fatalError("an alert is an object")
            }
            members.append(("notifications", .array(notifications)))
            return APIRoutes.json(.object(members))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    func acknowledge(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .edit)
        let id = try Self.id(context, "alert")
        do {
            guard let row = try await alerting.store.acknowledgeAlert(id: id, by: principal.name, at: .now()) else {
                throw APIError(.notFound, "not_found", "no alert with id \(id)")
            }
            return APIRoutes.json(Self.alertJSON(row, ruleQuery: await ruleQueries()[row.rule]))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    // MARK: Rules

    static func ruleJSON(_ entry: RuleCatalog.Entry, definition: Bool = false) -> JSONValue {
        let r = entry.rule
        var members: [(String, JSONValue)] = [
            ("name", .string(r.name)), ("kind", .string(r.kind.rawValue)), ("description", .string(r.description)),
            ("query", .string(r.query.text)), ("group_by", .array(r.groupBy.map { .string($0.description) })),
            ("enabled", .bool(r.enabled)), ("severity", .string(r.severity)), ("channels", .array(r.channels.map { .string($0) })),
            ("origin", .string(r.origin.description)), ("in_force", .bool(entry.inForce)), ("problem", .string(entry.problem)),
        ]
        if let stored = entry.stored {
            members += [
                ("created_by", .string(stored.createdBy)), ("created_at", .time(stored.createdAt)), ("updated_by", .string(stored.updatedBy)),
                ("updated_at", .time(stored.updatedAt)),
            ]
        }
        if let toggle = entry.toggle {
            members += [("toggled_by", .string(toggle.changedBy)), ("toggled_at", .time(toggle.changedAt))]
        }
        if definition { members.append(("definition", .string(entry.stored?.definition ?? r.definitionYAML))) }
        return .object(members)
    }

    /// The API's answer to a catalog failure: 404, 409 (the name is taken, or the rule lives in a file), 422.
    static func apiError(_ failure: RuleCatalog.Failure) -> APIError {
        switch failure.code {
        case .notFound: return APIError(.notFound, "not_found", failure.message)
        case .conflict: return APIError(.conflict, "conflict", failure.message)
        case .invalid:
            var error = APIError(.unprocessableContent, "invalid_rule", failure.description)
            error.problems = failure.problems.map { p in
                .object([("field", .string(p.field)), ("line", .int(p.line.map(Int64.init))), ("reason", .string(p.reason)), ("text", .string(p.description))])
            }
            return error
        }
    }

    /// Runs a catalog change, answering its failures as API errors.
    private func change<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as RuleCatalog.Failure {
            throw Self.apiError(failure)
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    private static func name(_ context: APIRequestContext) -> String {
        context.parameters.get("name") ?? ""
    }

    /// A rule definition in the body: YAML as in a rules file, or the same keys as a JSON object.
    private static func definition(_ request: Request, _ context: APIRequestContext) async throws -> String {
        let body = try await request.body.collect(upTo: min(context.maxUploadSize, 256 * 1024))
        guard let text = String(validating: body.readableBytesView, as: UTF8.self), !text.isEmpty else {
            throw APIError(.badRequest, "invalid_parameter", "expected a rule definition (YAML or JSON, UTF-8) in the body")
        }
        return text
    }

    func rules(_ request: Request) async throws -> Response {
        try await api.authorize(request, for: .read)
        let entries = await alerting.catalog.entries
        return APIRoutes.json(.object([("rules", .array(entries.map { Self.ruleJSON($0) }))]))
    }

    func rule(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .read)
        let name = Self.name(context)
        guard let entry = await alerting.catalog.entry(named: name) else { throw APIError(.notFound, "not_found", "no rule named \"\(name)\"") }
        return APIRoutes.json(Self.ruleJSON(entry, definition: true))
    }

    func createRule(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .edit)
        let text = try await Self.definition(request, context)
        let entry = try await change { try await alerting.catalog.create(definition: text, by: principal.name) }
        return APIRoutes.json(Self.ruleJSON(entry, definition: true), status: .created)
    }

    func replaceRule(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .edit)
        let text = try await Self.definition(request, context)
        let entry = try await change { try await alerting.catalog.replace(name: Self.name(context), definition: text, by: principal.name) }
        return APIRoutes.json(Self.ruleJSON(entry, definition: true))
    }

    func deleteRule(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .edit)
        let name = Self.name(context)
        try await change { try await alerting.catalog.delete(name: name) }
        return APIRoutes.json(.object([("deleted", .string(name))]))
    }

    func toggleRule(_ request: Request, _ context: APIRequestContext, enabled: Bool) async throws -> Response {
        let principal = try await api.authorize(request, for: .edit)
        let entry = try await change { try await alerting.catalog.setEnabled(name: Self.name(context), enabled, by: principal.name) }
        return APIRoutes.json(Self.ruleJSON(entry))
    }

    func reload(_ request: Request) async throws -> Response {
        try await api.authorize(request, for: .edit)
        do {
            let rules = try await alerting.catalog.reloadFiles()
            let entries = await alerting.catalog.entries
            return APIRoutes.json(.object([("reloaded", .int(rules.count)), ("rules", .array(entries.map { Self.ruleJSON($0) }))]))
        } catch let error as RuleError {
            // The rules in force stay; every problem is listed.
            throw APIError(.unprocessableContent, "invalid_rules", "\(error)")
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    struct RuleTest: Decodable {
        /// The name of a rule the server has (enabled or not) …
        var rule: String?
        /// … or a definition to try before creating it.
        var definition: String?
        /// How far back to start: a duration (`24h`) or an RFC 3339 time. Default 24h.
        var since: String?
        /// Where to stop: a duration ago or an RFC 3339 time. Default now.
        var until: String?
        var maxRecords: Int?

        enum CodingKeys: String, CodingKey {
            case rule, definition, since, until
            case maxRecords = "max_records"
        }
    }

    static let maxReplayEvents = 1000

    /// `POST /rules/test`: replays stored records through a rule and answers with when it would have fired and
    /// resolved (`RuleReplay`).
    func testRule(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .read)
        let body = try await request.body.collect(upTo: min(context.maxUploadSize, 256 * 1024))
        guard let test = try? JSONDecoder().decode(RuleTest.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body {"rule": "NAME"} or {"definition": "YAML"}, with "since": "24h""#)
        }
        let rule: Rule
        switch (test.rule, test.definition) {
        case (let name?, nil):
            guard let entry = await alerting.catalog.entry(named: name) else { throw APIError(.notFound, "not_found", "no rule named \"\(name)\"") }
            rule = entry.rule
        case (nil, let text?):
            rule = try await change { try RuleCatalog.parse(text) }
        default:
            throw APIError.invalidParameter("rule", "give either rule (a name) or definition (YAML), not both")
        }
        let now = SyslogTimestamp.now()
        let from = try Self.time(test.since ?? "24h", "since", now: now)
        let to = try test.until.map { text throws(APIError) in try Self.time(text, "until", now: now) } ?? now
        guard from < to else { throw APIError.invalidParameter("since", "must be before until") }
        guard to.seconds - from.seconds <= RuleReplay.maxRange else {
            throw APIError.invalidParameter("since", "a replay covers at most \(RuleDuration(seconds: RuleReplay.maxRange))")
        }
        let maxRecords = test.maxRecords ?? RuleReplay.defaultMaxRecords
        guard (1...1_000_000).contains(maxRecords) else { throw APIError.invalidParameter("max_records", "from 1 to 1000000") }
        let result: RuleReplay.Result
        do {
            result = try await RuleReplay.run(rule: rule, store: api.store, from: from, to: to, maxRecords: maxRecords)
        } catch {
            throw APIError.store(error)
        }
        func group(_ values: [AlertNotice.GroupValue]) -> JSONValue {
            .object(values.map { ($0.field, .string($0.value)) })
        }
        let events = result.events.prefix(Self.maxReplayEvents).map { e -> JSONValue in
            .object([
                ("at", .time(e.at)), ("transition", .string(e.transition.rawValue)), ("group", group(e.group)), ("count", .int(e.count)),
                ("summary", .string(e.summary)), ("notification", .string(e.notification)), ("duration_seconds", .int(e.durationSeconds)),
                ("resolution", .string(e.resolution)),
            ])
        }
        let open = result.openAtEnd.map { a -> JSONValue in
            .object([
                ("group", group(a.group)), ("state", .string(a.pending ? "pending" : "firing")), ("started_at", .time(a.startedAt)),
                ("count", .int(a.count)), ("summary", .string(a.summary)),
            ])
        }
        return APIRoutes.json(
            .object([
                ("rule", .string(rule.name)), ("kind", .string(rule.kind.rawValue)), ("query", .string(rule.query.text)),
                ("from", .time(result.from)), ("to", .time(result.to)), ("records", .int(result.records)), ("truncated", .bool(result.truncated)),
                ("fired", .int(result.fired)), ("resolved", .int(result.resolved)), ("events_total", .int(result.events.count)),
                ("events", .array(Array(events))), ("open_at_end", .array(open)),
            ]))
    }

    /// A duration ago (`24h`) or an RFC 3339 time.
    static func time(_ text: String, _ name: String, now: SyslogTimestamp) throws(APIError) -> SyslogTimestamp {
        if let d = RuleDuration(text) { return SyslogTimestamp(seconds: now.seconds - d.seconds, nanoseconds: now.nanoseconds, fractionDigits: 6) }
        if let t = SyslogTimestamp(rfc3339: text) { return t }
        throw APIError.invalidParameter(name, "a duration ago (24h, 30m) or an RFC 3339 time, got '\(text)'")
    }

    // MARK: Silences

    static func silenceJSON(_ s: SilenceRow) -> JSONValue {
        .object([
            ("id", .int(s.id)), ("matchers", .raw(Array(s.matchers.utf8))), ("starts_at", .time(s.startsAt)), ("ends_at", .time(s.endsAt)),
            ("comment", .string(s.comment)), ("created_by", .string(s.createdBy)), ("created_at", .time(s.createdAt)),
        ])
    }

    func silences(_ request: Request) async throws -> Response {
        try await api.authorize(request, for: .read)
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
        let principal = try await api.authorize(request, for: .edit)
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
        let silence = Silence(id: 0, matchers: matchers, startsAt: now, endsAt: ends, comment: new.comment ?? "", createdBy: principal.name)
        do {
            let row = try await alerting.store.addSilence(
                SilenceRow(matchers: silence.matchersJSON, startsAt: now, endsAt: ends, comment: silence.comment, createdBy: principal.name, createdAt: now))
            try await refreshSilences()
            return APIRoutes.json(Self.silenceJSON(row), status: .created)
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    func expireSilence(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .edit)
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
        try await api.authorize(request, for: .read)
        let entries = await alerting.catalog.entries
        let list = alerting.channels.sorted { $0.key < $1.key }.map { name, type in
            let rules = entries.filter { $0.rule.channels.contains(name) }.map { JSONValue.string($0.rule.name) }
            return JSONValue.object([("name", .string(name)), ("type", .string(type)), ("rules", .array(rules))])
        }
        return APIRoutes.json(.object([("channels", .array(list))]))
    }

    /// What an outbox notice says, as the delivery log shows it (`AlertNotice`'s default keys).
    private struct NoticeSummary: Decodable {
        var rule: String?
        var state: String?
    }

    /// `GET /channels/{name}/deliveries`: the channel's latest notifications, each with every delivery attempt.
    func deliveries(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .read)
        let name = context.parameters.get("name") ?? ""
        guard let type = alerting.channels[name] else { throw APIError(.notFound, "not_found", "no channel named '\(name)'") }
        let limit = try APIRoutes.integer(APIRoutes.parameters(request), "limit", default: 50, in: 1...500)
        var list: [JSONValue] = []
        do {
            for item in try await alerting.store.notifications(channel: name, limit: limit) {
                let notice = try? JSONDecoder().decode(NoticeSummary.self, from: Data(item.notice.utf8))
                let attempts = try await alerting.store.deliveryLog(outboxID: item.id).map { a -> JSONValue in
                    .object([("at", .time(a.at)), ("outcome", .string(a.outcome.rawValue)), ("detail", .string(a.detail)), ("retry_at", .time(a.retryAt))])
                }
                list.append(
                    .object([
                        ("id", .int(item.id)), ("alert_id", .int(item.alertID)), ("rule", .string(notice?.rule)),
                        ("notice_state", .string(notice?.state)), ("state", .string(item.state.rawValue)), ("attempts", .int(item.attempts)),
                        ("created_at", .time(item.createdAt)), ("next_attempt_at", .time(item.nextAttemptAt)), ("done_at", .time(item.doneAt)),
                        ("last_error", .string(item.lastError)), ("deliveries", .array(attempts)),
                    ]))
            }
        } catch {
            // Only the store throws here (typed: StoreError).
            throw APIError.store(error)
        }
        return APIRoutes.json(.object([("channel", .string(name)), ("type", .string(type)), ("notifications", .array(list))]))
    }

    func testChannel(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .edit)
        let name = context.parameters.get("name") ?? ""
        guard try await alerting.testChannel(name, principal.name) else {
            throw APIError(.notFound, "not_found", "no channel named '\(name)'")
        }
        return APIRoutes.json(.object([("queued", .bool(true)), ("channel", .string(name))]), status: .accepted)
    }
}
