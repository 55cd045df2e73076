import NotiLogCore

/// A JSON document built in code and written as UTF-8 bytes. Objects keep their keys in the order given, and
/// `nil` optionals become `null` (the API's documented shapes list every key, even when it has no value).
/// Records are not built this way: they are written straight from their bytes by `LogRecord.appendJSON`.
enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])
    /// Bytes that already are JSON (a record written by `LogRecord.appendJSON`).
    case raw([UInt8])

    static func string(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
    static func int(_ n: Int) -> JSONValue { .int(Int64(n)) }
    static func int(_ n: Int64?) -> JSONValue { n.map { .int($0) } ?? .null }
    static func time(_ t: SyslogTimestamp?) -> JSONValue { t.map { .string($0.description) } ?? .null }

    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let n): out.append(contentsOf: String(n).utf8)
        case .double(let d): out.append(contentsOf: (d.isFinite ? "\(d)" : "null").utf8)
        case .string(let s): JSON.append(string: s, to: &out)
        case .raw(let bytes): out.append(contentsOf: bytes)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (k, (key, value)) in members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                JSON.append(string: key, to: &out)
                out.append(UInt8(ascii: ":"))
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }
}
