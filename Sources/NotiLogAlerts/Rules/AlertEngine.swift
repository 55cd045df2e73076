import NotiLogCore
import NotiLogStore

/// Evaluates rules on the stream of committed records and decides alerts: a deterministic state machine with
/// the clock passed in and no I/O. The server feeds it committed batches (`process`) and calls `tick` every
/// second; each call returns the alert changes to record, with what to notify.
///
/// Time: windows use a record's event time (`eventTime(of:)`); absence and quiet times (`resolve_after`) use
/// the server's clock, the `now` of each call. Every call first runs the timers due at its `now`, so what a
/// record does does not depend on how often `tick` ran before it.
///
/// Kinds, in short (`Rule.Condition` has the settings):
/// * match — each matching record opens or updates its group's alert; resolves after `resolve_after` without one.
/// * threshold — at least N records within a sliding window T containing the newest; resolves when the newest N
///   no longer fit in T counted back from now and `resolve_after` has passed since the last match.
/// * absence — fires at (last record of the group) + T; resolves when a matching record arrives. Groups are those
///   seen; without `group_by` the one group counts from when the rule started.
/// * state — a `ServiceReport` in a configured state opens the alert of host + unit/process; `running` resolves it
///   (a restart-limited alert once its restarts also fall to the limit).
/// * new_value — a value of the field not seen in its group (after `learn_for`) opens an alert keyed by group +
///   value; resolves like match.
///
/// Notifications: a firing notice goes out unless a silence matches (`.silenced`) or the rule's throttle has
/// let `max` firing notices of the group through within `per` (`.throttled`; counted, and summarised in the next
/// notice of the group that goes out, whatever its state). Reminders and the resolved notice follow the firing
/// one: people hear that an alert is over, or still going, only if they heard that it fired — and not while a
/// silence covers it. An alert whose firing notice a silence held is told when the silence is over if it still
/// fires. Pending, updated and cancelled changes never notify. A rule without channels sends to no channel.
public struct AlertEngine: Sendable {
    private var runtimes: [RuleRuntime] = []
    private var index = RuleIndex([])
    private var silences: [ActiveSilence] = []
    private var nextSerial: UInt64 = 1
    private var lastNow: Int64?
    /// Rules in the restored snapshot that are gone: their alerts close at the next step.
    private var orphans: [(runtime: RuleRuntime, reason: String)] = []
    /// When the restored snapshot was taken: the gap until the first step is an outage (see `RuleRuntime.shift`).
    private var restoredAt: Int64?
    /// Open alerts updated by records since `takeUpdates()` (with `defersUpdates`), each at most once.
    private var deferred: [(rule: Int, group: GroupValues)] = []

    /// When true, steps do not return `updated` changes; `takeUpdates()` returns one per alert updated since it was
    /// last called. The alerting service writes updates only every few seconds: with thousands of alerts firing,
    /// building an update for each at every step cost more than the step itself.
    public var defersUpdates = false

    /// - Parameters:
    ///   - rules: the rules to evaluate (disabled ones are left out; names are expected unique, as `RuleSet`
    ///     checks — a repeated name is ignored).
    ///   - state: a snapshot from before a restart. Rules that evaluate as they did go on where they were; the
    ///     alerts of rules now gone are resolved ("rule removed") at the first `process` or `tick`.
    public init(rules: [Rule], state: EngineState? = nil) {
        let saved = state.flatMap { $0.version == EngineState.currentVersion ? $0 : nil }
        var byName: [String: RuleState] = [:]
        for r in saved?.rules ?? [] { byName[r.name] = r }
        var built: [RuleRuntime] = []
        var names: Set<String> = []
        for rule in rules where rule.enabled && names.insert(rule.name).inserted {
            var runtime = RuleRuntime(rule: rule)
            if let s = byName.removeValue(forKey: rule.name) {
                if s.fingerprint == runtime.fingerprint {
                    runtime.restore(s)
                } else {
                    // Changed while the server was down: its old alerts close, the rule starts afresh.
                    orphans.append((RuleRuntime.orphan(s), "rule changed"))
                }
            }
            built.append(runtime)
        }
        orphans += byName.values.sorted { $0.name < $1.name }.map { (RuleRuntime.orphan($0), "rule removed") }
        runtimes = built
        index = RuleIndex(built)
        if let saved {
            nextSerial = saved.nextSerial
            restoredAt = saved.takenAt
        }
    }

    /// The rules being evaluated.
    public var rules: [Rule] { runtimes.map(\.rule) }

    /// Open (pending and firing) alerts, oldest first.
    public var openAlerts: [AlertSnapshot] {
        runtimes.flatMap { rt in rt.alerts.map { rt.snapshot($0.value, $0.key, resolvedAt: nil, resolution: nil) } }
            .sorted { $0.serial < $1.serial }
    }

    /// The time a record counts at in windows: its own timestamp when that lies within one hour before and five
    /// minutes after its reception, else its reception time (senders' clocks are attacker-controlled).
    public static func eventTime(of record: LogRecord) -> SyslogTimestamp {
        timestamp(RuleRuntime.eventTime(of: record))
    }

    // MARK: Steps

    /// Evaluates committed records (in id order) at `now`.
    public mutating func process(_ records: [StoredRecord], now: SyslogTimestamp) -> [AlertChange] {
        let nowNs = now.nanosecondsSinceEpoch
        var sink = begin(nowNs)
        let index = self.index
        let general = index.general
        let matchers = index.matchers
        // The message is tokenized once per record, not once per rule that searches it, into buffers kept from
        // record to record.
        var tokens = MessageTokens()
        var groups = RecordGroups(shapes: index.shapeCount)
        let kinds = index.kinds
        var arrivals = BatchArrivals(rules: index.hasAbsence ? runtimes.count : 0)
        // The record boxes made in this batch, by record, for the absence groups' newest records at its end.
        var boxes: [KeptRecord?] = index.hasAbsence ? Array(repeating: nil, count: records.count) : []
        // Each record is copied once (its buffers retained) for the rules to read; a record a rule keeps is boxed once.
        records.withUnsafeBufferPointer { records in
            /// Record k's box, shared by every rule that keeps the record: made when a rule first needs it.
            func box(_ k: Int, _ kept: inout KeptRecord?) -> KeptRecord {
                if let kept { return kept }
                let made = boxes.isEmpty ? KeptRecord(records[k]) : boxes[k] ?? KeptRecord(records[k])
                if !boxes.isEmpty { boxes[k] = made }
                kept = made
                return made
            }
            for k in records.indices {
                tokens.reset()
                groups.next()
                // One copy of the record for everything that reads it below: handed to functions straight from
                // the buffer, it was copied at each call (the compiler cannot tell that nothing writes there).
                let stored = records[k]
                let specific = index.specific(for: stored.record)
                var kept: KeptRecord?
                // Both lists ascend: merged, rules see a record in rule order.
                var a = 0
                var b = 0
                while a < specific.count || b < general.count {
                    let i: Int
                    if b == general.count || (a < specific.count && specific[a] < general[b]) {
                        i = specific[a]
                        a += 1
                    } else {
                        i = general[b]
                        b += 1
                    }
                    guard matchers.matches(i, stored.record, sharing: &tokens) else { continue }
                    // A state rule without a query matches every record; it acts only on service reports.
                    if kinds[i] == .state && !ServiceReport.mayDescribe(stored.record) { continue }
                    let shape = index.groupShapes[i]
                    if kinds[i] == .absence {
                        // Noted now, applied once per group at the end of the batch; an open alert resolves now.
                        let group = groups.values(shape) {
                            RuleRuntime.groupValues(of: stored.record, index.shapeFields[shape].fields, names: index.shapeFields[shape].names)
                        }
                        let t = stored.record.receivedAt.nanosecondsSinceEpoch
                        arrivals.note(rule: i, group: groups.id(shape), record: k, at: t)
                        runtimes[i].absenceEnded(group, { box(k, &kept) }, at: t, now: nowNs, &sink)
                        continue
                    }
                    runtimes[i].handle(stored, &kept, now: nowNs, index: i, groups: &groups, shape: shape, &sink)
                }
                if let kept, !boxes.isEmpty, boxes[k] == nil { boxes[k] = kept }
            }
            for i in arrivals.rules.indices where !arrivals.rules[i].touched.isEmpty {
                let shape = index.groupShapes[i]
                for id in arrivals.rules[i].touched {
                    var kept: KeptRecord?
                    let newest = box(arrivals.rules[i].newest[id], &kept)
                    runtimes[i].arrived(groups.group(shape, id), at: arrivals.rules[i].latest[id], newest: newest)
                }
            }
        }
        finish(&sink)
        return sink.changes
    }

    /// Runs the timers due at `now`: `for:` delays, reminders, `resolve_after`, absence, windows running out,
    /// silences ending. Call it every second.
    public mutating func tick(now: SyslogTimestamp) -> [AlertChange] {
        var sink = begin(now.nanosecondsSinceEpoch)
        finish(&sink)
        return sink.changes
    }

    /// One `updated` change per open alert that records changed since the last call (see `defersUpdates`).
    public mutating func takeUpdates() -> [AlertChange] {
        guard !deferred.isEmpty else { return [] }
        var sink = ChangeSink(nextSerial: nextSerial, silences: silences)
        emitDeferred(&sink)
        return sink.changes
    }

    public var hasDeferredUpdates: Bool { !deferred.isEmpty }

    private mutating func emitDeferred(_ sink: inout ChangeSink) {
        // An alert that had a transition since is no longer dirty (the transition carried it); one that closed
        // is gone: neither is reported again.
        for (i, group) in deferred { runtimes[i].emitUpdated(group, &sink) }
        deferred = []
    }

    /// Takes a new set of rules (a reload). Rules that evaluate as before keep their state and take the new
    /// presentation (channels, severity, `for`, reminders, throttle); the open alerts of removed, disabled or
    /// changed rules are resolved (or cancelled, when pending) with that reason.
    @discardableResult
    public mutating func update(rules: [Rule], now: SyslogTimestamp) -> [AlertChange] {
        let t = now.nanosecondsSinceEpoch
        var sink = begin(t)
        // Deferred updates name rules by position, which the new set changes.
        emitDeferred(&sink)
        var old: [String: RuleRuntime] = [:]
        for r in runtimes { old[r.rule.name] = r }
        var built: [RuleRuntime] = []
        var names: Set<String> = []
        for rule in rules where rule.enabled && names.insert(rule.name).inserted {
            if var runtime = old.removeValue(forKey: rule.name) {
                if runtime.fingerprint == rule.evaluationFingerprint {
                    runtime.replaceRule(rule)
                    runtime.timersDue = .min
                    built.append(runtime)
                    continue
                }
                runtime.closeAll(now: t, reason: "rule changed", &sink)
            }
            var fresh = RuleRuntime(rule: rule)
            fresh.start(now: t)
            built.append(fresh)
        }
        let disabled = Set(rules.filter { !$0.enabled }.map(\.name))
        for name in old.keys.sorted() {
            old[name]!.closeAll(now: t, reason: disabled.contains(name) ? "rule disabled" : "rule removed", &sink)
        }
        runtimes = built
        index = RuleIndex(built)
        nextSerial = sink.nextSerial
        return sink.changes
    }

    /// Replaces the silences. Expired ones are dropped; a silence that ends (or is removed) while an alert it
    /// muted still fires lets that alert's firing notice go out at the next step.
    public mutating func set(silences: [Silence], now: SyslogTimestamp) {
        let t = now.nanosecondsSinceEpoch
        self.silences = silences.map(ActiveSilence.init).filter { $0.endsAt > t }
    }

    /// Stops the reminders of the open alert under `key` until it resolves; false when there is none.
    @discardableResult
    public mutating func acknowledge(_ key: AlertKey) -> Bool {
        let group = GroupValues(key.group)
        guard let i = runtimes.firstIndex(where: { $0.rule.name == key.rule }), runtimes[i].alerts[group] != nil else {
            return false
        }
        runtimes[i].alerts[group]!.acknowledged = true
        return true
    }

    /// Everything needed to go on after a restart.
    public var snapshot: EngineState {
        EngineState(takenAt: lastNow, nextSerial: nextSerial, rules: (runtimes + orphans.map(\.runtime)).map(\.state))
    }

    // MARK: Internals

    /// Opens a step: closes what a restart left over, then runs every rule's timers.
    private mutating func begin(_ now: Int64) -> ChangeSink {
        var sink = ChangeSink(nextSerial: nextSerial, silences: silences)
        if let takenAt = restoredAt {
            restoredAt = nil
            if now > takenAt {
                for i in runtimes.indices { runtimes[i].shift(by: now - takenAt) }
            }
        }
        for i in orphans.indices { orphans[i].runtime.closeAll(now: now, reason: orphans[i].reason, &sink) }
        orphans = []
        for i in runtimes.indices { runtimes[i].tick(now: now, &sink) }
        lastNow = max(lastNow ?? now, now)
        return sink
    }

    /// Closes a step: one `updated` change per alert that records changed.
    private mutating func finish(_ sink: inout ChangeSink) {
        let dirty = sink.dirty
        sink.dirty = []
        if defersUpdates {
            // Alerts stay marked dirty until reported, so each is listed once however many steps update it.
            deferred += dirty
        } else {
            for (i, group) in dirty { runtimes[i].emitUpdated(group, &sink) }
        }
        nextSerial = sink.nextSerial
    }
}
