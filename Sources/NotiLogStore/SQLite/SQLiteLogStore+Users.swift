import Foundation
import GRDB
import NotiLogCore

/// The users and sessions tables (migration 9). Names are ASCII (the API checks), so `COLLATE NOCASE` makes them
/// unique case-insensitively.
enum UserSchema {
    static let sql = """
        CREATE TABLE users (
          id INTEGER PRIMARY KEY,
          username TEXT NOT NULL UNIQUE COLLATE NOCASE,
          role TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer')),
          password_hash TEXT NOT NULL,                   -- bcrypt; the password is never stored
          disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
          created_at INTEGER NOT NULL,                   -- ns since epoch
          updated_at INTEGER NOT NULL,
          last_login_at INTEGER
        );
        CREATE TABLE sessions (
          id INTEGER PRIMARY KEY,
          user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
          hash BLOB NOT NULL UNIQUE,                     -- SHA-256 of the cookie value; the value is never stored
          csrf_token TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          last_seen_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,                   -- the absolute end
          address TEXT,
          user_agent TEXT,
          revoked_at INTEGER
        );
        CREATE INDEX sessions_user ON sessions(user_id);
        """
}

extension SQLiteLogStore: UserStore {
    private static let userColumns = "id, username, role, password_hash, disabled, created_at, updated_at, last_login_at"
    private static let sessionColumns = "id, user_id, csrf_token, created_at, last_seen_at, expires_at, address, user_agent, revoked_at"

    private static func time(_ ns: Int64) -> SyslogTimestamp { SyslogTimestamp(nanosecondsSinceEpoch: ns, fractionDigits: 6) }

    private static func user(_ row: Row, from k: Int = 0) -> User {
        let lastLogin: Int64? = row[k + 7]
        return User(
            id: row[k], username: row[k + 1], role: UserRole(rawValue: row[k + 2]) ?? .viewer, passwordHash: row[k + 3],
            disabled: row[k + 4], createdAt: time(row[k + 5]), updatedAt: time(row[k + 6]), lastLoginAt: lastLogin.map(time))
    }

    private static func session(_ row: Row) -> UserSession {
        let revoked: Int64? = row[8]
        return UserSession(
            id: row[0], userID: row[1], csrfToken: row[2], createdAt: time(row[3]), lastSeenAt: time(row[4]), expiresAt: time(row[5]),
            address: row[6], userAgent: row[7], revokedAt: revoked.map(time))
    }

    private static func fetchUser(_ db: Database, named name: String) throws -> User? {
        try Row.fetchOne(db, sql: "SELECT \(userColumns) FROM users WHERE username = ?", arguments: [name]).map { user($0) }
    }

    private static func enabledAdmins(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0") ?? 0
    }

    public func createUser(username: String, role: UserRole, passwordHash: String, at: SyslogTimestamp) async throws(StoreError) -> UserWriteResult {
        do {
            return try await pool.write { db in
                if try Self.fetchUser(db, named: username) != nil { return .exists }
                try db.execute(
                    sql: "INSERT INTO users(username, role, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [username, role.rawValue, passwordHash, at.nanosecondsSinceEpoch, at.nanosecondsSinceEpoch])
                return .done(User(id: db.lastInsertedRowID, username: username, role: role, passwordHash: passwordHash, disabled: false, createdAt: at, updatedAt: at))
            }
        } catch {
            throw StoreError(.write, "cannot create the user \(username)", underlying: error)
        }
    }

    public func user(named name: String) async throws(StoreError) -> User? {
        do {
            return try await pool.read { db in try Self.fetchUser(db, named: name) }
        } catch {
            throw StoreError(.read, "cannot look up a user", underlying: error)
        }
    }

    public func users() async throws(StoreError) -> [User] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.userColumns) FROM users ORDER BY username").map { Self.user($0) }
            }
        } catch {
            throw StoreError(.read, "cannot list users", underlying: error)
        }
    }

    public func userCount() async throws(StoreError) -> Int {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM users") ?? 0 }
        } catch {
            throw StoreError(.read, "cannot count users", underlying: error)
        }
    }

    public func updateUser(named name: String, _ change: UserChange, at: SyslogTimestamp) async throws(StoreError) -> UserWriteResult {
        do {
            return try await pool.write { db in
                guard var user = try Self.fetchUser(db, named: name) else { return .notFound }
                let wasActiveAdmin = user.role == .admin && !user.disabled
                if let role = change.role { user.role = role }
                if let disabled = change.disabled { user.disabled = disabled }
                if let hash = change.passwordHash { user.passwordHash = hash }
                let isActiveAdmin = user.role == .admin && !user.disabled
                if wasActiveAdmin, !isActiveAdmin, try Self.enabledAdmins(db) <= 1 { return .lastAdmin }
                user.updatedAt = at
                try db.execute(
                    sql: "UPDATE users SET role = ?, disabled = ?, password_hash = ?, updated_at = ? WHERE id = ?",
                    arguments: [user.role.rawValue, user.disabled, user.passwordHash, at.nanosecondsSinceEpoch, user.id])
                if change.revokesSessions {
                    try db.execute(
                        sql: "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id IS NOT ?",
                        arguments: [at.nanosecondsSinceEpoch, user.id, change.disabled == true ? nil : change.keepSession])
                }
                return .done(user)
            }
        } catch {
            throw StoreError(.write, "cannot change the user \(name)", underlying: error)
        }
    }

    public func deleteUser(named name: String) async throws(StoreError) -> UserWriteResult {
        do {
            return try await pool.write { db in
                guard let user = try Self.fetchUser(db, named: name) else { return .notFound }
                if user.role == .admin, !user.disabled, try Self.enabledAdmins(db) <= 1 { return .lastAdmin }
                try db.execute(sql: "DELETE FROM users WHERE id = ?", arguments: [user.id])
                return .done(user)
            }
        } catch {
            throw StoreError(.write, "cannot delete the user \(name)", underlying: error)
        }
    }

    public func recordLogin(userID: Int64, at: SyslogTimestamp) async throws(StoreError) {
        do {
            try await pool.write { db in
                try db.execute(sql: "UPDATE users SET last_login_at = ? WHERE id = ?", arguments: [at.nanosecondsSinceEpoch, userID])
                // Sessions long over are of no use to anyone: forget them when someone signs in.
                let dayAgo = at.nanosecondsSinceEpoch - 86_400 * 1_000_000_000
                try db.execute(sql: "DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?", arguments: [dayAgo, dayAgo])
            }
        } catch {
            throw StoreError(.write, "cannot record a sign-in", underlying: error)
        }
    }

    public func createSession(
        userID: Int64, hash: [UInt8], csrfToken: String, at: SyslogTimestamp, expiresAt: SyslogTimestamp, address: String?, userAgent: String?
    ) async throws(StoreError) -> UserSession {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO sessions(user_id, hash, csrf_token, created_at, last_seen_at, expires_at, address, user_agent)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        userID, Data(hash), csrfToken, at.nanosecondsSinceEpoch, at.nanosecondsSinceEpoch, expiresAt.nanosecondsSinceEpoch,
                        address, userAgent,
                    ])
                return UserSession(
                    id: db.lastInsertedRowID, userID: userID, csrfToken: csrfToken, createdAt: at, lastSeenAt: at, expiresAt: expiresAt,
                    address: address, userAgent: userAgent)
            }
        } catch {
            throw StoreError(.write, "cannot create a session", underlying: error)
        }
    }

    public func session(hash: [UInt8]) async throws(StoreError) -> (UserSession, User)? {
        do {
            return try await pool.read { db in
                let columns = Self.sessionColumns.split(separator: ",").map { "s." + $0.trimmingCharacters(in: .whitespaces) }
                    + Self.userColumns.split(separator: ",").map { "u." + $0.trimmingCharacters(in: .whitespaces) }
                guard
                    let row = try Row.fetchOne(
                        db, sql: "SELECT \(columns.joined(separator: ", ")) FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.hash = ?",
                        arguments: [Data(hash)])
                else { return nil }
                return (Self.session(row), Self.user(row, from: 9))
            }
        } catch {
            throw StoreError(.read, "cannot look up a session", underlying: error)
        }
    }

    public func touchSession(id: Int64, at: SyslogTimestamp) async throws(StoreError) {
        do {
            try await pool.write { db in
                try db.execute(sql: "UPDATE sessions SET last_seen_at = ? WHERE id = ?", arguments: [at.nanosecondsSinceEpoch, id])
            }
        } catch {
            throw StoreError(.write, "cannot record the use of a session", underlying: error)
        }
    }

    public func revokeSession(id: Int64, userID: Int64, at: SyslogTimestamp) async throws(StoreError) -> Bool {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                    arguments: [at.nanosecondsSinceEpoch, id, userID])
                return db.changesCount > 0
            }
        } catch {
            throw StoreError(.write, "cannot revoke session \(id)", underlying: error)
        }
    }

    public func revokeSessions(userID: Int64, at: SyslogTimestamp) async throws(StoreError) -> Int {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", arguments: [at.nanosecondsSinceEpoch, userID])
                return db.changesCount
            }
        } catch {
            throw StoreError(.write, "cannot revoke the sessions of user \(userID)", underlying: error)
        }
    }

    public func sessions(userID: Int64, at: SyslogTimestamp) async throws(StoreError) -> [UserSession] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.sessionColumns) FROM sessions
                        WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY id DESC
                        """,
                    arguments: [userID, at.nanosecondsSinceEpoch]
                ).map(Self.session)
            }
        } catch {
            throw StoreError(.read, "cannot list the sessions of user \(userID)", underlying: error)
        }
    }
}
