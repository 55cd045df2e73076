import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogAgent

/// The agent's own figures: the record it sends about itself, when it sends one, and where the figures come from.
@Suite("Agent metrics")
struct AgentMetricsTests {
    static func counters(_ base: Int64) -> AgentMetrics.Counters {
        var c = AgentMetrics.Counters()
        c.readJournal = base + 1
        c.readFiles = base + 2
        c.readWatch = base + 3
        c.sentRecords = base + 4
        c.sentBatches = base + 5
        c.retries = base + 6
        c.droppedRecords = base + 7
        c.droppedBatches = base + 8
        c.quarantinedBatches = base + 9
        return c
    }

    @Test func theMetricsRecordCarriesTheCountersSinceTheLastReportAndSinceStart() throws {
        var m = AgentMetrics()
        m.total = Self.counters(100)
        m.sinceLastReport = m.total.since(Self.counters(90))
        m.interval = .milliseconds(60_250)
        m.uptime = .seconds(3600)
        m.spoolBytes = 4096
        m.spoolBatches = 2
        m.lastAcknowledgedAge = .milliseconds(1500)
        m.residentBytes = 12 << 20
        m.cpuSeconds = 1.234
        let time = SyslogTimestamp(seconds: 1_764_900_000)
        let entry = m.entry(hostname: "web-1", at: time)
        let r = entry.record
        #expect(r.appName == "notilog-agent" && r.severity == .info && r.msgID == "METRICS" && r.hostname == "web-1")
        #expect(r.timestamp == time && entry.position == nil)
        let elements = try #require(r.structuredData)
        let sd = try #require(elements.first)
        #expect(elements.count == 1 && sd.id == "agent@32473")
        let p = Dictionary(uniqueKeysWithValues: sd.parameters.map { ($0.name, $0.value) })
        let expected: [String: String] = [
            "read_journal": "10", "read_files": "10", "read_watch": "10", "sent_records": "10", "sent_batches": "10", "retries": "10",
            "dropped_records": "10", "dropped_batches": "10", "quarantined_batches": "10",
            "read_journal_total": "101", "read_files_total": "102", "read_watch_total": "103", "sent_records_total": "104",
            "sent_batches_total": "105", "retries_total": "106", "dropped_records_total": "107", "dropped_batches_total": "108",
            "quarantined_batches_total": "109",
            "spool_bytes": "4096", "spool_batches": "2", "last_ack_age_seconds": "1.5", "rss_bytes": "12582912", "cpu_seconds": "1.23",
            "uptime_seconds": "3600", "interval_seconds": "60.25",
        ]
        #expect(p == expected)
        // Names are lower_snake, as the server's query language reads them (sd.agent@32473.read_files_total:>0).
        #expect(sd.parameters.allSatisfy { $0.name.allSatisfy { $0.isLowercase || $0 == "_" } })
        #expect(r.message.contains("read 30 records (journal 10, files 10, watch 10), sent 10 records in 10 batches"), "\(r.message)")

        // On the wire, as the batcher formats it, and read back by the server's parser.
        var wire: [UInt8] = []
        RFC5424Formatter().append(r, to: &wire)
        let parsed = SyslogParser().parse(wire, receivedAt: time)
        #expect(parsed.appName == "notilog-agent" && parsed.msgID == "METRICS" && parsed.structuredData == r.structuredData, "\(parsed)")
    }

    @Test func withoutAnAcknowledgementOrProcessFiguresThoseParametersAreLeftOut() {
        var m = AgentMetrics()
        m.total = Self.counters(0)
        m.sinceLastReport = m.total
        let names = m.record(hostname: "h", at: SyslogTimestamp(seconds: 0)).structuredData?.first?.parameters.map(\.name) ?? []
        #expect(!names.contains("last_ack_age_seconds") && !names.contains("rss_bytes") && !names.contains("cpu_seconds"))
        #expect(names.contains("read_files_total") && names.contains("spool_batches"))
    }

    @Test func theIntervalIsReadAndZeroTurnsTheRecordsOff() throws {
        #expect(try AgentConfiguration.parse(yaml: "files: []").metricsInterval == .seconds(60))
        #expect(AgentConfiguration().metricsInterval == .seconds(60))
        #expect(try AgentConfiguration.parse(yaml: "metrics_interval: 5m").metricsInterval == .seconds(300))
        #expect(try AgentConfiguration.parse(yaml: "metrics_interval: 1s").metricsInterval == .seconds(1))
        for off in ["0", "0s", "off", "no"] {
            #expect(try AgentConfiguration.parse(yaml: "metrics_interval: \(off)").metricsInterval == nil, "\(off)")
        }
        for bad in ["500ms", "soon", "-5s", "[1]"] {
            #expect {
                _ = try AgentConfiguration.parse(yaml: "metrics_interval: \(bad)")
            } throws: { error in
                let problems = (error as? AgentConfiguration.Problems)?.problems ?? []
                return problems.count == 1 && problems[0].hasPrefix("metrics_interval: expected a duration of at least 1s")
            }
        }
    }

    @Test func aScheduleSendsEveryIntervalAndNeverWithoutOne() {
        let start = ContinuousClock.now
        /// Which of the seconds after the start a report is due at.
        func dueAt(_ interval: Duration?, _ seconds: [Int]) -> [Int] {
            var schedule = MetricsSchedule(interval: interval, start: start)
            return seconds.filter { schedule.isDue(at: start + .seconds($0)) }
        }
        #expect(dueAt(nil, [0, 1, 60, 86_400]) == [])
        #expect(dueAt(.seconds(10), [5, 10, 15, 21, 30, 31]) == [10, 21, 31])
    }

    @Test func memoryAndCPUComeFromProc() throws {
        let dir = TemporaryDirectory()
        try "2000 300 150 10 0 500 0\n".write(toFile: dir.path + "/statm", atomically: true, encoding: .utf8)
        // Field 2 holds spaces and a parenthesis; utime (14) = 250 ticks, stime (15) = 150 ticks.
        let stat = "4242 (notilog (agent) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 7 0 100 123456 300\n"
        try stat.write(toFile: dir.path + "/stat", atomically: true, encoding: .utf8)
        let figures = AgentMetrics.processFigures(procSelf: dir.path)
        #expect(figures.residentBytes == 300 * Int64(sysconf(Int32(_SC_PAGESIZE))))
        #expect(figures.cpuSeconds == 400 / Double(sysconf(Int32(_SC_CLK_TCK))))

        let mine = AgentMetrics.processFigures()
        #expect((mine.residentBytes ?? 0) > 1 << 20 && (mine.cpuSeconds ?? -1) >= 0)
        let none = AgentMetrics.processFigures(procSelf: dir.path + "/missing")
        #expect(none.residentBytes == nil && none.cpuSeconds == nil)
    }

    @Test func theSpoolCountsEveryLossSinceItWasOpened() throws {
        let dir = TemporaryDirectory()
        let one = Spool.encode(Spool.Segment(sequence: 1, records: 3, firstTime: 0, positions: [:], payload: Array(repeating: 0, count: 10))).count
        let spool = try Spool(directory: dir.path, maxBytes: Int64(one * 2))
        for seq in 1...5 { try spool.append(Spool.Segment(sequence: UInt64(seq), records: 3, firstTime: 0, positions: [:], payload: Array(repeating: 0, count: 10))) }
        spool.quarantine(5)
        #expect(spool.takeDropped().droppedSegments == 3)
        #expect(spool.takeDropped().isEmpty)
        let total = spool.lossesSinceOpen
        #expect(total.droppedSegments == 3 && total.droppedRecords == 9 && total.quarantinedSegments == 1)
    }
}
