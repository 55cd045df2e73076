import Foundation
import GRDB
import NotiLogCore

/// Settings changed at run time, one row per key in `settings` (the value as JSON).
enum SettingsSchema {
    static let sql = """
        CREATE TABLE settings (
          key TEXT PRIMARY KEY NOT NULL,
          value TEXT NOT NULL,                       -- JSON
          updated_at INTEGER NOT NULL,               -- ns since epoch
          updated_by TEXT NOT NULL
        ) WITHOUT ROWID;
        """

    static let retentionKey = "retention"
}

extension SQLiteLogStore: RetentionSettingsStore {
    private struct RetentionValue: Codable {
        var max_age_seconds: Int64?
        var max_bytes: Int64?
    }

    public func retentionOverride() async throws(StoreError) -> RetentionOverride? {
        do {
            return try await pool.read { db -> RetentionOverride? in
                guard let row = try Row.fetchOne(
                    db, sql: "SELECT value, updated_at, updated_by FROM settings WHERE key = ?", arguments: [SettingsSchema.retentionKey])
                else { return nil }
                let text: String = row[0]
                let value = try JSONDecoder().decode(RetentionValue.self, from: Data(text.utf8))
                return RetentionOverride(
                    policy: RetentionPolicy(maxAgeSeconds: value.max_age_seconds, maxBytes: value.max_bytes),
                    updatedAt: SyslogTimestamp(nanosecondsSinceEpoch: row[1], fractionDigits: 6), updatedBy: row[2])
            }
        } catch {
            throw StoreError(.read, "cannot read the retention setting", underlying: error)
        }
    }

    public func setRetentionOverride(_ value: RetentionOverride?) async throws(StoreError) {
        do {
            try await pool.write { db in
                guard let value else {
                    try db.execute(sql: "DELETE FROM settings WHERE key = ?", arguments: [SettingsSchema.retentionKey])
                    return
                }
                let json = try JSONEncoder().encode(RetentionValue(max_age_seconds: value.policy.maxAgeSeconds, max_bytes: value.policy.maxBytes))
                try db.execute(
                    sql: """
                        INSERT INTO settings(key, value, updated_at, updated_by) VALUES (?,?,?,?)
                        ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
                          updated_by = excluded.updated_by
                        """,
                    arguments: [SettingsSchema.retentionKey, String(decoding: json, as: UTF8.self), value.updatedAt.nanosecondsSinceEpoch, value.updatedBy])
            }
        } catch {
            throw StoreError(.write, "cannot store the retention setting", underlying: error)
        }
    }

    public func oldestReceivedAt() async throws(StoreError) -> SyslogTimestamp? {
        do {
            return try await pool.read { db in
                // The oldest id through the primary key: ids grow with commits, retention deletes from the bottom.
                try Int64.fetchOne(db, sql: "SELECT received_at FROM logs ORDER BY id LIMIT 1")
                    .map { SyslogTimestamp(nanosecondsSinceEpoch: $0, fractionDigits: 6) }
            }
        } catch {
            throw StoreError(.read, "cannot read the oldest record", underlying: error)
        }
    }
}
