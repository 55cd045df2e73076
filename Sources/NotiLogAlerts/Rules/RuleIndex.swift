import NotiLogCore

/// Finds the rules a record could match without asking every rule's query.
///
/// Most rules name their program (`app:sshd "Failed password"`): a record whose app is not among a rule's apps
/// cannot match it. The index files such rules under a hash of each app name (ASCII case-folded, as the query
/// language compares it) and looks up a record's app once, without decoding it. Other rules are asked always.
/// A hash collision only means a query is asked for nothing; the query itself still decides.
struct RuleIndex: Sendable {
    private var byApp: [UInt64: [Int]] = [:]
    /// Rules without a required app, ascending.
    private(set) var general: [Int] = []
    /// The rules' queries (cheap tests first), compiled together and asked by rule index; kept apart from the
    /// rules' mutable state, so asking one costs no copy.
    let matchers: QueryMatchers
    /// Each rule's `group_by` shape: rules that group alike share a number, so a record's group values are
    /// computed once for all of them (`RecordGroups`).
    let groupShapes: [Int]
    let shapeCount: Int
    /// Each shape's `group_by` fields and their names.
    let shapeFields: [(fields: [RuleField], names: [String])]
    /// Each rule's kind: absence rules' arrivals are applied once per group and batch (`BatchArrivals`), state
    /// rules act only on service reports (`ServiceReport.mayDescribe`).
    let kinds: [Rule.Kind]
    let hasAbsence: Bool
    private static let none: [Int] = []

    init(_ runtimes: [RuleRuntime]) {
        var shapes: [[RuleField]: Int] = [:]
        var fields: [(fields: [RuleField], names: [String])] = []
        groupShapes = runtimes.map { rt in
            if let k = shapes[rt.rule.groupBy] { return k }
            shapes[rt.rule.groupBy] = shapes.count
            fields.append((rt.rule.groupBy, rt.groupFieldNames))
            return shapes.count - 1
        }
        shapeCount = shapes.count
        shapeFields = fields
        kinds = runtimes.map(\.rule.condition.kind)
        hasAbsence = kinds.contains(.absence)
        let queries = runtimes.map { QueryPlanner.cheapFirst($0.rule.query) }
        // A rule has no `now` of its own: as before, relative times in its query count from the epoch.
        matchers = QueryMatchers(queries, now: SyslogTimestamp(seconds: 0))
        for (i, q) in queries.map(\.root).enumerated() {
            guard let apps = Self.requiredApps(q) else {
                general.append(i)
                continue
            }
            for hash in Set(apps.map { Self.hash(Array($0.utf8)) }) { byApp[hash, default: []].append(i) }
        }
    }

    /// Rules that require one of the record's app (ascending); `general` holds the rest to ask.
    func specific(for record: LogRecord) -> [Int] {
        if byApp.isEmpty { return Self.none }
        return record.withBytes(of: .appName) { bytes in
            guard let bytes else { return Self.none }
            return byApp[Self.hash(bytes)] ?? Self.none
        }
    }

    /// The apps a record must have one of to match, when the query says so at its top.
    static func requiredApps(_ node: QueryNode) -> [String]? {
        switch node {
        case .term(let t):
            if t.field == .app, case .equals(let v) = t.predicate { return [v] }
            return nil
        case .and(let nodes):
            for n in nodes { if let apps = requiredApps(n) { return apps } }
            return nil
        case .or(let nodes):
            var all: [String] = []
            for n in nodes {
                guard let apps = requiredApps(n) else { return nil }
                all += apps
            }
            return all
        case .all, .not:
            return nil
        }
    }

    /// FNV-1a over ASCII-lowercased bytes.
    @inline(__always)
    static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            let folded = b &- 65 < 26 ? b | 0x20 : b
            h = (h ^ UInt64(folded)) &* 0x0000_0100_0000_01b3
        }
        return h
    }
}

/// The group values of the record being evaluated, by `group_by` shape: a record that matches many rules (every
/// record of an app matches its absence rules) builds its `[host]` group once, not once per rule. Asked for,
/// the values also get a number within the batch (`id`): the same values, the same number.
struct RecordGroups {
    private var values: [GroupValues]
    /// Which record each entry belongs to (`values[k]` is current when `stamps[k] == record`).
    private var stamps: [Int]
    private var ids: [Int]
    private var idStamps: [Int]
    private var record = 0
    /// Per shape: the batch's distinct groups, by number, and the numbers by group.
    private var distinct: [[GroupValues]]
    private var numbers: [[GroupValues: Int]]

    init(shapes: Int) {
        values = Array(repeating: [], count: shapes)
        stamps = Array(repeating: 0, count: shapes)
        ids = Array(repeating: 0, count: shapes)
        idStamps = Array(repeating: 0, count: shapes)
        distinct = Array(repeating: [], count: shapes)
        numbers = Array(repeating: [:], count: shapes)
    }

    /// Moves on to the next record (forgetting the previous one's values without touching them).
    mutating func next() {
        record += 1
    }

    /// The current record's values for a shape, computed by `make` the first time they are asked for.
    @inline(__always)
    mutating func values(_ shape: Int, _ make: () -> GroupValues) -> GroupValues {
        if stamps[shape] == record { return values[shape] }
        let made = make()
        values[shape] = made
        stamps[shape] = record
        return made
    }

    /// The number of the current record's group for a shape (its values asked for first).
    @inline(__always)
    mutating func id(_ shape: Int) -> Int {
        if idStamps[shape] == record { return ids[shape] }
        let group = values[shape]
        let id: Int
        if let known = numbers[shape][group] {
            id = known
        } else {
            id = distinct[shape].count
            numbers[shape][group] = id
            distinct[shape].append(group)
        }
        ids[shape] = id
        idStamps[shape] = record
        return id
    }

    /// The group numbered `id` for a shape in this batch.
    func group(_ shape: Int, _ id: Int) -> GroupValues {
        distinct[shape][id]
    }
}

/// Records arriving in absence rules' groups during one batch: noted per record and rule with an array write,
/// applied to each rule's groups once per group at the end of the batch (`RuleRuntime.arrived`). An absence
/// rule ("a host stopped logging", "the app went quiet") matches nearly every record of its stream, and a
/// dictionary update per record and rule was most of what it cost.
struct BatchArrivals {
    /// One absence rule's arrivals, by group number (`RecordGroups.id`).
    struct Rule {
        /// The newest record (its index in the batch), -1 for none yet.
        var newest: [Int] = []
        /// The latest reception time.
        var latest: [Nanos] = []
        /// Group numbers in the order they first had a record.
        var touched: [Int] = []

        @inline(__always)
        mutating func note(group: Int, record: Int, at t: Nanos) {
            while newest.count <= group {
                newest.append(-1)
                latest.append(.min)
            }
            if newest[group] < 0 { touched.append(group) }
            newest[group] = record
            latest[group] = max(latest[group], t)
        }
    }

    /// By rule index (empty for rules that are not absence rules).
    var rules: [Rule]

    init(rules count: Int) {
        rules = Array(repeating: Rule(), count: count)
    }

    @inline(__always)
    mutating func note(rule: Int, group: Int, record: Int, at t: Nanos) {
        rules[rule].note(group: group, record: record, at: t)
    }
}
