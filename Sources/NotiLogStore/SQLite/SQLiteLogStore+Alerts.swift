import Foundation
import GRDB
import NotiLogCore

/// Tables of the alerting side (migration "6 alerts, outbox, silences").
enum AlertSchema {
    static let sql = """
        CREATE TABLE alerts (
          id INTEGER PRIMARY KEY,
          rule TEXT NOT NULL,
          group_key TEXT NOT NULL,
          state TEXT NOT NULL CHECK (state IN ('pending', 'firing', 'resolved', 'cancelled')),
          count INTEGER NOT NULL,
          started_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          resolved_at INTEGER,
          detail TEXT NOT NULL,                      -- JSON
          acknowledged_at INTEGER,
          acknowledged_by TEXT
        );
        -- At most one open alert per rule and group.
        CREATE UNIQUE INDEX alerts_open ON alerts(rule, group_key) WHERE state IN ('pending', 'firing');
        CREATE TABLE outbox (
          id INTEGER PRIMARY KEY,
          alert_id INTEGER REFERENCES alerts(id),
          channel TEXT NOT NULL,
          idempotency_key TEXT NOT NULL UNIQUE,
          notice TEXT NOT NULL,                      -- JSON
          created_at INTEGER NOT NULL,
          next_attempt_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
          last_error TEXT,
          done_at INTEGER,
          fallback_notified_at INTEGER
        );
        CREATE INDEX outbox_pending ON outbox(channel, id) WHERE state = 'pending';
        CREATE INDEX outbox_alert ON outbox(alert_id);
        CREATE TABLE deliveries (
          id INTEGER PRIMARY KEY,
          outbox_id INTEGER NOT NULL REFERENCES outbox(id),
          at INTEGER NOT NULL,
          outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
          detail TEXT NOT NULL,
          retry_at INTEGER
        );
        CREATE INDEX deliveries_outbox ON deliveries(outbox_id);
        CREATE TABLE engine_state (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          state BLOB NOT NULL,
          processed_up_to INTEGER NOT NULL,
          saved_at INTEGER NOT NULL
        );
        CREATE TABLE silences (
          id INTEGER PRIMARY KEY,
          matchers TEXT NOT NULL,                    -- JSON
          starts_at INTEGER NOT NULL,
          ends_at INTEGER NOT NULL,
          comment TEXT NOT NULL,
          created_by TEXT NOT NULL,
          created_at INTEGER NOT NULL
        );
        """
}

extension SQLiteLogStore: AlertStore {
    private static func time(_ ns: Int64?) -> SyslogTimestamp? {
        ns.map { SyslogTimestamp(nanosecondsSinceEpoch: $0, fractionDigits: 6) }
    }

    public func engineState() async throws(StoreError) -> EngineStateRow? {
        do {
            return try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT state, processed_up_to FROM engine_state WHERE id = 1").map { row in
                    let data: Data = row[0]
                    return EngineStateRow(state: Array(data), processedUpTo: row[1])
                }
            }
        } catch {
            throw StoreError(.read, "cannot read the rule engine's state", underlying: error)
        }
    }

    public func commitAlerts(_ changes: [AlertRowChange], engineState: EngineStateRow, at: SyslogTimestamp) async throws(StoreError) -> [Int64] {
        let now = at.nanosecondsSinceEpoch
        do {
            return try await pool.write { db in
                var ids: [Int64] = []
                // Prepared once per connection: a save rewrites thousands of rows.
                let findOpen = try db.cachedStatement(
                    sql: "SELECT id FROM alerts WHERE rule = ? AND group_key = ? AND state IN ('pending', 'firing')")
                let update = try db.cachedStatement(
                    sql: "UPDATE alerts SET state = ?, count = ?, started_at = ?, updated_at = ?, resolved_at = ?, detail = ? WHERE id = ?")
                let insert = try db.cachedStatement(
                    sql: """
                        INSERT INTO alerts(rule, group_key, state, count, started_at, updated_at, resolved_at, detail)
                        VALUES (?,?,?,?,?,?,?,?)
                        """)
                for change in changes {
                    let open = try Int64.fetchOne(findOpen, arguments: [change.rule, change.groupKey])
                    let id: Int64
                    if let open {
                        try update.execute(
                            arguments: [
                                change.state.rawValue, change.count, change.startedAt.nanosecondsSinceEpoch, now,
                                change.resolvedAt?.nanosecondsSinceEpoch, change.detail, open,
                            ])
                        id = open
                    } else {
                        try insert.execute(
                            arguments: [
                                change.rule, change.groupKey, change.state.rawValue, change.count, change.startedAt.nanosecondsSinceEpoch,
                                now, change.resolvedAt?.nanosecondsSinceEpoch, change.detail,
                            ])
                        id = db.lastInsertedRowID
                    }
                    ids.append(id)
                    for entry in change.notices(id) {
                        try Self.insertOutbox(entry, alertID: id, now: now, db)
                    }
                }
                try db.execute(
                    sql: """
                        INSERT INTO engine_state(id, state, processed_up_to, saved_at) VALUES (1, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET state = excluded.state, processed_up_to = excluded.processed_up_to,
                          saved_at = excluded.saved_at
                        """,
                    arguments: [Data(engineState.state), engineState.processedUpTo, now])
                return ids
            }
        } catch {
            throw StoreError(.write, "cannot commit \(changes.count) alert changes", underlying: error)
        }
    }

    /// Queues a notification unless one with the same idempotency key exists; true when queued.
    @discardableResult
    private static func insertOutbox(_ entry: OutboxEntry, alertID: Int64?, now: Int64, _ db: Database) throws -> Bool {
        try db.cachedStatement(
            sql: """
                INSERT INTO outbox(alert_id, channel, idempotency_key, notice, created_at, next_attempt_at, state)
                VALUES (?,?,?,?,?,?, 'pending') ON CONFLICT(idempotency_key) DO NOTHING
                """
        ).execute(arguments: [alertID, entry.channel, entry.idempotencyKey, entry.notice, now, now])
        return db.changesCount > 0
    }

    static let alertColumns = """
        id, rule, group_key, state, count, started_at, updated_at, resolved_at, detail, acknowledged_at, acknowledged_by
        """

    private static func alertRow(_ row: Row) -> AlertRow {
        AlertRow(
            id: row[0], rule: row[1], groupKey: row[2], state: AlertRowState(rawValue: row[3]) ?? .resolved, count: row[4],
            startedAt: time(row[5])!, updatedAt: time(row[6])!, resolvedAt: time(row[7]), detail: row[8],
            acknowledgedAt: time(row[9]), acknowledgedBy: row[10])
    }

    public func alerts(_ filter: AlertFilter) async throws(StoreError) -> [AlertRow] {
        var sql = "SELECT \(Self.alertColumns) FROM alerts WHERE 1"
        var arguments: [DatabaseValue] = []
        if let states = filter.states {
            // The states' names are this enum's, written as literals in its order so that the open-alerts index
            // (WHERE state IN ('pending', 'firing')) still applies.
            sql += " AND state IN (" + AlertRowState.allCases.filter(states.contains).map { "'\($0.rawValue)'" }.joined(separator: ", ") + ")"
        }
        if let rule = filter.rule {
            sql += " AND rule = ?"
            arguments.append(rule.databaseValue)
        }
        if let before = filter.before {
            sql += " AND id < ?"
            arguments.append(before.databaseValue)
        }
        sql += " ORDER BY id DESC LIMIT ?"
        arguments.append(max(1, min(filter.limit, 1000)).databaseValue)
        do {
            return try await pool.read { [sql, arguments] db in
                try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments)).map(Self.alertRow)
            }
        } catch {
            throw StoreError(.read, "cannot list alerts", underlying: error)
        }
    }

    public func alert(id: Int64) async throws(StoreError) -> AlertRow? {
        do {
            return try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT \(Self.alertColumns) FROM alerts WHERE id = ?", arguments: [id]).map(Self.alertRow)
            }
        } catch {
            throw StoreError(.read, "cannot read alert \(id)", underlying: error)
        }
    }

    public func acknowledgeAlert(id: Int64, by: String, at: SyslogTimestamp) async throws(StoreError) -> AlertRow? {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "UPDATE alerts SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
                    arguments: [at.nanosecondsSinceEpoch, by, id])
                return try Row.fetchOne(db, sql: "SELECT \(Self.alertColumns) FROM alerts WHERE id = ?", arguments: [id]).map(Self.alertRow)
            }
        } catch {
            throw StoreError(.write, "cannot acknowledge alert \(id)", underlying: error)
        }
    }

    // MARK: Outbox

    static let outboxColumns = """
        id, alert_id, channel, idempotency_key, notice, created_at, next_attempt_at, attempts, state, last_error, done_at,
        fallback_notified_at
        """

    private static func outboxItem(_ row: Row) -> OutboxItem {
        OutboxItem(
            id: row[0], alertID: row[1], channel: row[2], idempotencyKey: row[3], notice: row[4], createdAt: time(row[5])!,
            nextAttemptAt: time(row[6])!, attempts: row[7], state: OutboxState(rawValue: row[8]) ?? .pending, lastError: row[9],
            doneAt: time(row[10]), fallbackNotifiedAt: time(row[11]))
    }

    public func dueNotifications(at: SyslogTimestamp, limit: Int) async throws(StoreError) -> [OutboxItem] {
        do {
            return try await pool.read { db in
                // The oldest pending notification of each channel, when it is due.
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT \(Self.outboxColumns) FROM outbox
                        WHERE id IN (SELECT min(id) FROM outbox WHERE state = 'pending' GROUP BY channel)
                          AND next_attempt_at <= ?
                        ORDER BY next_attempt_at, id LIMIT ?
                        """,
                    arguments: [at.nanosecondsSinceEpoch, limit]
                ).map(Self.outboxItem)
            }
        } catch {
            throw StoreError(.read, "cannot read the outbox", underlying: error)
        }
    }

    public func recordAttempt(_ attempt: DeliveryAttempt) async throws(StoreError) {
        let at = attempt.at.nanosecondsSinceEpoch
        do {
            try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO deliveries(outbox_id, at, outcome, detail, retry_at) VALUES (?,?,?,?,?)",
                    arguments: [attempt.outboxID, at, attempt.outcome.rawValue, attempt.detail, attempt.retryAt?.nanosecondsSinceEpoch])
                switch attempt.outcome {
                case .delivered:
                    try db.execute(
                        sql: "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, done_at = ?, last_error = NULL WHERE id = ?",
                        arguments: [at, attempt.outboxID])
                case .retry:
                    try db.execute(
                        sql: "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                        arguments: [attempt.retryAt?.nanosecondsSinceEpoch ?? at, attempt.detail, attempt.outboxID])
                case .failed:
                    try db.execute(
                        sql: "UPDATE outbox SET state = 'failed', attempts = attempts + 1, done_at = ?, last_error = ? WHERE id = ?",
                        arguments: [at, attempt.detail, attempt.outboxID])
                }
                if attempt.fallbackNotified {
                    try db.execute(sql: "UPDATE outbox SET fallback_notified_at = ? WHERE id = ?", arguments: [at, attempt.outboxID])
                }
            }
        } catch {
            throw StoreError(.write, "cannot record a delivery attempt", underlying: error)
        }
    }

    public func enqueueNotification(_ entry: OutboxEntry, alertID: Int64?, at: SyslogTimestamp) async throws(StoreError) -> Bool {
        do {
            return try await pool.write { db in
                try Self.insertOutbox(entry, alertID: alertID, now: at.nanosecondsSinceEpoch, db)
            }
        } catch {
            throw StoreError(.write, "cannot queue a notification", underlying: error)
        }
    }

    public func notifications(alertID: Int64?, limit: Int) async throws(StoreError) -> [OutboxItem] {
        do {
            return try await pool.read { db in
                if let alertID {
                    return try Row.fetchAll(
                        db, sql: "SELECT \(Self.outboxColumns) FROM outbox WHERE alert_id = ? ORDER BY id DESC LIMIT ?",
                        arguments: [alertID, limit]
                    ).map(Self.outboxItem)
                }
                return try Row.fetchAll(db, sql: "SELECT \(Self.outboxColumns) FROM outbox ORDER BY id DESC LIMIT ?", arguments: [limit])
                    .map(Self.outboxItem)
            }
        } catch {
            throw StoreError(.read, "cannot list notifications", underlying: error)
        }
    }

    public func notifications(channel: String, limit: Int) async throws(StoreError) -> [OutboxItem] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT \(Self.outboxColumns) FROM outbox WHERE channel = ? ORDER BY id DESC LIMIT ?", arguments: [channel, limit]
                ).map(Self.outboxItem)
            }
        } catch {
            throw StoreError(.read, "cannot list notifications", underlying: error)
        }
    }

    public func deliveryLog(outboxID: Int64) async throws(StoreError) -> [DeliveryAttempt] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT outbox_id, at, outcome, detail, retry_at FROM deliveries WHERE outbox_id = ? ORDER BY id",
                    arguments: [outboxID]
                ).map { row in
                    DeliveryAttempt(
                        outboxID: row[0], at: Self.time(row[1])!, outcome: DeliveryAttempt.Outcome(rawValue: row[2]) ?? .failed,
                        detail: row[3], retryAt: Self.time(row[4]))
                }
            }
        } catch {
            throw StoreError(.read, "cannot read the delivery log", underlying: error)
        }
    }

    // MARK: Silences

    private static func silenceRow(_ row: Row) -> SilenceRow {
        SilenceRow(
            id: row[0], matchers: row[1], startsAt: time(row[2])!, endsAt: time(row[3])!, comment: row[4], createdBy: row[5],
            createdAt: time(row[6])!)
    }

    static let silenceColumns = "id, matchers, starts_at, ends_at, comment, created_by, created_at"

    public func silences(includeExpired: Bool, at: SyslogTimestamp) async throws(StoreError) -> [SilenceRow] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: "SELECT \(Self.silenceColumns) FROM silences WHERE ? OR ends_at > ? ORDER BY id",
                    arguments: [includeExpired, at.nanosecondsSinceEpoch]
                ).map(Self.silenceRow)
            }
        } catch {
            throw StoreError(.read, "cannot list silences", underlying: error)
        }
    }

    public func addSilence(_ silence: SilenceRow) async throws(StoreError) -> SilenceRow {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "INSERT INTO silences(matchers, starts_at, ends_at, comment, created_by, created_at) VALUES (?,?,?,?,?,?)",
                    arguments: [
                        silence.matchers, silence.startsAt.nanosecondsSinceEpoch, silence.endsAt.nanosecondsSinceEpoch, silence.comment,
                        silence.createdBy, silence.createdAt.nanosecondsSinceEpoch,
                    ])
                var stored = silence
                stored.id = db.lastInsertedRowID
                return stored
            }
        } catch {
            throw StoreError(.write, "cannot add a silence", underlying: error)
        }
    }

    public func expireSilence(id: Int64, at: SyslogTimestamp) async throws(StoreError) -> SilenceRow? {
        do {
            return try await pool.write { db in
                try db.execute(
                    sql: "UPDATE silences SET ends_at = min(ends_at, ?) WHERE id = ?", arguments: [at.nanosecondsSinceEpoch, id])
                return try Row.fetchOne(db, sql: "SELECT \(Self.silenceColumns) FROM silences WHERE id = ?", arguments: [id])
                    .map(Self.silenceRow)
            }
        } catch {
            throw StoreError(.write, "cannot end silence \(id)", underlying: error)
        }
    }
}
