import ArgumentParser
import Foundation

/// `notilogctl search`: stored records matching a query, newest first.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the stored logs (newest first).",
        discussion: """
            QUERY is NotiLog's query language, as one argument, e.g. 'host:web-1 app:nginx severity:<=err "upstream \
            timed out" -healthcheck' (put -- before a query that starts with '-'). Prints a table, or with --json each \
            record exactly as the server returns it, one per line. Exit status: 0 when records were found; 1 when \
            none; 2 on an error (connection, authentication, invalid query); 64 for a usage error.
            """
    )

    @Argument(help: "The query; none matches everything.")
    var query: String = ""

    @Option(parsing: .unconditional, help: ArgumentHelp("Only records from this time on: RFC 3339, a date, or relative like -15m, -2h, -7d.", valueName: "time"))
    var since: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Only records before this time (same forms as --since).", valueName: "time"))
    var until: String?

    @Option(help: "Most records to show; 0 for all.")
    var limit: Int = 100

    @Flag(help: "Print one JSON object per record, as the server returns it.")
    var json = false

    @OptionGroup(title: "Connection")
    var connection: ConnectionOptions

    /// Records asked for per request (the server allows up to 10,000).
    static let pageSize = 1000

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 (all) or more") }
    }

    func run() throws {
        var found = 0
        try runReportingErrors("search") { () throws(CtlError) in
            let api = try connection.client()
            let printer = RecordPrinter(json: json, colour: !json && Terminal.wantsColour())
            defer { printer.finish() }
            var cursor: String?
            repeat {
                let want = limit == 0 ? Self.pageSize : min(Self.pageSize, limit - found)
                let page: LogsPage
                do throws(CtlError) {
                    page = try api.logs(query: query, since: since, until: until, limit: want, cursor: cursor)
                } catch {
                    throw error.code == .invalidQuery ? Self.withCaret(error, query: query) : error
                }
                for record in page.records.prefix(limit == 0 ? Int.max : limit - found) {
                    printer.add(serverRecord: record, in: page.document)
                    found += 1
                }
                printer.flush()
                guard !page.records.isEmpty, page.next != cursor else { break }
                cursor = page.next
            } while cursor != nil && (limit == 0 || found < limit)
        }
        if found == 0 {
            if !json { Terminal.writeError("notilogctl search: no matching records\n") }
            throw ExitCode(1)
        }
    }

    /// The query under the message with a caret at the column the server named (1-based, in Unicode scalars).
    static func withCaret(_ error: CtlError, query: String) -> CtlError {
        var error = error
        guard let column = error.column, column >= 1 else { return error }
        let scalars = Array(query.unicodeScalars)
        let before = String(String.UnicodeScalarView(scalars.prefix(column - 1)))
        let shown = Terminal.visible(query)
        let offset = Terminal.visible(before).unicodeScalars.count
        if !error.message.contains("column \(column)") { error.message = "column \(column): \(error.message)" }
        error.hint = (error.hint.map { $0 + "\n  " } ?? "") + shown + "\n  " + String(repeating: " ", count: offset) + "^"
        return error
    }
}
