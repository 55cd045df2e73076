import GRDB
import NotiLogCore

/// Reception-time ranges as id ranges, without an index on `received_at`.
///
/// Ids grow in commit order and reception times nearly do, so a small table of id spans answers "which ids can
/// hold records received between A and B" in two index lookups, and a search then walks the host, app or
/// full-text index inside those ids (`host:web-07 since:… until:…` reads only the rows of that host in range).
/// Keeping an index on `received_at` up to date cost each insert a B-tree update; a span is one row per batch.
///
/// `log_spans` holds one row per contiguous run of ids (a committed batch, or several small ones):
/// - `max_before`: the latest reception time of every record up to the span's `last_id` (a running maximum),
/// - `min_after`: the earliest reception time of every record from the span's `first_id` on (a suffix minimum).
/// Both grow with `first_id`, whatever the clock did, so for a range [lower, upper] of reception times:
/// - records before the first span with `max_before >= lower` were all received before `lower`;
/// - records after the last span with `min_after <= upper` were all received after `upper`.
/// The bounds are exact up to span granularity; the query's own `received_at` conditions then decide each row.
/// Retention leaves partly deleted spans in place: the bounds stay correct, only a little wider.
enum TimeSpans {
    /// A span grows by the next batch while it covers fewer records than this (by default) and less than
    /// `maxWidth` of reception time: spans stay small in ids under load and short in time when it is quiet
    /// (retention by age deletes whole spans).
    static let coalesceBelow: Int64 = 4_096
    static let maxWidth: Int64 = 60_000_000_000

    static let schema = """
        CREATE TABLE log_spans (
          first_id INTEGER PRIMARY KEY,
          last_id INTEGER NOT NULL,
          max_before INTEGER NOT NULL,   -- latest received_at of the records with id <= last_id
          min_after INTEGER NOT NULL     -- earliest received_at of the records with id >= first_id
        );
        CREATE INDEX log_spans_max_before ON log_spans(max_before);
        CREATE INDEX log_spans_min_after ON log_spans(min_after);
        """

    /// Spans for records stored before `log_spans` existed (one per 4,096 ids).
    static let backfill = """
        INSERT INTO log_spans(first_id, last_id, max_before, min_after)
        SELECT first_id, last_id,
               max(newest) OVER (ORDER BY first_id ROWS UNBOUNDED PRECEDING),
               min(oldest) OVER (ORDER BY first_id DESC ROWS UNBOUNDED PRECEDING)
        FROM (SELECT min(id) AS first_id, max(id) AS last_id, min(received_at) AS oldest, max(received_at) AS newest
              FROM logs GROUP BY id >> 12)
        """

    /// Records that ids `first...last` (just inserted, in this transaction) were received between `oldest` and
    /// `newest` (ns since epoch).
    static func record(ids: ClosedRange<Int64>, oldest: Int64, newest: Int64, coalesceBelow: Int64, _ db: Database) throws {
        // Earlier spans whose suffix minimum this batch lowers (none while the clock goes forward).
        try db.cachedStatement(sql: "UPDATE log_spans SET min_after = ? WHERE min_after > ?").execute(arguments: [oldest, oldest])
        let last = try Row.fetchOne(
            db, cachedSQL: "SELECT first_id, last_id, max_before, min_after FROM log_spans ORDER BY first_id DESC LIMIT 1")
        if let last, let lastFirst: Int64 = last[0], let lastLast: Int64 = last[1], let lastBefore: Int64 = last[2],
            let lastAfter: Int64 = last[3], lastLast + 1 == ids.lowerBound, lastLast - lastFirst + 1 < coalesceBelow,
            max(lastBefore, newest) - lastAfter < maxWidth
        {
            try db.cachedStatement(sql: "UPDATE log_spans SET last_id = ?, max_before = max(max_before, ?) WHERE first_id = ?")
                .execute(arguments: [ids.upperBound, newest, lastFirst])
        } else {
            let before: Int64 = last.flatMap { $0[2] } ?? newest
            try db.cachedStatement(sql: "INSERT INTO log_spans(first_id, last_id, max_before, min_after) VALUES (?,?,?,?)")
                .execute(arguments: [ids.lowerBound, ids.upperBound, max(before, newest), oldest])
        }
    }

    /// The ids that can hold records received in `lower...upper` (either side open when nil); nil when none can.
    /// A side that excludes no stored record stays open (`Int64.min` / `Int64.max`): "the last 7 days" over a
    /// store holding less than that is no id bound at all, so a search need not add one (an id range the
    /// query planner would otherwise walk row by row instead of the full-text or host index).
    static func ids(receivedFrom lower: Int64?, to upper: Int64?, _ db: Database) throws -> ClosedRange<Int64>? {
        var first = Int64.min
        var last = Int64.max
        if let lower {
            guard let id = try Int64.fetchOne(
                db, cachedSQL: "SELECT first_id FROM log_spans WHERE max_before >= ? ORDER BY max_before, first_id LIMIT 1",
                arguments: [lower])
            else { return nil }
            let oldest = try Int64.fetchOne(db, cachedSQL: "SELECT first_id FROM log_spans ORDER BY first_id LIMIT 1", arguments: [])
            if id != oldest { first = id }
        }
        if let upper {
            guard let id = try Int64.fetchOne(
                db, cachedSQL: "SELECT last_id FROM log_spans WHERE min_after <= ? ORDER BY min_after DESC, first_id DESC LIMIT 1",
                arguments: [upper])
            else { return nil }
            let newest = try Int64.fetchOne(db, cachedSQL: "SELECT last_id FROM log_spans ORDER BY first_id DESC LIMIT 1", arguments: [])
            if id != newest { last = id }
        }
        return first <= last ? first...last : nil
    }

    /// SQL conditions on `column` (an id) for the finite sides of `ids`, each starting with " AND ".
    static func conditions(_ ids: ClosedRange<Int64>?, on column: String) -> (sql: String, arguments: [DatabaseValue]) {
        guard let ids else { return ("", []) }
        var sql = ""
        var arguments: [DatabaseValue] = []
        if ids.lowerBound != .min {
            sql += " AND \(column) >= ?"
            arguments.append(ids.lowerBound.databaseValue)
        }
        if ids.upperBound != .max {
            sql += " AND \(column) <= ?"
            arguments.append(ids.upperBound.databaseValue)
        }
        return (sql, arguments)
    }

    /// The last id of the oldest run of records all received before `cutoff` (for retention by age).
    static func lastID(receivedBefore cutoff: Int64, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db, cachedSQL: "SELECT last_id FROM log_spans WHERE max_before < ? ORDER BY max_before DESC, first_id DESC LIMIT 1",
            arguments: [cutoff])
    }

    /// Forgets spans whose records are all deleted (ids up to `id`).
    static func forget(upTo id: Int64, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM log_spans WHERE last_id <= ?").execute(arguments: [id])
    }
}

extension Row {
    static func fetchOne(_ db: Database, cachedSQL sql: String) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: sql))
    }
}

extension Int64 {
    static func fetchOne(_ db: Database, cachedSQL sql: String, arguments: StatementArguments) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }
}
