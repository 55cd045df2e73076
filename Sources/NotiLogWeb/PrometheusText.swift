import Foundation
import NotiLogCollector
import NotiLogCore
import NotiLogStore

/// The Prometheus text exposition (format 0.0.4) of the server's counters.
///
/// Written here rather than through swift-metrics + swift-prometheus: every figure already lives in one place
/// (the pipeline's, listeners' and maintenance's counters, read under their locks), so rendering them is a
/// few lines, and a second registry would only be a copy that could disagree.
enum PrometheusText {
    struct Writer {
        var text = ""

        mutating func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }

        mutating func sample(_ name: String, _ value: Double, labels: [(String, String)] = []) {
            text += name
            if !labels.isEmpty {
                text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1))\"" }.joined(separator: ",") + "}"
            }
            text += " " + Self.format(value) + "\n"
        }

        mutating func metric(_ name: String, _ type: String, _ help: String, _ value: Double) {
            family(name, type, help)
            sample(name, value)
        }

        static func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }

        static func format(_ v: Double) -> String {
            if v.isNaN { return "NaN" }
            if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
            if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
            return "\(v)"
        }
    }

    static func render(
        pipeline c: IngestPipeline.Counters, queueCapacity: Int, maintenance m: StoreMaintenance.Counters,
        listeners: [(transport: String, address: String, counters: ListenerCounters.Snapshot)], store: StoreFigures?,
        startedAt: SyslogTimestamp, tail: TailHub.Counters? = nil
    ) -> String {
        var w = Writer()
        let perListener: [(String, String, KeyPath<ListenerCounters.Snapshot, Int64>)] = [
            ("notilog_listener_received_total", "Messages received by a syslog listener.", \.received),
            ("notilog_listener_parse_problems_total", "Messages received with at least one parse problem.", \.parseProblems),
            ("notilog_listener_frame_problems_total", "Framing problems (oversized, truncated, broken length prefix).", \.frameProblems),
            ("notilog_listener_dropped_total", "UDP datagrams dropped because the ingest queue was full.", \.droppedQueueFull),
            ("notilog_listener_rejected_not_allowed_total", "Senders refused by the listener's allow-list.", \.rejectedNotAllowed),
            ("notilog_listener_rejected_limit_total", "Connections refused by the connection limits.", \.rejectedLimit),
            ("notilog_listener_closed_idle_total", "Connections closed after the idle timeout.", \.closedIdle),
            ("notilog_listener_connection_errors_total", "Connections that ended with an error.", \.connectionErrors),
            ("notilog_listener_back_pressure_pauses_total", "Times a connection stopped reading because the ingest queue was full.", \.backPressurePauses),
        ]
        for (name, help, path) in perListener {
            w.family(name, "counter", help)
            for l in listeners { w.sample(name, Double(l.counters[keyPath: path]), labels: [("protocol", l.transport), ("address", l.address)]) }
        }
        w.family("notilog_listener_open_connections", "gauge", "Open TCP/TLS connections.")
        for l in listeners {
            w.sample("notilog_listener_open_connections", Double(l.counters.openConnections), labels: [("protocol", l.transport), ("address", l.address)])
        }

        w.metric("notilog_ingest_accepted_records_total", "counter", "Records taken into the ingest queue.", Double(c.accepted))
        w.metric("notilog_ingest_committed_records_total", "counter", "Records committed to the store (searchable).", Double(c.committed))
        w.metric("notilog_ingest_dropped_records_total", "counter", "Records dropped because the ingest queue was full (UDP only).", Double(c.droppedQueueFull))
        w.metric("notilog_ingest_queue_depth", "gauge", "Records waiting for the batch writer.", Double(c.queued))
        w.metric("notilog_ingest_queue_capacity", "gauge", "Records the ingest queue holds before senders are slowed.", Double(queueCapacity))
        w.metric("notilog_ingest_batches_total", "counter", "Batches committed.", Double(c.batches))
        w.metric("notilog_ingest_failed_batches_total", "counter", "Batch commits that failed (and were retried).", Double(c.failedBatches))
        w.metric("notilog_ingest_last_batch_records", "gauge", "Records in the last committed batch.", Double(c.lastBatchSize))
        w.family("notilog_ingest_commit_seconds", "histogram", "Time to commit one batch.")
        for (k, bound) in IngestPipeline.Counters.commitSecondsBounds.enumerated() {
            w.sample("notilog_ingest_commit_seconds_bucket", Double(c.commitSecondsBuckets[k]), labels: [("le", Writer.format(bound))])
        }
        w.sample("notilog_ingest_commit_seconds_bucket", Double(c.batches), labels: [("le", "+Inf")])
        w.sample("notilog_ingest_commit_seconds_sum", c.commitSecondsSum)
        w.sample("notilog_ingest_commit_seconds_count", Double(c.batches))

        w.metric("notilog_store_indexed_rows_total", "counter", "Records added to the full-text index.", Double(m.indexedRows))
        w.metric("notilog_store_index_deferred_steps_total", "counter", "Index steps put off while ingest had a backlog.", Double(m.deferredIndexSteps))
        w.metric("notilog_store_retention_deleted_total", "counter", "Records deleted by retention.", Double(m.deletedRows))
        w.metric("notilog_store_maintenance_failures_total", "counter", "Failed indexing or retention steps.", Double(m.failedSteps))
        if let store {
            w.metric("notilog_store_records", "gauge", "Records stored.", Double(store.records))
            w.metric("notilog_store_bytes", "gauge", "Database size in bytes (free pages excluded).", Double(store.bytes))
            w.metric("notilog_store_index_lag_records", "gauge", "Committed records not yet in the full-text index (scanned by searches).", Double(store.newestID - store.indexedUpTo))
        }
        if let tail {
            w.metric("notilog_tail_connections", "gauge", "Live tail connections open.", Double(tail.connections))
            w.metric("notilog_tail_connections_opened_total", "counter", "Live tail connections opened.", Double(tail.opened))
            w.metric(
                "notilog_tail_connections_refused_total", "counter", "Live tail connections refused because the most allowed were open.",
                Double(tail.refused))
            w.metric(
                "notilog_tail_missed_records_total", "counter", "Matching records not sent to a live tail client that read too slowly (reported to it as gaps).",
                Double(tail.missedRecords))
            w.metric(
                "notilog_tail_read_back_records_total", "counter", "Committed records the live tail fell behind on and read back from the store.",
                Double(tail.readBackRecords))
            w.metric(
                "notilog_tail_skipped_ids_total", "counter", "Record ids the live tail skipped without reading them (reported to every client as gaps).",
                Double(tail.skippedIDs))
        }
        w.metric("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch in seconds.", Double(startedAt.seconds))
        if let rss = residentBytes() {
            w.metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.", Double(rss))
        }
        return w.text
    }

    /// From `/proc/self/statm` (Linux).
    static func residentBytes() -> Int64? {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = statm.split(separator: " ")
        guard fields.count > 1, let pages = Int64(fields[1]) else { return nil }
        return pages * Int64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
