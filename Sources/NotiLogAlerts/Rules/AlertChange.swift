import Foundation
import NotiLogCore

/// Which alert: a rule and the values of its group. At most one alert per key is open (pending or firing) at a
/// time; after it resolves, the next one under the same key is a new alert (a new `AlertSnapshot.serial`).
public struct AlertKey: Sendable, Hashable, Codable, CustomStringConvertible {
    public var rule: String
    public var group: [AlertNotice.GroupValue]

    public init(rule: String, group: [AlertNotice.GroupValue]) {
        self.rule = rule
        self.group = group
    }

    /// The group values in one canonical text form (equal groups, equal keys): `host="web-1" sd.origin.ip="10.0.0.9"`,
    /// a missing value as `field=null`, `"` and `\` escaped; empty for an ungrouped rule.
    public var groupKey: String {
        group.map { g in
            guard let v = g.value else { return "\(g.field)=null" }
            return "\(g.field)=\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }.joined(separator: " ")
    }

    /// `ssh-brute-force{host=web-1, sd.origin.ip=10.0.0.9}`.
    public var description: String {
        rule + "{" + group.map { "\($0.field)=\($0.value ?? "-")" }.joined(separator: ", ") + "}"
    }
}

/// One thing that happened to an alert, as `AlertEngine` reports it. The server records each change in the
/// alerts table and, for `.send`, writes one `AlertNotice` per channel into the outbox in the same transaction.
public struct AlertChange: Sendable, Hashable {
    public enum Transition: String, Sendable, Hashable, Codable {
        /// The condition holds, waiting for the rule's `for:` delay (no notification).
        case pending
        /// The alert fires — or, for an alert whose firing was silenced, the silence ended while it still fires.
        case firing
        /// More records for an open alert: count, last seen and samples changed (no notification). At most one per
        /// alert per `process` call.
        case updated
        /// Still firing after another `repeat_interval`.
        case reminder
        /// Over (`alert.resolvedAt`, `alert.resolution`).
        case resolved
        /// A pending alert whose condition ended before `for:` elapsed; it never fired (no notification).
        case cancelled
    }

    /// What to do about notifications for this change.
    public enum Delivery: Sendable, Hashable {
        /// Write one notice per channel; `suppressed` summarises what throttling held back since the last notice of
        /// this rule and group.
        case send(channels: [String], suppressed: AlertNotice.Suppressed?)
        /// A silence mutes it (the silence's id).
        case silenced(by: Int64)
        /// The rule's `throttle` holds it back; it is counted in the next notice that goes out.
        case throttled
    }

    public var key: AlertKey
    public var transition: Transition
    public var alert: AlertSnapshot
    /// nil for changes that never notify (pending, updated, cancelled).
    public var notify: Delivery?

    public init(key: AlertKey, transition: Transition, alert: AlertSnapshot, notify: Delivery?) {
        self.key = key
        self.transition = transition
        self.alert = alert
        self.notify = notify
    }

    /// The notice state of this transition, for those that notify.
    public var noticeState: AlertNotice.State? {
        switch transition {
        case .firing: .firing
        case .reminder: .reminder
        case .resolved: .resolved
        case .pending, .updated, .cancelled: nil
        }
    }

    /// The notices to write for this change: one per channel when it is to be sent, none otherwise.
    public func notices(alertID: Int64, searchURL: String?) -> [(channel: String, notice: AlertNotice)] {
        guard case .send(let channels, let suppressed)? = notify, let state = noticeState else { return [] }
        let notice = alert.notice(alertID: alertID, state: state, searchURL: searchURL, suppressed: suppressed)
        return channels.map { ($0, notice) }
    }
}

/// An alert as it stands after a change: what the alerts table keeps and what notices say.
public struct AlertSnapshot: Sendable, Hashable, Codable {
    /// Numbers the alerts of one engine's state, in the order they started (kept in the snapshot, so it goes on
    /// after a restart): a flapping rule's alerts under one key have different serials.
    public var serial: UInt64
    public var rule: String
    public var ruleDescription: String?
    public var kind: Rule.Kind
    /// The rule's severity label.
    public var severity: String?
    public var group: [AlertNotice.GroupValue]
    public var pending: Bool
    /// Matching records counted for the alert (for an absence alert: 0).
    public var count: Int
    /// Event times of the first and latest records counted (for an absence alert: the last record before the gap).
    public var firstSeen: SyslogTimestamp?
    public var lastSeen: SyslogTimestamp?
    /// When the alert started firing (while pending: when it became pending).
    public var startedAt: SyslogTimestamp
    public var resolvedAt: SyslogTimestamp?
    /// Why it resolved or was cancelled (`no matching record for 5m`, `running again`, `rule removed`).
    public var resolution: String?
    /// The first three records and the latest two, messages cut to `AlertNotice.sampleLimit` characters.
    public var samples: [AlertNotice.Sample]
    /// Reminders so far: 0 until the first reminder, which is number 1.
    public var reminderNumber: Int
    public var acknowledged: Bool
    /// One plain-text line from the engine (`7 matching records within 1m`, `no matching record for 15m`).
    public var summary: String
    /// The query language text that finds this alert's records: the rule's query narrowed to the group.
    public var searchQuery: String

    public init(
        serial: UInt64, rule: String, ruleDescription: String?, kind: Rule.Kind, severity: String?, group: [AlertNotice.GroupValue],
        pending: Bool, count: Int, firstSeen: SyslogTimestamp?, lastSeen: SyslogTimestamp?, startedAt: SyslogTimestamp,
        resolvedAt: SyslogTimestamp?, resolution: String?, samples: [AlertNotice.Sample], reminderNumber: Int, acknowledged: Bool,
        summary: String, searchQuery: String
    ) {
        self.serial = serial
        self.rule = rule
        self.ruleDescription = ruleDescription
        self.kind = kind
        self.severity = severity
        self.group = group
        self.pending = pending
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.startedAt = startedAt
        self.resolvedAt = resolvedAt
        self.resolution = resolution
        self.samples = samples
        self.reminderNumber = reminderNumber
        self.acknowledged = acknowledged
        self.summary = summary
        self.searchQuery = searchQuery
    }

    /// Seconds from start to resolution (or to `now` while open).
    public func durationSeconds(now: SyslogTimestamp) -> Int64 {
        (resolvedAt ?? now).seconds - startedAt.seconds
    }

    /// The notice a channel receives for this alert. `AlertNotice.reminderNumber` counts the reminders before this
    /// one (its documented meaning), so the first reminder has 0 there.
    public func notice(
        alertID: Int64, state: AlertNotice.State, searchURL: String?, suppressed: AlertNotice.Suppressed? = nil
    ) -> AlertNotice {
        var text = summary
        if state == .resolved, let resolvedAt {
            text += " — resolved after \(RuleDuration(seconds: max(0, resolvedAt.seconds - startedAt.seconds)))"
            if let resolution { text += " (\(resolution))" }
        }
        return AlertNotice(
            alertID: alertID, rule: rule, ruleDescription: ruleDescription, severity: severity, state: state, group: group,
            count: count, firstSeen: firstSeen, lastSeen: lastSeen, startedAt: startedAt, resolvedAt: resolvedAt, samples: samples,
            suppressed: suppressed, reminderNumber: state == .reminder ? max(reminderNumber - 1, 0) : 0, searchURL: searchURL,
            summary: text)
    }
}
