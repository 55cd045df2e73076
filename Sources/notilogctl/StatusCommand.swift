import ArgumentParser
import Foundation

/// `notilogctl status`: what the server is doing.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the server's status: listeners, ingest and store figures.",
        discussion: "With --json, prints the server's answer unchanged. Exit status: 0; 2 on an error; 64 for a usage error."
    )

    @Flag(help: "Print the server's JSON answer.")
    var json = false

    @OptionGroup(title: "Connection")
    var connection: ConnectionOptions

    func run() throws {
        try runReportingErrors("status") { () throws(CtlError) in
            let api = try connection.client()
            let (body, status) = try api.status()
            if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
            Terminal.write(Self.render(status, server: api.settings.server))
        }
    }

    static func render(_ s: ServerStatus, server: String) -> String {
        func n(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        var text = "NotiLog \(Terminal.visible(s.version ?? "?")) at \(Terminal.visible(server))"
        if let up = s.uptimeSeconds { text += ", up \(Format.duration(up))" }
        if let started = s.startedAt { text += " (since \(Terminal.visible(started)))" }
        text += "\n\n"
        var listeners = TextTable(["LISTENER", "ADDRESS", "RECEIVED", "PROBLEMS", "DROPPED", "CONNECTIONS"], rightAligned: [2, 3, 4, 5])
        for l in s.listeners ?? [] {
            listeners.add([l.protocol ?? "-", l.address ?? "-", n(l.received), n(l.parseProblems), n(l.dropped), n(l.openConnections)])
        }
        text += listeners.rows.isEmpty ? "no listeners\n" : listeners.render()
        if let i = s.ingest {
            text += "\ningest: \(n(i.accepted)) accepted, \(n(i.committed)) committed, \(n(i.queued)) queued, "
                + "\(n(i.dropped)) dropped, \(n(i.batches)) batches\n"
        }
        if let st = s.store {
            text += "store:  \(Terminal.visible(st.path ?? "-")), \(st.bytes.map(Format.bytes) ?? "-"), "
                + "indexed up to record \(n(st.indexedUpTo))\n"
        }
        return text
    }
}
