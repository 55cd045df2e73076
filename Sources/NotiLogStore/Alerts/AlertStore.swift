import NotiLogCore

/// Alerts, their notifications, and the rule engine's state — written together so that nothing waits in memory
/// only: an alert change, the notifications it causes (the outbox) and the engine state that led to it commit in
/// one transaction, and delivery workers send from the outbox afterwards (at least once, with backoff).
///
/// The store knows alerts as rows and notices as JSON; the rule engine and the notifiers (NotiLogAlerts) give
/// them meaning.
public protocol AlertStore: Sendable {
    /// The engine's state as last committed (nil before the first commit).
    func engineState() async throws(StoreError) -> EngineStateRow?
    /// Applies alert changes and queues their notifications, with the engine state after them, in one transaction.
    /// Returns each change's alert id, in order.
    func commitAlerts(_ changes: [AlertRowChange], engineState: EngineStateRow, at: SyslogTimestamp) async throws(StoreError) -> [Int64]
    /// Alerts newest first: open ones (pending, firing) and past ones.
    func alerts(_ filter: AlertFilter) async throws(StoreError) -> [AlertRow]
    func alert(id: Int64) async throws(StoreError) -> AlertRow?
    /// Marks an alert as seen by someone; returns nil when there is no such alert.
    func acknowledgeAlert(id: Int64, by: String, at: SyslogTimestamp) async throws(StoreError) -> AlertRow?

    /// The oldest undelivered notification of each channel that is due (one per channel keeps each channel's
    /// notifications in order, and a channel that is backing off holds back only itself).
    func dueNotifications(at: SyslogTimestamp, limit: Int) async throws(StoreError) -> [OutboxItem]
    /// Records one delivery attempt and its outcome; a retry is due again at `retryAt`.
    func recordAttempt(_ attempt: DeliveryAttempt) async throws(StoreError)
    /// Queues a notification outside an alert change (a fallback channel's report, a channel test); false when
    /// one with the same idempotency key exists.
    func enqueueNotification(_ entry: OutboxEntry, alertID: Int64?, at: SyslogTimestamp) async throws(StoreError) -> Bool
    /// Notifications newest first, with their attempts.
    func notifications(alertID: Int64?, limit: Int) async throws(StoreError) -> [OutboxItem]
    func deliveryLog(outboxID: Int64) async throws(StoreError) -> [DeliveryAttempt]
    /// One channel's notifications newest first (the web UI's delivery log).
    func notifications(channel: String, limit: Int) async throws(StoreError) -> [OutboxItem]

    func silences(includeExpired: Bool, at: SyslogTimestamp) async throws(StoreError) -> [SilenceRow]
    func addSilence(_ silence: SilenceRow) async throws(StoreError) -> SilenceRow
    /// Ends a silence now; nil when there is no such silence.
    func expireSilence(id: Int64, at: SyslogTimestamp) async throws(StoreError) -> SilenceRow?

    /// Rules created through the API, by name.
    func storedRules() async throws(StoreError) -> [StoredRuleRow]
    /// Saves a rule created through the API: a new one when `replacing` is false (false returned when the name is
    /// taken), else the definition of an existing one (false when there is none).
    func saveRule(_ rule: StoredRuleRow, replacing: Bool) async throws(StoreError) -> Bool
    /// Deletes a rule created through the API, and its enabled/disabled setting; false when there is none.
    func deleteRule(name: String) async throws(StoreError) -> Bool
    /// Rules turned on or off through the API, whatever their origin (a file's rule can be disabled too).
    func ruleToggles() async throws(StoreError) -> [RuleToggleRow]
    func setRuleToggle(_ toggle: RuleToggleRow) async throws(StoreError)
}

/// A rule created through the API: its definition as YAML (one rule mapping, as in a rules file).
public struct StoredRuleRow: Sendable, Hashable {
    public var name: String
    public var definition: String
    public var createdBy: String
    public var createdAt: SyslogTimestamp
    public var updatedBy: String
    public var updatedAt: SyslogTimestamp

    public init(name: String, definition: String, createdBy: String, createdAt: SyslogTimestamp, updatedBy: String, updatedAt: SyslogTimestamp) {
        self.name = name
        self.definition = definition
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.updatedBy = updatedBy
        self.updatedAt = updatedAt
    }
}

/// A rule enabled or disabled through the API; it outlasts reloads and restarts until changed again.
public struct RuleToggleRow: Sendable, Hashable {
    public var name: String
    public var enabled: Bool
    public var changedBy: String
    public var changedAt: SyslogTimestamp

    public init(name: String, enabled: Bool, changedBy: String, changedAt: SyslogTimestamp) {
        self.name = name
        self.enabled = enabled
        self.changedBy = changedBy
        self.changedAt = changedAt
    }
}

/// The rule engine's serialized state, and the last record id it has processed (so that after a restart it
/// reads what was committed meanwhile from the store).
public struct EngineStateRow: Sendable, Hashable {
    public var state: [UInt8]
    public var processedUpTo: Int64

    public init(state: [UInt8], processedUpTo: Int64) {
        self.state = state
        self.processedUpTo = processedUpTo
    }
}

public enum AlertRowState: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, firing, resolved, cancelled

    public var isOpen: Bool { self == .pending || self == .firing }
}

/// One change of one alert. An open alert (pending or firing) is identified by rule + group key: a change to
/// such a key updates it; a change to a key with no open alert starts a new one.
public struct AlertRowChange: Sendable {
    public var rule: String
    /// The group values in a canonical text form (equal groups, equal keys).
    public var groupKey: String
    public var state: AlertRowState
    public var count: Int
    public var startedAt: SyslogTimestamp
    public var resolvedAt: SyslogTimestamp?
    /// JSON: everything else the UI and API show (group values, samples, summary, first/last seen).
    public var detail: String
    /// The notifications this change sends, made once the alert's id is known.
    public var notices: @Sendable (_ alertID: Int64) -> [OutboxEntry]

    public init(
        rule: String, groupKey: String, state: AlertRowState, count: Int, startedAt: SyslogTimestamp,
        resolvedAt: SyslogTimestamp?, detail: String, notices: @escaping @Sendable (_ alertID: Int64) -> [OutboxEntry]
    ) {
        self.rule = rule
        self.groupKey = groupKey
        self.state = state
        self.count = count
        self.startedAt = startedAt
        self.resolvedAt = resolvedAt
        self.detail = detail
        self.notices = notices
    }
}

/// A notification to send: the channel's name, the key that makes sending it idempotent, and the notice (JSON).
public struct OutboxEntry: Sendable, Hashable {
    public var channel: String
    public var idempotencyKey: String
    public var notice: String

    public init(channel: String, idempotencyKey: String, notice: String) {
        self.channel = channel
        self.idempotencyKey = idempotencyKey
        self.notice = notice
    }
}

public struct AlertRow: Sendable, Hashable {
    public var id: Int64
    public var rule: String
    public var groupKey: String
    public var state: AlertRowState
    public var count: Int
    public var startedAt: SyslogTimestamp
    public var updatedAt: SyslogTimestamp
    public var resolvedAt: SyslogTimestamp?
    public var detail: String
    public var acknowledgedAt: SyslogTimestamp?
    public var acknowledgedBy: String?
}

public struct AlertFilter: Sendable, Hashable {
    /// Only alerts in these states (nil: any).
    public var states: Set<AlertRowState>?
    public var rule: String?
    /// Alerts with an id below this (keyset pagination, newest first).
    public var before: Int64?
    public var limit: Int

    /// Pending and firing.
    public static let open = Set(AlertRowState.allCases.filter(\.isOpen))
    /// Resolved and cancelled.
    public static let closed = Set(AlertRowState.allCases.filter { !$0.isOpen })

    public init(states: Set<AlertRowState>? = nil, rule: String? = nil, before: Int64? = nil, limit: Int = 100) {
        self.states = states
        self.rule = rule
        self.before = before
        self.limit = limit
    }
}

public enum OutboxState: String, Sendable, Hashable, Codable {
    /// Not delivered yet (first try or a retry is due at `nextAttemptAt`).
    case pending
    case delivered
    /// Given up: a permanent error, or retries beyond the maximum age.
    case failed
}

public struct OutboxItem: Sendable, Hashable {
    public var id: Int64
    public var alertID: Int64?
    public var channel: String
    public var idempotencyKey: String
    public var notice: String
    public var createdAt: SyslogTimestamp
    public var nextAttemptAt: SyslogTimestamp
    public var attempts: Int
    public var state: OutboxState
    public var lastError: String?
    public var doneAt: SyslogTimestamp?
    /// Set once the channel's fallback has been told about this notification.
    public var fallbackNotifiedAt: SyslogTimestamp?
}

public struct DeliveryAttempt: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case delivered, retry, failed
    }

    public var outboxID: Int64
    public var at: SyslogTimestamp
    public var outcome: Outcome
    /// What the channel answered (message id, SMTP reply, HTTP status and error text).
    public var detail: String
    /// For `retry`: when to try again.
    public var retryAt: SyslogTimestamp?
    /// The fallback channel was told about this notification with this attempt.
    public var fallbackNotified: Bool

    public init(
        outboxID: Int64, at: SyslogTimestamp, outcome: Outcome, detail: String, retryAt: SyslogTimestamp? = nil,
        fallbackNotified: Bool = false
    ) {
        self.outboxID = outboxID
        self.at = at
        self.outcome = outcome
        self.detail = detail
        self.retryAt = retryAt
        self.fallbackNotified = fallbackNotified
    }
}

public struct SilenceRow: Sendable, Hashable {
    public var id: Int64
    /// JSON: what it matches (rule, group values, query), as the rule engine reads it.
    public var matchers: String
    public var startsAt: SyslogTimestamp
    public var endsAt: SyslogTimestamp
    public var comment: String
    public var createdBy: String
    public var createdAt: SyslogTimestamp

    public init(
        id: Int64 = 0, matchers: String, startsAt: SyslogTimestamp, endsAt: SyslogTimestamp, comment: String, createdBy: String,
        createdAt: SyslogTimestamp
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.comment = comment
        self.createdBy = createdBy
        self.createdAt = createdAt
    }
}
