import NotiLogCore
import NotiLogStore

/// Replays stored records through one rule, as if it had been running: when it would have fired, reminded and
/// resolved. Users tune a rule with it before enabling it (`notilogctl rules test RULE --since 24h`).
///
/// The replay runs a fresh engine with only this rule on a clock that follows the records' reception times, and
/// ticks it every second of the replayed time between records, so absence, `for:`, reminders and
/// `resolve_after` behave as they would have live. Silences are not applied; throttling is (each change says
/// whether it would have been sent or held back). The rule starts at the beginning of the range: an absence rule
/// counts from there, and a `new_value` rule learns for its `learn_for` from there.
///
/// Only records matching the rule's query are read, newest first from the store and then replayed oldest first;
/// at most `maxRecords` of them (the replay then covers the newest ones and says so).
public enum RuleReplay {
    public struct Event: Sendable, Hashable {
        public var at: SyslogTimestamp
        public var transition: AlertChange.Transition
        public var group: [AlertNotice.GroupValue]
        public var count: Int
        public var summary: String
        /// `send`, `throttled`; nil for changes that never notify (pending, cancelled).
        public var notification: String?
        /// For a resolved alert: seconds from firing to resolution.
        public var durationSeconds: Int64?
        public var resolution: String?
    }

    public struct Result: Sendable {
        public var rule: Rule
        public var from: SyslogTimestamp
        public var to: SyslogTimestamp
        /// Matching records replayed.
        public var records: Int
        /// True when more records matched than were replayed; `from` is then the time of the oldest one replayed.
        public var truncated: Bool
        public var events: [Event]
        /// Alerts still open (pending or firing) at `to`.
        public var openAtEnd: [AlertSnapshot]

        public var fired: Int { events.count { $0.transition == .firing } }
        public var resolved: Int { events.count { $0.transition == .resolved } }
    }

    public static let defaultMaxRecords = 200_000
    /// At most this many seconds are ticked through (31 days).
    public static let maxRange: Int64 = 31 * 86_400

    public static func run(
        rule: Rule, store: any LogStore, from: SyslogTimestamp, to: SyslogTimestamp, maxRecords: Int = defaultMaxRecords
    ) async throws(StoreError) -> Result {
        var rule = rule
        rule.enabled = true
        // Newest first, a page at a time, until the range or the cap runs out.
        let bounds: [QueryNode] = [
            .term(QueryTerm(field: .receivedAt, predicate: .time(.ge, .absolute(from)))),
            .term(QueryTerm(field: .receivedAt, predicate: .time(.lt, .absolute(to)))),
        ]
        let query = Query(root: .and([rule.query.root] + bounds), text: rule.query.text)
        var newestFirst: [StoredRecord] = []
        var before: Int64? = nil
        var truncated = false
        while true {
            let want = min(10_000, maxRecords + 1 - newestFirst.count)
            let page = try await store.search(SearchRequest(query: query, now: to, limit: want, before: before))
            newestFirst += page.records
            if newestFirst.count > maxRecords {
                newestFirst.removeLast(newestFirst.count - maxRecords)
                truncated = true
                break
            }
            guard let next = page.next else { break }
            before = next
        }
        var start = from
        if truncated, let oldest = newestFirst.last?.record.receivedAt { start = oldest }
        var result = Result(rule: rule, from: start, to: to, records: newestFirst.count, truncated: truncated, events: [], openAtEnd: [])
        // Added as a reload adds a rule, so it starts (absence counts, new_value learns) at the range's start.
        var engine = AlertEngine(rules: [])
        _ = engine.update(rules: [rule], now: start)
        var clock = start.nanosecondsSinceEpoch
        let second: Int64 = 1_000_000_000
        let end = min(to.nanosecondsSinceEpoch, start.nanosecondsSinceEpoch + maxRange * second)

        func tick(until t: Int64) {
            while clock + second <= t {
                clock += second
                record(engine.tick(now: SyslogTimestamp(nanosecondsSinceEpoch: clock, fractionDigits: 6)))
            }
        }
        func record(_ changes: [AlertChange]) {
            for change in changes where change.transition != .updated {
                var notification: String? = nil
                switch change.notify {
                case .send?: notification = "send"
                case .throttled?: notification = "throttled"
                case .silenced?: notification = "silenced"
                case nil: break
                }
                result.events.append(
                    Event(
                        at: SyslogTimestamp(nanosecondsSinceEpoch: clock, fractionDigits: 6),
                        transition: change.transition, group: change.alert.group, count: change.alert.count, summary: change.alert.summary,
                        notification: notification,
                        durationSeconds: change.transition == .resolved ? change.alert.durationSeconds(now: to) : nil,
                        resolution: change.alert.resolution))
            }
        }

        for stored in newestFirst.reversed() {
            let t = stored.record.receivedAt.nanosecondsSinceEpoch
            guard t <= end else { break }
            tick(until: t)
            clock = max(clock, t)
            record(engine.process([stored], now: SyslogTimestamp(nanosecondsSinceEpoch: clock, fractionDigits: 6)))
        }
        tick(until: end)
        result.openAtEnd = engine.openAlerts
        return result
    }
}
