import Foundation
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

/// Not a test: prints how fast the engine goes through records with 200 rules (CPU time per record). Runs only
/// when asked, in release:
///
///     NOTILOG_MEASURE_ENGINE=1 swift test -c release -Xswiftc -enable-testing --filter EngineMeasurement
///
/// Figures belong in bench/README.md, not in assertions.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["NOTILOG_MEASURE_ENGINE"] != nil))
struct EngineMeasurement {
    /// 200 rules of the usual shapes: most name their app, some search every record.
    static func rules() throws -> [Rule] {
        var yaml = "rules:\n"
        let apps = ["sshd", "nginx", "kernel", "cron", "postfix", "dockerd", "kubelet", "systemd", "sudo", "haproxy"]
        for i in 0..<200 {
            let app = apps[i % apps.count]
            switch i % 10 {
            case 0...4: yaml += "- {name: m\(i), kind: match, query: 'app:\(app) \"error \(i)\"', group_by: [host]}\n"
            case 5, 6: yaml += "- {name: t\(i), kind: threshold, query: 'app:\(app) \"failed \(i)\"', group_by: [host], threshold: 5, window: 60s}\n"
            case 7: yaml += "- {name: a\(i), kind: absence, query: 'app:\(app) heartbeat\(i)', group_by: [host], window: 10m}\n"
            case 8: yaml += "- {name: n\(i), kind: new_value, query: 'app:\(app) \"Accepted\"', field: sd.sshd.user, learn_for: 0s}\n"
            default: yaml += "- {name: s\(i), kind: match, query: 'severity:<=crit \"panic \(i)\"'}\n"
            }
        }
        yaml += "- {name: units, kind: state}\n"
        return try RuleSet.load(yaml: yaml, origin: .api)
    }

    /// The rules `bench/ingest.sh` gives the server with `BENCH_RULES=200` (bench/lib.sh `write_rules`): a quarter
    /// each of match, threshold, absence (every record of its app matches) and new_value, over ten apps and words.
    static func ingestBenchRules() throws -> [Rule] {
        var yaml = "rules:\n"
        for i in 0..<200 {
            let app = ingestApps[i % 10]
            let word = ingestWords[(i / 10) % 10]
            switch i % 4 {
            case 0: yaml += "- {name: bench-\(i), kind: match, query: 'app:\(app) \(word)', group_by: [host]}\n"
            case 1: yaml += "- {name: bench-\(i), kind: threshold, query: 'app:\(app) \(word)', group_by: [host], threshold: 50, window: 10s}\n"
            case 2: yaml += "- {name: bench-\(i), kind: absence, query: 'app:\(app)', group_by: [host], window: 15m}\n"
            default: yaml += "- {name: bench-\(i), kind: new_value, query: 'app:\(app) \(word)', field: host, learn_for: 1m}\n"
            }
        }
        return try RuleSet.load(yaml: yaml, origin: .api)
    }

    static let ingestApps = ["nginx", "sshd", "postfix", "kernel", "CRON", "systemd", "api-gateway", "worker", "haproxy", "postgres"]
    static let ingestWords = ["timeout", "failed", "denied", "error", "restarting", "expired", "dropped", "throttled", "overflow", "killed"]

    static let base = SyslogTimestamp(rfc3339: "2026-03-01T10:00:00Z")!.seconds

    /// 200 rules of the usual shapes, over records none of them matches (what asking costs).
    @Test func recordsPerSecond() throws {
        let apps = ["sshd", "nginx", "kernel", "cron", "postfix", "dockerd", "kubelet", "systemd", "sudo", "haproxy", "myapp", "java"]
        var batch: [StoredRecord] = []
        for i in 0..<5_000 {
            let r = LogRecord(
                severity: .info, receivedAt: SyslogTimestamp(seconds: Self.base), hostname: "web-\(i % 50)", appName: apps[i % apps.count],
                message: "GET /api/v1/items/\(i) 200 0.012 upstream ok request_id=\(i * 7919)")
            batch.append(StoredRecord(id: Int64(i + 1), record: r))
        }
        Self.measure("engine", rules: try Self.rules(), batch: batch)
    }

    /// The ingest benchmark's rules over records like its stream's (bench/tools/genmsgs.c: 40 hosts, 10 apps,
    /// "timeout" in ~30 % of messages): most records match some rules, so this is what matching costs.
    @Test func ingestBenchRecordsPerSecond() throws {
        var g = SeededGenerator(seed: 42)
        let filler = ["request", "served", "cache", "upstream", "user", "session", "connection", "closed", "queue", "ok", "200", "latency"]
        var batch: [StoredRecord] = []
        for i in 0..<5_000 {
            var words = (0..<12).map { _ in filler[Int(g.next() % UInt64(filler.count))] }
            if g.next() % 10 < 3 { words[Int(g.next() % 12)] = "timeout" }
            if g.next() % 20 == 0 { words[Int(g.next() % 12)] = Self.ingestWords[Int(g.next() % 10)] }
            let r = LogRecord(
                severity: .info, receivedAt: SyslogTimestamp(seconds: Self.base), hostname: "web-\(Int(g.next() % 40))",
                appName: Self.ingestApps[i % 10], message: words.joined(separator: " "))
            batch.append(StoredRecord(id: Int64(i + 1), record: r))
        }
        Self.measure("ingest-bench rules", rules: try Self.ingestBenchRules(), batch: batch)
    }

    static func measure(_ label: String, rules: [Rule], batch: [StoredRecord]) {
        var engine = AlertEngine(rules: rules)
        // As the server runs it: open alerts' updates are built at its saves (every 5 s), not at every batch.
        engine.defersUpdates = true
        // The thread's CPU time, over several passes reported by the fastest and the median: the machine is
        // shared, and wall time says more about the neighbours than about the engine.
        func cpuNanoseconds() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) * 1e9 + Double(t.tv_nsec)
        }
        var round: Int64 = 0
        var perRecord: [Double] = []
        for _ in 0..<7 {
            let start = cpuNanoseconds()
            for _ in 0..<10 {
                _ = engine.process(batch, now: SyslogTimestamp(seconds: base + round))
                round += 1
            }
            _ = engine.takeUpdates()
            perRecord.append((cpuNanoseconds() - start) / Double(10 * batch.count))
        }
        perRecord.sort()
        let best = perRecord[0]
        let median = perRecord[perRecord.count / 2]
        print(
            "\(label): \(rules.count) rules, \(7 * 10 * batch.count) records: best \(Int(best)) ns/record "
                + "(\(Int(1e9 / best)) records/s), median \(Int(median)) ns/record (\(Int(1e9 / median)) records/s)")
    }
}
