import Foundation
import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// Times in the tests are written `"10:00:59.5"` on one fixed day (UTC).
enum RuleClock {
    static let day = "2026-03-01"

    static func at(_ time: String) -> SyslogTimestamp {
        let text = time.contains("T") ? time : "\(day)T\(time)Z"
        guard let t = SyslogTimestamp(rfc3339: text) else { fatalError("bad test time \(time)") }
        return t
    }

    /// `10:00:05` (and `.5` when there is a fraction), as the change logs print it.
    static func label(_ t: SyslogTimestamp) -> String {
        let text = t.description
        return text.split(separator: "T").last.map { String($0.dropLast()) } ?? text
    }

    /// `"10:00:00"` plus `seconds`.
    static func plus(_ time: String, _ seconds: Int64) -> String {
        label(SyslogTimestamp(seconds: at(time).seconds + seconds))
    }
}

/// Parses a rule from YAML, failing the test on a problem.
func rule(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Rule {
    let rules = try RuleSet.load(yaml: yaml, origin: .file("test.yaml"))
    try #require(rules.count == 1, sourceLocation: sourceLocation)
    return rules[0]
}

/// A log record as the tests send them.
func logRecord(
    at time: String, host: String? = "web-1", app: String? = "sshd", message: String = "Failed password for root from 10.0.0.9",
    timestamp: String? = nil, sd: [StructuredDataElement]? = nil, severity: Severity = .info
) -> LogRecord {
    LogRecord(
        facility: .auth, severity: severity, timestamp: timestamp.map(RuleClock.at), receivedAt: RuleClock.at(time), hostname: host,
        appName: app, structuredData: sd, message: message)
}

/// Drives an engine through records and ticks and keeps a readable log of the changes:
/// `10:00:04 firing ssh{host=web-1} send` (updates are left out of `log`; all changes are in `changes`).
struct RuleHarness {
    var engine: AlertEngine
    var nextID: Int64 = 1
    var changes: [AlertChange] = []
    var log: [String] = []
    /// Every record sent: the store a restart reads kept records back from.
    var stored: [StoredRecord] = []

    init(_ rules: [Rule], state: EngineState? = nil) {
        engine = AlertEngine(rules: rules, state: state)
    }

    init(_ rule: Rule) {
        self.init([rule])
    }

    /// Records committed together, processed at `now` (default: the first record's reception).
    @discardableResult
    mutating func send(_ records: [LogRecord], now: String? = nil) -> [AlertChange] {
        let stored = records.map { r -> StoredRecord in
            defer { nextID += 1 }
            return StoredRecord(id: nextID, record: r)
        }
        self.stored += stored
        let at = now.map(RuleClock.at) ?? records.first?.receivedAt ?? RuleClock.at("00:00:00")
        let out = engine.process(stored, now: at)
        note(out, at)
        return out
    }

    @discardableResult
    mutating func send(_ record: LogRecord, now: String? = nil) -> [AlertChange] { send([record], now: now) }

    @discardableResult
    mutating func tick(_ time: String) -> [AlertChange] {
        let at = RuleClock.at(time)
        let out = engine.tick(now: at)
        note(out, at)
        return out
    }

    /// Ticks every second from `from` through `through`.
    mutating func tick(from: String, through: String) {
        var t = RuleClock.at(from).seconds
        let end = RuleClock.at(through).seconds
        while t <= end {
            let at = SyslogTimestamp(seconds: t)
            note(engine.tick(now: at), at)
            t += 1
        }
    }

    mutating func note(_ out: [AlertChange], _ at: SyslogTimestamp) {
        changes += out
        for c in out where c.transition != .updated {
            log.append("\(RuleClock.label(at)) \(c.transition.rawValue) \(c.key)\(Self.describe(c.notify))")
        }
    }

    static func describe(_ d: AlertChange.Delivery?) -> String {
        switch d {
        case nil: ""
        case .send(_, let suppressed?): " send +\(suppressed.count) \(suppressed.topHosts)"
        case .send: " send"
        case .silenced(let id): " silenced(\(id))"
        case .throttled: " throttled"
        }
    }

    /// The changes that are not updates.
    var transitions: [AlertChange] { changes.filter { $0.transition != .updated } }

    /// Snapshot → compact JSON (kept records by id, as the alerting service saves it) → a new engine on the same
    /// (or new) rules: a restart.
    mutating func restart(rules: [Rule]) throws {
        let json = engine.snapshot.compactJSON()
        let state = try EngineState.decode(json, records: stored)
        engine = AlertEngine(rules: rules, state: state)
    }
}

/// One record of a scenario: received at `at` (also the `now` it is processed at, unless batched).
struct RuleLine: Sendable {
    var at: String
    var host: String?
    var app: String?
    var message: String
    var timestamp: String?
    var sd: [StructuredDataElement]?

    var record: LogRecord { logRecord(at: at, host: host, app: app, message: message, timestamp: timestamp, sd: sd) }
}

func line(
    _ at: String, host: String? = "web-1", app: String? = "sshd", _ message: String = "Failed password for root from 10.0.0.9",
    ts: String? = nil, sd: [StructuredDataElement]? = nil
) -> RuleLine {
    RuleLine(at: at, host: host, app: app, message: message, timestamp: ts, sd: sd)
}

/// A step of a scenario.
enum RuleStep: Sendable {
    /// One record, processed when it is received.
    case log(RuleLine)
    /// Records committed together, processed at `now`.
    case batch([RuleLine], now: String)
    case tick(String)
    /// A tick every second from the first time through the second.
    case ticks(String, String)
}

/// A rule, what happens, and the changes expected (`RuleHarness.log` lines).
struct RuleScenario: Sendable, CustomTestStringConvertible {
    var name: String
    var yaml: String
    var steps: [RuleStep]
    var expected: [String]
    var testDescription: String { name }

    init(_ name: String, _ yaml: String, _ steps: [RuleStep], _ expected: [String]) {
        self.name = name
        self.yaml = yaml
        self.steps = steps
        self.expected = expected
    }

    func run() throws -> RuleHarness {
        var h = RuleHarness(try rule(yaml))
        for step in steps {
            switch step {
            case .log(let l): h.send(l.record)
            case .batch(let lines, let now): h.send(lines.map(\.record), now: now)
            case .tick(let t): h.tick(t)
            case .ticks(let from, let through): h.tick(from: from, through: through)
            }
        }
        return h
    }
}
