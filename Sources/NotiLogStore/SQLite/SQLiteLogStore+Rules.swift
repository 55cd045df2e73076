import GRDB
import NotiLogCore

extension AlertSchema {
    /// Migration "7 rules stored through the API": their definitions, and the enabled/disabled setting of any rule.
    static let rulesSQL = """
        CREATE TABLE api_rules (
          name TEXT PRIMARY KEY,
          definition TEXT NOT NULL,                  -- YAML, one rule mapping
          created_by TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_by TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE rule_toggles (
          name TEXT PRIMARY KEY,
          enabled INTEGER NOT NULL,
          changed_by TEXT NOT NULL,
          changed_at INTEGER NOT NULL
        );
        """
}

extension SQLiteLogStore {
    private static func time(_ ns: Int64) -> SyslogTimestamp {
        SyslogTimestamp(nanosecondsSinceEpoch: ns, fractionDigits: 6)
    }

    public func storedRules() async throws(StoreError) -> [StoredRuleRow] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT name, definition, created_by, created_at, updated_by, updated_at FROM api_rules ORDER BY name"
                ).map { row in
                    StoredRuleRow(
                        name: row[0], definition: row[1], createdBy: row[2], createdAt: Self.time(row[3]), updatedBy: row[4],
                        updatedAt: Self.time(row[5]))
                }
            }
        } catch {
            throw StoreError(.read, "cannot read the rules stored through the API", underlying: error)
        }
    }

    public func saveRule(_ rule: StoredRuleRow, replacing: Bool) async throws(StoreError) -> Bool {
        do {
            return try await pool.write { db in
                if replacing {
                    try db.execute(
                        sql: "UPDATE api_rules SET definition = ?, updated_by = ?, updated_at = ? WHERE name = ?",
                        arguments: [rule.definition, rule.updatedBy, rule.updatedAt.nanosecondsSinceEpoch, rule.name])
                } else {
                    try db.execute(
                        sql: """
                            INSERT INTO api_rules(name, definition, created_by, created_at, updated_by, updated_at) VALUES (?,?,?,?,?,?)
                            ON CONFLICT(name) DO NOTHING
                            """,
                        arguments: [
                            rule.name, rule.definition, rule.createdBy, rule.createdAt.nanosecondsSinceEpoch, rule.updatedBy,
                            rule.updatedAt.nanosecondsSinceEpoch,
                        ])
                }
                return db.changesCount == 1
            }
        } catch {
            throw StoreError(.write, "cannot save rule \(rule.name)", underlying: error)
        }
    }

    public func deleteRule(name: String) async throws(StoreError) -> Bool {
        do {
            return try await pool.write { db in
                try db.execute(sql: "DELETE FROM api_rules WHERE name = ?", arguments: [name])
                let deleted = db.changesCount == 1
                if deleted { try db.execute(sql: "DELETE FROM rule_toggles WHERE name = ?", arguments: [name]) }
                return deleted
            }
        } catch {
            throw StoreError(.write, "cannot delete rule \(name)", underlying: error)
        }
    }

    public func ruleToggles() async throws(StoreError) -> [RuleToggleRow] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(db, sql: "SELECT name, enabled, changed_by, changed_at FROM rule_toggles ORDER BY name").map { row in
                    RuleToggleRow(name: row[0], enabled: row[1], changedBy: row[2], changedAt: Self.time(row[3]))
                }
            }
        } catch {
            throw StoreError(.read, "cannot read which rules are enabled", underlying: error)
        }
    }

    public func setRuleToggle(_ toggle: RuleToggleRow) async throws(StoreError) {
        do {
            try await pool.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO rule_toggles(name, enabled, changed_by, changed_at) VALUES (?,?,?,?)
                        ON CONFLICT(name) DO UPDATE SET enabled = excluded.enabled, changed_by = excluded.changed_by,
                          changed_at = excluded.changed_at
                        """,
                    arguments: [toggle.name, toggle.enabled, toggle.changedBy, toggle.changedAt.nanosecondsSinceEpoch])
            }
        } catch {
            throw StoreError(.write, "cannot \(toggle.enabled ? "enable" : "disable") rule \(toggle.name)", underlying: error)
        }
    }
}
