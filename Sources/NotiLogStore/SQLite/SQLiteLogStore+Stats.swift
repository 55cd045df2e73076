import Foundation
import GRDB
import NotiLogCore

extension SQLiteLogStore {
    public func stats(_ request: StatsRequest) async throws(StoreError) -> LogStats {
        let buckets = Int64(max(1, min(request.buckets, 1000)))
        let since = request.since.nanosecondsSinceEpoch
        let until = max(since + 1, request.until.nanosecondsSinceEpoch)
        let bucketNanoseconds = (until - since + buckets - 1) / buckets
        do {
            return try await pool.read { db in
                let watermark = try Self.indexedUpTo(db)
                let (lower, upper) = QuerySQL.receivedRange(request.query.root, now: request.now)
                let ids = try TimeSpans.ids(receivedFrom: max(since, lower ?? since), to: min(until - 1, upper ?? until - 1), db)
                var hosts = Tally()
                var apps = Tally()
                var severities = Tally()
                var histogram = [Int64](repeating: 0, count: Int(buckets))
                // The indexed part through FTS5, the newer tail through the tokenizer function (as `search` does).
                for indexed in [false, true] {
                    guard let ids else { break }
                    // The indexed part of a query with message words is driven by the full-text index (CROSS JOIN),
                    // as `search` does: a rare word then reads its few rows, not every row in the range.
                    let driver = indexed ? QuerySQL.fullTextDriver(request.query.root) : nil
                    let condition = QuerySQL.compile(driver?.rest ?? request.query.root, now: request.now, indexed: indexed)
                    let range = TimeSpans.conditions(ids, on: "logs.id")
                    let source =
                        driver == nil
                        ? "FROM logs WHERE logs.id \(indexed ? "<=" : ">") ?"
                        : "FROM logs_fts CROSS JOIN logs ON logs.id = logs_fts.rowid WHERE logs_fts MATCH ? AND logs_fts.rowid <= ?"
                    let from = """
                        \(source)\(range.sql)
                        AND logs.received_at >= ? AND logs.received_at < ? AND \(condition.sql)
                        """
                    let arguments =
                        (driver.map { [$0.match.databaseValue] } ?? []) + [watermark.databaseValue] + range.arguments
                        + [since, until].map(\.databaseValue) + condition.arguments
                    func tally(_ key: String, into counts: inout Tally) throws {
                        // Grouped by the integer key, named afterwards (FieldNames).
                        let rows = try Row.fetchAll(
                            db,
                            sql: """
                                SELECT CAST(n.name AS BLOB), c.count
                                FROM (SELECT logs.\(key) AS key, count(*) AS count \(from) GROUP BY logs.\(key)) AS c
                                LEFT JOIN field_names AS n ON n.id = c.key
                                """,
                            arguments: StatementArguments(arguments))
                        for row in rows { counts.add(Self.text(row, 0), row[1]) }
                    }
                    try tally("host_key", into: &hosts)
                    try tally("app_key", into: &apps)
                    for row in try Row.fetchAll(
                        db, sql: "SELECT logs.severity, count(*) \(from) GROUP BY logs.severity", arguments: StatementArguments(arguments))
                    {
                        let severity: Int? = row[0]
                        severities.add(severity.map(String.init), row[1])
                    }
                    for row in try Row.fetchAll(
                        db, sql: "SELECT (logs.received_at - ?) / ?, count(*) \(from) GROUP BY 1",
                        arguments: StatementArguments([since.databaseValue, bucketNanoseconds.databaseValue] + arguments))
                    {
                        let bucket: Int64 = row[0]
                        if bucket >= 0, bucket < buckets { histogram[Int(bucket)] += row[1] }
                    }
                }
                let bySeverity = severities.counts.sorted {
                    // Most severe (lowest number) first; records without a priority last.
                    (Int($0.value ?? "") ?? 99) < (Int($1.value ?? "") ?? 99)
                }
                return LogStats(
                    total: severities.counts.reduce(0) { $0 + $1.count }, hosts: hosts.top(request.top),
                    apps: apps.top(request.top), severities: bySeverity, bucketNanoseconds: bucketNanoseconds,
                    histogram: histogram)
            }
        } catch {
            throw StoreError(.read, "statistics failed", underlying: error)
        }
    }

    public func figures() async throws(StoreError) -> StoreFigures {
        do {
            return try await pool.read { db in
                // Two subqueries: SQLite answers a lone min() or max() of the rowid from the B-tree's ends, but
                // `SELECT min(id), max(id)` scans the whole table (it was 35 % of the CPU under a 20 Hz scrape).
                let row = try Row.fetchOne(db, sql: "SELECT (SELECT min(id) FROM logs), (SELECT max(id) FROM logs)")
                let oldest: Int64? = row?[0]
                let newest: Int64? = row?[1]
                return StoreFigures(
                    records: newest.map { $0 - (oldest ?? $0) + 1 } ?? 0, newestID: newest ?? 0,
                    indexedUpTo: try Self.indexedUpTo(db), bytes: try Self.usedBytes(db))
            }
        } catch {
            throw StoreError(.read, "cannot read the store's figures", underlying: error)
        }
    }

    /// Database bytes in use (free pages excluded); the WAL is not counted.
    static func usedBytes(_ db: Database) throws -> Int64 {
        let pageSize = try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        let pages = try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0
        let free = try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
        return (pages - free) * pageSize
    }
}

/// Counts per field value, merged case-insensitively across queries (host and app names compare without case).
private struct Tally {
    private var byKey: [String: LogStats.Count] = [:]
    private var missing: Int64 = 0

    mutating func add(_ value: String?, _ count: Int64) {
        guard let value else {
            missing += count
            return
        }
        byKey[value.lowercased(), default: LogStats.Count(value: value, count: 0)].count += count
    }

    var counts: [LogStats.Count] {
        Array(byKey.values) + (missing > 0 ? [LogStats.Count(value: nil, count: missing)] : [])
    }

    func top(_ n: Int) -> [LogStats.Count] {
        Array(counts.sorted { $0.count != $1.count ? $0.count > $1.count : ($0.value ?? "") < ($1.value ?? "") }.prefix(max(0, n)))
    }
}
