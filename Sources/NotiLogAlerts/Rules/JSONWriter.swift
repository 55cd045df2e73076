import NotiLogCore

/// Writes JSON straight into bytes, for what the alerting service writes with every commit: the engine's snapshot
/// (`EngineState.compactJSON`) and each alert's detail (`AlertNotice.detailJSON`). With 200 rules and 4,000 firing
/// alerts, `JSONEncoder` spent about 0.4 s of CPU per save on them (a tenth of the server's CPU under load); this
/// writes the same JSON several times faster. The types' `Codable` conformances stay the reference: tests check
/// that both give the same JSON, and decoding goes through them.
///
/// Commas are placed by the writer: `key` then one value, or values in an array.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// No comma before the next key or value (just after `{`, `[` or a key).
    private var first = true

    init(capacity: Int = 1024) {
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    private mutating func separate() {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        first = true
    }

    private mutating func close(_ bracket: UInt8) {
        bytes.append(bracket)
        first = false
    }

    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    /// A key that is data (a dictionary's), escaped as any string.
    mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        first = true
    }

    mutating func string(_ value: String) {
        separate()
        JSON.append(string: value, to: &bytes)
    }

    mutating func int<T: BinaryInteger>(_ value: T) {
        separate()
        if value == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var magnitude = value.magnitude
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // Digits backwards into a small buffer, then forwards into the output.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 40) { digits in
            var n = 0
            while magnitude > 0 {
                digits[n] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
                n += 1
            }
            while n > 0 {
                n -= 1
                bytes.append(digits[n])
            }
        }
    }

    mutating func bool(_ value: Bool) {
        separate()
        let text: StaticString = value ? "true" : "false"
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func timestamp(_ value: SyslogTimestamp) {
        separate()
        JSON.append(timestamp: value, to: &bytes)
    }

    mutating func strings(_ values: [String]) {
        beginArray()
        for v in values { string(v) }
        endArray()
    }

    mutating func ints<T: BinaryInteger>(_ values: [T]) {
        beginArray()
        for v in values { int(v) }
        endArray()
    }

    // Members: a key and its value, left out when the value is nil (as synthesized `Codable` conformances do).

    mutating func field(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        string(value)
    }

    mutating func field<T: BinaryInteger>(_ name: StaticString, _ value: T?) {
        guard let value else { return }
        key(name)
        int(value)
    }

    mutating func field(_ name: StaticString, _ value: SyslogTimestamp?) {
        guard let value else { return }
        key(name)
        timestamp(value)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// `{}`: the payload of an enum case without values, as `Codable` writes it.
    mutating func emptyObject() {
        beginObject()
        endObject()
    }
}
