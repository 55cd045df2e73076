import Foundation
import GRDB
import GRDBSQLite
import NotiLogCore
import Synchronization

/// The embedded store: one SQLite database in WAL mode under the data directory.
///
/// Records are committed first and indexed for full text by `indexPending` in the background; searches scan
/// the not-yet-indexed tail with the same tokenizer, so every committed record is searchable at once.
public final class SQLiteLogStore: LogStore {
    let pool: DatabasePool
    public let path: String

    /// Records per time span at most when batches are small (see `TimeSpans`).
    let timeSpanRecords: Int64
    let fieldNames = FieldNames()
    /// The minute `host_minutes` was last pruned at.
    let hostMinutesPruned = Mutex<Int64>(0)

    /// Opens (creating if needed) `DIRECTORY/notilog.sqlite` and migrates it.
    public convenience init(directory: String) throws(StoreError) {
        try self.init(directory: directory, timeSpanRecords: TimeSpans.coalesceBelow)
    }

    /// `timeSpanRecords`: small batches are joined into one time span until it holds this many records.
    init(directory: String, timeSpanRecords: Int64) throws(StoreError) {
        self.timeSpanRecords = timeSpanRecords
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.open, "cannot create the data directory \(directory)", underlying: error)
        }
        path = (directory as NSString).appendingPathComponent("notilog.sqlite")
        var config = Configuration()
        config.busyMode = .timeout(30)
        let checkpointer = WALCheckpointer(path: path)
        config.prepareDatabase { db in
            db.add(tokenizer: LogTokenizerFTS5.self)
            db.add(function: SQLFunctions.tokens)
            db.add(function: SQLFunctions.regex)
            db.add(function: SQLFunctions.structuredData)
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            if !db.configuration.readonly {
                // The writer keeps the hot pages of the table and its indexes (32 MiB; readers keep the default).
                try db.execute(sql: "PRAGMA cache_size = -32768")
                checkpointer.attach(to: db)
            }
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw StoreError(.open, "cannot open the database \(path)", underlying: error)
        }
        do {
            try SQLiteSchema.migrator.migrate(pool)
        } catch {
            throw StoreError(.migrate, "cannot migrate the database \(path)", underlying: error)
        }
    }

    static func formatCode(_ f: WireFormat) -> Int {
        switch f {
        case .rfc5424: 0
        case .rfc3164: 1
        case .unparsed: 2
        }
    }

    static func format(code: Int) -> WireFormat {
        switch code {
        case 0: .rfc5424
        case 1: .rfc3164
        default: .unparsed
        }
    }

    // MARK: Insert

    static let insertSQL = """
        INSERT INTO logs(received_at, ts, ts_digits, facility, severity, hostname, app, procid, msgid, sd, message, raw,
                         format, source, problems, host_key, app_key)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        """

    public func insert(_ batch: [LogRecord], marks: [IngestMark]) async throws(StoreError) -> ClosedRange<Int64>? {
        guard !batch.isEmpty else { return nil }
        do {
            let (ids, keys) = try await pool.write { db in
                var names = self.fieldNames.session(db)
                let statement = try db.cachedStatement(sql: Self.insertSQL)
                let s = statement.sqliteStatement
                var first: Int64 = 0
                var last: Int64 = 0
                var oldest = Int64.max
                var newest = Int64.min
                for index in batch.indices {
                    let received = batch[index].receivedAt.nanosecondsSinceEpoch
                    oldest = min(oldest, received)
                    newest = max(newest, received)
                    let rc = try Self.bindAndStep(batch[index], s, &names)
                    guard rc == SQLITE_DONE else {
                        let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
                        sqlite3_reset(s)
                        throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: message)
                    }
                    last = sqlite3_last_insert_rowid(db.sqliteConnection)
                    if first == 0 { first = last }
                }
                sqlite3_reset(s)
                sqlite3_clear_bindings(s)
                try Self.updateHosts(batch, db)
                try HostMinutes.prune(now: HostMinutes.minute(newest), last: self.hostMinutesPruned, db)
                try TimeSpans.record(ids: first...last, oldest: oldest, newest: newest, coalesceBelow: self.timeSpanRecords, db)
                try IngestMarks.record(marks, db)
                return (first...last, names.keys)
            }
            fieldNames.keep(keys)
            return ids
        } catch {
            throw StoreError(.write, "cannot commit a batch of \(batch.count) records", underlying: error)
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Binds a record to the insert statement and runs it. The record's own bytes are bound without a copy
    /// (SQLITE_STATIC): they stay valid until the step inside `withFieldBytes` is done.
    private static func bindAndStep(_ r: LogRecord, _ s: OpaquePointer, _ names: inout FieldNames.Session) throws -> Int32 {
        sqlite3_reset(s)
        sqlite3_bind_int64(s, 1, r.receivedAt.nanosecondsSinceEpoch)
        if let t = r.timestamp {
            sqlite3_bind_int64(s, 2, t.nanosecondsSinceEpoch)
            sqlite3_bind_int(s, 3, Int32(t.fractionDigits))
        } else {
            sqlite3_bind_null(s, 2)
            sqlite3_bind_int(s, 3, 0)
        }
        if let f = r.facility { sqlite3_bind_int(s, 4, Int32(f.rawValue)) } else { sqlite3_bind_null(s, 4) }
        if let v = r.severity { sqlite3_bind_int(s, 5, Int32(v.rawValue)) } else { sqlite3_bind_null(s, 5) }
        bindText(r.structuredDataText, s, 10)
        let raw = r.rawFrame
        if let raw {
            bindText(r.message, s, 11)
            raw.withUnsafeBytes { _ = sqlite3_bind_blob(s, 12, $0.baseAddress, Int32($0.count), transient) }
        } else {
            sqlite3_bind_null(s, 12)
        }
        sqlite3_bind_int(s, 13, Int32(formatCode(r.format)))
        bindText(r.source, s, 14)
        bindText(r.problemsJSON, s, 15)
        return try r.withFieldBytes { f in
            bindStatic(f.hostname, s, 6)
            bindStatic(f.appName, s, 7)
            if let h = f.hostname { sqlite3_bind_int64(s, 16, try names.key(.hostname, h)) } else { sqlite3_bind_null(s, 16) }
            if let a = f.appName { sqlite3_bind_int64(s, 17, try names.key(.app, a)) } else { sqlite3_bind_null(s, 17) }
            bindStatic(f.procID, s, 8)
            bindStatic(f.msgID, s, 9)
            if raw == nil { bindStatic(f.message ?? UnsafeRawBufferPointer(start: nil, count: 0), s, 11) }
            let rc = sqlite3_step(s)
            // Nothing may point into the record once this call returns.
            sqlite3_clear_bindings(s)
            return rc
        }
    }

    /// Binds bytes that outlive the statement's step; nil binds NULL.
    private static func bindStatic(_ bytes: UnsafeRawBufferPointer?, _ s: OpaquePointer, _ index: Int32) {
        guard let bytes else {
            sqlite3_bind_null(s, index)
            return
        }
        // A zero-length text must not be bound from a nil base address (that binds NULL).
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        _ = sqlite3_bind_text(s, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil)
    }

    private static func bindText(_ text: String?, _ s: OpaquePointer, _ index: Int32) {
        guard var text else {
            sqlite3_bind_null(s, index)
            return
        }
        // With its length: the text may hold NUL.
        text.withUTF8 { _ = sqlite3_bind_text(s, index, UnsafeRawPointer($0.baseAddress ?? UnsafePointer(bitPattern: 1)!).assumingMemoryBound(to: CChar.self), Int32($0.count), transient) }
    }

    /// Per-sender figures, keyed by host name (or the source address when the message names no host).
    private static func updateHosts(_ batch: [LogRecord], _ db: Database) throws {
        struct Figures {
            var name: String
            var first: Int64
            var last: Int64
            var messages: Int64 = 0
            var problems: Int64 = 0
            var skew: Int64?
            /// Counts by minute of reception (a batch mostly falls in one minute, sometimes two).
            var minute: Int64 = .min
            var minuteMessages: Int64 = 0
            var minuteProblems: Int64 = 0
            var earlierMinutes: [(minute: Int64, messages: Int64, problems: Int64)] = []

            mutating func add(_ received: Int64, problem: Bool, timestamp: Int64?) {
                first = min(first, received)
                last = max(last, received)
                messages += 1
                if problem { problems += 1 }
                if let timestamp { skew = timestamp - received }
                let m = HostMinutes.minute(received)
                if m != minute {
                    if minuteMessages > 0 { earlierMinutes.append((minute, minuteMessages, minuteProblems)) }
                    (minute, minuteMessages, minuteProblems) = (m, 0, 0)
                }
                minuteMessages += 1
                if problem { minuteProblems += 1 }
            }
        }
        var byHost: [[UInt8]: Figures] = [:]
        // The host name's bytes, ASCII-folded as the column's NOCASE compares them; one buffer for the batch,
        // so only a host not yet seen in this batch allocates. Records are read in place, not copied.
        var key: [UInt8] = []
        key.reserveCapacity(64)
        batch.withUnsafeBufferPointer { records in
            for index in records.indices {
                let hasHostname = records[index].withBytes(of: .hostname) { bytes in
                    guard let bytes else { return false }
                    key.removeAll(keepingCapacity: true)
                    for b in bytes { key.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
                    return true
                }
                if !hasHostname {
                    guard let source = records[index].source else { continue }
                    key = Array(source.lowercased().utf8)
                }
                let received = records[index].receivedAt.nanosecondsSinceEpoch
                byHost[key, default: Figures(name: records[index].hostname ?? records[index].source ?? "", first: received, last: received)]
                    .add(received, problem: !records[index].problems.isEmpty, timestamp: records[index].timestamp?.nanosecondsSinceEpoch)
            }
        }
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO hosts(hostname, first_seen, last_seen, messages, parse_problems, clock_skew_ns)
                VALUES (?,?,?,?,?,?)
                ON CONFLICT(hostname) DO UPDATE SET
                  first_seen = min(first_seen, excluded.first_seen),
                  last_seen = max(last_seen, excluded.last_seen),
                  messages = messages + excluded.messages,
                  parse_problems = parse_problems + excluded.parse_problems,
                  clock_skew_ns = coalesce(excluded.clock_skew_ns, clock_skew_ns)
                """)
        var minutes: [(name: String, minute: Int64, messages: Int64, problems: Int64)] = []
        for f in byHost.values {
            try upsert.execute(arguments: [f.name, f.first, f.last, f.messages, f.problems, f.skew])
            for e in f.earlierMinutes { minutes.append((f.name, e.minute, e.messages, e.problems)) }
            if f.minuteMessages > 0 { minutes.append((f.name, f.minute, f.minuteMessages, f.minuteProblems)) }
        }
        try HostMinutes.record(minutes, db)
    }

    // MARK: Read

    /// Text is read as BLOB: SQLite text may hold NUL, which C-string reads would cut.
    static let columns = """
        logs.id, logs.received_at, logs.ts, logs.ts_digits, logs.facility, logs.severity,
        CAST(logs.hostname AS BLOB), CAST(logs.app AS BLOB), CAST(logs.procid AS BLOB), CAST(logs.msgid AS BLOB),
        CAST(logs.sd AS BLOB), CAST(logs.message AS BLOB), logs.raw, logs.format, CAST(logs.source AS BLOB), logs.problems
        """

    static func text(_ row: Row, _ index: Int) -> String? {
        let data: Data? = row[index]
        return data.map { String(decoding: $0, as: UTF8.self) }
    }

    static func storedRecord(_ row: Row) -> StoredRecord {
        let ts: Int64? = row[2]
        let facility: Int? = row[4]
        let severity: Int? = row[5]
        let sdText = text(row, 10)
        let raw: Data? = row[12]
        let problemsText: String? = row[15]
        let record = LogRecord(
            stored: facility.flatMap { Facility(rawValue: UInt8($0)) },
            severity: severity.flatMap { Severity(rawValue: UInt8($0)) },
            timestamp: ts.map { SyslogTimestamp(nanosecondsSinceEpoch: $0, fractionDigits: Int8(row[3] as Int)) },
            receivedAt: SyslogTimestamp(nanosecondsSinceEpoch: row[1], fractionDigits: 6),
            hostname: text(row, 6), appName: text(row, 7), procID: text(row, 8), msgID: text(row, 9),
            structuredData: sdText.flatMap { LogRecord.structuredData(fromText: $0) },
            message: text(row, 11) ?? "", rawFrame: raw.map { Array($0) }, source: text(row, 14),
            format: format(code: row[13]),
            problems: problemsText.map(Self.problems(fromJSON:)) ?? [])
        return StoredRecord(id: row[0], record: record)
    }

    static func problems(fromJSON text: String) -> [ParseProblem] {
        guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] else { return [] }
        return list.compactMap { item in
            guard let field = (item["field"] as? String).flatMap(ParseProblem.Field.init(rawValue:)),
                let column = item["column"] as? Int, let reason = item["reason"] as? String
            else { return nil }
            return ParseProblem(field: field, column: column, reason: reason)
        }
    }

    public func record(id: Int64) async throws(StoreError) -> StoredRecord? {
        do {
            return try await pool.read { db in
                try Row.fetchOne(db, sql: "SELECT \(Self.columns) FROM logs WHERE id = ?", arguments: [id]).map(Self.storedRecord)
            }
        } catch {
            throw StoreError(.read, "cannot read record \(id)", underlying: error)
        }
    }

    public func records(after id: Int64, limit: Int) async throws(StoreError) -> [StoredRecord] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db, sql: "SELECT \(Self.columns) FROM logs WHERE id > ? ORDER BY id LIMIT ?", arguments: [id, max(1, limit)]
                ).map(Self.storedRecord)
            }
        } catch {
            throw StoreError(.read, "cannot read records after \(id)", underlying: error)
        }
    }

    public func search(_ request: SearchRequest) async throws(StoreError) -> SearchPage {
        let limit = max(1, min(request.limit, 10_000))
        do {
            return try await pool.read { db in
                let watermark = try Self.indexedUpTo(db)
                // since:/until: as id bounds, so the host, app or full-text index is walked only inside the range.
                let (lower, upper) = QuerySQL.receivedRange(request.query.root, now: request.now)
                var bounds: ClosedRange<Int64>? = nil
                if lower != nil || upper != nil {
                    guard let ids = try TimeSpans.ids(receivedFrom: lower, to: upper, db) else { return SearchPage(records: [], next: nil) }
                    bounds = ids
                }
                var found: [StoredRecord] = []
                // The not-yet-indexed tail first (it is the newest), then the indexed part.
                for indexed in [false, true] {
                    let want = limit + 1 - found.count
                    guard want > 0 else { break }
                    let pass = Self.pass(request.query, indexed: indexed, watermark: watermark, bounds: bounds, now: request.now)
                    var sql = "SELECT \(Self.columns) " + pass.from
                    var arguments = pass.arguments
                    if let before = request.before {
                        sql += " AND \(pass.id) < ?"
                        arguments.append(before.databaseValue)
                    }
                    if let after = request.after {
                        sql += " AND \(pass.id) > ?"
                        arguments.append(after.databaseValue)
                    }
                    sql += " AND \(pass.condition.sql) ORDER BY \(pass.id) DESC LIMIT ?"
                    arguments += pass.condition.arguments
                    arguments.append(want.databaseValue)
                    let rows = try Row.fetchAll(db, sql: sql, arguments: StatementArguments(arguments))
                    found += rows.map(Self.storedRecord)
                }
                if found.count > limit {
                    found.removeLast(found.count - limit)
                    return SearchPage(records: found, next: found.last?.id)
                }
                return SearchPage(records: found, next: nil)
            }
        } catch {
            throw StoreError(.read, "search failed", underlying: error)
        }
    }

    /// Where one of the two passes of a search (or of its statistics) reads: the records not yet in the
    /// full-text index (ids above the watermark), or the indexed ones (up to it), within the id bounds of the
    /// query's time range. For a query with message words the indexed pass is driven by the full-text index,
    /// newest first (CROSS JOIN: left to itself the planner may walk `logs` through an id range and look each
    /// row up in the index). `from` is the FROM clause and its first WHERE conditions; `id` names the id
    /// column; `condition` is the rest of the query, for the caller to add.
    static func pass(
        _ query: Query, indexed: Bool, watermark: Int64, bounds: ClosedRange<Int64>?, now: SyslogTimestamp
    ) -> (from: String, arguments: [DatabaseValue], id: String, condition: QuerySQL) {
        if indexed, let driver = QuerySQL.fullTextDriver(query.root) {
            let range = TimeSpans.conditions(bounds, on: "logs_fts.rowid")
            return (
                "FROM logs_fts CROSS JOIN logs ON logs.id = logs_fts.rowid WHERE logs_fts MATCH ? AND logs_fts.rowid <= ?" + range.sql,
                [driver.match.databaseValue, watermark.databaseValue] + range.arguments, "logs_fts.rowid",
                QuerySQL.compile(driver.rest, now: now, indexed: true)
            )
        }
        let range = TimeSpans.conditions(bounds, on: "logs.id")
        return (
            "FROM logs WHERE logs.id \(indexed ? "<=" : ">") ?" + range.sql, [watermark.databaseValue] + range.arguments, "logs.id",
            QuerySQL.compile(query.root, now: now, indexed: indexed)
        )
    }

    /// Records stored.
    public func count() async throws(StoreError) -> Int {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM logs") ?? 0 }
        } catch {
            throw StoreError(.read, "cannot count records", underlying: error)
        }
    }

    public func hosts() async throws(StoreError) -> [HostSummary] {
        try await hosts(now: .now())
    }

    /// The hosts, with their counts over the `HostMinutes.windowMinutes` whole minutes up to `now`'s.
    public func hosts(now: SyslogTimestamp) async throws(StoreError) -> [HostSummary] {
        let nowMinute = HostMinutes.minute(now.nanosecondsSinceEpoch)
        let since = nowMinute - HostMinutes.windowMinutes + 1
        let windowStart = SyslogTimestamp(nanosecondsSinceEpoch: since * HostMinutes.nanosecondsPerMinute, fractionDigits: 0)
        do {
            return try await pool.read { db in
                let recent = try HostMinutes.counts(since: since, db)
                return try Row.fetchAll(
                    db,
                    sql: """
                        SELECT hostname, first_seen, last_seen, messages, parse_problems, clock_skew_ns
                        FROM hosts ORDER BY hostname
                        """
                ).map { row in
                    let skew: Int64? = row[5]
                    let name: String = row[0]
                    var summary = HostSummary(
                        hostname: name, firstSeen: SyslogTimestamp(nanosecondsSinceEpoch: row[1], fractionDigits: 6),
                        lastSeen: SyslogTimestamp(nanosecondsSinceEpoch: row[2], fractionDigits: 6),
                        messages: row[3], parseProblems: row[4], clockSkewSeconds: skew.map { Double($0) / 1e9 })
                    let counts = recent[name.lowercased()]
                    summary.recent = HostSummary.Recent(
                        since: windowStart, messages: counts?.messages ?? 0, parseProblems: counts?.problems ?? 0)
                    return summary
                }
            }
        } catch {
            throw StoreError(.read, "cannot list hosts", underlying: error)
        }
    }

    // MARK: Background work

    static func indexedUpTo(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM store_state WHERE key = 'fts_indexed_upto'") ?? 0
    }

    public func indexPending(maxRows: Int) async throws(StoreError) -> Int {
        do {
            return try await pool.write { db in
                let watermark = try Self.indexedUpTo(db)
                guard let upTo = try Int64.fetchOne(
                    db, sql: "SELECT max(id) FROM (SELECT id FROM logs WHERE id > ? ORDER BY id LIMIT ?)",
                    arguments: [watermark, maxRows])
                else { return 0 }
                try db.execute(
                    sql: "INSERT INTO logs_fts(rowid, message) SELECT id, message FROM logs WHERE id > ? AND id <= ?",
                    arguments: [watermark, upTo])
                let indexed = db.changesCount
                try db.execute(sql: "UPDATE store_state SET value = ? WHERE key = 'fts_indexed_upto'", arguments: [upTo])
                return indexed
            }
        } catch {
            throw StoreError(.write, "full-text indexing failed", underlying: error)
        }
    }

    public func applyRetention(_ policy: RetentionPolicy, now: SyslogTimestamp, maxRows: Int) async throws(StoreError) -> Int {
        do {
            return try await pool.write { db in
                // Agents' batch marks are kept a week, whatever the policy keeps of records.
                _ = try IngestMarks.prune(now: now, db)
                var victims: Int64? = nil  // delete ids <= victims
                let oldestID = try Int64.fetchOne(db, sql: "SELECT min(id) FROM logs")
                if let maxAge = policy.maxAgeSeconds, let oldestID {
                    // The oldest run of records all received before the cutoff, at most maxRows of them.
                    let cutoff = SyslogTimestamp(seconds: now.seconds - maxAge).nanosecondsSinceEpoch
                    victims = try TimeSpans.lastID(receivedBefore: cutoff, db).map { min($0, oldestID + Int64(maxRows) - 1) }
                }
                if victims == nil, let maxBytes = policy.maxBytes, let oldestID, try Self.usedBytes(db) > maxBytes {
                    victims = oldestID + Int64(maxRows) - 1
                }
                guard let upTo = victims, upTo >= (oldestID ?? .max) else { return 0 }
                let watermark = try Self.indexedUpTo(db)
                // External-content FTS rows are removed with the values they were indexed with.
                try db.execute(
                    sql: """
                        INSERT INTO logs_fts(logs_fts, rowid, message)
                        SELECT 'delete', id, message FROM logs WHERE id <= ? AND id <= ?
                        """, arguments: [upTo, watermark])
                try db.execute(sql: "DELETE FROM logs WHERE id <= ?", arguments: [upTo])
                let deleted = db.changesCount
                try TimeSpans.forget(upTo: upTo, db)
                return deleted
            }
        } catch {
            throw StoreError(.write, "retention failed", underlying: error)
        }
    }
}
