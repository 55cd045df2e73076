import NotiLogCore

/// Everything the engine needs to go on after a restart: per rule its windows, seen values, quiet timers, unit
/// states, throttles and open alerts. Encode it (JSON) whenever convenient — on shutdown and every few seconds —
/// and pass it to `AlertEngine(rules:state:)`.
///
/// The state of a rule is reused only while the rule evaluates the same way (same kind, query, group_by and
/// kind settings); otherwise that rule starts afresh and its open alerts are closed.
public struct EngineState: Sendable, Codable {
    public static let currentVersion = 1

    /// Format version; a snapshot of another version is ignored (every rule starts afresh).
    public var version: Int
    /// The engine's latest `now` when the snapshot was taken (nanoseconds since the epoch).
    var takenAt: Int64?
    var nextSerial: UInt64
    var rules: [RuleState]
    /// The records a compact snapshot names by id (`compactJSON()`); nil in a plain one.
    var recordIDs: [Int64]?

    init(takenAt: Int64?, nextSerial: UInt64, rules: [RuleState]) {
        version = Self.currentVersion
        self.takenAt = takenAt
        self.nextSerial = nextSerial
        self.rules = rules
    }

    /// When the snapshot was taken (the engine's latest step), if it had taken any.
    public var takenAtTime: SyslogTimestamp? { takenAt.map(timestamp) }
    /// How many alerts are open (pending or firing) in the snapshot.
    public var openAlertCount: Int { rules.reduce(0) { $0 + $1.alerts.count } }
}

/// One rule's part of the snapshot. The presentation fields let alerts of a rule removed while the server was
/// down still be resolved, and told, on the right channels.
struct RuleState: Sendable, Codable {
    var name: String
    var fingerprint: String
    var kind: Rule.Kind
    var description: String?
    var severity: String?
    var channels: [String]
    var query: String
    var startedAt: Int64?
    var alerts: [GroupEntry<AlertLifecycle>]
    var throttles: [GroupEntry<ThrottleState>]
    var windows: [GroupEntry<ThresholdWindow>]
    var quiet: [GroupEntry<AbsenceGroup>]
    var services: [GroupEntry<ServiceTrack>]
    var seen: [GroupEntry<SeenValues>]
}

extension RuleRuntime {
    var state: RuleState {
        RuleState(
            name: rule.name, fingerprint: fingerprint, kind: rule.kind, description: rule.description, severity: rule.severity,
            channels: rule.channels, query: rule.query.text, startedAt: startedAt,
            alerts: alerts.entries.sorted { $0.value.serial < $1.value.serial }, throttles: throttles.entries,
            windows: windows.entries, quiet: quiet.entries, services: services.entries, seen: seen.entries)
    }

    /// Takes over a rule's saved state (the caller checked that it evaluates the same way).
    mutating func restore(_ saved: RuleState) {
        startedAt = saved.startedAt
        alerts = Dictionary(entries: saved.alerts)
        throttles = Dictionary(entries: saved.throttles)
        windows = Dictionary(entries: saved.windows)
        quiet = Dictionary(entries: saved.quiet)
        services = Dictionary(entries: saved.services)
        seen = Dictionary(entries: saved.seen)
        absenceDue = .min
        timersDue = .min
    }

    /// A rule known only from a snapshot (it was removed while the server was down): enough to close its alerts.
    static func orphan(_ saved: RuleState) -> RuleRuntime {
        let condition: Rule.Condition =
            switch saved.kind {
            case .match: .match
            case .threshold: .threshold(count: 1, window: .seconds(1))
            case .absence: .absence(window: .seconds(1))
            case .state: .state(states: [], restartLimit: nil)
            case .newValue: .newValue(field: .host, learnFor: .seconds(0))
            }
        let query = (try? QueryParser.parse(saved.query)) ?? .all
        var runtime = RuleRuntime(
            rule: Rule(
                name: saved.name, description: saved.description, condition: condition, query: query, severity: saved.severity,
                channels: saved.channels))
        runtime.alerts = Dictionary(entries: saved.alerts)
        runtime.startedAt = saved.startedAt
        return runtime
    }

    /// The server was down for `outage`: records could not arrive, so quiet time does not count it. Absence
    /// timers and `resolve_after` go on where they stopped.
    mutating func shift(by outage: Nanos) {
        for group in Array(quiet.keys) { quiet[group]!.lastSeen &+= outage }
        for group in Array(alerts.keys) { alerts[group]!.lastMatchAt &+= outage }
        absenceDue = .min
        timersDue = .min
    }
}
