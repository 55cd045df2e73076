import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogStore

/// The property that keeps search honest: for generated records and generated queries, the store's SQL
/// (over the full-text index, over the not-yet-indexed tail, and over a mix of both) selects exactly the
/// records the in-memory matcher selects.
@Suite("SQL and in-memory query evaluation agree")
struct QueryAgreementTests {
    static let now = SyslogTimestamp(seconds: 1_764_076_672)
    static let words = [
        "error", "Error", "ERROR", "timeout", "timed", "out", "upstream", "user", "admin", "root", "failed",
        "password", "naïve", "Åsa", "straße", "10.0.0.1", "UI_COMMIT", "GET", "/healthcheck", "200", "->", "%",
        "x'y", "a_b", "İstanbul", "日本語", "e\u{301}clair", "50%", "--",
    ]
    static let hosts = ["web-1", "Web-1", "db-1", "db_2", "10.0.0.5", "host%x"]
    static let apps = ["nginx", "sshd", "Nginx", "cron.d", "a_b"]
    static let sdValues = ["10.0.0.1", "Prod", "prod", "a]b", "q\"uote", "pro"]

    static func pick<T>(_ list: [T], _ g: inout SeededGenerator) -> T { list[Int(g.next() % UInt64(list.count))] }
    /// nil one time in four.
    static func maybe(_ g: inout SeededGenerator) -> Bool { g.next() % 4 != 0 }

    static func record(_ g: inout SeededGenerator) -> LogRecord {
        let separators = [" ", ", ", ": ", "\t", "  "]
        var message = ""
        for k in 0..<Int(g.next() % 8) {
            if k > 0 { message += pick(separators, &g) }
            message += pick(words, &g)
        }
        var sd: [StructuredDataElement]? = nil
        if g.next() % 3 == 0 {
            sd = (0..<Int(1 + g.next() % 2)).map { _ in
                StructuredDataElement(
                    id: pick(["origin", "meta", "x@1"], &g),
                    parameters: (0..<Int(1 + g.next() % 3)).map { _ in
                        StructuredDataParameter(pick(["ip", "env", "a"], &g), pick(sdValues, &g))
                    })
            }
        }
        let facility = maybe(&g) ? Facility(rawValue: UInt8(g.next() % 24)) : nil
        let severity = maybe(&g) ? Severity(rawValue: UInt8(g.next() % 8)) : nil
        let timestamp = maybe(&g) ? SyslogTimestamp(seconds: now.seconds - Int64(g.next() % 9000)) : nil
        let receivedAt = SyslogTimestamp(seconds: now.seconds - Int64(g.next() % 7200), nanoseconds: 0, fractionDigits: 6)
        let hostname = maybe(&g) ? pick(hosts, &g) : nil
        let app = maybe(&g) ? pick(apps, &g) : nil
        let procID = maybe(&g) ? pick(["1", "12", "123"], &g) : nil
        let msgID = maybe(&g) ? pick(["ID47", "id47", "X"], &g) : nil
        let source = maybe(&g) ? pick(["192.0.2.7", "198.51.100.9"], &g) : nil
        return LogRecord(
            facility: facility, severity: severity, timestamp: timestamp, receivedAt: receivedAt,
            hostname: hostname, appName: app, procID: procID, msgID: msgID,
            structuredData: sd, message: message, source: source,
            format: pick(WireFormat.allCases, &g))
    }

    static func term(_ g: inout SeededGenerator) -> String {
        switch g.next() % 16 {
        case 0, 1: return pick(words, &g).replacingOccurrences(of: "\"", with: "")
        case 2: return "\"\(pick(words, &g)) \(pick(words, &g))\""
        case 3: return pick(["tim*", "up*", "ro*", "e*", "na*", "\"timed ou\"*", "10.0.0*", "日*"], &g)
        case 4: return "host:" + pick(hosts + ["web*", "DB*", "host%*", "db_*"], &g)
        case 5: return "app:" + pick(apps + ["ng*", "a_*", "/^ss/", "/(?i)NGINX/"], &g)
        case 6: return pick(["procid:12", "procid:1*", "msgid:id47", "msgid:ID*", "pid:*"], &g)
        case 7: return pick(["source:192.0.2.7", "source:198.*", "format:rfc3164", "format:rfc*", "format:/un/"], &g)
        case 8: return "severity:" + pick(["<=warning", "err", ">3", "<2", "=7", "debug"], &g)
        case 9: return "facility:" + pick(["user", "<=4", ">=16", "local7"], &g)
        case 10: return "sd." + pick(["origin.ip", "meta.env", "x@1.a"], &g) + ":" + pick(["10.0.0.1", "prod", "pro*", "\"a]b\"", "/^P/"], &g)
        case 11: return "message:" + pick(["/err.r/", "/(?i)TIMEOUT/", "/^$/", "/\\d{3}/", "/pass\\w+ for/", "/GET \\/health/", "/[0-9]+\\.0\\.0/", "/stra.?ße/"], &g)
        case 12: return pick(["since:-30m", "until:-1h", "since:-2h", "until:now", "since:-95m", "until:-25m", "since:-61m"], &g)
        case 13: return pick(["->", "%", "--", "\"50%\""], &g)
        default: return pick(words, &g).replacingOccurrences(of: "\"", with: "")
        }
    }

    static func query(_ g: inout SeededGenerator, depth: Int = 0) -> String {
        var parts: [String] = []
        for k in 0..<Int(1 + g.next() % 3) {
            var t = depth < 2 && g.next() % 5 == 0 ? "(" + query(&g, depth: depth + 1) + ")" : term(&g)
            if g.next() % 4 == 0 { t = (g.next() % 2 == 0 ? "-" : "NOT ") + t }
            if k > 0 { parts.append(pick(["", "AND", "OR", "OR"], &g)) }
            parts.append(t)
        }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    @Test func generatedQueriesAgree() async throws {
        let seed = UInt64(truncatingIfNeeded: Int(Date().timeIntervalSince1970))
        var g = SeededGenerator(seed: seed)
        let dir = TemporaryDirectory()
        // Small time spans, and batches whose reception times go back and forth, so that since:/until: turned
        // into id bounds (TimeSpans) is checked against the clock doing anything.
        let store = try SQLiteLogStore(directory: dir.path, timeSpanRecords: 24)
        var stored: [Int64: LogRecord] = [:]
        for batch in 0..<20 {
            // Reception times mostly move forward over two hours; batch 13 comes from a clock set back.
            let base = Self.now.seconds - (batch == 13 ? 7_000 : 7_200 - Int64(batch) * 350)
            let records = (0..<20).map { _ in
                var r = Self.record(&g)
                r.receivedAt = SyslogTimestamp(seconds: base + Int64(g.next() % 400), nanoseconds: 0, fractionDigits: 6)
                return r
            }
            let ids = try #require(try await store.insert(records))
            for (id, r) in zip(ids, records) { stored[id] = r }
        }
        let queries = (0..<250).compactMap { _ -> Query? in try? QueryParser.parse(Self.query(&g)) }
        #expect(queries.count > 200, "seed \(seed): too many generated queries failed to parse")

        for phase in ["tail only", "half indexed", "fully indexed"] {
            if phase == "half indexed" { _ = try await store.indexPending(maxRows: 200) }
            if phase == "fully indexed" { while try await store.indexPending(maxRows: 1000) > 0 {} }
            for query in queries {
                let matcher = QueryMatcher(query, now: Self.now)
                let expected = stored.filter { matcher.matches($0.value) }.keys.sorted(by: >)
                let page = try await store.search(SearchRequest(query: query, now: Self.now, limit: 10_000))
                let got = page.records.map(\.id)
                let differing = Set(got).symmetricDifference(expected).sorted().prefix(3).map { stored[$0]!.jsonString() }
                #expect(got == expected, "seed \(seed), \(phase): \(query.text) → \(query); differing: \(differing)")
                if got != expected { return }
                // The counts (histogram, tallies) agree too: they take the same paths through the indexes.
                let stats = try await store.stats(
                    StatsRequest(
                        query: query, now: Self.now, since: SyslogTimestamp(seconds: Self.now.seconds - 86_400, nanoseconds: 0, fractionDigits: 0),
                        until: SyslogTimestamp(seconds: Self.now.seconds + 86_400, nanoseconds: 0, fractionDigits: 0), buckets: 4, top: 0))
                #expect(stats.total == Int64(expected.count), "seed \(seed), \(phase): stats of \(query.text)")
                if stats.total != Int64(expected.count) { return }
            }
        }
        // What came back equals what went in, so rules (in memory) and search (SQL) see the same records.
        for (id, original) in stored.prefix(50) {
            #expect(try await store.record(id: id)?.record == original)
        }
    }
}
