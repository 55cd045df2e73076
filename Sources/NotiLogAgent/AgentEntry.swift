import NotiLogCore

/// One record a source read, with where the source is once it is delivered.
///
/// Sources (journald, files, the process watcher) hand entries to the batcher in the order they read them. Each
/// carries its source's position after it (a journald cursor, a file's offset): a batch keeps the newest position
/// of every source in it, the spool stores them with the batch, and the agent's state file takes them once the
/// server has acknowledged the batch — so a restart goes on after what the server has, or after what the spool
/// holds, never before and never past either.
public struct AgentEntry: Sendable {
    public var record: LogRecord
    /// Which source, stable across restarts: `journald`, `file:DEV:INODE`, `watch`.
    public var sourceKey: String
    /// The source's position after this record (nil for sources with nothing to resume, like the watcher).
    public var position: String?

    public init(record: LogRecord, sourceKey: String, position: String?) {
        self.record = record
        self.sourceKey = sourceKey
        self.position = position
    }
}

/// Where a source stands, by source key: what the agent saves and restores.
public typealias SourcePositions = [String: String]
