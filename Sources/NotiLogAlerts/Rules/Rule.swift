import NotiLogCore

/// One alerting rule: which records it watches (`query`), what about them raises an alert (`condition`), how
/// alerts are grouped, and how they are told (`channels`, `for`, `repeat_interval`, `throttle`).
///
/// Rules come from YAML (`RuleSet.load`) or are built in code; either way the engine takes them as they are, so
/// build them through `RuleSet` when they come from people.
public struct Rule: Sendable, Hashable {
    /// Where a rule was defined; it names the file in problems and marks the rule in listings.
    public enum Origin: Sendable, Hashable, CustomStringConvertible {
        /// The `rules:` list of the server configuration file.
        case config(file: String)
        /// A file in the `rules.d/` directory.
        case file(String)
        /// Stored in the database through the API.
        case api

        public var description: String {
            switch self {
            case .config(let file): file
            case .file(let path): path
            case .api: "api"
            }
        }
    }

    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        case match, threshold, absence, state
        case newValue = "new_value"
    }

    /// What raises an alert, with the settings of that kind.
    public enum Condition: Sendable, Hashable {
        /// Every matching record raises (or updates) the alert of its group.
        case match
        /// At least `count` matching records within a sliding `window`, per group.
        case threshold(count: Int, window: RuleDuration)
        /// No matching record for `window`, per group.
        case absence(window: RuleDuration)
        /// A process or unit reported in one of `states` (see `ServiceReport`); with `restartLimit`, `restarting`
        /// fires only when more than `restartLimit.count` restarts happen within `restartLimit.window`.
        case state(states: Set<ServiceState>, restartLimit: RestartLimit?)
        /// A value of `field` not seen before in its group; nothing fires during the first `learnFor`.
        case newValue(field: RuleField, learnFor: RuleDuration)

        public var kind: Kind {
            switch self {
            case .match: .match
            case .threshold: .threshold
            case .absence: .absence
            case .state: .state
            case .newValue: .newValue
            }
        }
    }

    /// `max_restarts` and `window` of a state rule.
    public struct RestartLimit: Sendable, Hashable {
        public var count: Int
        public var window: RuleDuration

        public init(count: Int, window: RuleDuration) {
            self.count = count
            self.window = window
        }
    }

    /// At most `max` firing notifications per rule and group within `per`.
    public struct Throttle: Sendable, Hashable {
        public var max: Int
        public var per: RuleDuration

        public init(max: Int, per: RuleDuration) {
            self.max = max
            self.per = per
        }
    }

    public static let defaultResolveAfter = RuleDuration.minutes(5)
    public static let defaultLearnFor = RuleDuration.hours(1)

    public var name: String
    public var description: String?
    public var condition: Condition
    /// Which records the rule considers (`Query.all` when the rule gives none).
    public var query: Query
    public var groupBy: [RuleField]
    public var enabled: Bool
    /// A free label (`critical`, `warning`), passed to notifications.
    public var severity: String?
    public var channels: [String]
    /// `for:` — how long the condition must hold before the alert fires (it is `pending` meanwhile).
    public var pendingFor: RuleDuration?
    /// Reminders while the alert keeps firing.
    public var repeatInterval: RuleDuration?
    /// match, threshold, new_value: quiet time without a matching record after which the alert resolves.
    public var resolveAfter: RuleDuration
    public var throttle: Throttle?
    public var origin: Origin

    public var kind: Kind { condition.kind }

    public init(
        name: String, description: String? = nil, condition: Condition, query: Query = .all, groupBy: [RuleField] = [],
        enabled: Bool = true, severity: String? = nil, channels: [String] = [], pendingFor: RuleDuration? = nil,
        repeatInterval: RuleDuration? = nil, resolveAfter: RuleDuration = Rule.defaultResolveAfter, throttle: Throttle? = nil,
        origin: Origin = .api
    ) {
        self.name = name
        self.description = description
        self.condition = condition
        self.query = query
        self.groupBy = groupBy
        self.enabled = enabled
        self.severity = severity
        self.channels = channels
        self.pendingFor = pendingFor
        self.repeatInterval = repeatInterval
        self.resolveAfter = resolveAfter
        self.throttle = throttle
        self.origin = origin
    }

    /// What decides the rule's state: when it changes, windows, seen values and open alerts no longer apply.
    /// Presentation (channels, severity, description, `for`, reminders, throttle) can change without losing state.
    var evaluationFingerprint: String {
        var text = "\(kind.rawValue)|\(query.text)|\(groupBy.map(\.description).joined(separator: ","))|"
        switch condition {
        case .match: break
        case .threshold(let n, let w): text += "\(n)/\(w)"
        case .absence(let w): text += "\(w)"
        case .state(let states, let limit):
            text += states.map(\.rawValue).sorted().joined(separator: ",")
            if let limit { text += "|\(limit.count)/\(limit.window)" }
        case .newValue(let field, let learn): text += "\(field)|\(learn)"
        }
        return text
    }
}

/// A field of a record that rules group by (`group_by`) or watch (`new_value`'s `field`).
public enum RuleField: Sendable, Hashable, CustomStringConvertible {
    case host, app, procid, msgid, source, facility, severity
    /// A structured-data parameter, `sd.ID.PARAM` (the first value of PARAM in the first element ID).
    case sd(id: String, param: String)

    /// Reads `host`, `app`, `procid`, `msgid`, `source`, `facility`, `severity` or `sd.ID.PARAM`.
    public init?(_ text: String) {
        switch text {
        case "host": self = .host
        case "app": self = .app
        case "procid": self = .procid
        case "msgid": self = .msgid
        case "source": self = .source
        case "facility": self = .facility
        case "severity": self = .severity
        default:
            // As in the query language: the SD-ID may contain dots, the parameter is after the last one.
            guard text.hasPrefix("sd.") else { return nil }
            let rest = text.dropFirst(3)
            guard let dot = rest.lastIndex(of: "."), dot != rest.startIndex, rest.index(after: dot) != rest.endIndex else {
                return nil
            }
            self = .sd(id: String(rest[..<dot]), param: String(rest[rest.index(after: dot)...]))
        }
    }

    public var description: String {
        switch self {
        case .host: "host"
        case .app: "app"
        case .procid: "procid"
        case .msgid: "msgid"
        case .source: "source"
        case .facility: "facility"
        case .severity: "severity"
        case .sd(let id, let param): "sd.\(id).\(param)"
        }
    }

    /// The field's value in a record; nil when the record does not have it.
    public func value(in record: LogRecord) -> String? {
        switch self {
        case .host: record.hostname
        case .app: record.appName
        case .procid: record.procID
        case .msgid: record.msgID
        case .source: record.source
        case .facility: record.facility?.name
        case .severity: record.severity?.name
        case .sd(let id, let param): record.structuredDataValue(id: id, param: param)
        }
    }

    /// The same field in the query language, for an alert's search link.
    var queryTerm: String { description }
}

/// What a process or systemd unit was reported doing (see `ServiceReport`).
public enum ServiceState: String, Sendable, Hashable, CaseIterable, Codable {
    case running, stopped, crashed, restarting
}
