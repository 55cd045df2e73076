import Foundation
import Logging
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

@testable import NotiLogWeb

/// The live tail's hub and client queues without sockets: batches handed to it as the pipeline would, holes in
/// the committed stream read back from the store or reported, a full client queue turned into gaps.
@Suite("Live tail hub")
struct TailHubTests {
    static func records(_ range: ClosedRange<Int>, app: String = "hub") -> [LogRecord] {
        range.map { LogRecord(receivedAt: SyslogTimestamp(seconds: 1_764_900_000 + Int64($0), nanoseconds: 0, fractionDigits: 6), appName: app, message: "line \($0)") }
    }

    /// A store holding `count` records (ids 1…count), and a hub over it.
    static func hub(count: Int, limits: TailHub.Limits = TailHub.Limits()) async throws -> (TailHub, [StoredRecord], TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert(Self.records(1...count))
        let stored = try await store.records(after: 0, limit: count)
        let hub = TailHub(
            pipeline: IngestPipeline(store: store), store: store, limits: limits, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        return (hub, stored, dir)
    }

    static func all() throws -> QueryMatcher { QueryMatcher(try QueryParser.parse("")) }

    /// What the client's queue holds: record ids, and gaps as (missed, from, to, reason).
    static func drain(_ client: TailClient) async -> (ids: [Int64], gaps: [TailGap], position: Int64?) {
        let taken = await client.take()
        var ids: [Int64] = []
        var gaps: [TailGap] = []
        for item in taken.items {
            switch item {
            case .records(let r): ids += r.map(\.id)
            case .gap(let g): gaps.append(g)
            }
        }
        return (ids, gaps, taken.position)
    }

    @Test func aHoleInTheCommittedStreamIsReadBackFromTheStore() async throws {
        let (hub, stored, _) = try await Self.hub(count: 100)
        let client = try #require(hub.register(try Self.all()))
        let odd = try #require(hub.register(QueryMatcher(try QueryParser.parse(#"/[13579]$/"#))))
        await hub.handle(Array(stored[0..<10]))
        // Ids 11…40 never came through the subscription: read back, in order, before the batch after them.
        await hub.handle(Array(stored[40..<50]))
        let got = await Self.drain(client)
        #expect(got.ids == Array(1...50))
        #expect(got.gaps.isEmpty)
        #expect(got.position == 50)
        #expect(await Self.drain(odd).ids == (1...50).filter { $0 % 2 == 1 }.map(Int64.init))
        // A batch the hub had already (the subscription's buffer and a read-back overlap): not sent again.
        await hub.handle(Array(stored[45..<55]))
        #expect(await Self.drain(client).ids == Array(51...55))
        #expect(hub.counters.readBackRecords == 30)
    }

    @Test func aHoleTooLargeToReadBackIsAGapForEveryClient() async throws {
        var limits = TailHub.Limits()
        limits.readBack = 20
        let (hub, stored, _) = try await Self.hub(count: 100, limits: limits)
        let client = try #require(hub.register(try Self.all()))
        await hub.handle(Array(stored[0..<10]))
        await hub.handle(Array(stored[90..<100]))
        let got = await Self.drain(client)
        #expect(got.ids == Array(1...10) + Array(91...100))
        let gap = try #require(got.gaps.first)
        #expect(got.gaps.count == 1)
        #expect(gap.missed == nil && gap.fromID == 11 && gap.toID == 90 && gap.reason == .serverBehind)
        #expect(hub.counters.skippedIDs == 80)
        // A client that joins now starts after all of it.
        #expect(hub.register(try Self.all())?.startPosition == 100)
    }

    /// Each tail holds a bounded queue; their number is bounded too, so tails cannot take memory without limit.
    @Test func tailsBeyondTheLimitAreRefusedAndAPlaceFreesWhenOneCloses() async throws {
        var limits = TailHub.Limits()
        limits.connections = 2
        let (hub, _, _) = try await Self.hub(count: 1, limits: limits)
        let first = try #require(hub.register(try Self.all()))
        _ = try #require(hub.register(try Self.all()))
        #expect(hub.register(try Self.all()) == nil)
        #expect(hub.counters.refused == 1 && hub.counters.connections == 2)
        hub.unregister(first)
        #expect(hub.register(try Self.all()) != nil)
        #expect(hub.counters.opened == 3)
    }

    @Test func aFullQueueDropsNewerRecordsIntoOneGapInPlace() async throws {
        var limits = TailHub.Limits()
        limits.queueRecords = 5
        let (hub, stored, _) = try await Self.hub(count: 30, limits: limits)
        let client = try #require(hub.register(try Self.all()))
        await hub.handle(Array(stored[0..<8]))
        await hub.handle(Array(stored[8..<12]))
        var got = await Self.drain(client)
        #expect(got.ids == Array(1...5))
        #expect(got.gaps.count == 1, "two overflows in a row widen one gap")
        let gap = try #require(got.gaps.first)
        #expect(gap.missed == 7 && gap.fromID == 6 && gap.toID == 12 && gap.reason == .slowClient)
        #expect(gap.from == stored[5].record.receivedAt && gap.to == stored[11].record.receivedAt)
        #expect(client.missed == 7)
        // Read: room again; what follows comes after the gap.
        await hub.handle(Array(stored[12..<15]))
        got = await Self.drain(client)
        #expect(got.ids == Array(13...15) && got.gaps.isEmpty)
        #expect(hub.counters.missedRecords == 7)
        hub.unregister(client)
        #expect(hub.counters.missedRecords == 7, "kept after the client left")
        #expect(hub.counters.connections == 0)
    }

    @Test func aQueueIsAlsoBoundedInBytes() async throws {
        var limits = TailHub.Limits()
        limits.queueBytes = 64 * 1024
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let big = (1...20).map { LogRecord(receivedAt: SyslogTimestamp(seconds: 1_764_900_000, nanoseconds: 0, fractionDigits: 6), message: String(repeating: "x", count: 16_000) + " \($0)") }
        _ = try await store.insert(big)
        let stored = try await store.records(after: 0, limit: 20)
        let hub = TailHub(pipeline: IngestPipeline(store: store), store: store, limits: limits, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let client = try #require(hub.register(try Self.all()))
        await hub.handle(stored)
        let got = await Self.drain(client)
        #expect(got.ids.count < 5 && !got.ids.isEmpty, "\(got.ids)")
        #expect(got.ids.count + Int(got.gaps.first?.missed ?? 0) == 20)
    }

    @Test func aClosedClientWakesItsSender() async throws {
        let (hub, _, _) = try await Self.hub(count: 1)
        let client = try #require(hub.register(try Self.all()))
        let waiting = Task { await client.take() }
        try await Task.sleep(for: .milliseconds(50))
        hub.unregister(client)
        #expect(await waiting.value.closed)
    }
}
