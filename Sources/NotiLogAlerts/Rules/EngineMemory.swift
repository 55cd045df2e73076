import NotiLogCore
import NotiLogStore

// The bounded pieces of state the engine keeps per rule and group. Each is Codable: the snapshot is made of them.

/// Nanoseconds since the epoch: the engine's time inside (cheap to compare and store).
typealias Nanos = Int64

let nanosPerSecond: Nanos = 1_000_000_000

func timestamp(_ ns: Nanos) -> SyslogTimestamp {
    SyslogTimestamp(nanosecondsSinceEpoch: ns, fractionDigits: ns % nanosPerSecond == 0 ? 0 : 6)
}

/// A group's values (one per `group_by` field, in order), as a dictionary key. The hash is computed once, when
/// the values are made: a record's values are made once per `group_by` shape (`RecordGroups`) and then looked
/// up in the dictionaries of every rule with that shape, which then hash one integer instead of the strings.
/// Encoded as the plain array it wraps.
struct GroupValues: Hashable, Sendable, Codable, RandomAccessCollection, ExpressibleByArrayLiteral {
    private(set) var values: [AlertNotice.GroupValue]
    private var hash: Int

    init(_ values: [AlertNotice.GroupValue] = []) {
        self.values = values
        hash = values.hashValue
    }

    init(arrayLiteral elements: AlertNotice.GroupValue...) {
        self.init(elements)
    }

    init(from decoder: Decoder) throws {
        self.init(try [AlertNotice.GroupValue](from: decoder))
    }

    func encode(to encoder: Encoder) throws {
        try values.encode(to: encoder)
    }

    mutating func append(_ value: AlertNotice.GroupValue) {
        values.append(value)
        hash = values.hashValue
    }

    static func == (a: GroupValues, b: GroupValues) -> Bool {
        a.hash == b.hash && a.values == b.values
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(hash)
    }

    var startIndex: Int { values.startIndex }
    var endIndex: Int { values.endIndex }
    subscript(position: Int) -> AlertNotice.GroupValue { values[position] }
}

/// A dictionary entry in the snapshot (JSON objects only have text keys).
struct GroupEntry<Value: Codable & Sendable>: Codable, Sendable {
    var group: GroupValues
    var value: Value
}

extension Dictionary where Key == GroupValues, Value: Codable & Sendable {
    var entries: [GroupEntry<Value>] { map { GroupEntry(group: $0.key, value: $0.value) } }

    init(entries: [GroupEntry<Value>]) {
        self.init(entries.map { ($0.group, $0.value) }, uniquingKeysWith: { _, last in last })
    }
}

// MARK: - Records kept for samples and silences

/// A stored record an alert keeps (its latest ones, for samples and for silences' queries), encoded field by field.
///
/// The record is shared, not copied: every rule that keeps the record being evaluated keeps the same box (made
/// once per record by `AlertEngine.process`), so keeping it costs one reference count, not a copy of the record's
/// fields and buffers.
struct KeptRecord: Sendable, Codable {
    private final class Box: Sendable {
        let stored: StoredRecord

        init(_ stored: StoredRecord) {
            self.stored = stored
        }
    }

    private let box: Box
    /// Named by a compact snapshot but no longer in the store (memory only; such records are dropped on restore).
    var isMissing = false

    init(_ stored: StoredRecord) {
        box = Box(stored)
    }

    var stored: StoredRecord { box.stored }

    /// Appends `kept` to the newest-last list `list`, dropping its oldest beyond `limit`.
    @inline(__always)
    static func keep(_ kept: KeptRecord, in list: inout [KeptRecord], atMost limit: Int) {
        if list.count < limit {
            list.append(kept)
            return
        }
        // Shifted in place: no reallocation, one release.
        for k in 1..<list.count { list.swapAt(k - 1, k) }
        list[list.count - 1] = kept
    }

    /// The record as a notice quotes it, its message cut to `AlertNotice.sampleLimit` characters.
    var sample: AlertNotice.Sample {
        let r = stored.record
        return AlertNotice.Sample(
            id: stored.id, receivedAt: r.receivedAt, hostname: r.hostname, app: r.appName, severity: r.severity,
            message: Self.cut(r.message))
    }

    static func cut(_ message: String) -> String {
        guard message.count > AlertNotice.sampleLimit else { return message }
        return String(message.prefix(AlertNotice.sampleLimit - 1)) + "…"
    }

    private enum CodingKeys: String, CodingKey {
        case id, facility, severity, timestamp, receivedAt, hostname, app, procid, msgid, sd, message, source, format
    }

    init(from decoder: any Decoder) throws {
        self = try Self.decodeEither(from: decoder)
    }

    /// The record written field by field.
    init(fields decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let sdText = try c.decodeIfPresent(String.self, forKey: .sd)
        let record = LogRecord(
            facility: try c.decodeIfPresent(UInt8.self, forKey: .facility).flatMap(Facility.init(rawValue:)),
            severity: try c.decodeIfPresent(Severity.self, forKey: .severity),
            timestamp: try c.decodeIfPresent(SyslogTimestamp.self, forKey: .timestamp),
            receivedAt: try c.decode(SyslogTimestamp.self, forKey: .receivedAt),
            hostname: try c.decodeIfPresent(String.self, forKey: .hostname),
            appName: try c.decodeIfPresent(String.self, forKey: .app),
            procID: try c.decodeIfPresent(String.self, forKey: .procid),
            msgID: try c.decodeIfPresent(String.self, forKey: .msgid),
            structuredData: sdText.flatMap(LogRecord.structuredData(fromText:)),
            message: try c.decode(String.self, forKey: .message),
            source: try c.decodeIfPresent(String.self, forKey: .source),
            format: WireFormat(rawValue: try c.decode(String.self, forKey: .format)) ?? .rfc5424)
        self.init(StoredRecord(id: try c.decode(Int64.self, forKey: .id), record: record))
    }

    func encode(to encoder: any Encoder) throws {
        if encoder.userInfo[.keptRecordsByID] as? Bool == true {
            var c = encoder.singleValueContainer()
            try c.encode(stored.id)
            return
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        let r = stored.record
        try c.encode(stored.id, forKey: .id)
        try c.encodeIfPresent(r.facility?.rawValue, forKey: .facility)
        try c.encodeIfPresent(r.severity, forKey: .severity)
        try c.encodeIfPresent(r.timestamp, forKey: .timestamp)
        try c.encode(r.receivedAt, forKey: .receivedAt)
        try c.encodeIfPresent(r.hostname, forKey: .hostname)
        try c.encodeIfPresent(r.appName, forKey: .app)
        try c.encodeIfPresent(r.procID, forKey: .procid)
        try c.encodeIfPresent(r.msgID, forKey: .msgid)
        try c.encodeIfPresent(r.structuredDataText, forKey: .sd)
        try c.encode(r.message, forKey: .message)
        try c.encodeIfPresent(r.source, forKey: .source)
        try c.encode(r.format.rawValue, forKey: .format)
    }
}

// MARK: - Threshold

/// The event times a threshold rule keeps for one group: enough to decide "at least N within T" as records come,
/// including late ones, in at most 2N times.
///
/// It keeps the N newest event times (the live stream: any window that ends at a new record lies among them) and
/// the N most recently *arrived* times (a spool flushed after an outage delivers an old burst in order: its window
/// lies among those). A record is checked against every window of N consecutive kept times that contains it.
struct ThresholdWindow: Sendable, Codable {
    /// Ascending event times.
    private(set) var times: [Nanos] = []
    /// Arrival order of each time (parallel to `times`).
    private(set) var arrivals: [Int64] = []
    private(set) var nextArrival: Int64 = 0
    /// The group's latest records, seed for an alert's first samples (memory only; dropped when the group is idle).
    var recent: [KeptRecord] = []

    /// `times` and `arrivals` are written packed (`PackedIntegers`) as `t` and `a`; snapshots from before that
    /// have them as arrays of numbers.
    private enum CodingKeys: String, CodingKey { case times, arrivals, nextArrival, t, a }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nextArrival = try c.decode(Int64.self, forKey: .nextArrival)
        if let t = try c.decodeIfPresent(String.self, forKey: .t), let a = try c.decodeIfPresent(String.self, forKey: .a) {
            guard let times = PackedIntegers.decode(t), let arrivals = PackedIntegers.decode(a), times.count == arrivals.count else {
                throw DecodingError.dataCorruptedError(forKey: .t, in: c, debugDescription: "packed window times cannot be read")
            }
            self.times = times
            self.arrivals = arrivals
        } else {
            times = try c.decode([Nanos].self, forKey: .times)
            arrivals = try c.decode([Int64].self, forKey: .arrivals)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(nextArrival, forKey: .nextArrival)
        try c.encode(PackedIntegers.encode(times), forKey: .t)
        try c.encode(PackedIntegers.encode(arrivals), forKey: .a)
    }

    /// Adds an event time; returns the burst it completes (how many times lie within one window of length
    /// `window` that contains `t`, the first and the last of them), or nil when no such window holds `threshold`.
    mutating func insert(_ t: Nanos, threshold n: Int, window: Nanos) -> (count: Int, start: Nanos, end: Nanos)? {
        var lo = 0
        var hi = times.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if times[mid] <= t { lo = mid + 1 } else { hi = mid }
        }
        let p = lo
        times.insert(t, at: p)
        arrivals.insert(nextArrival, at: p)
        nextArrival += 1

        var burst: (Int, Nanos, Nanos)? = nil
        if times.count >= n {
            var i = max(0, p - n + 1)
            while i <= p && i + n - 1 < times.count {
                // The window is half-open: records exactly T apart are not within T.
                if times[i + n - 1] - times[i] < window {
                    var j = i + n
                    while j < times.count && times[j] - times[i] < window { j += 1 }
                    burst = (j - i, times[i], times[j - 1])
                    break
                }
                i += 1
            }
        }
        if times.count > 2 * n { prune(n) }
        return burst
    }

    /// Keeps only the times among the n newest or the n latest arrivals (at most 2n; n for a stream that arrives
    /// in order). Done once the window holds more than 2n, so each insert costs O(1) amortized.
    private mutating func prune(_ n: Int) {
        let newestFrom = times.count - n
        let arrivedFrom = nextArrival - Int64(n)
        var kept = 0
        for k in times.indices where k >= newestFrom || arrivals[k] >= arrivedFrom {
            times[kept] = times[k]
            arrivals[kept] = arrivals[k]
            kept += 1
        }
        times.removeLast(times.count - kept)
        arrivals.removeLast(arrivals.count - kept)
    }

    mutating func keep(_ kept: KeptRecord) {
        KeptRecord.keep(kept, in: &recent, atMost: 3)
    }

    /// Until when the N newest times lie within one window ending now: `.min` when fewer than N are kept.
    func holdsUntil(threshold n: Int, window: Nanos) -> Nanos {
        times.count >= n ? times[times.count - n] &+ window : .min
    }

    var newest: Nanos { times.last ?? .min }
}

// MARK: - Absence

/// When an absence rule's group last had a matching record (reception time), and that record.
struct AbsenceGroup: Sendable, Codable {
    var lastSeen: Nanos
    var last: KeptRecord?

    init(lastSeen: Nanos, last: KeptRecord?) {
        self.lastSeen = lastSeen
        self.last = last
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        lastSeen = try c.decode(Nanos.self, forKey: .lastSeen)
        last = try c.decodeIfPresent(KeptRecord.self, forKey: .last).flatMap { $0.isMissing ? nil : $0 }
    }
}

// MARK: - State

/// What a state rule knows of one process or unit.
struct ServiceTrack: Sendable, Codable {
    var current: ServiceState?
    /// Event times of the latest restarts, ascending (at most max_restarts + 1).
    var restarts: [Nanos] = []
    var lastReport: String?

    mutating func noteRestart(_ t: Nanos, keep: Int) {
        let p = restarts.firstIndex(where: { $0 > t }) ?? restarts.endIndex
        restarts.insert(t, at: p)
        if restarts.count > keep { restarts.removeFirst(restarts.count - keep) }
    }

    /// Restarts within the window of length `window` that ends at `t` (inclusive of `t`).
    func restarts(within window: Nanos, endingAt t: Nanos) -> Int {
        restarts.reduce(0) { $0 + ($1 > t - window && $1 <= t ? 1 : 0) }
    }

    /// Until when more than `limit` restarts lie within one window: `.min` when no more than `limit` are kept.
    func exceedsUntil(limit: Int, window: Nanos) -> Nanos {
        restarts.count > limit ? restarts[restarts.count - limit - 1] &+ window : .min
    }
}

// MARK: - New values

/// The values a new_value rule has seen in one group: at most `capacity`, the least recently seen forgotten first
/// (a forgotten value that comes back counts as new again).
struct SeenValues: Sendable, Codable {
    static let capacity = 10_000

    /// Value → the tick it was last seen at.
    private var lastSeen: [String: Int64] = [:]
    /// (value, tick) in the order they were noted; entries whose tick is no longer the value's are stale.
    private var order: [(value: String, tick: Int64)] = []
    private var head = 0
    private var tick: Int64 = 0

    init() {}

    var count: Int { lastSeen.count }

    /// Notes a sighting; true when the value was not known.
    mutating func insert(_ value: String) -> Bool {
        tick += 1
        if let seen = lastSeen[value] {
            // Refresh only values about to age out, so a steady value costs a lookup and nothing else.
            if tick - seen > Int64(Self.capacity / 2) {
                lastSeen[value] = tick
                order.append((value, tick))
                compactIfNeeded()
            }
            return false
        }
        lastSeen[value] = tick
        order.append((value, tick))
        while lastSeen.count > Self.capacity {
            let (v, t) = order[head]
            head += 1
            if lastSeen[v] == t { lastSeen[v] = nil }
        }
        compactIfNeeded()
        return true
    }

    private mutating func compactIfNeeded() {
        guard head > Self.capacity || order.count - head > 3 * Self.capacity else { return }
        order = order[head...].filter { lastSeen[$0.value] == $0.tick }
        head = 0
    }

    /// Least recently seen first.
    var valuesInOrder: [String] { order[head...].filter { lastSeen[$0.value] == $0.tick }.map(\.value) }

    init(from decoder: any Decoder) throws {
        let values = try decoder.singleValueContainer().decode([String].self)
        for v in values { _ = insert(v) }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(valuesInOrder)
    }
}

// MARK: - Throttle

/// A rule's throttle for one group: when firing notices went out, and what was held back since the last notice.
struct ThrottleState: Sendable, Codable {
    /// Times of the firing notices sent within the period, ascending.
    var sent: [Nanos] = []
    var held = 0
    /// Hosts of the held-back alerts and how often (bounded: beyond 1000 distinct hosts only the count grows).
    var hosts: [String: Int] = [:]

    /// True (and counted) when one more firing notice fits in the period ending now.
    mutating func admit(now: Nanos, _ throttle: Rule.Throttle) -> Bool {
        sent.removeAll { $0 <= now - throttle.per.nanoseconds }
        guard sent.count < throttle.max else { return false }
        sent.append(now)
        return true
    }

    mutating func hold(host: String?) {
        held += 1
        if let host, hosts[host] != nil || hosts.count < 1000 { hosts[host, default: 0] += 1 }
    }

    /// What was held back, for the notice going out now; resets the count.
    mutating func takeSuppressed() -> AlertNotice.Suppressed? {
        guard held > 0 else { return nil }
        let top = hosts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map(\.key)
        let suppressed = AlertNotice.Suppressed(count: held, topHosts: top)
        held = 0
        hosts = [:]
        return suppressed
    }

    func isIdle(now: Nanos, per: Nanos?) -> Bool {
        held == 0 && (per.map { p in sent.allSatisfy { $0 <= now - p } } ?? true)
    }
}
