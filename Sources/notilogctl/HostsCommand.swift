import ArgumentParser
import Foundation

/// `notilogctl hosts`: the hosts that have sent logs.
struct HostsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hosts",
        abstract: "List the hosts that have sent logs.",
        discussion: """
            CLOCK SKEW is how far a host's clock is ahead of the server's (negative: behind). With --json, prints the \
            server's answer unchanged. Exit status: 0; 2 on an error; 64 for a usage error.
            """
    )

    @Flag(help: "Print the server's JSON answer.")
    var json = false

    @OptionGroup(title: "Connection")
    var connection: ConnectionOptions

    func run() throws {
        try runReportingErrors("hosts") { () throws(CtlError) in
            let (body, hosts) = try connection.client().hosts()
            if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
            var table = TextTable(["HOST", "MESSAGES", "PROBLEMS", "FIRST SEEN", "LAST SEEN", "CLOCK SKEW"], rightAligned: [1, 2, 5])
            for h in hosts {
                table.add([
                    h.hostname ?? "-", String(h.messages), String(h.parseProblems), h.firstSeen ?? "-", h.lastSeen ?? "-",
                    h.clockSkewSeconds.map(Self.skew) ?? "-",
                ])
            }
            Terminal.write(table.render())
        }
    }

    /// `+0.3s`, `-42s`, `+1h 5m`.
    static func skew(_ seconds: Double) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        if magnitude < 10 { return sign + String(format: "%.1fs", magnitude) }
        return sign + Format.duration(magnitude)
    }
}

/// Small formatting helpers for figures.
enum Format {
    /// `42s`, `5m 3s`, `2h 5m`, `3d 4h`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds < 1e12 else { return "-" }
        let s = Int(seconds.rounded())
        switch s {
        case ..<60: return "\(s)s"
        case ..<3600: return "\(s / 60)m \(s % 60)s"
        case ..<86_400: return "\(s / 3600)h \(s % 3600 / 60)m"
        default: return "\(s / 86_400)d \(s % 86_400 / 3600)h"
        }
    }

    /// `812 B`, `3.4 MiB`.
    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(n)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
