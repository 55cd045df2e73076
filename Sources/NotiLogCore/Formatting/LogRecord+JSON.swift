import Foundation

/// The record's JSON shape, shared by `notilogctl parse --json` and the HTTP API:
///
///     {"facility":1,"severity":5,"timestamp":"2023-10-11T22:14:15.003Z","received_at":"...",
///      "hostname":"web-1","app":"sshd","procid":"812","msgid":null,
///      "sd":{"origin":{"ip":["10.0.0.1","10.0.0.2"]}},"message":"...","raw":null,
///      "format":"rfc5424","source":"192.0.2.7","problems":[{"field":"sd","column":57,"reason":"..."}]}
///
/// Every key is always present; absent values are `null`. A parameter repeated within an element (or across
/// elements with the same SD-ID) becomes a list of its values in wire order.
extension LogRecord {
    public func jsonBytes(id: Int64? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(frameLength) + 256)
        appendJSON(to: &out, id: id)
        return out
    }

    public func jsonString(id: Int64? = nil) -> String { String(decoding: jsonBytes(id: id), as: UTF8.self) }

    public func appendJSON(to out: inout [UInt8], id: Int64? = nil) {
        out.append(UInt8(ascii: "{"))
        if let id {
            JSON.key("id", &out, first: true)
            JSON.append(number: Int(id), to: &out)
        }
        JSON.key("facility", &out, first: id == nil)
        if let f = facility { JSON.append(number: Int(f.rawValue), to: &out) } else { JSON.null(&out) }
        JSON.key("severity", &out)
        if let s = severity { JSON.append(number: Int(s.rawValue), to: &out) } else { JSON.null(&out) }
        JSON.key("timestamp", &out)
        if let t = timestamp { JSON.append(timestamp: t, to: &out) } else { JSON.null(&out) }
        JSON.key("received_at", &out)
        JSON.append(timestamp: receivedAt, to: &out)
        JSON.key("hostname", &out)
        appendField(hostnameSpan, &out)
        JSON.key("app", &out)
        appendField(appSpan, &out)
        JSON.key("procid", &out)
        appendField(procIDSpan, &out)
        JSON.key("msgid", &out)
        appendField(msgIDSpan, &out)
        JSON.key("sd", &out)
        appendStructuredData(&out)
        JSON.key("message", &out)
        if messageSpan.isAbsent {
            JSON.append(string: "", to: &out)
        } else {
            appendField(messageSpan, &out)
        }
        JSON.key("raw", &out)
        if let raw = rawFrame {
            JSON.append(string: Data(raw).base64EncodedString(), to: &out)
        } else {
            JSON.null(&out)
        }
        JSON.key("format", &out)
        JSON.append(string: format.rawValue, to: &out)
        JSON.key("source", &out)
        if let source { JSON.append(string: source, to: &out) } else { JSON.null(&out) }
        JSON.key("problems", &out)
        JSON.append(problems: problems, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    private func appendField(_ span: ByteSpan, _ out: inout [UInt8]) {
        if span.isAbsent { return JSON.null(&out) }
        if frameIsValidUTF8 || Int(span.start) >= Int(frameLength) {
            storage.withUnsafeBufferPointer { JSON.append(utf8: UnsafeBufferPointer(rebasing: $0[span.range]), to: &out) }
        } else {
            JSON.append(string: string(span) ?? "", to: &out)
        }
    }

    private func appendStructuredData(_ out: inout [UInt8]) {
        guard let elements = structuredData else { return JSON.null(&out) }
        // Group by SD-ID, then by parameter name, both in first-seen order.
        var ids: [String] = []
        var params: [String: [(String, [String])]] = [:]
        for element in elements {
            if params[element.id] == nil {
                ids.append(element.id)
                params[element.id] = []
            }
            for p in element.parameters {
                if let k = params[element.id]!.firstIndex(where: { $0.0 == p.name }) {
                    params[element.id]![k].1.append(p.value)
                } else {
                    params[element.id]!.append((p.name, [p.value]))
                }
            }
        }
        out.append(UInt8(ascii: "{"))
        for (n, id) in ids.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            JSON.append(string: id, to: &out)
            out.append(contentsOf: [UInt8(ascii: ":"), UInt8(ascii: "{")])
            for (m, (name, values)) in params[id]!.enumerated() {
                if m > 0 { out.append(UInt8(ascii: ",")) }
                JSON.append(string: name, to: &out)
                out.append(UInt8(ascii: ":"))
                if values.count == 1 {
                    JSON.append(string: values[0], to: &out)
                } else {
                    out.append(UInt8(ascii: "["))
                    for (v, value) in values.enumerated() {
                        if v > 0 { out.append(UInt8(ascii: ",")) }
                        JSON.append(string: value, to: &out)
                    }
                    out.append(UInt8(ascii: "]"))
                }
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
    }
}

/// Minimal JSON writing into a byte array.
public enum JSON {
    static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    public static func key(_ name: StaticString, _ out: inout [UInt8], first: Bool = false) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
    }

    static func append(problems: [ParseProblem], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (n, problem) in problems.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            out.append(UInt8(ascii: "{"))
            key("field", &out, first: true)
            append(string: problem.field.rawValue, to: &out)
            key("column", &out)
            append(number: problem.column, to: &out)
            key("reason", &out)
            append(string: problem.reason, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    public static func null(_ out: inout [UInt8]) { out.append(contentsOf: [0x6E, 0x75, 0x6C, 0x6C]) }

    public static func append(number: Int, to out: inout [UInt8]) { out.append(contentsOf: String(number).utf8) }

    public static func append(timestamp: SyslogTimestamp, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        timestamp.appendRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
    }

    public static func append(string: String, to out: inout [UInt8]) {
        var s = string
        s.withUTF8 { append(utf8: $0, to: &out) }
    }

    /// A JSON string from UTF-8 bytes: quotes, backslashes and control characters escaped.
    public static func append(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        for (k, b) in bytes.enumerated() where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<k]))
            runStart = k + 1
            out.append(UInt8(ascii: "\\"))
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
            case ASCII.lf: out.append(UInt8(ascii: "n"))
            case ASCII.cr: out.append(UInt8(ascii: "r"))
            case ASCII.tab: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(b >> 4)], hex[Int(b & 15)]])
            }
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.append(UInt8(ascii: "\""))
    }
}
