import CSystemd
import Foundation
import Logging
import NotiLogCore
import ServiceLifecycle
import Synchronization

/// The running agent: sources read on one thread into the batcher (which writes batches to the spool), the
/// delivery thread sends the spool to the server, and a status file tells `notilog-agent status` how it goes.
///
/// Start: positions come from the state file (what the server acknowledged), overridden by the spool's newest
/// batch (what is on its way), so reading goes on right after what is already safe. Stop (SIGTERM): sources stop,
/// the pending batch goes to the spool, delivery stops; what was not sent waits in the spool for the next start.
public final class AgentRuntime: Service, Sendable {
    public let configuration: AgentConfiguration
    public let spool: Spool
    public let state: AgentState
    public let delivery: Delivery
    let batcher: Batcher
    let files: [FileSource]
    let journal: JournalSource?
    let watcher: ProcessWatcher?
    private let logger: Logger
    private let pendingLosses = LossInbox()
    private let stopping = Mutex(false)
    private let startedAt = SyslogTimestamp.now()
    private let startInstant = ContinuousClock.now
    /// Records read so far, by source kind (the rest of the metrics come from delivery and the spool).
    private let readCounts = Mutex(AgentMetrics.Counters())
    /// The totals at the last metrics record, and when it was made.
    private let lastReport: Mutex<(counters: AgentMetrics.Counters, at: ContinuousClock.Instant)>

    public init(configuration c: AgentConfiguration, logger: Logger) throws {
        configuration = c
        self.logger = logger
        let token = try c.resolvedToken()
        state = try AgentState(directory: c.stateDirectory, agentID: c.agentID)
        spool = try Spool(directory: c.stateDirectory + "/spool", maxBytes: c.spoolMaxBytes)
        let positions = state.positions.merging(spool.newestPositions) { _, spooled in spooled }
        let forwarder = try Forwarders.make(c.output, agentID: c.agentID, token: token)
        let losses = pendingLosses
        delivery = Delivery(spool: spool, state: state, forwarder: forwarder, logger: logger, onLosses: { losses.put($0) })
        let delivery = self.delivery
        batcher = Batcher(
            limits: c.batch, spool: spool, nextSequence: max(state.lastAcknowledged, spool.newestSequence ?? 0) + 1,
            onSpooled: { delivery.wake() },
            onError: { [logger] message in logger.error("\(message)") })
        files = try c.files.map { try FileSource(configuration: $0, hostname: c.hostname, positions: positions) }
        journal = try c.journald.map { try JournalSource(configuration: $0, positions: positions, logger: logger) }
        watcher = c.watch.isEmpty ? nil : ProcessWatcher(configuration: c.watch, hostname: c.hostname)
        lastReport = Mutex((AgentMetrics.Counters(), startInstant))
    }

    public func run() async throws {
        let deliveryThread = Thread { [delivery] in delivery.run() }
        deliveryThread.name = "notilog-agent delivery"
        deliveryThread.start()
        let sourceThread = Thread { [self] in readLoop() }
        sourceThread.name = "notilog-agent sources"
        sourceThread.start()
        logger.info(
            "agent started",
            metadata: [
                "agent.id": "\(configuration.agentID)", "agent.destination": "\(configuration.output.url)",
                "agent.state_dir": "\(configuration.stateDirectory)", "agent.file_sources": "\(files.count)",
                "agent.journald": "\(journal == nil ? "off" : configuration.journald?.directory ?? "local")",
                "agent.spooled_batches": "\(spool.figures.segments)",
            ])
        _ = sd_notify(0, "READY=1\nSTATUS=forwarding to \(configuration.output.url)")
        try? await gracefulShutdown()
        _ = sd_notify(0, "STOPPING=1")
        stopping.withLock { $0 = true }
        while !sourceThread.isFinished { try? await Task.sleep(for: .milliseconds(10)) }
        batcher.flush()
        delivery.stop()
        while !deliveryThread.isFinished { try? await Task.sleep(for: .milliseconds(10)) }
        writeStatus()
        logger.info(
            "agent stopped",
            metadata: ["agent.sent_records": "\(delivery.figures.sentRecords)", "agent.spooled_batches": "\(spool.figures.segments)"])
    }

    /// Polls the sources four times a second; feeds the batcher; keeps the watchdog and the status file fresh.
    private func readLoop() {
        let watchdog = Self.watchdogInterval()
        var lastWatchdog = ContinuousClock.now
        var lastStatus = ContinuousClock.now - .seconds(60)
        var metricsSchedule = MetricsSchedule(interval: configuration.metricsInterval, start: startInstant)
        while !stopping.withLock({ $0 }) {
            var read = 0
            if let journal {
                let entries = journal.poll()
                read += entries.count
                batcher.add(entries)
                if !entries.isEmpty { readCounts.withLock { $0.readJournal += Int64(entries.count) } }
            }
            var fromFiles = 0
            for source in files {
                let entries = source.poll()
                fromFiles += entries.count
                batcher.add(entries)
            }
            read += fromFiles
            if fromFiles > 0 { readCounts.withLock { $0.readFiles += Int64(fromFiles) } }
            if let watcher {
                let entries = watcher.poll()
                batcher.add(entries)
                if !entries.isEmpty { readCounts.withLock { $0.readWatch += Int64(entries.count) } }
            }
            for losses in pendingLosses.take() {
                batcher.add([lossEntry(losses)])
            }
            if metricsSchedule.isDue() {
                batcher.add([metrics(report: true).entry(hostname: configuration.hostname, at: .now())])
            }
            batcher.flushIfDue()
            let now = ContinuousClock.now
            if let watchdog, now - lastWatchdog >= watchdog {
                _ = sd_notify(0, "WATCHDOG=1")
                lastWatchdog = now
            }
            if now - lastStatus >= .seconds(2) {
                writeStatus()
                lastStatus = now
            }
            // Busy sources are read again at once; quiet ones after a short pause (the journal wakes it early).
            if read == 0 {
                if let journal { journal.wait(.milliseconds(250)) } else { Thread.sleep(forTimeInterval: 0.25) }
            }
        }
    }

    /// Half of systemd's `WATCHDOG_USEC`, when the unit sets one for this process.
    static func watchdogInterval() -> Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }

    /// The record that tells the server what the spool had to drop (or set aside) while it was away.
    func lossEntry(_ l: Spool.Losses) -> AgentEntry {
        var text = "notilog-agent: "
        var parts: [String] = []
        if l.droppedSegments > 0 {
            var p = "the spool was full and dropped its \(l.droppedRecords) oldest records (\(l.droppedSegments) batches)"
            if let a = l.oldestDropped, let b = l.newestDropped {
                p += " from \(SyslogTimestamp(nanosecondsSinceEpoch: a, fractionDigits: 0)) to \(SyslogTimestamp(nanosecondsSinceEpoch: b, fractionDigits: 0))"
            }
            parts.append(p)
        }
        if l.quarantinedSegments > 0 { parts.append("\(l.quarantinedSegments) unreadable or refused batches were set aside in the spool's quarantine") }
        text += parts.joined(separator: "; ")
        let now = SyslogTimestamp.now()
        let record = LogRecord(
            facility: .syslog, severity: .warning, timestamp: now, receivedAt: now, hostname: configuration.hostname, appName: "notilog-agent",
            msgID: "SPOOL_LOSS",
            structuredData: [
                StructuredDataElement(
                    id: "agent@32473",
                    parameters: [
                        StructuredDataParameter("dropped_records", String(l.droppedRecords)),
                        StructuredDataParameter("dropped_batches", String(l.droppedSegments)),
                        StructuredDataParameter("quarantined_batches", String(l.quarantinedSegments)),
                    ])
            ], message: text)
        return AgentEntry(record: record, sourceKey: "agent", position: nil)
    }

    // MARK: Metrics and status

    /// The agent's figures now. `report`: they go into a metrics record, so the next record's "since the last
    /// report" counts start here.
    func metrics(report: Bool = false) -> AgentMetrics {
        let d = delivery.figures
        let s = spool.figures
        let losses = spool.lossesSinceOpen
        var m = AgentMetrics()
        var total = readCounts.withLock { $0 }
        total.sentRecords = d.sentRecords
        total.sentBatches = d.sentBatches
        total.retries = d.failedAttempts
        total.droppedRecords = Int64(losses.droppedRecords)
        total.droppedBatches = Int64(losses.droppedSegments)
        total.quarantinedBatches = Int64(losses.quarantinedSegments)
        m.total = total
        let now = ContinuousClock.now
        let last = lastReport.withLock { r in
            defer { if report { r = (total, now) } }
            return r
        }
        m.sinceLastReport = total.since(last.counters)
        m.interval = now - last.at
        m.uptime = now - startInstant
        m.spoolBytes = s.bytes
        m.spoolBatches = s.segments
        if let t = d.lastAcknowledgedAt ?? state.acknowledgedAt {
            m.lastAcknowledgedAge = .nanoseconds(max(0, SyslogTimestamp.now().nanosecondsSinceEpoch - t))
        }
        (m.residentBytes, m.cpuSeconds) = AgentMetrics.processFigures()
        return m
    }

    /// `STATE-DIR/status.json`, rewritten every two seconds and at stop (read by `notilog-agent status`).
    public var statusPath: String { configuration.stateDirectory + "/status.json" }

    func writeStatus() {
        let d = delivery.figures
        let s = spool.figures
        var sources: [[String: Any]] = []
        for (i, f) in files.enumerated() {
            for file in f.status {
                sources.append([
                    "kind": "file", "source": i, "path": file.path, "device": file.device, "inode": file.inode, "offset": file.offset,
                    "size": file.size, "state": file.state.rawValue, "truncations": file.truncations,
                ])
            }
        }
        if let journal {
            var j: [String: Any] = [
                "kind": "journald", "directory": configuration.journald?.directory ?? "(local)", "entries_read": journal.entriesRead,
                "errors": journal.errors,
            ]
            if let cursor = journal.cursor { j["cursor"] = cursor }
            sources.insert(j, at: 0)
        }
        for w in watcher?.status ?? [] {
            var entry: [String: Any] = ["kind": "watch", "name": w.name, "watch_kind": w.kind.rawValue, "state": w.state?.rawValue ?? "unknown", "restarts": w.restarts]
            if !w.pids.isEmpty { entry["pids"] = w.pids.map { Int($0) } }
            if let since = w.since { entry["since"] = since.description }
            if let note = w.note { entry["note"] = note }
            sources.append(entry)
        }
        var output: [String: Any] = [
            "url": configuration.output.url, "connected": d.connected, "sent_batches": d.sentBatches, "sent_records": d.sentRecords,
            "failed_attempts": d.failedAttempts, "rejected_batches": d.rejectedBatches,
        ]
        if let e = d.lastError { output["last_error"] = e }
        if let t = d.lastAcknowledgedAt ?? state.acknowledgedAt { output["last_acknowledged_at"] = SyslogTimestamp(nanosecondsSinceEpoch: t, fractionDigits: 3).description }
        let status: [String: Any] = [
            "agent_id": configuration.agentID, "hostname": configuration.hostname, "pid": Int(getpid()),
            "started_at": startedAt.description, "updated_at": SyslogTimestamp.now().description, "output": output,
            "spool": ["batches": s.segments, "bytes": s.bytes, "oldest_batch": s.oldestSequence.map { Int($0) } ?? -1, "max_bytes": spool.maxBytes],
            "last_acknowledged_batch": Int(state.lastAcknowledged), "pending_records": batcher.pendingRecords, "sources": sources,
            "metrics": metricsStatus(),
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: status, options: [.sortedKeys, .prettyPrinted]) else { return }
        let temporary = statusPath + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) { rename(temporary, statusPath) }
    }
}

extension AgentRuntime {
    /// `status.json`'s `metrics`: the figures since start, and how often they are sent (`report_every_seconds`, 0: never).
    func metricsStatus() -> [String: Any] {
        var o = metrics().statusObject
        o["report_every_seconds"] = configuration.metricsInterval.map { AgentMetrics.secondsValue($0) } ?? 0
        return o
    }
}

/// Losses the delivery thread reported, for the source thread to turn into records.
final class LossInbox: Sendable {
    private let items = Mutex<[Spool.Losses]>([])

    func put(_ l: Spool.Losses) { items.withLock { $0.append(l) } }

    func take() -> [Spool.Losses] {
        items.withLock { l in
            defer { l.removeAll() }
            return l
        }
    }
}
