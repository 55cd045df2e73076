import Foundation
import NotiLogCore

/// The agent's figures about itself: what it read (by source kind), sent, retried, dropped and set aside, how full
/// its spool is, how long ago the server last acknowledged, and its memory and CPU — since start and since the last
/// report. Shown in `status.json` (`notilog-agent status`) and sent, every `metrics_interval`, as a record of
/// `notilog-agent` (msgid `METRICS`) through the agent's normal path (batcher, spool, output), so the server keeps
/// the agent's history beside its logs (`app:notilog-agent msgid:METRICS -sd.agent@32473.dropped_records:0`: the
/// reports that saw a drop).
public struct AgentMetrics: Sendable, Hashable {
    /// Counts that only grow while the agent runs (from zero at its start).
    public struct Counters: Sendable, Hashable {
        /// Records read from the journal, from files, and made by the watcher.
        public var readJournal: Int64 = 0
        public var readFiles: Int64 = 0
        public var readWatch: Int64 = 0
        /// Records and batches the output acknowledged.
        public var sentRecords: Int64 = 0
        public var sentBatches: Int64 = 0
        /// Sends that failed and will be tried again.
        public var retries: Int64 = 0
        /// What the full spool dropped (oldest first).
        public var droppedRecords: Int64 = 0
        public var droppedBatches: Int64 = 0
        /// Batches set aside in the spool's quarantine (refused by the server, or unreadable).
        public var quarantinedBatches: Int64 = 0

        public init() {}

        /// Each count of `self` less the same count of `earlier`.
        public func since(_ earlier: Counters) -> Counters {
            var d = Counters()
            d.readJournal = readJournal - earlier.readJournal
            d.readFiles = readFiles - earlier.readFiles
            d.readWatch = readWatch - earlier.readWatch
            d.sentRecords = sentRecords - earlier.sentRecords
            d.sentBatches = sentBatches - earlier.sentBatches
            d.retries = retries - earlier.retries
            d.droppedRecords = droppedRecords - earlier.droppedRecords
            d.droppedBatches = droppedBatches - earlier.droppedBatches
            d.quarantinedBatches = quarantinedBatches - earlier.quarantinedBatches
            return d
        }

        /// `(name, value)` in the order they are reported; names are the structured-data parameter names.
        public var named: [(String, Int64)] {
            [
                ("read_journal", readJournal), ("read_files", readFiles), ("read_watch", readWatch), ("sent_records", sentRecords),
                ("sent_batches", sentBatches), ("retries", retries), ("dropped_records", droppedRecords), ("dropped_batches", droppedBatches),
                ("quarantined_batches", quarantinedBatches),
            ]
        }
    }

    /// Since the agent started.
    public var total = Counters()
    /// Since the last report (or the start, before the first).
    public var sinceLastReport = Counters()
    /// How long the last report is ago (or the start).
    public var interval: Duration = .zero
    public var uptime: Duration = .zero
    public var spoolBytes: Int64 = 0
    public var spoolBatches = 0
    /// How long ago the output last acknowledged a batch (nil: never, as far as the state file knows).
    public var lastAcknowledgedAge: Duration?
    /// Resident memory and CPU time (user + system) of the agent's process, from `/proc/self`.
    public var residentBytes: Int64?
    public var cpuSeconds: Double?

    public init() {}

    public static let structuredDataID = "agent@32473"
    public static let msgID = "METRICS"

    /// `[agent@32473 …]`: each counter since the last report under its name and since start as `NAME_total`,
    /// then the gauges (`spool_bytes`, `spool_batches`, `last_ack_age_seconds`, `rss_bytes`, `cpu_seconds`,
    /// `uptime_seconds`, `interval_seconds`).
    public var parameters: [StructuredDataParameter] {
        var p: [StructuredDataParameter] = []
        for (name, value) in sinceLastReport.named { p.append(StructuredDataParameter(name, String(value))) }
        for (name, value) in total.named { p.append(StructuredDataParameter(name + "_total", String(value))) }
        p.append(StructuredDataParameter("spool_bytes", String(spoolBytes)))
        p.append(StructuredDataParameter("spool_batches", String(spoolBatches)))
        if let age = lastAcknowledgedAge { p.append(StructuredDataParameter("last_ack_age_seconds", Self.seconds(age))) }
        if let rss = residentBytes { p.append(StructuredDataParameter("rss_bytes", String(rss))) }
        if let cpu = cpuSeconds { p.append(StructuredDataParameter("cpu_seconds", Self.decimal(cpu))) }
        p.append(StructuredDataParameter("uptime_seconds", Self.seconds(uptime)))
        p.append(StructuredDataParameter("interval_seconds", Self.seconds(interval)))
        return p
    }

    /// One line for people: what happened since the last report.
    public var summary: String {
        let d = sinceLastReport
        var text = "notilog-agent metrics: in the last \(Self.seconds(interval)) s read \(d.readJournal + d.readFiles + d.readWatch) records"
        text += " (journal \(d.readJournal), files \(d.readFiles), watch \(d.readWatch)), sent \(d.sentRecords) records in \(d.sentBatches) batches"
        text += ", \(d.retries) retries, dropped \(d.droppedRecords) records, \(d.quarantinedBatches) batches quarantined"
        text += "; spool \(spoolBatches) batches, \(spoolBytes) bytes"
        if let age = lastAcknowledgedAge { text += "; last acknowledgement \(Self.seconds(age)) s ago" }
        return text
    }

    /// The record sent to the server: `notilog-agent`, info, msgid `METRICS`, `[agent@32473 …]`.
    public func record(hostname: String, at time: SyslogTimestamp) -> LogRecord {
        LogRecord(
            facility: .syslog, severity: .info, timestamp: time, receivedAt: time, hostname: hostname, appName: "notilog-agent",
            msgID: Self.msgID, structuredData: [StructuredDataElement(id: Self.structuredDataID, parameters: parameters)], message: summary)
    }

    public func entry(hostname: String, at time: SyslogTimestamp) -> AgentEntry {
        AgentEntry(record: record(hostname: hostname, at: time), sourceKey: "agent", position: nil)
    }

    /// For `status.json`: the totals since start and the gauges, under the record's parameter names.
    public var statusObject: [String: Any] {
        var o: [String: Any] = [:]
        for (name, value) in total.named { o[name] = Int(value) }
        o["spool_bytes"] = Int(spoolBytes)
        o["spool_batches"] = spoolBatches
        if let age = lastAcknowledgedAge { o["last_ack_age_seconds"] = Self.secondsValue(age) }
        if let rss = residentBytes { o["rss_bytes"] = Int(rss) }
        if let cpu = cpuSeconds { o["cpu_seconds"] = (cpu * 100).rounded() / 100 }
        o["uptime_seconds"] = Self.secondsValue(uptime)
        return o
    }

    static func secondsValue(_ d: Duration) -> Double {
        let c = d.components
        return ((Double(c.seconds) + Double(c.attoseconds) / 1e18) * 1000).rounded() / 1000
    }

    /// Seconds with at most three decimals, no exponent (`61.25`, `0.004`, `3`).
    static func seconds(_ d: Duration) -> String {
        let c = d.components
        return decimal(Double(c.seconds) + Double(c.attoseconds) / 1e18, digits: 3)
    }

    static func decimal(_ value: Double, digits: Int = 2) -> String {
        var text = String(format: "%.\(digits)f", max(0, value))
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    // MARK: The process

    /// Resident memory in bytes (`/proc/self/statm`, second field × page size) and CPU seconds, user plus system
    /// (`/proc/self/stat`, fields 14 and 15 in clock ticks); nil where the file cannot be read.
    public static func processFigures(procSelf: String = "/proc/self") -> (residentBytes: Int64?, cpuSeconds: Double?) {
        var rss: Int64?
        if let text = ProcTable.readText(procSelf + "/statm", limit: 256) {
            let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
            if fields.count > 1, let pages = Int64(fields[1]) {
                rss = pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
            }
        }
        var cpu: Double?
        // Read as the watcher reads any process's `stat` (fields after the command name; index 0 is field 3).
        if let text = ProcTable.readText(procSelf + "/stat", limit: 4096) {
            let fields = ProcTable.statFields(text)
            // utime is field 14, stime field 15.
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) {
                let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
                if ticks > 0 { cpu = (user + system) / ticks }
            }
        }
        return (rss, cpu)
    }
}

/// When the next metrics record is due: every `interval` after the start; never when `interval` is nil
/// (`metrics_interval: 0`).
public struct MetricsSchedule: Sendable, Hashable {
    public let interval: Duration?
    private var last: ContinuousClock.Instant

    public init(interval: Duration?, start: ContinuousClock.Instant = .now) {
        self.interval = interval
        last = start
    }

    /// True (and the next report counts from `now`) when a report is due.
    public mutating func isDue(at now: ContinuousClock.Instant = .now) -> Bool {
        guard let interval, now - last >= interval else { return false }
        last = now
        return true
    }
}
