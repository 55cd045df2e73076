import Foundation
import GRDB
import NotiLogCore

extension SQLiteLogStore: APITokenStore {
    private static let tokenColumns = "id, name, scope, created_at, last_used_at, revoked_at"

    private static func token(_ row: Row) -> APIToken {
        let lastUsed: Int64? = row[4]
        let revoked: Int64? = row[5]
        return APIToken(
            id: row[0], name: row[1], scope: TokenScope(rawValue: row[2]) ?? .read,
            createdAt: SyslogTimestamp(nanosecondsSinceEpoch: row[3], fractionDigits: 6),
            lastUsedAt: lastUsed.map { SyslogTimestamp(nanosecondsSinceEpoch: $0, fractionDigits: 6) },
            revokedAt: revoked.map { SyslogTimestamp(nanosecondsSinceEpoch: $0, fractionDigits: 6) })
    }

    public func createToken(name: String, scope: TokenScope, hash: [UInt8], at: SyslogTimestamp) async throws(StoreError) -> APIToken {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO api_tokens(name, scope, hash, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [name, scope.rawValue, Data(hash), at.nanosecondsSinceEpoch])
                return APIToken(id: db.lastInsertedRowID, name: name, scope: scope, createdAt: at)
            }
        } catch {
            throw StoreError(.write, "cannot create the API token \(name)", underlying: error)
        }
    }

    public func token(hash: [UInt8]) async throws(StoreError) -> APIToken? {
        do {
            return try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT \(Self.tokenColumns) FROM api_tokens WHERE hash = ?", arguments: [Data(hash)])
                    .map(Self.token)
            }
        } catch {
            throw StoreError(.read, "cannot look up an API token", underlying: error)
        }
    }

    public func tokens() async throws(StoreError) -> [APIToken] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.tokenColumns) FROM api_tokens ORDER BY id").map(Self.token)
            }
        } catch {
            throw StoreError(.read, "cannot list API tokens", underlying: error)
        }
    }

    public func revokeToken(id: Int64, at: SyslogTimestamp) async throws(StoreError) -> APIToken? {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                    arguments: [at.nanosecondsSinceEpoch, id])
                return try Row.fetchOne(db, sql: "SELECT \(Self.tokenColumns) FROM api_tokens WHERE id = ?", arguments: [id])
                    .map(Self.token)
            }
        } catch {
            throw StoreError(.write, "cannot revoke API token \(id)", underlying: error)
        }
    }

    public func markTokenUsed(id: Int64, at: SyslogTimestamp) async throws(StoreError) {
        do {
            try await pool.write { db in
                try db.execute(sql: "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", arguments: [at.nanosecondsSinceEpoch, id])
            }
        } catch {
            throw StoreError(.write, "cannot record the use of API token \(id)", underlying: error)
        }
    }
}
