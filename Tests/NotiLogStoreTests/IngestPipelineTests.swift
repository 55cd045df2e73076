import Foundation
import NotiLogCore
import Synchronization
import NotiLogTestSupport
import Testing

@testable import NotiLogStore

@Suite("Ingest pipeline")
struct IngestPipelineTests {
    static func records(_ n: Int, from start: Int = 0) -> [LogRecord] {
        (start..<(start + n)).map {
            SyslogParser().parse("<14>1 - host app - - - message \($0)", receivedAt: .now(), source: "127.0.0.1")
        }
    }

    static func count(_ store: any LogStore) async throws -> Int {
        try await store.search(SearchRequest(query: .all, limit: 10_000)).records.count
    }

    @Test func committedRecordsReachStoreAndSubscribersInOrder() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let pipeline = IngestPipeline(store: store, configuration: .init(batchSize: 100, maxBatchDelay: .milliseconds(20)))
        let stream = pipeline.committed()
        let runner = Task { try await pipeline.run() }
        for k in 0..<10 { #expect(pipeline.offer(Self.records(50, from: k * 50)) == .accepted) }
        var seen: [StoredRecord] = []
        for await batch in stream {
            seen += batch
            if seen.count == 500 { break }
        }
        #expect(seen.map(\.record.message) == (0..<500).map { "message \($0)" })
        #expect(seen.map(\.id) == seen.map(\.id).sorted())
        #expect(try await Self.count(store) == 500)
        pipeline.beginClosing()
        try await runner.value
        #expect(pipeline.counters.committed == 500)
        #expect(pipeline.counters.batches >= 5)
    }

    /// A pacing subscriber holds the writer back while it is busy, but never for good: a subscriber that stays
    /// busy delays each batch by at most `maxPacingWait`, and every record is still committed.
    @Test func aPacingSubscriberSlowsTheWriterButNeverStopsIt() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let pipeline = IngestPipeline(store: store, configuration: .init(batchSize: 100, maxBatchDelay: .milliseconds(5)))
        let asked = Atomic<Int>(0)
        let token = pipeline.pace {
            asked.wrappingAdd(1, ordering: .relaxed)
            return true
        }
        let runner = Task { try await pipeline.run() }
        #expect(pipeline.offer(Self.records(250)) == .accepted)
        while pipeline.counters.committed < 250 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(asked.load(ordering: .relaxed) > 0)
        // Without the pacer the writer goes on at once.
        pipeline.stopPacing(token)
        #expect(pipeline.offer(Self.records(50, from: 250)) == .accepted)
        while pipeline.counters.committed < 300 { try await Task.sleep(for: .milliseconds(10)) }
        pipeline.beginClosing()
        try await runner.value
        #expect(try await Self.count(store) == 300)
    }

    /// A pipeline over a closed `GatedStore` whose writer already holds its first batch (`held` records) at the
    /// gate, so that what is offered next stays queued until the store opens.
    static func heldAtTheGate(
        _ dir: TemporaryDirectory, capacity: Int, batchSize: Int, held: Int
    ) async throws -> (GatedStore, IngestPipeline, Task<Void, Error>) {
        let store = GatedStore(try SQLiteLogStore(directory: dir.path))
        store.close()
        let pipeline = IngestPipeline(store: store, configuration: .init(queueCapacity: capacity, batchSize: batchSize, maxBatchDelay: .milliseconds(1)))
        let runner = Task { try await pipeline.run() }
        #expect(pipeline.offer(Self.records(held)) == .accepted)
        while pipeline.counters.queued > 0 { try await Task.sleep(for: .milliseconds(5)) }
        return (store, pipeline, runner)
    }

    @Test func waitingForCapacityWaitsUntilTheRecordsFit() async throws {
        let dir = TemporaryDirectory()
        // The writer holds one batch of 50 (its insert waits at the gate); 95 more fill the queue but for 5 slots.
        let (store, pipeline, runner) = try await Self.heldAtTheGate(dir, capacity: 100, batchSize: 50, held: 50)
        #expect(pipeline.offer(Self.records(95, from: 50)) == .accepted)
        #expect(pipeline.offer(Self.records(20, from: 145)) == .full)
        let done = Mutex(false)
        let waiter = Task {
            await pipeline.waitForCapacity(for: 20)
            done.withLock { $0 = true }
        }
        // Five free slots are not room for twenty records: the waiter sleeps instead of being sent back to offer.
        try await Task.sleep(for: .milliseconds(200))
        #expect(!done.withLock { $0 })
        store.open()
        await waiter.value
        #expect(pipeline.offer(Self.records(20, from: 145)) == .accepted)
        #expect(try await store.waitForCount(165) == 165)
        pipeline.beginClosing()
        try await runner.value
    }

    /// Producers are woken by the room they will take, first come first served, so a woken one that does not
    /// offer (its connection closed and handed its records over) must not leave the next waiting for good.
    @Test func aProducerThatWakesAndDoesNotOfferDoesNotStrandTheNext() async throws {
        let dir = TemporaryDirectory()
        // The writer holds one batch at the gate; a second fills the queue.
        let (store, pipeline, runner) = try await Self.heldAtTheGate(dir, capacity: 100, batchSize: 100, held: 100)
        #expect(pipeline.offer(Self.records(100, from: 100)) == .accepted)
        // Two producers wait for room for 60 each: the batch that empties the queue has room for one of them.
        let woken = Mutex(0)
        let waiters = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<2 { group.addTask { await pipeline.waitForCapacity(for: 60) } }
                for await _ in group { woken.withLock { $0 += 1 } }
            }
        }
        while pipeline.waitingProducers < 2 { try await Task.sleep(for: .milliseconds(5)) }
        store.open()
        // Neither offers; both must be let go once the queue is empty.
        #expect(try await store.waitForCount(200) == 200)
        let deadline = ContinuousClock.now + .seconds(30)
        while woken.withLock({ $0 }) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(woken.withLock { $0 } == 2)
        pipeline.beginClosing()
        await waiters.value
        try await runner.value
    }

    @Test func aFullQueueSlowsStreamSendersAndLosesNothing() async throws {
        let dir = TemporaryDirectory()
        let store = GatedStore(try SQLiteLogStore(directory: dir.path))
        store.close()
        let pipeline = IngestPipeline(store: store, configuration: .init(queueCapacity: 100, batchSize: 40, maxBatchDelay: .milliseconds(1)))
        let runner = Task { try await pipeline.run() }
        // A "TCP connection": offers chunks of 30, and when told the queue is full, waits for room.
        let waited = Mutex(0)
        let sender = Task {
            for k in 0..<20 {
                let chunk = Self.records(30, from: k * 30)
                while true {
                    let r = pipeline.offer(chunk)
                    if r == .accepted { break }
                    #expect(r == .full)
                    waited.withLock { $0 += 1 }
                    await pipeline.waitForCapacity(for: chunk.count)
                }
            }
            return waited.withLock { $0 }
        }
        // Until the sender has been told the queue is full (the store is closed, so it stays full).
        while waited.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(5)) }
        // The writer is stuck on the closed store, so what is queued only grows: once 30 more do not fit, they
        // cannot fit until the store opens (being told "full" once does not mean the queue is full now — the
        // writer may have taken a batch since).
        while pipeline.counters.queued + 30 <= 100 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(pipeline.counters.queued <= 100 + 30)
        // The datagram path meanwhile drops and counts.
        #expect(pipeline.offerOrDrop(Self.records(30)) == false)
        #expect(pipeline.counters.droppedQueueFull == 30)
        store.open()
        let waits = await sender.value
        #expect(waits > 0)
        pipeline.beginClosing()
        try await runner.value
        #expect(try await Self.count(store) == 600)
        #expect(pipeline.counters.committed == 600)
    }

    @Test func shutdownCommitsWhatIsQueued() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let pipeline = IngestPipeline(store: store, configuration: .init(batchSize: 1000, maxBatchDelay: .seconds(30)))
        let runner = Task { try await pipeline.run() }
        #expect(pipeline.offer(Self.records(250)) == .accepted)
        pipeline.beginClosing()
        try await runner.value
        #expect(try await Self.count(store) == 250)
        #expect(pipeline.offer(Self.records(1)) == .closed)
    }

    @Test func aFailingStoreIsRetriedWithoutLoss() async throws {
        let dir = TemporaryDirectory()
        let store = GatedStore(try SQLiteLogStore(directory: dir.path))
        store.fail(times: 3)
        let pipeline = IngestPipeline(store: store, configuration: .init(batchSize: 50, maxBatchDelay: .milliseconds(1)))
        let runner = Task { try await pipeline.run() }
        #expect(await pipeline.submit(Self.records(120)))
        while pipeline.counters.committed < 120 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(pipeline.counters.failedBatches == 3)
        pipeline.beginClosing()
        try await runner.value
        #expect(try await Self.count(store) == 120)
    }

    @Test func anAcknowledgedSubmissionReturnsOnlyOnceCommittedWithItsMark() async throws {
        let dir = TemporaryDirectory()
        let store = GatedStore(try SQLiteLogStore(directory: dir.path))
        store.close()
        let pipeline = IngestPipeline(store: store, configuration: .init(queueCapacity: 100, batchSize: 40, maxBatchDelay: .milliseconds(1)))
        let runner = Task { try await pipeline.run() }
        let done = Mutex(false)
        // 70 records: more than a batch, so the last ones commit in a later transaction than the first.
        let mark = IngestMark(agent: "web-1", sequence: 9, records: 70, storedAt: .now())
        let submitter = Task {
            let outcome = await pipeline.submitAndWait(Self.records(70), mark: mark)
            done.withLock { $0 = true }
            return outcome
        }
        while pipeline.counters.accepted < 70 { try await Task.sleep(for: .milliseconds(5)) }
        // Queued but not committed (the store is closed): the submitter is still waiting.
        #expect(done.withLock { $0 } == false)
        #expect(try await store.ingestMark(agent: "web-1", sequence: 9) == nil)
        store.open()
        #expect(await submitter.value == .committed)
        #expect(try await Self.count(store) == 70)
        #expect(try await store.ingestMark(agent: "web-1", sequence: 9)?.records == 70)
        pipeline.beginClosing()
        try await runner.value
        #expect(await pipeline.submitAndWait(Self.records(1)) == .closed)
    }
}
