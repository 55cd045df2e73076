import NotiLogCore

/// Where committed records live. SQLite is the embedded implementation; PostgreSQL is the scale-out one.
public protocol LogStore: Sendable {
    /// Commits a batch in one transaction and returns the ids given to its records, in order.
    func insert(_ batch: [LogRecord]) async throws(StoreError) -> ClosedRange<Int64>?
    /// Newest first, keyset-paginated.
    func search(_ request: SearchRequest) async throws(StoreError) -> SearchPage
    func record(id: Int64) async throws(StoreError) -> StoredRecord?
    func hosts() async throws(StoreError) -> [HostSummary]
    /// Brings the full-text index up to date by at most `maxRows` records; returns how many it indexed.
    func indexPending(maxRows: Int) async throws(StoreError) -> Int
    /// Deletes at most `maxRows` records that the policy no longer keeps; returns how many it deleted.
    func applyRetention(_ policy: RetentionPolicy, now: SyslogTimestamp, maxRows: Int) async throws(StoreError) -> Int
}

public struct StoredRecord: Sendable, Hashable {
    public var id: Int64
    public var record: LogRecord

    public init(id: Int64, record: LogRecord) {
        self.id = id
        self.record = record
    }
}

public struct SearchRequest: Sendable, Hashable {
    public var query: Query
    /// Resolves relative times in the query (`since:-1h`).
    public var now: SyslogTimestamp
    public var limit: Int
    /// Return records with ids below this (the `next` cursor of the previous page).
    public var before: Int64?

    public init(query: Query, now: SyslogTimestamp = .now(), limit: Int = 100, before: Int64? = nil) {
        self.query = query
        self.now = now
        self.limit = limit
        self.before = before
    }
}

public struct SearchPage: Sendable, Hashable {
    public var records: [StoredRecord]
    /// Pass as `before` to get the next (older) page; nil when this page is the last.
    public var next: Int64?

    public init(records: [StoredRecord], next: Int64?) {
        self.records = records
        self.next = next
    }
}

public struct HostSummary: Sendable, Hashable {
    public var hostname: String
    public var firstSeen: SyslogTimestamp
    public var lastSeen: SyslogTimestamp
    public var messages: Int64
    public var parseProblems: Int64
    /// Message time minus reception time of the latest message that carried a time, in seconds.
    public var clockSkewSeconds: Double?

    public init(
        hostname: String, firstSeen: SyslogTimestamp, lastSeen: SyslogTimestamp, messages: Int64, parseProblems: Int64,
        clockSkewSeconds: Double?
    ) {
        self.hostname = hostname
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.messages = messages
        self.parseProblems = parseProblems
        self.clockSkewSeconds = clockSkewSeconds
    }
}

/// What the store keeps: records younger than `maxAge` and, on top of that, no more than `maxBytes` of database.
public struct RetentionPolicy: Sendable, Hashable {
    public var maxAgeSeconds: Int64?
    public var maxBytes: Int64?

    public init(maxAgeSeconds: Int64? = nil, maxBytes: Int64? = nil) {
        self.maxAgeSeconds = maxAgeSeconds
        self.maxBytes = maxBytes
    }
}

/// The store's one error type: SQLite codes stay inside.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case open, migrate, write, read, invalidQuery, full
    }

    public var code: Code
    public var message: String
    public var underlying: String?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying.map { "\($0)" }
    }

    public var description: String {
        underlying.map { "\(message): \($0)" } ?? message
    }
}
