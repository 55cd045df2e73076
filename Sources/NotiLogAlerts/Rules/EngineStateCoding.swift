import Foundation
import NotiLogCore
import NotiLogStore

// The engine's snapshot as the alerting service saves it: small enough to write with every batch of alert
// changes. With 200 rules and 4,000 firing alerts the plain JSON snapshot was 13 MB (7.7 MB of them the records
// alerts keep for samples, 5.4 MB threshold windows' times), encoded up to four times a second: a fifth of the
// server's CPU under load. The compact form names each kept record by its id (the record is in the store; the
// service reads it back on start) and packs the windows' times, about a tenth of the size.

extension CodingUserInfoKey {
    /// `true`: kept records are written as their ids only (`EngineState.compactJSON`).
    static let keptRecordsByID = CodingUserInfoKey(rawValue: "notilog.keptRecordsByID")!
    /// A `KeptRecordLookup`: the records a compact snapshot names, read from the store.
    static let keptRecordLookup = CodingUserInfoKey(rawValue: "notilog.keptRecordLookup")!
}

/// The stored records a compact snapshot names, by id. A record no longer stored (retention) is missing: the
/// alert that kept it goes on without that sample.
final class KeptRecordLookup: Sendable {
    let records: [Int64: StoredRecord]

    init(_ records: [Int64: StoredRecord]) {
        self.records = records
    }
}

extension EngineState {
    /// The snapshot with kept records by id and packed windows, and the ids it names (`recordIDs`): the JSON
    /// `JSONEncoder` writes of it with `keptRecordsByID` set, written directly (`JSONWriter`).
    public func compactJSON() -> [UInt8] {
        var w = JSONWriter(capacity: 64 * 1024)
        w.beginObject()
        w.field("version", version)
        w.field("takenAt", takenAt)
        w.field("nextSerial", nextSerial)
        w.key("rules")
        w.beginArray()
        for rule in rules { rule.writeCompact(&w) }
        w.endArray()
        w.key("recordIDs")
        w.ints(Array(Set(rules.flatMap(\.keptRecordIDs))).sorted())
        w.endObject()
        return w.bytes
    }

    /// Reads a snapshot written by `compactJSON()` (or a plain one), fetching the records it names with `records`.
    public static func decode(_ bytes: [UInt8], records: ([Int64]) async throws -> [StoredRecord]) async throws -> EngineState {
        struct Names: Decodable { var recordIDs: [Int64]? }
        let ids = try JSONDecoder().decode(Names.self, from: Data(bytes)).recordIDs ?? []
        return try decode(bytes, records: ids.isEmpty ? [] : try await records(ids))
    }

    /// Reads a snapshot with the records it names (those still stored).
    static func decode(_ bytes: [UInt8], records: [StoredRecord]) throws -> EngineState {
        var found: [Int64: StoredRecord] = [:]
        for r in records { found[r.id] = r }
        let decoder = JSONDecoder()
        decoder.userInfo[.keptRecordLookup] = KeptRecordLookup(found)
        var state = try decoder.decode(EngineState.self, from: Data(bytes))
        state.recordIDs = nil
        return state
    }
}

extension RuleState {
    /// The ids of the records this rule's state keeps (alerts' samples and latest records, absence groups' last).
    var keptRecordIDs: [Int64] {
        var ids: [Int64] = []
        for entry in alerts {
            ids += entry.value.firstSamples.compactMap(\.id)
            ids += entry.value.latest.map(\.stored.id)
        }
        for entry in quiet { if let last = entry.value.last { ids.append(last.stored.id) } }
        return ids
    }
}

/// Ascending-ish integers (event times, arrival numbers) as base64 of zigzag LEB128 deltas: a few bytes each
/// instead of twenty digits, and one JSON string instead of an array of numbers.
enum PackedIntegers {
    static func encode(_ values: [Int64]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        var previous: Int64 = 0
        for v in values {
            let delta = v &- previous
            previous = v
            var z = UInt64(bitPattern: (delta << 1) ^ (delta >> 63))
            while z >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: z) | 0x80)
                z >>= 7
            }
            bytes.append(UInt8(z))
        }
        return Data(bytes).base64EncodedString()
    }

    static func decode(_ text: String) -> [Int64]? {
        guard let data = Data(base64Encoded: text) else { return nil }
        var values: [Int64] = []
        var previous: Int64 = 0
        var z: UInt64 = 0
        var shift: UInt64 = 0
        for b in data {
            guard shift < 64 else { return nil }
            z |= UInt64(b & 0x7f) << shift
            if b & 0x80 != 0 {
                shift += 7
                continue
            }
            let delta = Int64(bitPattern: z >> 1) ^ -Int64(bitPattern: z & 1)
            previous = previous &+ delta
            values.append(previous)
            z = 0
            shift = 0
        }
        return shift == 0 ? values : nil
    }
}

// MARK: - Kept records by id

extension KeptRecord {
    /// A record named by a compact snapshot that the store no longer has.
    static func missing(_ id: Int64) -> KeptRecord {
        var kept = KeptRecord(StoredRecord(id: id, record: LogRecord(receivedAt: SyslogTimestamp(seconds: 0), message: "")))
        kept.isMissing = true
        return kept
    }

    /// An id (compact snapshot) or the whole record.
    static func decodeEither(from decoder: any Decoder) throws -> KeptRecord {
        if let id = try? decoder.singleValueContainer().decode(Int64.self) { return named(id, in: decoder) ?? .missing(id) }
        return try KeptRecord(fields: decoder)
    }

    /// The record a compact snapshot names by `id`, from the decoder's lookup; nil when the store no longer has it.
    static func named(_ id: Int64, in decoder: any Decoder) -> KeptRecord? {
        (decoder.userInfo[.keptRecordLookup] as? KeptRecordLookup)?.records[id].map(KeptRecord.init)
    }
}

/// An alert's first sample: its record's id in a compact snapshot (when it has one), else the sample itself.
struct KeptSample: Codable {
    var sample: AlertNotice.Sample?

    init(_ sample: AlertNotice.Sample) {
        self.sample = sample
    }

    init(from decoder: any Decoder) throws {
        if let id = try? decoder.singleValueContainer().decode(Int64.self) {
            sample = KeptRecord.named(id, in: decoder)?.sample
        } else {
            sample = try AlertNotice.Sample(from: decoder)
        }
    }

    func encode(to encoder: any Encoder) throws {
        guard let sample else { return }
        if encoder.userInfo[.keptRecordsByID] as? Bool == true, let id = sample.id {
            var c = encoder.singleValueContainer()
            try c.encode(id)
        } else {
            try sample.encode(to: encoder)
        }
    }
}

// MARK: - The compact snapshot, written directly
// Each piece writes what its `Codable` conformance writes with `keptRecordsByID` (optionals left out when nil,
// as synthesized conformances do); `SnapshotJSONTests` checks that the two agree.

extension RuleState {
    func writeCompact(_ w: inout JSONWriter) {
        w.beginObject()
        w.field("name", name)
        w.field("fingerprint", fingerprint)
        w.field("kind", kind.rawValue)
        w.field("description", description)
        w.field("severity", severity)
        w.key("channels")
        w.strings(channels)
        w.field("query", query)
        w.field("startedAt", startedAt)
        w.key("alerts")
        Self.write(alerts, &w) { $0.writeCompact(&$1) }
        w.key("throttles")
        Self.write(throttles, &w) { $0.writeCompact(&$1) }
        w.key("windows")
        Self.write(windows, &w) { $0.writeCompact(&$1) }
        w.key("quiet")
        Self.write(quiet, &w) { $0.writeCompact(&$1) }
        w.key("services")
        Self.write(services, &w) { $0.writeCompact(&$1) }
        w.key("seen")
        Self.write(seen, &w) { $1.strings($0.valuesInOrder) }
        w.endObject()
    }

    private static func write<Value>(_ entries: [GroupEntry<Value>], _ w: inout JSONWriter, _ value: (Value, inout JSONWriter) -> Void) {
        w.beginArray()
        for entry in entries {
            w.beginObject()
            w.key("group")
            entry.group.write(&w)
            w.key("value")
            value(entry.value, &w)
            w.endObject()
        }
        w.endArray()
    }
}

extension GroupValues {
    func write(_ w: inout JSONWriter) {
        AlertNotice.GroupValue.write(values, &w)
    }
}

extension AlertLifecycle {
    func writeCompact(_ w: inout JSONWriter) {
        w.beginObject()
        w.field("serial", serial)
        w.field("phase", phase.rawValue)
        w.field("startedAt", startedAt)
        w.field("pendingSince", pendingSince)
        w.field("count", count)
        w.field("firstSeen", firstSeen)
        w.field("lastSeen", lastSeen)
        w.field("lastMatchAt", lastMatchAt)
        w.key("firstSamples")
        w.beginArray()
        for sample in firstSamples {
            // By id (`KeptSample`); a sample without one is written whole.
            if let id = sample.id { w.int(id) } else { sample.write(&w, snakeCase: false) }
        }
        w.endArray()
        w.key("latest")
        w.ints(latest.map(\.stored.id))
        w.field("reminders", reminders)
        w.field("nextReminderAt", nextReminderAt)
        w.key("told")
        // A synthesized enum conformance: `{"case":{}}`, values as `_0`.
        w.beginObject()
        switch told {
        case .nothing:
            w.key("nothing")
            w.emptyObject()
        case .sent:
            w.key("sent")
            w.emptyObject()
        case .silenced(let id):
            w.key("silenced")
            w.beginObject()
            w.field("_0", id)
            w.endObject()
        case .throttled:
            w.key("throttled")
            w.emptyObject()
        }
        w.endObject()
        w.field("acknowledged", acknowledged)
        w.field("detail", detail)
        w.field("restartLimited", restartLimited)
        w.endObject()
    }
}

extension ThrottleState {
    func writeCompact(_ w: inout JSONWriter) {
        w.beginObject()
        w.key("sent")
        w.ints(sent)
        w.field("held", held)
        w.key("hosts")
        w.beginObject()
        for (host, n) in hosts {
            w.key(host)
            w.int(n)
        }
        w.endObject()
        w.endObject()
    }
}

extension ThresholdWindow {
    func writeCompact(_ w: inout JSONWriter) {
        w.beginObject()
        w.field("nextArrival", nextArrival)
        w.field("t", PackedIntegers.encode(times))
        w.field("a", PackedIntegers.encode(arrivals))
        w.endObject()
    }
}

extension AbsenceGroup {
    func writeCompact(_ w: inout JSONWriter) {
        w.beginObject()
        w.field("lastSeen", lastSeen)
        w.field("last", last?.stored.id)
        w.endObject()
    }
}

extension ServiceTrack {
    func writeCompact(_ w: inout JSONWriter) {
        w.beginObject()
        w.field("current", current?.rawValue)
        w.key("restarts")
        w.ints(restarts)
        w.field("lastReport", lastReport)
        w.endObject()
    }
}
