import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `notilogctl tail`: the newest matching records, then new ones as they arrive (like `tail -f`).
///
/// It polls `GET /api/v1/logs` with `after_id` (every record newer than the last one printed), once a second by
/// default. Not the server's WebSocket (`/api/v1/tail`): the command talks to the API through libcurl, and the
/// libcurl of Debian 12 (7.88) is built without its WebSocket support (`curl --version` lists no `ws`). Polling
/// by id misses nothing: a poll reads every record committed since the last, page by page; only more than
/// `maxPerPoll` of them within one poll leaves the oldest out, and that is said on standard error.
struct TailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print the newest matching records, then new ones as they arrive (like tail -f).",
        discussion: """
            QUERY is NotiLog's query language, as for search (put -- before a query that starts with '-'). Prints the \
            newest N matching records (-n, default 10), oldest first, then every new match as the server stores it, \
            until interrupted (Ctrl-C). The output is search's: a table, or with --json each record as the server \
            returns it, one per line. Records that could not be shown are reported on standard error, never left out \
            silently. If the server cannot be reached, tail says so and keeps trying. Exit status: 2 on an error \
            (authentication, invalid query), 64 for a usage error; otherwise it runs until stopped.
            """
    )

    @Argument(help: "The query; none matches everything.")
    var query: String = ""

    @Option(name: [.customShort("n"), .customLong("lines")], help: "Stored records to print first (the newest; 0 for none).")
    var lines: Int = 10

    @Option(help: ArgumentHelp("Seconds between polls.", valueName: "seconds"))
    var interval: Double = 1

    @Flag(help: "Print one JSON object per record, as the server returns it.")
    var json = false

    @OptionGroup(title: "Connection")
    var connection: ConnectionOptions

    /// Records asked for per request (the server allows up to 10,000).
    static let pageSize = 1_000
    /// Records read in one poll at most; older ones beyond it are reported as skipped.
    static let maxPerPoll = 100_000

    func validate() throws {
        guard (0...10_000).contains(lines) else { throw ValidationError("-n must be from 0 to 10000") }
        guard interval >= 0.05 && interval <= 3600 else { throw ValidationError("--interval must be from 0.05 to 3600 seconds") }
    }

    func run() throws {
        try runReportingErrors("tail") { () throws(CtlError) in
            let api = try connection.client()
            let printer = RecordPrinter(json: json, colour: !json && Terminal.wantsColour(), streaming: true)
            var cursor = try start(api, printer)
            var failing = false
            while true {
                usleep(useconds_t(interval * 1_000_000))
                do throws(CtlError) {
                    cursor = try poll(api, printer, after: cursor)
                    if failing {
                        Terminal.writeError("notilogctl tail: the server answers again; nothing was missed\n")
                        failing = false
                    }
                } catch {
                    // The server restarting, or the network: keep trying (the cursor keeps the place). Anything else
                    // (the token revoked, ...) ends the command.
                    guard error.code == .connection || error.code == .server else { throw error }
                    if !failing {
                        Terminal.writeError("notilogctl tail: \(Terminal.visible(error.description)); retrying\n")
                        failing = true
                    }
                }
            }
        }
    }

    /// The newest `lines` matches, printed oldest first; returns the id to poll after. The store's newest id is
    /// read first, so a record stored meanwhile is printed by the first poll rather than lost.
    func start(_ api: APIClient, _ printer: RecordPrinter) throws(CtlError) -> Int64 {
        let newest = try api.status().status.store?.newestId ?? 0
        guard lines > 0 else { return newest }
        let page: LogsPage
        do throws(CtlError) {
            page = try api.logs(query: query, since: nil, until: nil, limit: lines, cursor: nil)
        } catch {
            throw error.code == .invalidQuery ? SearchCommand.withCaret(error, query: query) : error
        }
        for record in page.records.reversed() { printer.add(serverRecord: record, in: page.document) }
        printer.flush()
        let found = page.records.compactMap { $0["id"]?.int }.max().map(Int64.init) ?? 0
        return max(newest, found)
    }

    /// Every match stored after `cursor`, printed oldest first; returns the new cursor.
    func poll(_ api: APIClient, _ printer: RecordPrinter, after cursor: Int64) throws(CtlError) -> Int64 {
        var pages: [LogsPage] = []
        var fetched = 0
        var before: String?
        var skippedBelow: Int64?
        repeat {
            let page: LogsPage
            do throws(CtlError) {
                page = try api.logs(query: query, since: nil, until: nil, limit: Self.pageSize, cursor: before, afterID: cursor)
            } catch {
                throw error.code == .invalidQuery ? SearchCommand.withCaret(error, query: query) : error
            }
            pages.append(page)
            fetched += page.records.count
            guard let next = page.next, !page.records.isEmpty, next != before else { break }
            if fetched >= Self.maxPerPoll {
                skippedBelow = Int64(next)
                break
            }
            before = next
        } while true
        if let skippedBelow, skippedBelow > cursor + 1 {
            Terminal.writeError(
                "notilogctl tail: gap: more than \(Self.maxPerPoll) records arrived within one poll; the older ones, with ids "
                    + "\(cursor + 1) to \(skippedBelow - 1), are not shown (notilogctl search finds them)\n")
        }
        var newest = cursor
        for page in pages.reversed() {
            for record in page.records.reversed() {
                printer.add(serverRecord: record, in: page.document)
                if let id = record["id"]?.int { newest = max(newest, Int64(id)) }
            }
        }
        printer.flush()
        return newest
    }
}
