import Foundation
import Hummingbird
import NotiLogCore
import NotiLogStore

/// `/api/v1/settings/retention` (admin): the retention policy in force, where it comes from (the configuration
/// file, or set at run time and kept in the store), the store's size and oldest record; `PUT` sets a policy
/// that the running maintenance task applies from its next step, `DELETE` goes back to the file's.
struct SettingsRoutes: Sendable {
    let api: APIRoutes
    var maintenance: StoreMaintenance { api.server.sources.maintenance }

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.get("settings/retention") { request, _ in try await self.show(request) }
        v1.put("settings/retention") { request, context in try await self.set(request, context) }
        v1.delete("settings/retention") { request, context in try await self.reset(request, context) }
    }

    private var settingsStore: (any RetentionSettingsStore)? { api.store as? any RetentionSettingsStore }

    private func requireStore() throws(APIError) -> any RetentionSettingsStore {
        guard let s = settingsStore else {
            throw APIError(.notImplemented, "not_implemented", "this store cannot keep settings set at run time")
        }
        return s
    }

    /// `30d`, `12h`, `90m`: the largest unit that divides the seconds.
    static func ageText(_ seconds: Int64) -> String {
        for (unit, size) in [("w", Int64(604_800)), ("d", 86_400), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }

    /// `20GB`, `512MB`: the largest 1024-multiple unit that divides the bytes.
    static func sizeText(_ bytes: Int64) -> String {
        for (unit, shift) in [("TB", Int64(40)), ("GB", 30), ("MB", 20), ("KB", 10)] where bytes >= (1 << shift) && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }

    static func policyJSON(_ p: RetentionPolicy) -> JSONValue {
        .object([
            ("max_age", p.maxAgeSeconds.map { .string(ageText($0)) } ?? .string("off")), ("max_age_seconds", .int(p.maxAgeSeconds)),
            ("max_size", p.maxBytes.map { .string(sizeText($0)) } ?? .string("off")), ("max_bytes", .int(p.maxBytes)),
        ])
    }

    func answer() async throws(APIError) -> Response {
        let store = try requireStore()
        let saved: RetentionOverride?
        let oldest: SyslogTimestamp?
        let figures: StoreFigures
        do {
            saved = try await store.retentionOverride()
            oldest = try await store.oldestReceivedAt()
            figures = try await api.store.figures()
        } catch {
            throw APIError.store(error)
        }
        let overrideJSON: JSONValue = saved.map { o in
            .object([
                ("policy", Self.policyJSON(o.policy)), ("updated_at", .time(o.updatedAt)), ("updated_by", .string(o.updatedBy)),
            ])
        } ?? .null
        return APIRoutes.json(
            .object([
                ("effective", Self.policyJSON(maintenance.retention)), ("source", .string(maintenance.retentionOverride == nil ? "config" : "ui")),
                ("config", Self.policyJSON(maintenance.configuration.retention)), ("override", overrideJSON),
                (
                    "store",
                    .object([
                        ("bytes", .int(figures.bytes)), ("records", .int(figures.records)), ("oldest_received_at", .time(oldest)),
                    ])
                ),
                ("limits", .object([("min_max_age", .string("1m")), ("min_max_size", .string("1MB"))])),
            ]))
    }

    func show(_ request: Request) async throws -> Response {
        try await api.authorize(request, for: .admin)
        return try await answer()
    }

    struct Change: Decodable {
        var max_age: String?
        var max_size: String?
    }

    /// A policy from `{"max_age": "7d"|"off", "max_size": "10GB"|"off"}`, with the configuration file's limits.
    static func policy(_ change: Change) throws(APIError) -> RetentionPolicy {
        var policy = RetentionPolicy()
        let age = (change.max_age ?? "off").trimmingCharacters(in: .whitespaces)
        if age.lowercased() != "off" {
            guard let d = DurationText.parse(age) else {
                throw APIError.invalidParameter("max_age", "expected a duration such as 30d, 12h, 2w, or off; got '\(age.prefix(100))'")
            }
            guard d >= .seconds(60) else {
                throw APIError.invalidParameter("max_age", "must be at least 1m, got '\(age.prefix(100))'")
            }
            policy.maxAgeSeconds = d.components.seconds
        }
        let size = (change.max_size ?? "off").trimmingCharacters(in: .whitespaces)
        if size.lowercased() != "off" {
            guard let n = ByteSizeText.parse(size) else {
                throw APIError.invalidParameter("max_size", "expected a size such as 512MB, 20GB, 1TB, or off; got '\(size.prefix(100))'")
            }
            guard n >= 1 << 20 else {
                throw APIError.invalidParameter("max_size", "must be at least 1MB, got '\(size.prefix(100))' (sizes take a unit: 512MB, 20GB)")
            }
            policy.maxBytes = n
        }
        return policy
    }

    func set(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let store = try requireStore()
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let change = try? JSONDecoder().decode(Change.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body {"max_age": "30d"|"off", "max_size": "20GB"|"off"}"#)
        }
        let policy = try Self.policy(change)
        do {
            try await store.setRetentionOverride(RetentionOverride(policy: policy, updatedAt: .now(), updatedBy: principal.name))
        } catch {
            throw APIError.store(error)
        }
        maintenance.setRetentionOverride(policy)
        context.logger.notice(
            "retention set at run time",
            metadata: [
                "retention.max_age_seconds": "\(policy.maxAgeSeconds.map(String.init) ?? "off")",
                "retention.max_bytes": "\(policy.maxBytes.map(String.init) ?? "off")", "by": "\(principal.name)",
            ])
        return try await answer()
    }

    func reset(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let store = try requireStore()
        do {
            try await store.setRetentionOverride(nil)
        } catch {
            throw APIError.store(error)
        }
        maintenance.setRetentionOverride(nil)
        context.logger.notice("retention back to the configuration file's", metadata: ["by": "\(principal.name)"])
        return try await answer()
    }
}
