import Foundation
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

/// The rule engine as the server runs it: on the committed stream, with the store behind it for what the stream
/// did not bring (records committed while it was not running, or batches it dropped while behind).
@Suite("Alerting service: none missed")
struct AlertingServiceTests {
    static func rules() throws -> [Rule] {
        try RuleSet.load(
            yaml: """
                rules:
                  - name: boom
                    kind: match
                    query: boom
                    group_by: [host]
                """, origin: .api)
    }

    static func record(_ host: String) -> LogRecord {
        LogRecord(receivedAt: .now(), hostname: host, appName: "app", message: "boom at \(host)")
    }

    static func waitForOpenAlerts(_ store: SQLiteLogStore, _ n: Int) async throws -> [AlertRow] {
        for _ in 0..<600 {
            let open = try await store.alerts(AlertFilter(states: AlertFilter.open))
            if open.count >= n { return open }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await store.alerts(AlertFilter(states: AlertFilter.open))
    }

    /// Offers records of `host` until the service has started (its first save), then waits for the alert they open.
    static func warmUp(_ store: SQLiteLogStore, _ pipeline: IngestPipeline, host: String) async throws {
        for _ in 0..<600 where try await store.engineState() == nil {
            #expect(pipeline.offer([record(host)]) == .accepted)
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await waitForOpenAlerts(store, 1)
    }

    /// A store in `dir` and an ingest pipeline in front of it (batches committed within 5 ms).
    static func storeAndPipeline(_ dir: TemporaryDirectory) throws -> (SQLiteLogStore, IngestPipeline) {
        let store = try SQLiteLogStore(directory: dir.path)
        return (store, IngestPipeline(store: store, configuration: .init(maxBatchDelay: .milliseconds(5))))
    }

    /// The service with `rules()`, running until its task is cancelled.
    static func startService(_ store: SQLiteLogStore, _ pipeline: IngestPipeline) throws -> (AlertingService, Task<Void, Error>) {
        let service = AlertingService(rules: try rules(), store: store, pipeline: pipeline, delivery: nil)
        return (service, Task { try await service.run() })
    }

    @Test func recordsTheStreamSkippedAreReadFromTheStoreAndOnlyOnce() async throws {
        let dir = TemporaryDirectory()
        let (store, pipeline) = try Self.storeAndPipeline(dir)
        let pipelineTask = Task { try await pipeline.run() }
        let (_, serviceTask) = try Self.startService(store, pipeline)
        // Started: its mark is the newest id (none yet).
        try await Self.warmUp(store, pipeline, host: "warm-up")

        // Committed behind the stream's back (as a batch the engine's queue dropped would be), then one through it.
        _ = try await store.insert([Self.record("a"), Self.record("b")])
        #expect(pipeline.offer([Self.record("c")]) == .accepted)
        let open = try await Self.waitForOpenAlerts(store, 4)
        #expect(Set(open.map(\.groupKey)) == Set(["warm-up", "a", "b", "c"].map { "host=\"\($0)\"" }), "\(open.map(\.groupKey))")
        // Each record counted once.
        #expect(open.allSatisfy { $0.groupKey.contains("warm-up") || $0.count == 1 }, "\(open.map { ($0.groupKey, $0.count) })")

        serviceTask.cancel()
        _ = await serviceTask.result
        pipeline.beginClosing()
        _ = await pipelineTask.result
    }

    @Test func aRestartReadsWhatWasCommittedWhileItWasDown() async throws {
        let dir = TemporaryDirectory()
        let (store, pipeline) = try Self.storeAndPipeline(dir)
        let pipelineTask = Task { try await pipeline.run() }
        var (_, serviceTask) = try Self.startService(store, pipeline)
        try await Self.warmUp(store, pipeline, host: "first")
        serviceTask.cancel()
        _ = await serviceTask.result

        // Down: these are committed with no engine running.
        #expect(pipeline.offer([Self.record("while-down")]) == .accepted)
        for _ in 0..<600 where try await store.count() < 2 { try await Task.sleep(for: .milliseconds(20)) }

        (_, serviceTask) = try Self.startService(store, pipeline)
        let open = try await Self.waitForOpenAlerts(store, 2)
        #expect(open.contains { $0.groupKey == "host=\"while-down\"" }, "\(open.map(\.groupKey))")
        serviceTask.cancel()
        _ = await serviceTask.result
        pipeline.beginClosing()
        _ = await pipelineTask.result
    }

    /// Stopping (the server's graceful shutdown cancels the service) writes what the engine did since its last
    /// save: the updated alert and the last record processed, so a restart does not read those records again.
    @Test func stoppingSavesWhatWasProcessedSinceTheLastSave() async throws {
        let dir = TemporaryDirectory()
        let (store, pipeline) = try Self.storeAndPipeline(dir)
        let pipelineTask = Task { try await pipeline.run() }
        let (service, serviceTask) = try Self.startService(store, pipeline)
        try await Self.warmUp(store, pipeline, host: "web-1")
        // Updates of a firing alert wait for the next save (every 5 s); the service stops before it.
        #expect(pipeline.offer((0..<5).map { _ in Self.record("web-1") }) == .accepted)
        var newest: Int64 = 0
        for _ in 0..<600 {
            newest = try await store.figures().newestID
            if try await store.count() >= 6, service.counters.processedUpTo == newest { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        serviceTask.cancel()
        _ = await serviceTask.result

        #expect(try await store.engineState()?.processedUpTo == newest)
        let alert = try #require(try await store.alerts(AlertFilter(states: AlertFilter.open)).first)
        // Every record the engine saw is counted (those committed before it started are not its own).
        let seen = service.counters.processedRecords + service.counters.caughtUpRecords
        #expect(alert.count == Int(seen) && seen >= 6, "\(alert.count) of \(seen)")
        #expect(service.counters.failedCommits == 0)
        pipeline.beginClosing()
        _ = await pipelineTask.result
    }
}
