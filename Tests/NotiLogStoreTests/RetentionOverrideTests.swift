import Foundation
import NotiLogCore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogStore

/// Retention set at run time (`PUT /api/v1/settings/retention`): kept in the store, put in force on the running
/// maintenance task without a restart, and removed again.
@Suite("Retention set at run time")
struct RetentionOverrideTests {
    @Test func aPolicySetWhileRunningIsAppliedAtOnceAndRemovedAgain() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(StoreMaintenanceTests.records(1_500, ago: 7_200, text: "old"))
        _ = try await store.insert(StoreMaintenanceTests.records(200, ago: 60, text: "new"))
        // The file says: keep everything; runs an hour apart, so only the change can start one.
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(idleDelay: .milliseconds(5), retention: RetentionPolicy(), retentionInterval: .seconds(3_600), retentionBatchSize: 400),
            now: { StoreMaintenanceTests.now })
        let task = Task { try await maintenance.run() }
        defer { task.cancel() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, maintenance.counters.indexedRows < 1_700 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(maintenance.counters.retentionSteps == 0)
        #expect(try await store.count() == 1_700)

        maintenance.setRetentionOverride(RetentionPolicy(maxAgeSeconds: 3_600))
        #expect(maintenance.retention == RetentionPolicy(maxAgeSeconds: 3_600))
        while Date() < deadline, maintenance.counters.retentionRuns < 1 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(maintenance.counters.deletedRows == 1_500)
        #expect(try await store.count() == 200)

        maintenance.setRetentionOverride(nil)
        #expect(maintenance.retentionOverride == nil)
        #expect(maintenance.retention == RetentionPolicy())
        task.cancel()
        try await task.value
    }

    @Test func aSizeLimitSetWhileRunningReplacesTheFilesAgeLimit() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let filler = String(repeating: "x", count: 2_000)
        for k in 0..<5 {
            _ = try await store.insert(StoreMaintenanceTests.records(200, ago: Int64(100 - k), text: "batch\(k)", filler: filler))
        }
        // The file keeps a year: nothing here is due.
        let maintenance = StoreMaintenance(
            store: store,
            configuration: .init(
                idleDelay: .milliseconds(5), retention: RetentionPolicy(maxAgeSeconds: 365 * 86_400), retentionInterval: .seconds(3_600),
                retentionBatchSize: 50),
            now: { StoreMaintenanceTests.now })
        let task = Task { try await maintenance.run() }
        defer { task.cancel() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline, maintenance.counters.retentionRuns < 1 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(maintenance.counters.deletedRows == 0)
        #expect(try await store.count() == 1_000)

        maintenance.setRetentionOverride(RetentionPolicy(maxBytes: 1 << 20))
        while Date() < deadline, maintenance.counters.retentionRuns < 2 { try await Task.sleep(for: .milliseconds(5)) }
        let left = try await store.count()
        #expect(left > 0 && left < 1_000)
        #expect(maintenance.counters.deletedRows == Int64(1_000 - left))
        // The oldest went first.
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("batch0"), now: StoreMaintenanceTests.now)).records.isEmpty)
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("batch4"), now: StoreMaintenanceTests.now, limit: 1_000)).records.count == 200)
        task.cancel()
        try await task.value
    }

    @Test func theStoreKeepsTheSettingAndKnowsItsOldestRecord() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        #expect(try await store.retentionOverride() == nil)
        #expect(try await store.oldestReceivedAt() == nil)
        _ = try await store.insert(StoreMaintenanceTests.records(3, ago: 100))
        _ = try await store.insert(StoreMaintenanceTests.records(3, ago: 10))
        #expect(try await store.oldestReceivedAt()?.seconds == StoreMaintenanceTests.now.seconds - 100)

        let at = SyslogTimestamp(seconds: 1_764_900_000, fractionDigits: 6)
        let value = RetentionOverride(policy: RetentionPolicy(maxAgeSeconds: 86_400, maxBytes: 1 << 30), updatedAt: at, updatedBy: "alice")
        try await store.setRetentionOverride(value)
        let reopened = try SQLiteLogStore(directory: dir.path)
        #expect(try await reopened.retentionOverride() == value)
        try await reopened.setRetentionOverride(RetentionOverride(policy: RetentionPolicy(), updatedAt: at, updatedBy: "bob"))
        #expect(try await reopened.retentionOverride()?.policy == RetentionPolicy())
        try await reopened.setRetentionOverride(nil)
        #expect(try await reopened.retentionOverride() == nil)
    }

    @Test func recentCountsPerHostComeFromTheMinuteTable() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let parser = SyslogParser()
        let now = SyslogTimestamp(seconds: 1_764_900_000 - 1_764_900_000 % 60 + 30, fractionDigits: 6)
        func at(_ secondsAgo: Int64, _ line: String, _ n: Int) -> [LogRecord] {
            (0..<n).map { _ in parser.parse(line, receivedAt: SyslogTimestamp(seconds: now.seconds - secondsAgo, fractionDigits: 6), source: "192.0.2.1") }
        }
        _ = try await store.insert(at(7_200, "<14>1 - web-1 app - - - two hours ago", 5))
        _ = try await store.insert(at(1_800, "<14>1 - web-1 app - - - half an hour ago", 7) + at(1_800, "<14>1 - Web-1 app - - - a [broken", 0))
        _ = try await store.insert(at(10, "<14>1 - WEB-1 app - - - just now", 3) + at(10, "<14>1 - db-1 app - - - db", 2) + at(10, "<99999> broken", 1))
        let hosts = try await store.hosts(now: now)
        let web = try #require(hosts.first { $0.hostname.lowercased() == "web-1" })
        #expect(web.messages == 15)
        #expect(web.recent?.messages == 10)
        #expect(web.recent?.since.seconds == now.seconds - 30 - 59 * 60)
        #expect(hosts.first { $0.hostname == "db-1" }?.recent?.messages == 2)
        let broken = try #require(hosts.first { $0.hostname == "192.0.2.1" })
        #expect(broken.recent?.parseProblems == 1)
        // Two hours on, nothing is recent.
        let later = try await store.hosts(now: SyslogTimestamp(seconds: now.seconds + 7_200, fractionDigits: 6))
        #expect(later.allSatisfy { $0.recent?.messages == 0 })
    }
}
