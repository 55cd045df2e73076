import Foundation
import GRDB
import GRDBSQLite
import NotiLogCore
import Synchronization

/// Host and app names as small integer keys, so their indexes are B-trees of integers.
///
/// `host:web-07` and `app:sshd` find a page of records through an index on the name; indexing the text itself
/// cost each insert two case-insensitive text comparisons per B-tree level (about 40 % of the writer's time at
/// 150,000 records/s). `field_names` gives every distinct name (case-insensitively, as the columns compare) an
/// id; `logs.host_key` / `logs.app_key` hold it beside the text, and the indexes are on the keys. Equality
/// queries look the key up once (`QuerySQL`); the text columns stay for display, prefixes and regexes.
///
/// The writer keeps a cache of keys; it lives only between committed transactions (it is dropped when a batch
/// fails, since the names a rolled-back batch added are gone) and is cleared when it grows past `cacheLimit`
/// (names are attacker-controlled).
final class FieldNames: Sendable {
    enum Field: Int64 {
        case hostname = 0
        case app = 1
    }

    static let cacheLimit = 50_000

    static let schema = """
        CREATE TABLE field_names (
          id INTEGER PRIMARY KEY,
          field INTEGER NOT NULL,           -- 0 host name, 1 app name
          name TEXT NOT NULL COLLATE NOCASE,
          UNIQUE (field, name)
        );
        ALTER TABLE logs ADD COLUMN host_key INTEGER;
        ALTER TABLE logs ADD COLUMN app_key INTEGER;
        INSERT INTO field_names(field, name) SELECT 0, hostname FROM logs WHERE hostname IS NOT NULL GROUP BY hostname;
        INSERT INTO field_names(field, name) SELECT 1, app FROM logs WHERE app IS NOT NULL GROUP BY app;
        UPDATE logs SET
          host_key = (SELECT id FROM field_names WHERE field = 0 AND name = logs.hostname),
          app_key = (SELECT id FROM field_names WHERE field = 1 AND name = logs.app);
        DROP INDEX IF EXISTS logs_hostname;
        DROP INDEX IF EXISTS logs_app;
        CREATE INDEX logs_host_key ON logs(host_key);
        CREATE INDEX logs_app_key ON logs(app_key);
        """

    /// A name folded as NOCASE compares it (ASCII letters only), with its field.
    struct Key: Hashable {
        var field: UInt8
        var folded: [UInt8]
    }

    private let cache = Mutex<[Key: Int64]>([:])

    /// Keys for one batch, used inside the writer's transaction.
    struct Session {
        fileprivate(set) var keys: [Key: Int64]
        private var scratch = Key(field: 0, folded: [])
        private let db: Database

        fileprivate init(keys: [Key: Int64], db: Database) {
            self.keys = keys
            self.db = db
        }

        /// The key of `bytes` as a name of `field`, adding the name when it is new.
        mutating func key(_ field: Field, _ bytes: UnsafeRawBufferPointer) throws -> Int64 {
            scratch.field = UInt8(field.rawValue)
            scratch.folded.removeAll(keepingCapacity: true)
            for b in bytes { scratch.folded.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b) }
            if let id = keys[scratch] { return id }
            // The bytes as the logs column holds them (bound as a BLOB and cast, so no UTF-8 repair happens).
            let name = Data(bytes)
            try db.cachedStatement(sql: "INSERT INTO field_names(field, name) VALUES (?, CAST(? AS TEXT)) ON CONFLICT DO NOTHING")
                .execute(arguments: [field.rawValue, name])
            guard let id = try Int64.fetchOne(
                db.cachedStatement(sql: "SELECT id FROM field_names WHERE field = ? AND name = CAST(? AS TEXT)"),
                arguments: [field.rawValue, name])
            else { throw DatabaseError(message: "a \(field) name was not stored") }
            keys[scratch] = id
            return id
        }
    }

    /// Starts a batch with the cached keys (taken out, so a batch that fails leaves none behind).
    func session(_ db: Database) -> Session {
        Session(
            keys: cache.withLock { keys in
                let taken = keys
                keys = [:]
                return taken.count > Self.cacheLimit ? [:] : taken
            }, db: db)
    }

    /// After a batch committed: keeps the keys it used and learnt.
    func keep(_ keys: [Key: Int64]) {
        cache.withLock { $0 = keys }
    }
}
