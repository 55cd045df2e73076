import Foundation
import Logging
import NotiLogCore
import Synchronization

/// Sends the spool's batches in order, oldest first, one at a time: on acknowledgement the state file takes the
/// batch's positions and the segment is deleted; otherwise it waits (exponential backoff, 0.5 s to 30 s) and
/// sends the same batch again. A batch the receiver refuses for good is quarantined and reported.
///
/// Runs on its own thread: libcurl blocks, and a blocked cooperative thread would stall the agent's tasks.
public final class Delivery: Sendable {
    public struct Figures: Sendable, Hashable {
        public var sentBatches: Int64 = 0
        public var sentRecords: Int64 = 0
        public var failedAttempts: Int64 = 0
        public var rejectedBatches: Int64 = 0
        public var lastError: String?
        public var lastAcknowledgedAt: Int64?
        public var connected = true
    }

    private let spool: Spool
    private let state: AgentState
    private let forwarder: any Forwarder
    private let logger: Logger
    /// Told what the spool lost, when the link is back: the agent turns it into a record for the server.
    private let onLosses: @Sendable (Spool.Losses) -> Void
    private let condition = NSCondition()
    private let control = Mutex((stopping: false, woken: false, figures: Figures()))

    public init(
        spool: Spool, state: AgentState, forwarder: any Forwarder, logger: Logger, onLosses: @escaping @Sendable (Spool.Losses) -> Void
    ) {
        self.spool = spool
        self.state = state
        self.forwarder = forwarder
        self.logger = logger
        self.onLosses = onLosses
    }

    public var figures: Figures { control.withLock { $0.figures } }

    /// A batch was spooled.
    public func wake() {
        condition.lock()
        control.withLock { $0.woken = true }
        condition.signal()
        condition.unlock()
    }

    public func stop() {
        condition.lock()
        control.withLock { $0.stopping = true }
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps up to `seconds`, or until woken or stopped; true when stopping.
    private func pause(_ seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let (stopping, woken) = control.withLock { c in
                let r = (c.stopping, c.woken)
                c.woken = false
                return r
            }
            if stopping { return true }
            if woken { return false }
            if !condition.wait(until: deadline) { return control.withLock { $0.stopping } }
        }
    }

    private var stopping: Bool { control.withLock { $0.stopping } }

    /// The sending loop; returns after `stop()`.
    public func run() {
        var backoff = 0.5
        while !stopping {
            guard let segment = spool.oldest() else {
                reportLosses()
                if pause(1) { break }
                continue
            }
            let outcome = forwarder.send(segment)
            switch outcome {
            case .acknowledged:
                do {
                    try state.acknowledge(sequence: segment.sequence, positions: segment.positions, at: SyslogTimestamp.now().nanosecondsSinceEpoch)
                } catch {
                    // The server has the batch; not removing it only means it is sent again (and recognised).
                    logger.error("cannot save the agent state", metadata: ["error.message": "\(error)"])
                    if pause(backoff) { break }
                    continue
                }
                spool.remove(segment.sequence)
                let wasDown = control.withLock { c in
                    let down = !c.figures.connected
                    c.figures.connected = true
                    c.figures.sentBatches += 1
                    c.figures.sentRecords += Int64(segment.records)
                    c.figures.lastAcknowledgedAt = SyslogTimestamp.now().nanosecondsSinceEpoch
                    return down
                }
                if wasDown { logger.notice("the collector has the batches again", metadata: ["agent.destination": "\(forwarder.destination)"]) }
                backoff = 0.5
                reportLosses()
            case .retry(let reason):
                let first = control.withLock { c in
                    let first = c.figures.connected
                    c.figures.connected = false
                    c.figures.failedAttempts += 1
                    c.figures.lastError = reason
                    return first
                }
                if first {
                    logger.warning(
                        "cannot deliver to the collector; batches wait in the spool",
                        metadata: ["agent.destination": "\(forwarder.destination)", "error.message": "\(reason)"])
                }
                if pause(backoff) { break }
                backoff = min(backoff * 2, 30)
            case .rejected(let reason):
                logger.error(
                    "the collector refused a batch; it is set aside in the spool's quarantine",
                    metadata: ["agent.batch": "\(segment.sequence)", "error.message": "\(reason)"])
                spool.quarantine(segment.sequence)
                control.withLock { c in
                    c.figures.rejectedBatches += 1
                    c.figures.lastError = reason
                }
            }
        }
    }

    private func reportLosses() {
        let losses = spool.takeDropped()
        if !losses.isEmpty { onLosses(losses) }
    }
}
