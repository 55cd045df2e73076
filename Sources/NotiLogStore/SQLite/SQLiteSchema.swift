import GRDB

/// Append-only named migrations of the embedded store.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("1 logs, full-text index, hosts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE logs (
                      id INTEGER PRIMARY KEY,
                      received_at INTEGER NOT NULL,            -- ns since epoch, collector clock
                      ts INTEGER,                              -- ns since epoch, from the message
                      ts_digits INTEGER NOT NULL DEFAULT 0 CHECK (ts_digits BETWEEN 0 AND 9),
                      facility INTEGER CHECK (facility BETWEEN 0 AND 23),
                      severity INTEGER CHECK (severity BETWEEN 0 AND 7),
                      hostname TEXT COLLATE NOCASE,
                      app TEXT COLLATE NOCASE,
                      procid TEXT COLLATE NOCASE,
                      msgid TEXT COLLATE NOCASE,
                      sd TEXT,                                 -- RFC 5424 SD-ELEMENTs as written
                      message TEXT NOT NULL,
                      raw BLOB,                                -- the frame, when it was not UTF-8
                      format INTEGER NOT NULL CHECK (format BETWEEN 0 AND 2),
                      source TEXT COLLATE NOCASE,
                      problems TEXT                            -- JSON list, NULL when none
                    );
                    CREATE INDEX logs_received_at ON logs(received_at);
                    CREATE INDEX logs_hostname ON logs(hostname);
                    CREATE INDEX logs_app ON logs(app);
                    CREATE INDEX logs_severity ON logs(severity);
                    CREATE VIRTUAL TABLE logs_fts USING fts5(
                      message, content='logs', content_rowid='id', tokenize='notilog', columnsize=0
                    );
                    CREATE TABLE store_state (
                      key TEXT PRIMARY KEY NOT NULL,
                      value INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    INSERT INTO store_state(key, value) VALUES ('fts_indexed_upto', 0);
                    CREATE TABLE hosts (
                      hostname TEXT PRIMARY KEY NOT NULL COLLATE NOCASE,
                      first_seen INTEGER NOT NULL,
                      last_seen INTEGER NOT NULL,
                      messages INTEGER NOT NULL CHECK (messages >= 0),
                      parse_problems INTEGER NOT NULL CHECK (parse_problems >= 0),
                      clock_skew_ns INTEGER
                    ) WITHOUT ROWID;
                    """)
        }
        m.registerMigration("2 api tokens") { db in
            try db.execute(
                sql: """
                    CREATE TABLE api_tokens (
                      id INTEGER PRIMARY KEY,
                      name TEXT NOT NULL,
                      scope TEXT NOT NULL CHECK (scope IN ('read', 'ingest', 'admin')),
                      hash BLOB NOT NULL UNIQUE,                 -- SHA-256 of the token; the token is never stored
                      created_at INTEGER NOT NULL,               -- ns since epoch
                      last_used_at INTEGER,
                      revoked_at INTEGER
                    );
                    """)
        }
        // Eight values in a column: a search for a severity walks newest rows first and finds a page long before
        // this index would help, and keeping it up cost a quarter of the insert time (sqlite3 shell, 1M rows with
        // the other indexes: 5.7 s with it, 4.2 s without).
        m.registerMigration("3 drop the severity index") { db in
            try db.execute(sql: "DROP INDEX IF EXISTS logs_severity")
        }
        // Time ranges become id ranges through a table of id spans (TimeSpans); the received_at index, updated on
        // every insert, is no longer needed.
        m.registerMigration("4 time spans instead of the received-at index") { db in
            try db.execute(sql: TimeSpans.schema)
            try db.execute(sql: TimeSpans.backfill)
            try db.execute(sql: "DROP INDEX IF EXISTS logs_received_at")
        }
        // Host and app names indexed as integer keys (FieldNames): text keys made inserts compare text.
        m.registerMigration("5 host and app keys") { db in
            try db.execute(sql: FieldNames.schema)
        }
        m.registerMigration("6 alerts, outbox, silences") { db in
            try db.execute(sql: AlertSchema.sql)
        }
        m.registerMigration("7 rules stored through the API") { db in
            try db.execute(sql: AlertSchema.rulesSQL)
        }
        m.registerMigration("8 agents' ingest batches") { db in
            try db.execute(sql: IngestMarks.schema)
        }
        m.registerMigration("9 users and sessions") { db in
            try db.execute(sql: UserSchema.sql)
        }
        // Run-time settings (retention set from the UI) and per-host counts by minute (the hosts page's rates:
        // reading the last hour is 60 rows per host instead of a scan of that hour's records).
        m.registerMigration("10 settings, per-minute host counts") { db in
            try db.execute(sql: SettingsSchema.sql)
            try db.execute(sql: HostMinutes.schema)
        }
        return m
    }
}
