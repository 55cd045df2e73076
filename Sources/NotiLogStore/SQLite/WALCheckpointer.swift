import Dispatch
import GRDB
import GRDBSQLite
import Synchronization

/// Copies the write-ahead log back into the database on its own connection and thread, so the ingest writer
/// does not pay for it inside a commit.
///
/// SQLite's automatic checkpoint runs in the connection that commits — here the single writer, where it took
/// 0.1–0.2 s every few seconds under sustained ingest. The writer instead reports the log's size after each
/// commit (a WAL hook, which replaces the automatic checkpoint) and passive checkpoints run beside it; they never
/// block the writer or readers. SQLite starts the log over only when a write begins with every frame copied,
/// which a busy writer rarely sees, so at `hardLimitFrames` the writer checkpoints once itself: by then nearly
/// everything is copied (measured: ~6 ms instead of 0.1–0.2 s), and the log restarts. This also bounds the log
/// when checkpoints fall behind.
final class WALCheckpointer: @unchecked Sendable {
    /// Frames (pages) in the log that start a background checkpoint: 4 MiB with 4 KiB pages.
    static let startFrames: Int32 = 1_000
    /// Frames at which the writer checkpoints itself.
    static let hardLimitFrames: Int32 = 16_000

    private let path: String
    private let queue = DispatchQueue(label: "notilog.store.checkpoint")
    private let running = Atomic<Bool>(false)
    /// Used on `queue` only.
    private var connection: OpaquePointer?

    init(path: String) {
        self.path = path
    }

    deinit {
        if let connection { sqlite3_close_v2(connection) }
    }

    /// Hooks the writer connection: its commits report here instead of checkpointing.
    func attach(to db: Database) {
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, connection, _, frames in
                Unmanaged<WALCheckpointer>.fromOpaque(context!).takeUnretainedValue().logGrew(to: frames, writer: connection)
                return SQLITE_OK
            },
            // Unretained: the pool's configuration, which holds the hook's installer, retains the checkpointer for
            // as long as any of its connections is open.
            Unmanaged.passUnretained(self).toOpaque())
    }

    private func logGrew(to frames: Int32, writer: OpaquePointer?) {
        if frames >= Self.hardLimitFrames {
            sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            return
        }
        guard frames >= Self.startFrames, running.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        queue.async {
            self.checkpoint()
            self.running.store(false, ordering: .releasing)
        }
    }

    private func checkpoint() {
        if connection == nil {
            var db: OpaquePointer?
            guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK else {
                // The writer's hard limit still bounds the log; the next commit tries again.
                sqlite3_close_v2(db)
                return
            }
            sqlite3_busy_timeout(db, 1_000)
            // A fresh connection learns that the database is in WAL mode from its first read.
            sqlite3_exec(db, "PRAGMA schema_version", nil, nil, nil)
            connection = db
        }
        sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
}
