import Foundation
import NotiLogCore

/// Prints records as JSON lines or as an aligned table; log text is never written raw to a terminal.
///
/// Records come from the parser (`parse`) or from the server as JSON (`search`); both become a `Row` for the table.
final class RecordPrinter {
    private let json: Bool
    private let colour: Bool
    /// For a stream (`tail`): the table's header once, and column widths that only grow, so lines stay aligned
    /// from one flush to the next.
    private let streaming: Bool
    private var widths: [Int] = []
    private var headerShown = false
    private var pending: [Row] = []
    private var pendingJSON: [UInt8] = []
    private let out = FileHandle.standardOutput
    /// Table rows are aligned within blocks of this many records, so output streams.
    private let blockSize = 500

    init(json: Bool, colour: Bool = false, streaming: Bool = false) {
        self.json = json
        self.colour = colour
        self.streaming = streaming
    }

    /// A parsed record: its JSON (`LogRecord.jsonBytes`) or a table row.
    func add(_ record: LogRecord) {
        if json {
            addJSONLine(record.jsonBytes()[...])
        } else {
            addRow(Row(record))
        }
    }

    /// A record as the server sent it: the bytes unchanged, or a table row read from them.
    func add(serverRecord node: JSONNode, in document: [UInt8]) {
        if json {
            addJSONLine(document[node.range])
        } else {
            addRow(Row(serverRecord: node))
        }
    }

    /// Writes what is buffered (call between pages so output streams).
    func flush() {
        if json {
            writeJSON()
        } else {
            flushTable()
        }
    }

    func finish() { flush() }

    private func addJSONLine(_ bytes: ArraySlice<UInt8>) {
        pendingJSON.append(contentsOf: bytes)
        pendingJSON.append(UInt8(ascii: "\n"))
        if pendingJSON.count >= 1 << 16 { writeJSON() }
    }

    private func writeJSON() {
        guard !pendingJSON.isEmpty else { return }
        out.write(Data(pendingJSON))
        pendingJSON.removeAll(keepingCapacity: true)
    }

    private func addRow(_ row: Row) {
        pending.append(row)
        if pending.count >= blockSize { flushTable() }
    }

    private func flushTable() {
        guard !pending.isEmpty else { return }
        let headers = ["TIMESTAMP", "PRI", "FORMAT", "HOST", "APP", "PROCID", "MSGID"]
        var widths = streaming && !self.widths.isEmpty ? self.widths : headers.map(\.count)
        for row in pending {
            for (k, cell) in row.cells.enumerated() { widths[k] = max(widths[k], min(cell.count, 40)) }
        }
        var text = ""
        func line(_ cells: [String], _ message: String, severity: Severity? = nil) {
            let (on, off) = colour ? Self.colours(severity) : ("", "")
            text += on
            for (k, cell) in cells.enumerated() {
                text += cell.padding(toLength: max(widths[k], cell.count), withPad: " ", startingAt: 0) + "  "
            }
            text += message + off + "\n"
        }
        if !streaming || !headerShown { line(headers, "MESSAGE") }
        headerShown = true
        self.widths = widths
        for row in pending {
            line(row.cells, row.message, severity: row.severity)
            if let sd = row.structuredData {
                let rendered = sd.map { e in
                    "[" + Self.visible(e.id) + e.parameters.map { " \(Self.visible($0.name))=\"\(Self.visible($0.value))\"" }.joined() + "]"
                }.joined()
                text += "    sd: \(rendered)\n"
            }
            for p in row.problems {
                text += "    ! \(Self.visible(p.field)) at column \(p.column): \(Self.visible(p.reason))\n"
            }
        }
        out.write(Data(text.utf8))
        pending.removeAll(keepingCapacity: true)
    }

    /// ANSI SGR codes around a row: errors and worse red (bold from crit), warnings yellow, debug dim.
    static func colours(_ severity: Severity?) -> (String, String) {
        switch severity {
        case .emerg, .alert, .crit: ("\u{1B}[1;31m", "\u{1B}[0m")
        case .err: ("\u{1B}[31m", "\u{1B}[0m")
        case .warning: ("\u{1B}[33m", "\u{1B}[0m")
        case .debug: ("\u{1B}[2m", "\u{1B}[0m")
        case .notice, .info, nil: ("", "")
        }
    }

    static func priority(facility: Facility?, severity: Severity?) -> String {
        guard let f = facility, let s = severity else { return "-" }
        return "\(f.name).\(s.name)"
    }

    /// Control characters (C0, DEL, C1) shown as escapes so log text cannot drive the terminal.
    static func visible(_ text: String) -> String { Terminal.visible(text) }

    /// One record as the table shows it: cells and message already made visible, structured data and problems
    /// made visible when printed.
    struct Row {
        /// TIMESTAMP, PRI, FORMAT, HOST, APP, PROCID, MSGID.
        var cells: [String]
        var message: String
        var severity: Severity?
        var structuredData: [StructuredDataElement]?
        var problems: [(field: String, column: Int, reason: String)]

        init(_ r: LogRecord) {
            cells = [
                r.timestamp?.description ?? "-",
                RecordPrinter.priority(facility: r.facility, severity: r.severity),
                r.format.rawValue,
                RecordPrinter.visible(r.hostname ?? "-"),
                RecordPrinter.visible(r.appName ?? "-"),
                RecordPrinter.visible(r.procID ?? "-"),
                RecordPrinter.visible(r.msgID ?? "-"),
            ]
            message = RecordPrinter.visible(r.message)
            severity = r.severity
            structuredData = r.structuredData
            problems = r.problems.map { ($0.field.rawValue, $0.column, $0.reason) }
        }

        /// From the API's record JSON (the shape of `LogRecord.jsonBytes`); what is missing or mistyped shows as "-".
        init(serverRecord node: JSONNode) {
            func text(_ key: String) -> String { RecordPrinter.visible(node[key]?.string ?? "-") }
            let facility = node["facility"]?.int.flatMap { UInt8(exactly: $0) }.flatMap(Facility.init(rawValue:))
            severity = node["severity"]?.int.flatMap { UInt8(exactly: $0) }.flatMap(Severity.init(rawValue:))
            cells = [
                text("timestamp"),
                RecordPrinter.priority(facility: facility, severity: severity),
                text("format"),
                text("hostname"),
                text("app"),
                text("procid"),
                text("msgid"),
            ]
            message = RecordPrinter.visible(node["message"]?.string ?? "")
            // {"origin":{"ip":["10.0.0.1","10.0.0.2"],"x":"y"}}: a list is a parameter repeated in wire order.
            structuredData = node["sd"]?.members.map { elements in
                elements.map { id, params in
                    var element = StructuredDataElement(id: id)
                    for (name, value) in params.members ?? [] {
                        for v in value.array ?? [value] {
                            element.parameters.append(StructuredDataParameter(name, v.string ?? "-"))
                        }
                    }
                    return element
                }
            }
            problems = (node["problems"]?.array ?? []).map { p in
                (p["field"]?.string ?? "-", p["column"]?.int ?? 0, p["reason"]?.string ?? "-")
            }
        }
    }
}
