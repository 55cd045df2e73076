import Foundation
import Hummingbird
import NotiLogAlerts
import NotiLogCore
import NotiLogStore

/// The latest state of each process and systemd unit the agents watch: `GET /api/v1/watches` (every host) and
/// `GET /api/v1/hosts/{name}/watches` (one host).
///
/// Computed on request by a bounded search, not kept as state: the agent's watch records
/// (`app:notilog-agent msgid:WATCH`, carrying `[watch@32473 kind name state …]`, see `ServiceReport`) received
/// in the last `window`, newest first, at most `maxRecords` of them, through the app-name index inside that
/// window's ids. The agent repeats each watch's state as a heartbeat (every minute by default), so a watch that
/// reported in the window is found, with the state of its newest record. `since` is when that state began —
/// the oldest record of the newest run of equal states, so exact only when an older report with another state
/// was read (`since_exact`); otherwise the state began no later than `since`. When the window held more
/// records than were read, `complete` is false: a watch that only reported long ago may be missing (ask for
/// one host then). Measured (debug build): 61 ms for a search finding 2,000 reports in a store of 1.1M
/// records, most of it decoding the records found.
struct WatchRoutes: Sendable {
    let api: APIRoutes

    static let window: Int64 = 86_400
    static let maxRecords = 10_000

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.get("watches") { request, _ in try await self.list(request, host: nil) }
        v1.get("hosts/:name/watches") { request, context in
            let name = context.parameters.get("name")?.removingPercentEncoding ?? context.parameters.get("name") ?? ""
            return try await self.list(request, host: name)
        }
    }

    struct Watch {
        var host: String
        var report: ServiceReport
        var lastReport: SyslogTimestamp
        var since: SyslogTimestamp
        var sinceExact = false
        /// The run of equal states is over (an older record said something else).
        var runEnded = false
        var pid: String?
    }

    static func query(host: String?, now: SyslogTimestamp) -> Query {
        var terms: [QueryNode] = [
            .term(QueryTerm(field: .app, predicate: .equals("notilog-agent"))),
            .term(QueryTerm(field: .msgid, predicate: .equals("WATCH"))),
            .term(QueryTerm(field: .receivedAt, predicate: .time(.ge, .ago(window)))),
        ]
        if let host { terms.insert(.term(QueryTerm(field: .hostname, predicate: .equals(host))), at: 0) }
        return Query(root: .and(terms), text: "")
    }

    func list(_ request: Request, host: String?) async throws -> Response {
        try await api.authorize(request, for: .read)
        let now = SyslogTimestamp.now()
        let page: SearchPage
        do {
            page = try await api.store.search(SearchRequest(query: Self.query(host: host, now: now), now: now, limit: Self.maxRecords))
        } catch {
            throw APIError.store(error)
        }
        var order: [String] = []
        var watches: [String: Watch] = [:]
        for stored in page.records {  // newest first
            let r = stored.record
            guard let report = ServiceReport(r) else { continue }
            let hostName = r.hostname ?? r.source ?? ""
            let key = hostName.lowercased() + "\u{0}" + report.kind.rawValue + "\u{0}" + report.name
            if var w = watches[key] {
                guard !w.runEnded else { continue }
                if report.state == w.report.state {
                    w.since = r.receivedAt
                } else {
                    w.runEnded = true
                    w.sinceExact = true
                }
                watches[key] = w
            } else {
                order.append(key)
                watches[key] = Watch(
                    host: hostName, report: report, lastReport: r.receivedAt, since: r.receivedAt,
                    pid: r.structuredDataValue(id: ServiceReport.structuredDataID, param: "pid"))
            }
        }
        let complete = page.next == nil
        let items: [JSONValue] = order.compactMap { watches[$0] }.sorted {
            ($0.host.lowercased(), $0.report.kind.rawValue, $0.report.name) < ($1.host.lowercased(), $1.report.kind.rawValue, $1.report.name)
        }.map { w in
            .object([
                ("host", .string(w.host)), ("kind", .string(w.report.kind.rawValue)), ("name", .string(w.report.name)),
                ("state", .string(w.report.state.rawValue)), ("since", .time(w.since)),
                // A run that reaches back to the oldest report read began no later than that; else it began then.
                ("since_exact", .bool(w.sinceExact)),
                ("last_report", .time(w.lastReport)), ("exit_code", .int(w.report.exitCode.map(Int64.init))),
                ("signal", .string(w.report.signal)), ("restarts", .int(w.report.restarts.map(Int64.init))), ("pid", .string(w.pid)),
            ])
        }
        let since = QueryTime.ago(Self.window).resolved(now: now)
        return APIRoutes.json(
            .object([
                ("since", .time(since)), ("records_read", .int(page.records.count)), ("complete", .bool(complete)),
                ("watches", .array(items)),
            ]))
    }
}
