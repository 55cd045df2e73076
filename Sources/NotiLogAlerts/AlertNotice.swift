import NotiLogCore

/// What one notification says: an alert's state change, as the engine decided it and a channel renders it.
///
/// The engine (rules → alert changes) produces these; the outbox stores them as JSON (`Codable`) in the same
/// transaction as the alert change; a notifier renders one for its channel (Telegram HTML, an email, a webhook
/// payload). Everything in here that came from a log record is attacker-controlled text: renderers escape it.
public struct AlertNotice: Sendable, Hashable, Codable {
    public enum State: String, Sendable, Hashable, Codable {
        /// The alert started (after its `for:` delay, when it has one).
        case firing
        /// The alert is still firing (`repeat_interval`).
        case reminder
        /// The alert is over.
        case resolved
        /// A test message from `POST /api/v1/channels/{name}/test`.
        case test
    }

    /// One group-by field and its value (`host` = `web-07`).
    public struct GroupValue: Sendable, Hashable, Codable {
        public var field: String
        /// nil when the records had no such field.
        public var value: String?

        public init(field: String, value: String?) {
            self.field = field
            self.value = value
        }
    }

    /// A log line quoted in the notice.
    public struct Sample: Sendable, Hashable, Codable {
        /// The stored record's id (for a link to it), when it was stored.
        public var id: Int64?
        public var receivedAt: SyslogTimestamp
        public var hostname: String?
        public var app: String?
        public var severity: Severity?
        /// The message, cut to at most `AlertNotice.sampleLimit` characters (the cut is marked with "…").
        public var message: String

        public init(id: Int64?, receivedAt: SyslogTimestamp, hostname: String?, app: String?, severity: Severity?, message: String) {
            self.id = id
            self.receivedAt = receivedAt
            self.hostname = hostname
            self.app = app
            self.severity = severity
            self.message = message
        }
    }

    /// What throttling held back since the last notice of this alert's rule and group.
    public struct Suppressed: Sendable, Hashable, Codable {
        public var count: Int
        /// The most frequent host names among the held-back notices' records, most frequent first (at most 5).
        public var topHosts: [String]

        public init(count: Int, topHosts: [String]) {
            self.count = count
            self.topHosts = topHosts
        }
    }

    /// Longest sample message kept, in characters.
    public static let sampleLimit = 500

    /// The alert's id in the store (stable across its firing, reminders and resolution).
    public var alertID: Int64
    public var rule: String
    public var ruleDescription: String?
    /// The rule's severity label (`critical`, `warning`, ... as the rule says), when it has one.
    public var severity: String?
    public var state: State
    public var group: [GroupValue]
    /// Matching records counted while the alert fired (for an absence alert: 0).
    public var count: Int
    public var firstSeen: SyslogTimestamp?
    public var lastSeen: SyslogTimestamp?
    /// When the alert started firing.
    public var startedAt: SyslogTimestamp
    /// When it resolved (state `resolved`).
    public var resolvedAt: SyslogTimestamp?
    /// A few lines: the first ones that matched and the latest.
    public var samples: [Sample]
    public var suppressed: Suppressed?
    /// Reminders sent before this one (state `reminder`).
    public var reminderNumber: Int
    /// The search for this alert's records in the web UI (from `public_url`), when configured.
    public var searchURL: String?
    /// A one-line, plain-text explanation from the engine ("12 matches in 60 s", "no record for 15 m").
    public var summary: String

    public init(
        alertID: Int64, rule: String, ruleDescription: String? = nil, severity: String? = nil, state: State,
        group: [GroupValue] = [], count: Int = 0, firstSeen: SyslogTimestamp? = nil, lastSeen: SyslogTimestamp? = nil,
        startedAt: SyslogTimestamp, resolvedAt: SyslogTimestamp? = nil, samples: [Sample] = [], suppressed: Suppressed? = nil,
        reminderNumber: Int = 0, searchURL: String? = nil, summary: String
    ) {
        self.alertID = alertID
        self.rule = rule
        self.ruleDescription = ruleDescription
        self.severity = severity
        self.state = state
        self.group = group
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.startedAt = startedAt
        self.resolvedAt = resolvedAt
        self.samples = samples
        self.suppressed = suppressed
        self.reminderNumber = reminderNumber
        self.searchURL = searchURL
        self.summary = summary
    }

    /// The idempotency key of this notice on a channel: a channel receives each (alert, state, reminder) once.
    public func idempotencyKey(channel: String) -> String {
        "\(alertID):\(channel):\(state.rawValue)" + (state == .reminder ? ":\(reminderNumber)" : "")
    }
}
