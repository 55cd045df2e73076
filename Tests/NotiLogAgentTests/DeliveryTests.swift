import Foundation
import Logging
import NotiLogCore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogAgent

/// Batches from the spool to a receiver: in order, each until acknowledged, the state saved only after that.
@Suite("Agent delivery")
struct DeliveryTests {
    /// A receiver that answers from a script (then acknowledges), and remembers what it was sent.
    final class ScriptedForwarder: Forwarder {
        private let script: Mutex<[ForwardOutcome]>
        let sent = Mutex<[UInt64]>([])
        let payloads = Mutex<[[UInt8]]>([])
        var destination: String { "test" }

        init(_ script: [ForwardOutcome]) { self.script = Mutex(script) }

        func send(_ segment: Spool.Segment) -> ForwardOutcome {
            sent.withLock { $0.append(segment.sequence) }
            payloads.withLock { $0.append(segment.payload) }
            return script.withLock { $0.isEmpty ? .acknowledged : $0.removeFirst() }
        }
    }

    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func entry(_ n: Int, severity: Severity = .info) -> AgentEntry {
        AgentEntry(
            record: LogRecord(
                facility: .user, severity: severity, timestamp: SyslogTimestamp(seconds: 1_764_000_000 + Int64(n)),
                receivedAt: SyslogTimestamp(seconds: 1_764_000_000 + Int64(n)), hostname: "web-1", appName: "app", message: "line \(n)"),
            sourceKey: "file:1:2", position: "offset-\(n)")
    }

    /// Runs a delivery loop until `done`, then stops it.
    static func run(_ delivery: Delivery, until done: @escaping () -> Bool) async throws {
        let thread = Thread { delivery.run() }
        thread.start()
        for _ in 0..<1000 where !done() { try await Task.sleep(for: .milliseconds(20)) }
        delivery.stop()
        while !thread.isFinished { try await Task.sleep(for: .milliseconds(5)) }
    }

    @Test func batchesGoInOrderAndTheStateMovesOnlyOnAcknowledgement() async throws {
        let dir = TemporaryDirectory()
        let spool = try Spool(directory: dir.path + "/spool", maxBytes: 1 << 20)
        let state = try AgentState(directory: dir.path, agentID: "a")
        let batcher = Batcher(limits: .init(maxRecords: 3), spool: spool, nextSequence: 1, onSpooled: {})
        batcher.add((1...8).map { Self.entry($0) })
        batcher.flush()
        #expect(spool.figures.segments == 3)
        // Twice not now, then fine.
        let forwarder = ScriptedForwarder([.retry("down"), .retry("down")])
        let delivery = Delivery(spool: spool, state: state, forwarder: forwarder, logger: Self.logger, onLosses: { _ in })
        try await Self.run(delivery) { spool.figures.segments == 0 }
        #expect(forwarder.sent.withLock { $0 } == [1, 1, 1, 2, 3])
        #expect(state.lastAcknowledged == 3 && state.positions == ["file:1:2": "offset-8"])
        #expect(delivery.figures.sentRecords == 8 && delivery.figures.failedAttempts == 2)
        // The state file says the same after a restart.
        #expect(try AgentState(directory: dir.path, agentID: "a").positions == ["file:1:2": "offset-8"])
        // The payload is octet-counted RFC 5424.
        let first = String(decoding: forwarder.payloads.withLock { $0[0] }, as: UTF8.self)
        #expect(first.hasPrefix("49 <14>1 2025-11-24T16:00:01Z web-1 app - - - line 149 <14>1"), "\(first)")
    }

    @Test func anErrorIsSentAtOnceAndARefusedBatchIsSetAside() async throws {
        let dir = TemporaryDirectory()
        let spool = try Spool(directory: dir.path + "/spool", maxBytes: 1 << 20)
        let batcher = Batcher(limits: .init(maxRecords: 100, maxDelay: .seconds(3600)), spool: spool, nextSequence: 10, onSpooled: {})
        batcher.add([Self.entry(1)])
        #expect(spool.figures.segments == 0)
        batcher.add([Self.entry(2, severity: .err)])
        #expect(spool.figures.segments == 1 && batcher.pendingRecords == 0)
        batcher.add([Self.entry(3, severity: .crit)])
        let state = try AgentState(directory: dir.path, agentID: "a")
        let forwarder = ScriptedForwarder([.rejected("bad")])
        let delivery = Delivery(spool: spool, state: state, forwarder: forwarder, logger: Self.logger, onLosses: { _ in })
        try await Self.run(delivery) { spool.figures.segments == 0 }
        #expect(forwarder.sent.withLock { $0 } == [10, 11])
        #expect(state.lastAcknowledged == 11 && delivery.figures.rejectedBatches == 1)
        #expect(FileManager.default.fileExists(atPath: Spool.path(dir.path + "/spool/quarantine", 10)))
    }

    @Test func whatTheFullSpoolDroppedIsReportedWhenTheLinkIsBack() async throws {
        let dir = TemporaryDirectory()
        let one = Spool.encode(Spool.Segment(sequence: 1, records: 1, firstTime: 0, positions: [:], payload: Array(repeating: 0, count: 10))).count
        let spool = try Spool(directory: dir.path + "/spool", maxBytes: Int64(one * 50))
        let batcher = Batcher(limits: .init(maxRecords: 1), spool: spool, nextSequence: 1, onSpooled: {})
        batcher.add((1...200).map { Self.entry($0) })
        let reported = Mutex<[Spool.Losses]>([])
        let delivery = Delivery(
            spool: spool, state: try AgentState(directory: dir.path, agentID: "a"), forwarder: ScriptedForwarder([]), logger: Self.logger,
            onLosses: { l in reported.withLock { $0.append(l) } })
        try await Self.run(delivery) { spool.figures.segments == 0 && !reported.withLock({ $0.isEmpty }) }
        let losses = try #require(reported.withLock { $0.first })
        #expect(losses.droppedRecords > 0 && losses.droppedRecords == losses.droppedSegments)
        #expect(Int(delivery.figures.sentRecords) + losses.droppedRecords == 200)
    }
}
