import Foundation
import NotiLogCore

/// Prints records as JSON lines or as an aligned table; log text is never written raw to a terminal.
final class RecordPrinter {
    private let json: Bool
    private var pending: [LogRecord] = []
    private let out = FileHandle.standardOutput
    /// Table rows are aligned within blocks of this many records, so output streams.
    private let blockSize = 500

    init(json: Bool) {
        self.json = json
    }

    func add(_ record: LogRecord) {
        if json {
            var bytes = record.jsonBytes()
            bytes.append(UInt8(ascii: "\n"))
            out.write(Data(bytes))
            return
        }
        pending.append(record)
        if pending.count >= blockSize { flushTable() }
    }

    func finish() {
        if !json { flushTable() }
    }

    private func flushTable() {
        guard !pending.isEmpty else { return }
        let rows = pending.map { r -> [String] in
            [
                r.timestamp?.description ?? "-",
                Self.priority(r),
                r.format.rawValue,
                Self.visible(r.hostname ?? "-"),
                Self.visible(r.appName ?? "-"),
                Self.visible(r.procID ?? "-"),
                Self.visible(r.msgID ?? "-"),
            ]
        }
        let headers = ["TIMESTAMP", "PRI", "FORMAT", "HOST", "APP", "PROCID", "MSGID"]
        var widths = headers.map(\.count)
        for row in rows {
            for (k, cell) in row.enumerated() { widths[k] = max(widths[k], min(cell.count, 40)) }
        }
        var text = ""
        func line(_ cells: [String], _ message: String) {
            for (k, cell) in cells.enumerated() {
                text += cell.padding(toLength: max(widths[k], cell.count), withPad: " ", startingAt: 0) + "  "
            }
            text += message + "\n"
        }
        line(headers, "MESSAGE")
        for (row, r) in zip(rows, pending) {
            line(row, Self.visible(r.message))
            if let sd = r.structuredData {
                let rendered = sd.map { e in
                    "[" + Self.visible(e.id) + e.parameters.map { " \(Self.visible($0.name))=\"\(Self.visible($0.value))\"" }.joined() + "]"
                }.joined()
                text += "    sd: \(rendered)\n"
            }
            for p in r.problems {
                text += "    ! \(p.field.rawValue) at column \(p.column): \(Self.visible(p.reason))\n"
            }
        }
        out.write(Data(text.utf8))
        pending.removeAll(keepingCapacity: true)
    }

    static func priority(_ r: LogRecord) -> String {
        guard let f = r.facility, let s = r.severity else { return "-" }
        return "\(f.name).\(s.name)"
    }

    /// Control characters (C0, DEL, C1) shown as escapes so log text cannot drive the terminal.
    static func visible(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                switch scalar {
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                default: out += String(format: "\\x%02x", scalar.value)
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }
}
