import NotiLogCore

/// Where committed records live. SQLite is the embedded implementation; PostgreSQL is the scale-out one.
public protocol LogStore: Sendable {
    /// Commits a batch in one transaction and returns the ids given to its records, in order. `marks` (batches of
    /// an agent, see `IngestMark`) are recorded in the same transaction, so a batch counts as stored exactly when
    /// its records are.
    func insert(_ batch: [LogRecord], marks: [IngestMark]) async throws(StoreError) -> ClosedRange<Int64>?
    /// The mark of an agent's batch, when that batch was stored (the ingest endpoint answers a retry with it).
    func ingestMark(agent: String, sequence: Int64) async throws(StoreError) -> IngestMark?
    /// Newest first, keyset-paginated.
    func search(_ request: SearchRequest) async throws(StoreError) -> SearchPage
    func record(id: Int64) async throws(StoreError) -> StoredRecord?
    /// Records with ids above `id`, oldest first, at most `limit` (the rule engine catching up after a restart
    /// or a gap in the committed stream).
    func records(after id: Int64, limit: Int) async throws(StoreError) -> [StoredRecord]
    func hosts() async throws(StoreError) -> [HostSummary]
    /// Counts of the records a query matches within a time range: top hosts, apps and severities, and a histogram.
    func stats(_ request: StatsRequest) async throws(StoreError) -> LogStats
    /// Size and progress figures for status pages and metrics; cheap enough to ask often.
    func figures() async throws(StoreError) -> StoreFigures
    /// Brings the full-text index up to date by at most `maxRows` records; returns how many it indexed.
    func indexPending(maxRows: Int) async throws(StoreError) -> Int
    /// Deletes at most `maxRows` records that the policy no longer keeps; returns how many it deleted.
    func applyRetention(_ policy: RetentionPolicy, now: SyslogTimestamp, maxRows: Int) async throws(StoreError) -> Int
}

extension LogStore {
    public func insert(_ batch: [LogRecord]) async throws(StoreError) -> ClosedRange<Int64>? {
        try await insert(batch, marks: [])
    }
}

/// One batch an agent sent through the acknowledged ingest endpoint: the agent's id, its batch sequence number,
/// how many records it held and when it was stored.
public struct IngestMark: Sendable, Hashable {
    public var agent: String
    public var sequence: Int64
    public var records: Int
    public var storedAt: SyslogTimestamp

    public init(agent: String, sequence: Int64, records: Int, storedAt: SyslogTimestamp) {
        self.agent = agent
        self.sequence = sequence
        self.records = records
        self.storedAt = storedAt
    }
}

public struct StoredRecord: Sendable, Hashable {
    public var id: Int64
    public var record: LogRecord

    public init(id: Int64, record: LogRecord) {
        self.id = id
        self.record = record
    }
}

extension LogStore {
    /// Reads back the records with ids strictly between `after` and `before`, a stretch that a subscriber of the
    /// committed stream missed (the stream drops batches for a subscriber that falls behind), oldest first and at
    /// most `chunk` at a time, handing each chunk to `each`. Returns the last id handed over (`after` when none).
    @discardableResult
    public func readBack(
        after: Int64, before: Int64, chunk: Int, _ each: ([StoredRecord]) async -> Void
    ) async throws(StoreError) -> Int64 {
        var cursor = after
        while cursor < before - 1 {
            let read = try await records(after: cursor, limit: max(1, min(chunk, Int(clamping: before - 1 - cursor))))
            let wanted = read.prefix { $0.id < before }
            guard let end = wanted.last?.id else { break }
            await each(Array(wanted))
            cursor = end
        }
        return cursor
    }
}

public struct SearchRequest: Sendable, Hashable {
    public var query: Query
    /// Resolves relative times in the query (`since:-1h`).
    public var now: SyslogTimestamp
    public var limit: Int
    /// Return records with ids below this (the `next` cursor of the previous page).
    public var before: Int64?
    /// Return records with ids above this only (the live tail catching up, `after_id` of the API).
    public var after: Int64?

    public init(query: Query, now: SyslogTimestamp = .now(), limit: Int = 100, before: Int64? = nil, after: Int64? = nil) {
        self.query = query
        self.now = now
        self.limit = limit
        self.before = before
        self.after = after
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
    /// Counts over a recent window (the store's choice: the last hour, in whole minutes), when the store keeps them.
    public var recent: Recent?

    public struct Recent: Sendable, Hashable {
        /// The window's start; it ends now.
        public var since: SyslogTimestamp
        public var messages: Int64
        public var parseProblems: Int64

        public init(since: SyslogTimestamp, messages: Int64, parseProblems: Int64) {
            self.since = since
            self.messages = messages
            self.parseProblems = parseProblems
        }
    }

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

public struct StatsRequest: Sendable, Hashable {
    public var query: Query
    public var now: SyslogTimestamp
    /// The range, by reception time: `since` included, `until` excluded.
    public var since: SyslogTimestamp
    public var until: SyslogTimestamp
    /// Histogram buckets over the range (1...1000).
    public var buckets: Int
    /// How many values to list per field, most frequent first.
    public var top: Int

    public init(query: Query, now: SyslogTimestamp, since: SyslogTimestamp, until: SyslogTimestamp, buckets: Int = 60, top: Int = 10) {
        self.query = query
        self.now = now
        self.since = since
        self.until = until
        self.buckets = buckets
        self.top = top
    }
}

public struct LogStats: Sendable, Hashable {
    /// A field value and how many records have it (nil: records without the field).
    public struct Count: Sendable, Hashable {
        public var value: String?
        public var count: Int64

        public init(value: String?, count: Int64) {
            self.value = value
            self.count = count
        }
    }

    public var total: Int64
    public var hosts: [Count]
    public var apps: [Count]
    /// By severity number as text (`"3"`), most severe first; nil for records without a priority.
    public var severities: [Count]
    public var bucketNanoseconds: Int64
    /// Records per bucket, oldest first, starting at the request's `since`.
    public var histogram: [Int64]

    public init(total: Int64, hosts: [Count], apps: [Count], severities: [Count], bucketNanoseconds: Int64, histogram: [Int64]) {
        self.total = total
        self.hosts = hosts
        self.apps = apps
        self.severities = severities
        self.bucketNanoseconds = bucketNanoseconds
        self.histogram = histogram
    }
}

public struct StoreFigures: Sendable, Hashable {
    /// Records stored (ids are dense: retention deletes only the oldest).
    public var records: Int64
    public var newestID: Int64
    /// Records up to this id are in the full-text index; newer ones are scanned.
    public var indexedUpTo: Int64
    /// Database size in bytes, free pages excluded.
    public var bytes: Int64

    public init(records: Int64, newestID: Int64, indexedUpTo: Int64, bytes: Int64) {
        self.records = records
        self.newestID = newestID
        self.indexedUpTo = indexedUpTo
        self.bytes = bytes
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
