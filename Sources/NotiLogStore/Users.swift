import NotiLogCore

/// What a user may do: `viewer` reads, `editor` also changes rules, silences and acknowledges alerts, `admin`
/// does everything (tokens, users, settings).
public enum UserRole: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    case viewer, editor, admin

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .editor: 1
        case .admin: 2
        }
    }

    public static func < (a: UserRole, b: UserRole) -> Bool { a.rank < b.rank }
}

/// A stored user: its bcrypt password hash, never the password.
public struct User: Sendable, Hashable {
    public var id: Int64
    /// As created; looked up case-insensitively.
    public var username: String
    public var role: UserRole
    public var passwordHash: String
    public var disabled: Bool
    public var createdAt: SyslogTimestamp
    public var updatedAt: SyslogTimestamp
    public var lastLoginAt: SyslogTimestamp?

    public init(
        id: Int64, username: String, role: UserRole, passwordHash: String, disabled: Bool, createdAt: SyslogTimestamp,
        updatedAt: SyslogTimestamp, lastLoginAt: SyslogTimestamp? = nil
    ) {
        self.id = id
        self.username = username
        self.role = role
        self.passwordHash = passwordHash
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lastLoginAt = lastLoginAt
    }
}

/// What `updateUser` changes; nil leaves a field as it is.
public struct UserChange: Sendable, Hashable {
    public var role: UserRole?
    public var disabled: Bool?
    public var passwordHash: String?
    /// With a new password: the one session kept (the one that changed it); every other session is revoked.
    public var keepSession: Int64?

    public init(role: UserRole? = nil, disabled: Bool? = nil, passwordHash: String? = nil, keepSession: Int64? = nil) {
        self.role = role
        self.disabled = disabled
        self.passwordHash = passwordHash
        self.keepSession = keepSession
    }

    /// True when the user's sessions end with this change (a new password, or disabled).
    public var revokesSessions: Bool { passwordHash != nil || disabled == true }
}

/// How a change to a user went.
public enum UserWriteResult: Sendable, Hashable {
    case done(User)
    case notFound
    /// A user with this name exists already (names compare case-insensitively).
    case exists
    /// The change would leave no enabled admin.
    case lastAdmin
}

/// A server-side sign-in session. Only the SHA-256 of its cookie value is stored.
public struct UserSession: Sendable, Hashable {
    public var id: Int64
    public var userID: Int64
    /// The synchronizer token a state-changing request made with this session must carry (`X-CSRF-Token`).
    public var csrfToken: String
    public var createdAt: SyslogTimestamp
    public var lastSeenAt: SyslogTimestamp
    /// The absolute end, whatever the activity.
    public var expiresAt: SyslogTimestamp
    public var address: String?
    public var userAgent: String?
    public var revokedAt: SyslogTimestamp?

    public init(
        id: Int64, userID: Int64, csrfToken: String, createdAt: SyslogTimestamp, lastSeenAt: SyslogTimestamp, expiresAt: SyslogTimestamp,
        address: String? = nil, userAgent: String? = nil, revokedAt: SyslogTimestamp? = nil
    ) {
        self.id = id
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.expiresAt = expiresAt
        self.address = address
        self.userAgent = userAgent
        self.revokedAt = revokedAt
    }

    /// Not revoked, before its absolute end, and used within `idleSeconds`.
    public func isActive(now: SyslogTimestamp, idleSeconds: Int64) -> Bool {
        revokedAt == nil && now < expiresAt && now.nanosecondsSinceEpoch - lastSeenAt.nanosecondsSinceEpoch < idleSeconds * 1_000_000_000
    }
}

/// Where users and their sessions live (the same database as the records).
public protocol UserStore: Sendable {
    func createUser(username: String, role: UserRole, passwordHash: String, at: SyslogTimestamp) async throws(StoreError) -> UserWriteResult
    /// The user with this name, compared case-insensitively.
    func user(named: String) async throws(StoreError) -> User?
    func users() async throws(StoreError) -> [User]
    func userCount() async throws(StoreError) -> Int
    /// Applies a change; refuses one that would leave no enabled admin. Revokes the user's sessions when the change
    /// disables the user or sets a password (but `keepSession`).
    func updateUser(named: String, _ change: UserChange, at: SyslogTimestamp) async throws(StoreError) -> UserWriteResult
    /// Deletes a user and its sessions; refuses to delete the last enabled admin.
    func deleteUser(named: String) async throws(StoreError) -> UserWriteResult
    func recordLogin(userID: Int64, at: SyslogTimestamp) async throws(StoreError)

    func createSession(
        userID: Int64, hash: [UInt8], csrfToken: String, at: SyslogTimestamp, expiresAt: SyslogTimestamp, address: String?, userAgent: String?
    ) async throws(StoreError) -> UserSession
    /// The session with this hash (revoked or not) and its user.
    func session(hash: [UInt8]) async throws(StoreError) -> (UserSession, User)?
    func touchSession(id: Int64, at: SyslogTimestamp) async throws(StoreError)
    /// Revokes one session; false when the user has no active session with this id.
    func revokeSession(id: Int64, userID: Int64, at: SyslogTimestamp) async throws(StoreError) -> Bool
    /// Revokes every active session of a user; returns how many.
    func revokeSessions(userID: Int64, at: SyslogTimestamp) async throws(StoreError) -> Int
    /// A user's sessions that are not revoked and not past their absolute end, newest first.
    func sessions(userID: Int64, at: SyslogTimestamp) async throws(StoreError) -> [UserSession]
}
