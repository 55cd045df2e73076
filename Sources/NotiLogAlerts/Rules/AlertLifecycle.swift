import NotiLogCore
import NotiLogStore

/// One open alert: pending (waiting out `for:`) or firing, with what it has counted and whom it has told.
/// Resolved and cancelled alerts are not kept: their last change carries everything.
struct AlertLifecycle: Sendable, Codable {
    enum Phase: String, Sendable, Codable {
        case pending, firing
    }

    /// What became of the firing notice; it decides the fate of reminders and of the resolved notice.
    enum Told: Sendable, Codable, Equatable {
        /// Not fired yet.
        case nothing
        case sent
        case silenced(Int64)
        case throttled
    }

    var serial: UInt64
    var phase: Phase
    /// When it became pending (while pending) or started firing.
    var startedAt: Nanos
    var pendingSince: Nanos?
    var count = 0
    var firstSeen: Nanos?
    var lastSeen: Nanos?
    /// Server time of the latest matching record: `resolve_after` counts from here.
    var lastMatchAt: Nanos
    var firstSamples: [AlertNotice.Sample] = []
    /// The two latest records (samples, and what silences' queries are matched against).
    var latest: [KeptRecord] = []
    var reminders = 0
    var nextReminderAt: Nanos?
    var told: Told = .nothing
    var acknowledged = false
    /// Kind-specific words for the summary (state: the report; new_value: the value).
    var detail: String?
    /// A state rule's alert raised by its restart limit (it ends once restarts fall below the limit).
    var restartLimited = false
    /// Changed since its last reported change (memory only).
    var isDirty = false

    private enum CodingKeys: String, CodingKey {
        case serial, phase, startedAt, pendingSince, count, firstSeen, lastSeen, lastMatchAt, firstSamples, latest, reminders,
            nextReminderAt, told, acknowledged, detail, restartLimited
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        serial = try c.decode(UInt64.self, forKey: .serial)
        phase = try c.decode(Phase.self, forKey: .phase)
        startedAt = try c.decode(Nanos.self, forKey: .startedAt)
        pendingSince = try c.decodeIfPresent(Nanos.self, forKey: .pendingSince)
        count = try c.decode(Int.self, forKey: .count)
        firstSeen = try c.decodeIfPresent(Nanos.self, forKey: .firstSeen)
        lastSeen = try c.decodeIfPresent(Nanos.self, forKey: .lastSeen)
        lastMatchAt = try c.decode(Nanos.self, forKey: .lastMatchAt)
        // Samples and records a compact snapshot names by id and the store no longer has are left out.
        firstSamples = try c.decode([KeptSample].self, forKey: .firstSamples).compactMap(\.sample)
        latest = try c.decode([KeptRecord].self, forKey: .latest).filter { !$0.isMissing }
        reminders = try c.decode(Int.self, forKey: .reminders)
        nextReminderAt = try c.decodeIfPresent(Nanos.self, forKey: .nextReminderAt)
        told = try c.decode(Told.self, forKey: .told)
        acknowledged = try c.decode(Bool.self, forKey: .acknowledged)
        detail = try c.decodeIfPresent(String.self, forKey: .detail)
        restartLimited = try c.decode(Bool.self, forKey: .restartLimited)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(serial, forKey: .serial)
        try c.encode(phase, forKey: .phase)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encodeIfPresent(pendingSince, forKey: .pendingSince)
        try c.encode(count, forKey: .count)
        try c.encodeIfPresent(firstSeen, forKey: .firstSeen)
        try c.encodeIfPresent(lastSeen, forKey: .lastSeen)
        try c.encode(lastMatchAt, forKey: .lastMatchAt)
        try c.encode(firstSamples.map(KeptSample.init), forKey: .firstSamples)
        try c.encode(latest, forKey: .latest)
        try c.encode(reminders, forKey: .reminders)
        try c.encodeIfPresent(nextReminderAt, forKey: .nextReminderAt)
        try c.encode(told, forKey: .told)
        try c.encode(acknowledged, forKey: .acknowledged)
        try c.encodeIfPresent(detail, forKey: .detail)
        try c.encode(restartLimited, forKey: .restartLimited)
    }

    init(serial: UInt64, now: Nanos) {
        self.serial = serial
        phase = .pending
        startedAt = now
        lastMatchAt = now
    }

    /// Counts a matching record.
    mutating func note(_ kept: KeptRecord, eventTime: Nanos, now: Nanos) {
        count += 1
        firstSeen = min(firstSeen ?? eventTime, eventTime)
        lastSeen = max(lastSeen ?? eventTime, eventTime)
        lastMatchAt = max(lastMatchAt, now)
        if firstSamples.count < 3 { firstSamples.append(kept.sample) }
        keepLatest(kept)
    }

    /// Counts a record that updates the open alert; returns whether it was already marked updated in this step.
    mutating func noteUpdate(_ kept: KeptRecord, eventTime: Nanos, now: Nanos) -> Bool {
        note(kept, eventTime: eventTime, now: now)
        defer { isDirty = true }
        return isDirty
    }

    mutating func keepLatest(_ kept: KeptRecord) {
        KeptRecord.keep(kept, in: &latest, atMost: 2)
    }

    /// The first three records and the latest two (those not already among the first).
    var samples: [AlertNotice.Sample] {
        firstSamples + latest.filter { kept in !firstSamples.contains { $0.id == kept.stored.id } }.map(\.sample)
    }

    var latestRecord: LogRecord? { latest.last?.stored.record }
}
