import Foundation
import GRDB
import GRDBSQLite
import NotiLogCore

/// The embedded store: one SQLite database in WAL mode under the data directory.
///
/// Records are committed first and indexed for full text by `indexPending` in the background; searches scan
/// the not-yet-indexed tail with the same tokenizer, so every committed record is searchable at once.
public final class SQLiteLogStore: LogStore {
    let pool: DatabasePool
    public let path: String

    /// Opens (creating if needed) `DIRECTORY/notilog.sqlite` and migrates it.
    public init(directory: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.open, "cannot create the data directory \(directory)", underlying: error)
        }
        path = (directory as NSString).appendingPathComponent("notilog.sqlite")
        var config = Configuration()
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in
            db.add(tokenizer: LogTokenizerFTS5.self)
            db.add(function: SQLFunctions.tokens)
            db.add(function: SQLFunctions.regex)
            db.add(function: SQLFunctions.structuredData)
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
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
                         format, source, problems)
        VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
        """

    public func insert(_ batch: [LogRecord]) async throws(StoreError) -> ClosedRange<Int64>? {
        guard !batch.isEmpty else { return nil }
        do {
            return try await pool.write { db in
                let statement = try db.cachedStatement(sql: Self.insertSQL)
                let s = statement.sqliteStatement
                var first: Int64 = 0
                var last: Int64 = 0
                for record in batch {
                    sqlite3_reset(s)
                    Self.bind(record, to: s)
                    let rc = sqlite3_step(s)
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
                return first...last
            }
        } catch {
            throw StoreError(.write, "cannot commit a batch of \(batch.count) records", underlying: error)
        }
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private static func bind(_ r: LogRecord, to s: OpaquePointer) {
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
        bindField(r, .hostname, s, 6)
        bindField(r, .appName, s, 7)
        bindField(r, .procID, s, 8)
        bindField(r, .msgID, s, 9)
        bindText(r.structuredDataText, s, 10)
        if r.rawFrame == nil {
            bindField(r, .message, s, 11)
            sqlite3_bind_null(s, 12)
        } else {
            bindText(r.message, s, 11)
            let raw = r.rawFrame!
            raw.withUnsafeBytes { _ = sqlite3_bind_blob(s, 12, $0.baseAddress, Int32($0.count), transient) }
        }
        sqlite3_bind_int(s, 13, Int32(formatCode(r.format)))
        bindText(r.source, s, 14)
        bindText(r.problemsJSON, s, 15)
    }

    private static func bindField(_ r: LogRecord, _ field: LogRecord.TextField, _ s: OpaquePointer, _ index: Int32) {
        r.withBytes(of: field) { bytes in
            guard let bytes else {
                if field == .message {
                    _ = sqlite3_bind_text(s, index, "", 0, transient)
                } else {
                    sqlite3_bind_null(s, index)
                }
                return
            }
            // A zero-length text must not be bound from a nil base address (that binds NULL).
            let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            _ = sqlite3_bind_text(s, index, base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), transient)
        }
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
        }
        var byHost: [String: Figures] = [:]
        for r in batch {
            guard let name = r.hostname ?? r.source else { continue }
            let key = name.lowercased()
            let received = r.receivedAt.nanosecondsSinceEpoch
            var f = byHost[key] ?? Figures(name: name, first: received, last: received)
            f.first = min(f.first, received)
            f.last = max(f.last, received)
            f.messages += 1
            if !r.problems.isEmpty { f.problems += 1 }
            if let t = r.timestamp { f.skew = t.nanosecondsSinceEpoch - received }
            byHost[key] = f
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
        for f in byHost.values {
            try upsert.execute(arguments: [f.name, f.first, f.last, f.messages, f.problems, f.skew])
        }
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

    public func search(_ request: SearchRequest) async throws(StoreError) -> SearchPage {
        let limit = max(1, min(request.limit, 10_000))
        do {
            return try await pool.read { db in
                let watermark = try Self.indexedUpTo(db)
                var found: [StoredRecord] = []
                // The not-yet-indexed tail first (it is the newest), then the indexed part.
                for indexed in [false, true] {
                    let want = limit + 1 - found.count
                    guard want > 0 else { break }
                    var sql: String
                    var arguments: [DatabaseValue]
                    if indexed, let driver = QuerySQL.fullTextDriver(request.query.root) {
                        // Newest first through the full-text index, stopping after a page.
                        let rest = QuerySQL.compile(driver.rest, now: request.now, indexed: true)
                        sql = """
                            SELECT \(Self.columns) FROM logs_fts JOIN logs ON logs.id = logs_fts.rowid
                            WHERE logs_fts MATCH ? AND logs_fts.rowid <= ?
                            """
                        arguments = [driver.match.databaseValue, watermark.databaseValue]
                        if let before = request.before {
                            sql += " AND logs_fts.rowid < ?"
                            arguments.append(before.databaseValue)
                        }
                        sql += " AND \(rest.sql) ORDER BY logs_fts.rowid DESC LIMIT ?"
                        arguments += rest.arguments
                    } else {
                        let condition = QuerySQL.compile(request.query.root, now: request.now, indexed: indexed)
                        sql = "SELECT \(Self.columns) FROM logs WHERE logs.id \(indexed ? "<=" : ">") ?"
                        arguments = [watermark.databaseValue]
                        if let before = request.before {
                            sql += " AND logs.id < ?"
                            arguments.append(before.databaseValue)
                        }
                        sql += " AND \(condition.sql) ORDER BY logs.id DESC LIMIT ?"
                        arguments += condition.arguments
                    }
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

    /// Records stored.
    public func count() async throws(StoreError) -> Int {
        do {
            return try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM logs") ?? 0 }
        } catch {
            throw StoreError(.read, "cannot count records", underlying: error)
        }
    }

    public func hosts() async throws(StoreError) -> [HostSummary] {
        do {
            return try await pool.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT hostname, first_seen, last_seen, messages, parse_problems, clock_skew_ns
                        FROM hosts ORDER BY hostname
                        """
                ).map { row in
                    let skew: Int64? = row[5]
                    return HostSummary(
                        hostname: row[0], firstSeen: SyslogTimestamp(nanosecondsSinceEpoch: row[1], fractionDigits: 6),
                        lastSeen: SyslogTimestamp(nanosecondsSinceEpoch: row[2], fractionDigits: 6),
                        messages: row[3], parseProblems: row[4], clockSkewSeconds: skew.map { Double($0) / 1e9 })
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
                var victims: Int64? = nil  // delete ids <= victims
                if let maxAge = policy.maxAgeSeconds {
                    let cutoff = SyslogTimestamp(seconds: now.seconds - maxAge).nanosecondsSinceEpoch
                    victims = try Int64.fetchOne(
                        db,
                        sql: "SELECT max(id) FROM (SELECT id FROM logs WHERE received_at < ? ORDER BY id LIMIT ?)",
                        arguments: [cutoff, maxRows])
                }
                if victims == nil, let maxBytes = policy.maxBytes {
                    if try Self.usedBytes(db) > maxBytes {
                        victims = try Int64.fetchOne(
                            db, sql: "SELECT max(id) FROM (SELECT id FROM logs ORDER BY id LIMIT ?)", arguments: [maxRows])
                    }
                }
                guard let upTo = victims else { return 0 }
                let watermark = try Self.indexedUpTo(db)
                // External-content FTS rows are removed with the values they were indexed with.
                try db.execute(
                    sql: """
                        INSERT INTO logs_fts(logs_fts, rowid, message)
                        SELECT 'delete', id, message FROM logs WHERE id <= ? AND id <= ?
                        """, arguments: [upTo, watermark])
                try db.execute(sql: "DELETE FROM logs WHERE id <= ?", arguments: [upTo])
                return db.changesCount
            }
        } catch {
            throw StoreError(.write, "retention failed", underlying: error)
        }
    }
}
