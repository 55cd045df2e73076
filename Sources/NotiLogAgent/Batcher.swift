import NotiLogCore
import Synchronization

/// Groups entries into batches and writes each to the spool: when it reaches `maxRecords` or `maxBytes`, when
/// its oldest entry has waited `maxDelay`, and at once when an entry is at or above `immediateSeverity` (so an
/// error is not held back behind a quiet second).
///
/// The payload is what the ingest endpoint takes: RFC 6587 octet-counted RFC 5424 frames, formatted once here.
public final class Batcher: Sendable {
    public struct Limits: Sendable, Hashable {
        public var maxRecords: Int
        public var maxBytes: Int
        public var maxDelay: Duration
        /// Send at once at this severity or above (`err` by default); nil never hurries.
        public var immediateSeverity: Severity?

        public init(maxRecords: Int = 1000, maxBytes: Int = 1 << 20, maxDelay: Duration = .seconds(1), immediateSeverity: Severity? = .err) {
            self.maxRecords = maxRecords
            self.maxBytes = maxBytes
            self.maxDelay = maxDelay
            self.immediateSeverity = immediateSeverity
        }
    }

    private struct Pending {
        var payload: [UInt8] = []
        var records = 0
        var firstTime: Int64 = 0
        var positions: SourcePositions = [:]
        var startedAt: ContinuousClock.Instant?
        var nextSequence: UInt64
        var urgent = false
        var scratch: [UInt8] = []
    }

    public let limits: Limits
    private let spool: Spool
    private let formatter = RFC5424Formatter()
    private let pending: Mutex<Pending>
    private let onSpooled: @Sendable () -> Void
    private let onError: @Sendable (String) -> Void

    /// - Parameters:
    ///   - nextSequence: the first batch's sequence (after the spool's and the acknowledged ones).
    ///   - onSpooled: called after each batch is in the spool (wakes the sender).
    public init(
        limits: Limits, spool: Spool, nextSequence: UInt64, onSpooled: @escaping @Sendable () -> Void,
        onError: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.limits = limits
        self.spool = spool
        self.pending = Mutex(Pending(nextSequence: nextSequence))
        self.onSpooled = onSpooled
        self.onError = onError
    }

    /// Adds entries in the order read; writes the batch whenever a limit is reached (a long list makes several),
    /// and at the end when an entry was urgent — once per call, so a backlog read in one go (the journal after a
    /// restart) is not cut into a batch per error line.
    public func add(_ entries: [AgentEntry]) {
        var i = 0
        while i < entries.count {
            let full = pending.withLock { p -> Bool in
                while i < entries.count {
                    let e = entries[i]
                    i += 1
                    if p.startedAt == nil {
                        p.startedAt = .now
                        p.firstTime = (e.record.timestamp ?? e.record.receivedAt).nanosecondsSinceEpoch
                    }
                    p.scratch.removeAll(keepingCapacity: true)
                    formatter.append(e.record, to: &p.scratch)
                    p.payload += Array(String(p.scratch.count).utf8)
                    p.payload.append(UInt8(ascii: " "))
                    p.payload += p.scratch
                    p.records += 1
                    if let position = e.position { p.positions[e.sourceKey] = position }
                    if let limit = limits.immediateSeverity, let s = e.record.severity, s <= limit { p.urgent = true }
                    if p.records >= limits.maxRecords || p.payload.count >= limits.maxBytes { return true }
                }
                return false
            }
            if full { flush() }
        }
        if pending.withLock({ $0.urgent }) { flush() }
    }

    /// Writes the batch if its oldest entry has waited `maxDelay`. Call it a few times a second.
    public func flushIfDue() {
        let due = pending.withLock { p in p.startedAt.map { ContinuousClock.now - $0 >= limits.maxDelay } ?? false }
        if due { flush() }
    }

    /// Writes what is pending to the spool (at shutdown, and when a limit is reached). On a spool error the batch
    /// stays pending and is tried again at the next flush.
    public func flush() {
        pending.withLock { p in
            guard p.records > 0 else { return }
            let segment = Spool.Segment(
                sequence: p.nextSequence, records: p.records, firstTime: p.firstTime, positions: p.positions, payload: p.payload)
            do {
                try spool.append(segment)
            } catch {
                onError("cannot write to the spool: \(error)")
                return
            }
            p.nextSequence += 1
            p.payload.removeAll(keepingCapacity: true)
            p.records = 0
            p.positions = [:]
            p.startedAt = nil
            p.urgent = false
        }
        onSpooled()
    }

    /// Records waiting for the next batch.
    public var pendingRecords: Int { pending.withLock { $0.records } }
}
