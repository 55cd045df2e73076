import NotiLogCore

/// What an API token may do. `admin` includes `read` and `ingest`.
public enum TokenScope: String, Sendable, Hashable, CaseIterable, Codable {
    case read, ingest, admin

    /// True when a token of this scope may do what `needed` allows.
    public func allows(_ needed: TokenScope) -> Bool {
        self == needed || self == .admin
    }
}

/// A stored API token: its metadata and the SHA-256 of its secret (the secret itself is never stored).
public struct APIToken: Sendable, Hashable {
    public var id: Int64
    public var name: String
    public var scope: TokenScope
    public var createdAt: SyslogTimestamp
    public var lastUsedAt: SyslogTimestamp?
    public var revokedAt: SyslogTimestamp?

    public init(
        id: Int64, name: String, scope: TokenScope, createdAt: SyslogTimestamp, lastUsedAt: SyslogTimestamp? = nil,
        revokedAt: SyslogTimestamp? = nil
    ) {
        self.id = id
        self.name = name
        self.scope = scope
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    public var isActive: Bool { revokedAt == nil }
}

/// Where API tokens live (the same database as the records).
public protocol APITokenStore: Sendable {
    func createToken(name: String, scope: TokenScope, hash: [UInt8], at: SyslogTimestamp) async throws(StoreError) -> APIToken
    /// The token with this hash, revoked or not.
    func token(hash: [UInt8]) async throws(StoreError) -> APIToken?
    func tokens() async throws(StoreError) -> [APIToken]
    /// Revokes a token; returns it (with `revokedAt`), or nil when there is none with this id.
    func revokeToken(id: Int64, at: SyslogTimestamp) async throws(StoreError) -> APIToken?
    func markTokenUsed(id: Int64, at: SyslogTimestamp) async throws(StoreError)
}
