import GRDB
import NotiLogCore

/// The batches agents sent through the acknowledged ingest endpoint, one row per (agent, sequence), written in
/// the transaction that stores the batch's records: a retried batch is recognised whatever happened between the
/// commit and the agent hearing of it (a lost answer, a server killed right after committing).
///
/// Rows older than `keepSeconds` are deleted by retention; an agent retries a batch for far less than that.
enum IngestMarks {
    static let schema = """
        CREATE TABLE ingest_batches (
          agent TEXT NOT NULL,
          sequence INTEGER NOT NULL,
          records INTEGER NOT NULL,
          stored_at INTEGER NOT NULL,
          PRIMARY KEY (agent, sequence)
        ) WITHOUT ROWID;
        CREATE INDEX ingest_batches_stored_at ON ingest_batches(stored_at);
        """

    /// A week.
    static let keepSeconds: Int64 = 7 * 86_400

    static func record(_ marks: [IngestMark], _ db: Database) throws {
        guard !marks.isEmpty else { return }
        // OR IGNORE: the endpoint lets one copy of a batch in at a time, so a conflict can only be a copy that
        // raced past it; failing the whole transaction would hold back other senders' records.
        let statement = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO ingest_batches(agent, sequence, records, stored_at) VALUES (?, ?, ?, ?)")
        for mark in marks {
            try statement.execute(arguments: [mark.agent, mark.sequence, mark.records, mark.storedAt.nanosecondsSinceEpoch])
        }
    }

    static func find(agent: String, sequence: Int64, _ db: Database) throws -> IngestMark? {
        try Row.fetchOne(
            db, sql: "SELECT records, stored_at FROM ingest_batches WHERE agent = ? AND sequence = ?", arguments: [agent, sequence]
        ).map { row in
            IngestMark(
                agent: agent, sequence: sequence, records: row[0],
                storedAt: SyslogTimestamp(nanosecondsSinceEpoch: row[1], fractionDigits: 6))
        }
    }

    /// Deletes marks older than `keepSeconds` before `now`; returns how many.
    static func prune(now: SyslogTimestamp, _ db: Database) throws -> Int {
        try db.execute(
            sql: "DELETE FROM ingest_batches WHERE stored_at < ?",
            arguments: [now.nanosecondsSinceEpoch - keepSeconds * 1_000_000_000])
        return db.changesCount
    }
}

extension SQLiteLogStore {
    public func ingestMark(agent: String, sequence: Int64) async throws(StoreError) -> IngestMark? {
        do {
            return try await pool.read { db in try IngestMarks.find(agent: agent, sequence: sequence, db) }
        } catch {
            throw StoreError(.read, "cannot read the ingest batches", underlying: error)
        }
    }
}
