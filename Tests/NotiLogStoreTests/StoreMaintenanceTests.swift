import Foundation
import NotiLogCore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogStore

@Suite("Store maintenance")
struct StoreMaintenanceTests {
    static let now = SyslogTimestamp(seconds: 1_764_076_672)

    static func records(_ n: Int, ago: Int64 = 0, text: String = "message", filler: String = "") -> [LogRecord] {
        let parser = SyslogParser()
        let at = SyslogTimestamp(seconds: now.seconds - ago, fractionDigits: 6)
        return (0..<n).map { parser.parse("<14>1 - host app - - - \(text) \($0) \(filler)", receivedAt: at, source: "192.0.2.1") }
    }

    /// Runs `maintenance` until `done` holds (or `seconds` pass), then cancels it and returns how long it took to stop.
    static func run(_ maintenance: StoreMaintenance, seconds: Double = 20, until done: @escaping @Sendable () async throws -> Bool)
        async throws -> Duration
    {
        let task = Task { try await maintenance.run() }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, try await !done() { try await Task.sleep(for: .milliseconds(10)) }
        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        try await task.value
        return clock.now - start
    }

    @Test func indexesEverythingCommittedInSteps() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(Self.records(6_000, text: "alpha"))
        _ = try await store.insert(Self.records(6_000, text: "beta"))
        let maintenance = StoreMaintenance(
            store: store, configuration: .init(indexBatchSize: 5_000, idleDelay: .milliseconds(10)), now: { Self.now })
        _ = try await Self.run(maintenance) { maintenance.counters.indexedRows >= 12_000 }
        let c = maintenance.counters
        #expect(c.indexedRows == 12_000)
        #expect(c.indexSteps >= 3)
        #expect(c.failedSteps == 0)
        #expect(c.deletedRows == 0)
        #expect(try await store.indexPending(maxRows: 1_000) == 0)
        // Indexed records are found through the index.
        let page = try await store.search(SearchRequest(query: try QueryParser.parse("beta"), now: Self.now, limit: 10_000))
        #expect(page.records.count == 6_000)
    }

    @Test func indexingGivesWayWhileIngestHasABacklog() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(Self.records(1_000))
        let backlog = Mutex(true)
        var configuration = StoreMaintenance.Configuration(indexBatchSize: 100, idleDelay: .milliseconds(10))
        configuration.maxIndexDeferral = .seconds(3600)
        let maintenance = StoreMaintenance(store: store, configuration: configuration, now: { Self.now }, ingestBacklog: { backlog.withLock { $0 } })
        let task = Task { try await maintenance.run() }
        // While the backlog lasts (and the longest deferral has not passed), nothing is indexed.
        while maintenance.counters.deferredIndexSteps < 5 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(maintenance.counters.indexedRows == 0)
        // Once it is gone, indexing catches up.
        backlog.withLock { $0 = false }
        while maintenance.counters.indexedRows < 1_000 { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        try await task.value
        #expect(maintenance.counters.indexedRows == 1_000)
    }

    @Test func indexingStillMovesUnderSustainedLoad() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(Self.records(300))
        var configuration = StoreMaintenance.Configuration(indexBatchSize: 100, idleDelay: .milliseconds(10))
        configuration.maxIndexDeferral = .milliseconds(50)
        let maintenance = StoreMaintenance(store: store, configuration: configuration, now: { Self.now }, ingestBacklog: { true })
        _ = try await Self.run(maintenance) { maintenance.counters.indexedRows >= 300 }
        #expect(maintenance.counters.indexedRows == 300)
        #expect(maintenance.counters.deferredIndexSteps > 0)
    }

    @Test func keepsIndexingWhatArrivesLater() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let maintenance = StoreMaintenance(
            store: store, configuration: .init(indexBatchSize: 100, idleDelay: .milliseconds(20)), now: { Self.now })
        let task = Task { try await maintenance.run() }
        for _ in 0..<5 {
            _ = try await store.insert(Self.records(250))
            try await Task.sleep(for: .milliseconds(30))
        }
        while maintenance.counters.indexedRows < 1_250 { try await Task.sleep(for: .milliseconds(10)) }
        task.cancel()
        try await task.value
        #expect(maintenance.counters.indexedRows == 1_250)
    }

    @Test func retentionByAgeDeletesInSmallSteps() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(Self.records(5_000, ago: 7_200, text: "old"))
        _ = try await store.insert(Self.records(200, ago: 60, text: "new"))
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(
                indexBatchSize: 1_000, idleDelay: .milliseconds(10), retention: RetentionPolicy(maxAgeSeconds: 3_600),
                retentionInterval: .seconds(3_600), retentionBatchSize: 700),
            now: { Self.now })
        _ = try await Self.run(maintenance) { maintenance.counters.retentionRuns >= 1 }
        let c = maintenance.counters
        #expect(c.deletedRows == 5_000)
        // 5,000 rows at 700 a step: 8 steps that deleted, and one that found nothing left.
        #expect(c.retentionSteps == 9)
        #expect(c.retentionRuns == 1)
        #expect(try await store.count() == 200)
        let old = try await store.search(SearchRequest(query: try QueryParser.parse("old"), now: Self.now, limit: 10))
        #expect(old.records.isEmpty)
    }

    @Test func retentionRunsAgainAfterTheInterval() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let clock = Mutex(Self.now)
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(
                idleDelay: .milliseconds(5), retention: RetentionPolicy(maxAgeSeconds: 3_600), retentionInterval: .milliseconds(50)),
            now: { clock.withLock { $0 } })
        let task = Task { try await maintenance.run() }
        _ = try await store.insert(Self.records(100, ago: 0))
        while maintenance.counters.retentionRuns < 2 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await store.count() == 100)
        // Two hours later the same records are due.
        clock.withLock { $0 = SyslogTimestamp(seconds: Self.now.seconds + 7_200) }
        while maintenance.counters.deletedRows < 100 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        try await task.value
        #expect(try await store.count() == 0)
    }

    @Test func retentionBySizeDeletesOldestFirst() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let filler = String(repeating: "x", count: 2_000)
        for k in 0..<5 { _ = try await store.insert(Self.records(200, ago: Int64(100 - k), text: "batch\(k)", filler: filler)) }
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(
                idleDelay: .milliseconds(5), retention: RetentionPolicy(maxBytes: 1 << 20), retentionInterval: .seconds(3_600),
                retentionBatchSize: 50),
            now: { Self.now })
        _ = try await Self.run(maintenance) { maintenance.counters.retentionRuns >= 1 }
        let left = try await store.count()
        #expect(left > 0 && left < 1_000)
        #expect(maintenance.counters.deletedRows == Int64(1_000 - left))
        #expect(maintenance.counters.retentionSteps >= 2)
        let oldest = try await store.search(SearchRequest(query: .all, now: Self.now, limit: 10_000)).records.last
        #expect(oldest?.record.message.hasPrefix("batch") == true)
        // What is left is the newest: the oldest batch went first.
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("batch0"), now: Self.now)).records.isEmpty)
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("batch4"), now: Self.now, limit: 1_000)).records.count == 200)
    }

    @Test func noRetentionWithoutAPolicy() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(Self.records(100, ago: 365 * 86_400))
        let maintenance = StoreMaintenance(store: store, configuration: .init(idleDelay: .milliseconds(5)), now: { Self.now })
        _ = try await Self.run(maintenance) { maintenance.counters.indexedRows >= 100 }
        try await Task.sleep(for: .milliseconds(50))
        #expect(maintenance.counters.retentionSteps == 0)
        #expect(try await store.count() == 100)
    }

    @Test func failuresAreCountedReportedAndRetried() async throws {
        let dir = TemporaryDirectory()
        let store = FlakyStore(try SQLiteLogStore(directory: dir.path), failures: 3)
        _ = try await store.insert(Self.records(500))
        let reported = Mutex<[Int]>([])
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(idleDelay: .milliseconds(5), failureDelay: .milliseconds(5), maxFailureDelay: .milliseconds(20)),
            now: { Self.now },
            onFailure: { failure in reported.withLock { $0.append(failure.consecutive) } })
        _ = try await Self.run(maintenance) { maintenance.counters.indexedRows >= 500 }
        let c = maintenance.counters
        #expect(c.indexedRows == 500)
        #expect(c.failedSteps == 3)
        #expect(c.lastError?.contains("disk I/O error (test)") == true)
        #expect(c.lastErrorAt == Self.now)
        #expect(reported.withLock { $0 } == [1, 2, 3])
    }

    @Test func retentionGoesOnWhileIndexingFails() async throws {
        let dir = TemporaryDirectory()
        let store = FlakyStore(try SQLiteLogStore(directory: dir.path), failures: 1_000_000, retentionWorks: true)
        _ = try await store.insert(Self.records(300, ago: 7_200))
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(
                retention: RetentionPolicy(maxAgeSeconds: 3_600), retentionBatchSize: 100, failureDelay: .milliseconds(1),
                maxFailureDelay: .milliseconds(5)),
            now: { Self.now })
        _ = try await Self.run(maintenance) { maintenance.counters.retentionRuns >= 1 }
        #expect(maintenance.counters.deletedRows == 300)
        #expect(maintenance.counters.indexedRows == 0)
        #expect(maintenance.counters.failedSteps > 0)
        #expect(try await store.inner.count() == 0)
    }

    @Test func stopsPromptlyWhenCancelledWhileIdleOrBackingOff() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        // The sleeps are an hour: a stop that came at all within the test interrupted them. (Not a timing
        // assertion: a loaded machine may take seconds, a sleep that is not interrupted takes the hour.)
        let hour = Duration.seconds(3_600)
        // Idle with a long sleep.
        let idle = StoreMaintenance(store: store, configuration: .init(idleDelay: hour), now: { Self.now })
        let idleStop = try await Self.run(idle) { idle.counters.indexSteps >= 1 }
        #expect(idleStop < hour / 10)
        // Backing off after a failure, with a long delay.
        let flaky = FlakyStore(store, failures: 1_000)
        let failing = StoreMaintenance(store: flaky, configuration: .init(failureDelay: hour), now: { Self.now })
        let failingStop = try await Self.run(failing) { failing.counters.failedSteps >= 1 }
        #expect(failingStop < hour / 10)
        // Busy indexing a large backlog: stopped before it indexed everything.
        _ = try await store.insert(Self.records(50_000))
        let busy = StoreMaintenance(store: store, configuration: .init(indexBatchSize: 1_000, idleDelay: hour), now: { Self.now })
        _ = try await Self.run(busy) { busy.counters.indexedRows >= 2_000 }
        #expect(busy.counters.indexedRows < 50_000)
    }
}

/// A real store whose background steps fail a given number of times first (a locked or failing disk).
final class FlakyStore: LogStore {
    let inner: SQLiteLogStore
    private let failuresLeft: Mutex<Int>
    private let retentionWorks: Bool

    /// The first `failures` background steps fail; with `retentionWorks`, only indexing steps do.
    init(_ inner: SQLiteLogStore, failures: Int, retentionWorks: Bool = false) {
        self.inner = inner
        failuresLeft = Mutex(failures)
        self.retentionWorks = retentionWorks
    }

    private func maybeFail() throws(StoreError) {
        let fail = failuresLeft.withLock { n -> Bool in
            guard n > 0 else { return false }
            n -= 1
            return true
        }
        if fail { throw StoreError(.write, "disk I/O error (test)") }
    }

    func insert(_ batch: [LogRecord], marks: [IngestMark]) async throws(StoreError) -> ClosedRange<Int64>? {
        try await inner.insert(batch, marks: marks)
    }
    func ingestMark(agent: String, sequence: Int64) async throws(StoreError) -> IngestMark? {
        try await inner.ingestMark(agent: agent, sequence: sequence)
    }
    func search(_ request: SearchRequest) async throws(StoreError) -> SearchPage { try await inner.search(request) }
    func record(id: Int64) async throws(StoreError) -> StoredRecord? { try await inner.record(id: id) }
    func records(after id: Int64, limit: Int) async throws(StoreError) -> [StoredRecord] { try await inner.records(after: id, limit: limit) }
    func hosts() async throws(StoreError) -> [HostSummary] { try await inner.hosts() }
    func stats(_ request: StatsRequest) async throws(StoreError) -> LogStats { try await inner.stats(request) }
    func figures() async throws(StoreError) -> StoreFigures { try await inner.figures() }
    func indexPending(maxRows: Int) async throws(StoreError) -> Int {
        try maybeFail()
        return try await inner.indexPending(maxRows: maxRows)
    }
    func applyRetention(_ policy: RetentionPolicy, now: SyslogTimestamp, maxRows: Int) async throws(StoreError) -> Int {
        if !retentionWorks { try maybeFail() }
        return try await inner.applyRetention(policy, now: now, maxRows: maxRows)
    }
}
