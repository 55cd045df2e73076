import Foundation
import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// Not a test: prints how fast the engine goes through records with 200 rules. Runs only when asked, in release:
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

    @Test func recordsPerSecond() throws {
        var engine = AlertEngine(rules: try Self.rules())
        let apps = ["sshd", "nginx", "kernel", "cron", "postfix", "dockerd", "kubelet", "systemd", "sudo", "haproxy", "myapp", "java"]
        let base = SyslogTimestamp(rfc3339: "2026-03-01T10:00:00Z")!.seconds
        var batch: [StoredRecord] = []
        for i in 0..<5_000 {
            let r = LogRecord(
                severity: .info, receivedAt: SyslogTimestamp(seconds: base), hostname: "web-\(i % 50)", appName: apps[i % apps.count],
                message: "GET /api/v1/items/\(i) 200 0.012 upstream ok request_id=\(i * 7919)")
            batch.append(StoredRecord(id: Int64(i + 1), record: r))
        }
        var processed = 0
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for round in 0..<30 {
                _ = engine.process(batch, now: SyslogTimestamp(seconds: base + Int64(round)))
                processed += batch.count
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("engine: \(processed) records, 201 rules: \(Int(Double(processed) / seconds)) records/s")
    }
}
