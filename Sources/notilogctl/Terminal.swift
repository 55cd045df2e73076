import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where output goes and whether it may be coloured.
enum Terminal {
    /// Severity colours only for a terminal, and not when `NO_COLOR` is set (https://no-color.org) or `TERM=dumb`.
    static func wantsColour(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        isatty(STDOUT_FILENO) == 1 && (environment["NO_COLOR"] ?? "").isEmpty && environment["TERM"] != "dumb"
    }

    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Control characters (C0, DEL, C1) shown as escapes, so text from logs or the network cannot drive the terminal.
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

    static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7F...0x9F).contains(s.value)
    }
}

/// Rows aligned under headers, two spaces apart; every cell is made visible (see `Terminal.visible`).
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns whose cells are aligned right (numbers).
    var rightAligned: Set<Int> = []

    init(_ headers: [String], rightAligned: Set<Int> = []) {
        self.headers = headers
        self.rightAligned = rightAligned
    }

    mutating func add(_ cells: [String]) {
        rows.append(cells.map(Terminal.visible))
    }

    func render() -> String {
        var widths = headers.map(\.count)
        for row in rows {
            for (k, cell) in row.enumerated() where k < widths.count { widths[k] = max(widths[k], cell.count) }
        }
        var text = ""
        for row in [headers] + rows {
            var line = ""
            for (k, cell) in row.enumerated() {
                let width = k < widths.count ? widths[k] : cell.count
                let pad = String(repeating: " ", count: max(0, width - cell.count))
                let last = k == row.count - 1
                if rightAligned.contains(k) {
                    line += pad + cell
                } else {
                    line += last ? cell : cell + pad
                }
                if !last { line += "  " }
            }
            text += line + "\n"
        }
        return text
    }
}
