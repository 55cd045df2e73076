import Foundation
import NotiLogCore
import NotiLogStore

/// Where the changes of one engine step go, with what every rule needs while making them.
struct ChangeSink {
    var changes: [AlertChange] = []
    var nextSerial: UInt64
    let silences: [ActiveSilence]
    /// Alerts updated in this step, to report once each at its end.
    var dirty: [(rule: Int, group: GroupValues)] = []

    mutating func takeSerial() -> UInt64 {
        defer { nextSerial += 1 }
        return nextSerial
    }

    /// The first silence active now that matches the alert.
    func silence(rule: String, group: GroupValues, latest: LogRecord?, now: Nanos) -> ActiveSilence? {
        silences.first { $0.isActive(at: now) && $0.matches(rule: rule, group: group.values, latest: latest) }
    }
}

/// The engine's working state for one rule: the groups it tracks and its open alerts (its query is compiled
/// with all the others' in `RuleIndex`).
///
/// The kinds share the lifecycle (`open`, `advance`, `close`) and differ in what a record does (`handle`) and
/// in when an open alert's condition ends (`end`).
struct RuleRuntime: Sendable {
    private(set) var rule: Rule
    let fingerprint: String
    /// `group_by` field names, computed once (an `sd.` name is built from parts).
    let groupFieldNames: [String]
    /// When the rule was first evaluated (new_value learns from here; an ungrouped absence counts from here).
    var startedAt: Nanos?
    var alerts: [GroupValues: AlertLifecycle] = [:]
    var throttles: [GroupValues: ThrottleState] = [:]
    var windows: [GroupValues: ThresholdWindow] = [:]
    var quiet: [GroupValues: AbsenceGroup] = [:]
    var services: [GroupValues: ServiceTrack] = [:]
    var seen: [GroupValues: SeenValues] = [:]
    /// No absence group is due before this (a lower bound: records only move deadlines later).
    var absenceDue: Nanos = .max
    var sweepDue: Nanos = .min
    /// No open alert needs its timers looked at before this (lowered whenever an alert opens or may end sooner).
    var timersDue: Nanos = .min

    /// Late records count at their own time for at most this long after it (see `eventTime(of:)`).
    static let lateHorizon: Nanos = 3600 * nanosPerSecond
    static let sweepInterval: Nanos = 60 * nanosPerSecond

    init(rule: Rule) {
        self.rule = rule
        fingerprint = rule.evaluationFingerprint
        groupFieldNames = rule.groupBy.map(\.description)
    }

    /// Takes a changed presentation (channels, severity, `for`, ...) of the same evaluation.
    mutating func replaceRule(_ newRule: Rule) {
        rule = newRule
    }

    var resolveAfter: Nanos { rule.resolveAfter.nanoseconds }

    // MARK: Time

    /// The time a record counts at: its own timestamp when that lies within an hour before and five minutes after
    /// its reception, else its reception (senders' clocks are not to be trusted further).
    static func eventTime(of record: LogRecord) -> Nanos {
        let received = record.receivedAt.nanosecondsSinceEpoch
        guard let ts = record.timestamp?.nanosecondsSinceEpoch else { return received }
        return ts >= received - lateHorizon && ts <= received + 300 * nanosPerSecond ? ts : received
    }

    func groupValues(of record: LogRecord) -> GroupValues {
        Self.groupValues(of: record, rule.groupBy, names: groupFieldNames)
    }

    static func groupValues(of record: LogRecord, _ fields: [RuleField], names: [String]) -> GroupValues {
        var out: [AlertNotice.GroupValue] = []
        out.reserveCapacity(fields.count)
        for (i, field) in fields.enumerated() {
            out.append(AlertNotice.GroupValue(field: names[i], value: field.value(in: record)))
        }
        return GroupValues(out)
    }

    /// Marks the start of evaluation (once).
    mutating func start(now: Nanos) {
        guard startedAt == nil else { return }
        startedAt = now
        if case .absence(let window) = rule.condition, rule.groupBy.isEmpty, quiet[[]] == nil {
            quiet[[]] = AbsenceGroup(lastSeen: now, last: nil)
            absenceDue = min(absenceDue, now &+ window.nanoseconds)
        }
    }

    // MARK: Records

    /// A record the rule's query matched (any kind but absence). `groups` holds the record's group values for the
    /// rules that matched it so far (`shape` is this rule's `group_by` in it).
    mutating func handle(
        _ stored: StoredRecord, _ box: inout KeptRecord?, now: Nanos, index: Int, groups: inout RecordGroups, shape: Int,
        _ sink: inout ChangeSink
    ) {
        let record = stored.record
        // The record's box, shared by every rule that keeps the record: made when one first does (most matching
        // records are only counted or looked up).
        var kept: KeptRecord {
            if let box { return box }
            let made = KeptRecord(stored)
            box = made
            return made
        }
        switch rule.condition {
        case .match:
            let group = groups.values(shape) { groupValues(of: record) }
            let t = Self.eventTime(of: record)
            if noteIfOpen(group, { kept }, t, now, index, &sink) { return }
            open(group, now: now, &sink) { $0.note(kept, eventTime: t, now: now) }

        case .threshold(let n, let window):
            let group = groups.values(shape) { groupValues(of: record) }
            let t = Self.eventTime(of: record)
            // One lookup: the group's window is updated in place.
            let burst = Self.count(&windows[group, default: ThresholdWindow()], t, n, window.nanoseconds, kept)
            if noteIfOpen(group, { kept }, t, now, index, &sink) { return }
            guard let burst else { return }
            let recent = windows[group]!.recent
            open(group, now: now, &sink) { a in
                a.count = burst.count
                a.firstSeen = burst.start
                a.lastSeen = burst.end
                a.lastMatchAt = now
                a.firstSamples = recent.map(\.sample)
                a.latest = [kept]
            }

        case .absence:
            preconditionFailure("absence rules take their records in AlertEngine.process (BatchArrivals, absenceEnded)")

        case .state(let states, let limit):
            guard let report = ServiceReport(record) else { return }
            var values = [
                AlertNotice.GroupValue(field: "host", value: record.hostname),
                AlertNotice.GroupValue(field: report.kind.rawValue, value: report.name),
            ]
            for (i, field) in rule.groupBy.enumerated() where field != .host {
                values.append(AlertNotice.GroupValue(field: groupFieldNames[i], value: field.value(in: record)))
            }
            let group = GroupValues(values)
            let t = Self.eventTime(of: record)
            services[group, default: ServiceTrack()].current = report.state
            services[group]!.lastReport = report.summary
            if report.state == .restarting, let limit { services[group]!.noteRestart(t, keep: limit.count + 1) }
            let label = "\(report.name) on \(record.hostname ?? "an unnamed host")"

            if report.state == .running {
                guard let open = alerts[group] else { return }
                // A restart-limited alert may now end when its restarts age out: its timer changes.
                timersDue = min(timersDue, now)
                if open.restartLimited, let limit,
                    services[group]!.exceedsUntil(limit: limit.count, window: limit.window.nanoseconds) > now
                {
                    _ = noteIfOpen(group, { kept }, t, now, index, &sink)
                    return
                }
                alerts[group]!.keepLatest(kept)
                close(group, now: now, reason: "running again", &sink)
                return
            }
            if noteIfOpen(group, { kept }, t, now, index, &sink) { return }
            guard states.contains(report.state) else { return }
            var detail = "\(label) \(report.summary)"
            var limited = false
            if report.state == .restarting, let limit {
                let restarts = services[group]!.restarts(within: limit.window.nanoseconds, endingAt: t)
                guard restarts > limit.count else { return }
                detail = "\(label) restarted \(restarts) times within \(limit.window)"
                limited = true
            }
            open(group, now: now, &sink) { a in
                a.note(kept, eventTime: t, now: now)
                a.detail = detail
                a.restartLimited = limited
            }

        case .newValue(let field, let learnFor):
            guard let value = field.value(in: record) else { return }
            let base = groups.values(shape) { groupValues(of: record) }
            let isNew = seen[base, default: SeenValues()].insert(value)
            if !isNew && alerts.isEmpty { return }
            let group = GroupValues(base.values + [AlertNotice.GroupValue(field: field.description, value: value)])
            let t = Self.eventTime(of: record)
            if noteIfOpen(group, { kept }, t, now, index, &sink) { return }
            guard isNew, let started = startedAt, now >= started &+ learnFor.nanoseconds else { return }
            open(group, now: now, &sink) { a in
                a.note(kept, eventTime: t, now: now)
                a.detail = value
            }
        }
    }

    /// Records arrived in an absence group: `t` is the latest reception time among them (absence is about
    /// records arriving, so it runs on the server's clock, not the sender's), `kept` the newest record.
    mutating func arrived(_ group: GroupValues, at t: Nanos, newest kept: KeptRecord) {
        guard case .absence(let window) = rule.condition else { return }
        // One lookup: the group's entry is updated in place.
        let lastSeen = Self.arrived(&quiet[group, default: AbsenceGroup(lastSeen: t, last: nil)], t, kept)
        absenceDue = min(absenceDue, lastSeen &+ window.nanoseconds)
    }

    /// A record arrived in an absence group: its open alert, if any, resolves (`kept` is asked for only then).
    mutating func absenceEnded(_ group: GroupValues, _ kept: () -> KeptRecord, at t: Nanos, now: Nanos, _ sink: inout ChangeSink) {
        // Most records find no open alert: no hashing then.
        guard !alerts.isEmpty, alerts[group] != nil else { return }
        alerts[group]!.keepLatest(kept())
        alerts[group]!.lastSeen = t
        close(group, now: now, reason: "a matching record arrived", &sink)
    }

    /// Adds a record's time to a threshold group's window; returns the burst it completes, if any.
    private static func count(
        _ w: inout ThresholdWindow, _ t: Nanos, _ n: Int, _ window: Nanos, _ kept: KeptRecord
    ) -> (count: Int, start: Nanos, end: Nanos)? {
        let burst = w.insert(t, threshold: n, window: window)
        w.keep(kept)
        return burst
    }

    /// Notes a record's arrival in an absence group; returns when the group last had one.
    private static func arrived(_ g: inout AbsenceGroup, _ t: Nanos, _ kept: KeptRecord) -> Nanos {
        g.lastSeen = max(g.lastSeen, t)
        g.last = kept
        return g.lastSeen
    }

    /// Counts the record in the group's open alert; false when the group has none.
    private mutating func noteIfOpen(
        _ group: GroupValues, _ kept: () -> KeptRecord, _ t: Nanos, _ now: Nanos, _ index: Int, _ sink: inout ChangeSink
    ) -> Bool {
        // Most records find no open alert: no hashing then.
        if alerts.isEmpty { return false }
        // One lookup: the alert is counted in place.
        guard let wasDirty = alerts[group]?.noteUpdate(kept(), eventTime: t, now: now) else { return false }
        if !wasDirty { sink.dirty.append((index, group)) }
        return true
    }

    // MARK: Lifecycle

    /// Opens an alert: pending when the rule has `for:`, else firing.
    private mutating func open(_ group: GroupValues, now: Nanos, _ sink: inout ChangeSink, _ setup: (inout AlertLifecycle) -> Void) {
        var a = AlertLifecycle(serial: sink.takeSerial(), now: now)
        setup(&a)
        timersDue = min(timersDue, now)
        if rule.pendingFor != nil {
            a.pendingSince = now
            emit(.pending, &a, group, notify: nil, &sink)
        } else {
            fire(&a, group, now: now, &sink)
        }
        alerts[group] = a
    }

    private mutating func fire(_ a: inout AlertLifecycle, _ group: GroupValues, now: Nanos, _ sink: inout ChangeSink) {
        a.phase = .firing
        a.startedAt = now
        a.nextReminderAt = rule.repeatInterval.map { now &+ $0.nanoseconds }
        let delivery = deliverFiring(&a, group, now: now, &sink)
        emit(.firing, &a, group, notify: delivery, &sink)
    }

    /// Resolves (firing) or cancels (pending) the group's alert.
    mutating func close(_ group: GroupValues, now: Nanos, reason: String, _ sink: inout ChangeSink) {
        guard var a = alerts.removeValue(forKey: group) else { return }
        if a.phase == .pending {
            emit(.cancelled, &a, group, notify: nil, resolvedAt: now, resolution: reason, &sink)
        } else {
            let delivery = deliverResolved(a, group, now: now, &sink)
            emit(.resolved, &a, group, notify: delivery, resolvedAt: now, resolution: reason, &sink)
        }
    }

    /// Closes every open alert (the rule was removed, changed or disabled).
    mutating func closeAll(now: Nanos, reason: String, _ sink: inout ChangeSink) {
        for group in alerts.keys.sorted(by: { alerts[$0]!.serial < alerts[$1]!.serial }) {
            close(group, now: now, reason: reason, &sink)
        }
    }

    /// When the condition of an open alert ends (or ended), and why; nil when only a record can end it.
    private func end(of a: AlertLifecycle, _ group: GroupValues) -> (at: Nanos, reason: String)? {
        switch rule.condition {
        case .match, .newValue:
            return (a.lastMatchAt &+ resolveAfter, "no matching record for \(rule.resolveAfter)")
        case .threshold(let n, let window):
            let holds = windows[group]?.holdsUntil(threshold: n, window: window.nanoseconds) ?? .min
            if a.phase == .pending { return (holds, "fewer than \(n) matching records within \(window)") }
            return (max(holds, a.lastMatchAt &+ resolveAfter), "fewer than \(n) matching records within \(window), none for \(rule.resolveAfter)")
        case .absence:
            return nil
        case .state(_, let limit):
            guard a.restartLimited, let limit, let track = services[group], track.current == .running else { return nil }
            return (
                track.exceedsUntil(limit: limit.count, window: limit.window.nanoseconds),
                "running again, \(limit.count) or fewer restarts within \(limit.window)"
            )
        }
    }

    /// Moves an open alert on in time: `for:` elapsed, condition over, silence ended, reminder due. Returns when
    /// it next needs looking at (`.max`: only a record can change it).
    private mutating func advance(_ group: GroupValues, now: Nanos, _ sink: inout ChangeSink) -> Nanos {
        guard var a = alerts.removeValue(forKey: group) else { return .max }
        let ending = end(of: a, group)
        if a.phase == .pending {
            let fireAt = (a.pendingSince ?? a.startedAt) &+ (rule.pendingFor?.nanoseconds ?? 0)
            if let ending, ending.at <= fireAt, now >= ending.at {
                emit(.cancelled, &a, group, notify: nil, resolvedAt: now, resolution: ending.reason, &sink)
                return .max
            }
            guard now >= fireAt else {
                alerts[group] = a
                return min(fireAt, ending?.at ?? .max)
            }
            fire(&a, group, now: now, &sink)
        }
        if let ending, now >= ending.at {
            let delivery = deliverResolved(a, group, now: now, &sink)
            emit(.resolved, &a, group, notify: delivery, resolvedAt: now, resolution: ending.reason, &sink)
            return .max
        }
        var due = ending?.at ?? .max
        // A firing notice held by a silence goes out when the silence is over and the alert still fires.
        if case .silenced = a.told {
            if sink.silence(rule: rule.name, group: group, latest: a.latestRecord, now: now) == nil {
                let delivery = deliverFiring(&a, group, now: now, &sink)
                emit(.firing, &a, group, notify: delivery, &sink)
            }
            // Silences come and go between steps: look again at the next one.
            if case .silenced = a.told { due = now &+ 1 }
        }
        if let interval = rule.repeatInterval?.nanoseconds, !a.acknowledged {
            var next = a.nextReminderAt ?? (a.startedAt &+ interval)
            if now >= next {
                // One reminder however many intervals a late tick skipped.
                while next <= now { next &+= interval }
                a.nextReminderAt = next
                a.reminders += 1
                let delivery = deliverReminder(&a, group, now: now, &sink)
                emit(.reminder, &a, group, notify: delivery, &sink)
            } else {
                a.nextReminderAt = next
            }
            due = min(due, next)
        }
        alerts[group] = a
        return due
    }

    /// Timers: open alerts, absence deadlines, and the sweep of idle groups.
    mutating func tick(now: Nanos, _ sink: inout ChangeSink) {
        start(now: now)
        if !alerts.isEmpty && now >= timersDue {
            var due = Nanos.max
            for group in alerts.keys.sorted(by: { alerts[$0]!.serial < alerts[$1]!.serial }) {
                due = min(due, advance(group, now: now, &sink))
            }
            timersDue = due
        }
        if case .absence(let window) = rule.condition, now >= absenceDue {
            var due = Nanos.max
            // In the order groups went quiet (then by group), so simultaneous alerts come out in a stable order.
            let ordered = quiet.sorted {
                $0.value.lastSeen != $1.value.lastSeen
                    ? $0.value.lastSeen < $1.value.lastSeen
                    : AlertKey(rule: "", group: $0.key.values).groupKey < AlertKey(rule: "", group: $1.key.values).groupKey
            }
            for (group, state) in ordered where alerts[group] == nil {
                let deadline = state.lastSeen &+ window.nanoseconds
                guard now >= deadline else {
                    due = min(due, deadline)
                    continue
                }
                open(group, now: now, &sink) { a in
                    a.firstSeen = state.last == nil ? nil : state.lastSeen
                    a.lastSeen = a.firstSeen
                    a.lastMatchAt = state.lastSeen
                    if let last = state.last {
                        a.firstSamples = [last.sample]
                        a.latest = [last]
                    }
                }
            }
            absenceDue = due
        }
        if now >= sweepDue {
            sweep(now: now)
            sweepDue = now &+ Self.sweepInterval
        }
    }

    /// Forgets what can no longer matter, so state stays bounded by activity rather than by history.
    private mutating func sweep(now: Nanos) {
        switch rule.condition {
        case .threshold(_, let window):
            let w = window.nanoseconds
            // A late record can still land up to an hour back and join times a window before it.
            windows = windows.filter { $0.value.newest > now - w - Self.lateHorizon || alerts[$0.key] != nil }
            for group in Array(windows.keys) where windows[group]!.newest <= now - w && !windows[group]!.recent.isEmpty {
                windows[group]!.recent = []
            }
        case .state(_, let limit):
            let w = limit?.window.nanoseconds ?? 0
            services = services.filter { alerts[$0.key] != nil || ($0.value.restarts.last ?? .min) > now - w }
        default:
            break
        }
        let per = rule.throttle?.per.nanoseconds
        throttles = throttles.filter { !$0.value.isIdle(now: now, per: per) }
    }

    // MARK: Notifications

    private func throttleGroup(_ group: GroupValues) -> GroupValues {
        // A new_value alert's group ends with the new value; throttling is per the rule's own groups.
        if case .newValue = rule.condition { return GroupValues(Array(group.values.dropLast())) }
        return group
    }

    private func host(of a: AlertLifecycle, _ group: GroupValues) -> String? {
        if let g = group.first(where: { $0.field == "host" }) { return g.value }
        return a.latestRecord?.hostname
    }

    private mutating func deliverFiring(
        _ a: inout AlertLifecycle, _ group: GroupValues, now: Nanos, _ sink: inout ChangeSink
    ) -> AlertChange.Delivery {
        if let s = sink.silence(rule: rule.name, group: group, latest: a.latestRecord, now: now) {
            a.told = .silenced(s.silence.id)
            return .silenced(by: s.silence.id)
        }
        let key = throttleGroup(group)
        if let throttle = rule.throttle {
            if !throttles[key, default: ThrottleState()].admit(now: now, throttle) {
                throttles[key]!.hold(host: host(of: a, group))
                a.told = .throttled
                return .throttled
            }
        }
        a.told = .sent
        return .send(channels: rule.channels, suppressed: throttles[key]?.takeSuppressed())
    }

    private mutating func deliverReminder(
        _ a: inout AlertLifecycle, _ group: GroupValues, now: Nanos, _ sink: inout ChangeSink
    ) -> AlertChange.Delivery {
        if case .throttled = a.told { return .throttled }
        if let s = sink.silence(rule: rule.name, group: group, latest: a.latestRecord, now: now) { return .silenced(by: s.silence.id) }
        if case .silenced(let id) = a.told { return .silenced(by: id) }
        return .send(channels: rule.channels, suppressed: throttles[throttleGroup(group)]?.takeSuppressed())
    }

    /// People hear that an alert is over only if they heard that it fired.
    private mutating func deliverResolved(
        _ a: AlertLifecycle, _ group: GroupValues, now: Nanos, _ sink: inout ChangeSink
    ) -> AlertChange.Delivery? {
        switch a.told {
        case .nothing: return nil
        case .throttled: return .throttled
        case .silenced(let id):
            return .silenced(by: sink.silence(rule: rule.name, group: group, latest: a.latestRecord, now: now)?.silence.id ?? id)
        case .sent:
            if let s = sink.silence(rule: rule.name, group: group, latest: a.latestRecord, now: now) { return .silenced(by: s.silence.id) }
            return .send(channels: rule.channels, suppressed: throttles[throttleGroup(group)]?.takeSuppressed())
        }
    }

    // MARK: Changes

    private func emit(
        _ transition: AlertChange.Transition, _ a: inout AlertLifecycle, _ group: GroupValues, notify: AlertChange.Delivery?,
        resolvedAt: Nanos? = nil, resolution: String? = nil, _ sink: inout ChangeSink
    ) {
        a.isDirty = false
        sink.changes.append(
            AlertChange(
                key: AlertKey(rule: rule.name, group: group.values), transition: transition,
                alert: snapshot(a, group, resolvedAt: resolvedAt, resolution: resolution), notify: notify))
    }

    /// Reports an alert updated during the step (once, at its end).
    mutating func emitUpdated(_ group: GroupValues, _ sink: inout ChangeSink) {
        guard var a = alerts[group], a.isDirty else { return }
        emit(.updated, &a, group, notify: nil, &sink)
        alerts[group]!.isDirty = false
    }

    func snapshot(_ a: AlertLifecycle, _ group: GroupValues, resolvedAt: Nanos?, resolution: String?) -> AlertSnapshot {
        AlertSnapshot(
            serial: a.serial, rule: rule.name, ruleDescription: rule.description, kind: rule.kind, severity: rule.severity,
            group: group.values, pending: a.phase == .pending, count: a.count, firstSeen: a.firstSeen.map(timestamp),
            lastSeen: a.lastSeen.map(timestamp), startedAt: timestamp(a.startedAt), resolvedAt: resolvedAt.map(timestamp),
            resolution: resolution, samples: a.samples, reminderNumber: a.reminders, acknowledged: a.acknowledged,
            summary: summary(a, group), searchQuery: searchQuery(group))
    }

    private func summary(_ a: AlertLifecycle, _ group: GroupValues) -> String {
        let records = a.count == 1 ? "1 matching record" : "\(a.count) matching records"
        switch rule.condition {
        case .match:
            return records
        case .threshold(let n, let window):
            return "\(records) (at least \(n) within \(window))"
        case .absence(let window):
            let since = a.latest.isEmpty ? "since the rule started" : a.firstSeen.map { "since \(timestamp($0))" } ?? ""
            return "no matching record for \(window) (\(since))"
        case .state:
            return a.detail ?? records
        case .newValue(let field, _):
            let base = group.dropLast().map { "\($0.field)=\($0.value ?? "-")" }.joined(separator: ", ")
            return "new \(field) \"\(a.detail ?? "")\"" + (base.isEmpty ? "" : " for \(base)")
        }
    }

    /// The rule's query narrowed to the group, in the query language (for a link to the alert's records).
    private func searchQuery(_ group: GroupValues) -> String {
        Rule.searchQuery(ruleQuery: rule.query.text, group: group.values)
    }
}
