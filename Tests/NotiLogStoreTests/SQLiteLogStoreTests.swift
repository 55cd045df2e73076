import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogStore

@Suite("SQLite store")
struct SQLiteLogStoreTests {
    static let now = SyslogTimestamp(seconds: 1_764_076_672)
    let parser = SyslogParser()

    func parse(_ wire: String, ago: Int64 = 0, source: String = "192.0.2.7") -> LogRecord {
        parser.parse(wire, receivedAt: SyslogTimestamp(seconds: Self.now.seconds - ago, nanoseconds: 123_456_000, fractionDigits: 6), source: source)
    }

    @Test func recordsComeBackEqual() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let records = [
            parse(#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Appl\"ication\]" eventID="1011"][x@1 a="1" a="2"] An application event"#),
            parse("<38>Nov 25 13:10:00 bastion sshd[2201]: Failed password for root"),
            parse("no header at all"),
            parse("<13>1 2023-10-11T22:14:15Z host app - - [broken"),
            parser.parse([0x3C, 0x31, 0x33, 0x3E, 0x66, 0xFF, 0xFE, 0x00, 0x61], receivedAt: SyslogTimestamp(seconds: Self.now.seconds, fractionDigits: 6), source: nil),
            parse("<13>1 - - - - - -"),
        ]
        let ids = try #require(try await store.insert(records))
        #expect(ids.count == records.count)
        for (id, original) in zip(ids, records) {
            let stored = try #require(try await store.record(id: id))
            #expect(stored.record == original, "id \(id)")
            #expect(stored.record.jsonString() == original.jsonString())
        }
        #expect(try await store.record(id: 999) == nil)
    }

    @Test func searchIsNewestFirstWithKeysetPages() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let batch = (0..<250).map { parse("<14>1 - web-\($0 % 3) app - - - request \($0) done", ago: Int64(250 - $0)) }
        _ = try await store.insert(batch)
        var seen: [Int64] = []
        var before: Int64? = nil
        repeat {
            let page = try await store.search(SearchRequest(query: try QueryParser.parse("request host:web-1"), now: Self.now, limit: 40, before: before))
            seen += page.records.map(\.id)
            #expect(page.records.allSatisfy { $0.record.hostname == "web-1" })
            before = page.next
        } while before != nil
        #expect(seen.count == 83)
        #expect(seen == seen.sorted(by: >))
    }

    @Test func searchAfterAnIDKeepsOnlyNewerRecordsInTheIndexAndTheTail() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert((0..<50).map { parse("<14>1 - web-\($0 % 2) app - - - alpha number \($0)") })
        _ = try await store.indexPending(maxRows: 1_000)
        _ = try await store.insert((50..<60).map { parse("<14>1 - web-\($0 % 2) app - - - alpha number \($0)") })
        // Through the full-text index (indexed part) and the scanned tail; and without words (no index).
        for text in ["alpha", "host:web-1"] {
            let page = try await store.search(SearchRequest(query: try QueryParser.parse(text), now: Self.now, limit: 1_000, after: 45))
            let ids = page.records.map(\.id)
            #expect(ids == ids.sorted(by: >) && ids.allSatisfy { $0 > 45 }, "\(text): \(ids)")
            #expect(ids.count == (text == "alpha" ? 15 : 8), "\(text): \(ids)")
            // Pages within the bound: `before` and `after` together.
            let older = try await store.search(SearchRequest(query: try QueryParser.parse(text), now: Self.now, limit: 3, before: 50, after: 45))
            #expect(older.records.map(\.id).allSatisfy { (46..<50).contains($0) }, "\(text): \(older.records.map(\.id))")
        }
    }

    @Test func everyCommittedRecordIsSearchableBeforeAndAfterIndexing() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert((0..<100).map { parse("<14>1 - h app - - - message number \($0) upstream timed out") })
        let query = SearchRequest(query: try QueryParser.parse("\"upstream timed\""), now: Self.now, limit: 1000)
        #expect(try await store.search(query).records.count == 100)
        #expect(try await store.indexPending(maxRows: 30) == 30)
        #expect(try await store.search(query).records.count == 100)
        while try await store.indexPending(maxRows: 1000) > 0 {}
        #expect(try await store.search(query).records.count == 100)
        #expect(try await store.indexPending(maxRows: 1000) == 0)
    }

    @Test func hostsAreCounted() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert([
            parse("<14>1 2025-11-25T13:17:50Z Web-1 app - - - a", ago: 10),
            parse("<14>1 2025-11-25T13:17:52Z web-1 app - - - b", ago: 0),
            parse("<14>1 2025-11-25T13:17:52Z db-1 app - - [x"),
            parse("no header", source: "198.51.100.9"),
        ])
        let hosts = try await store.hosts()
        #expect(hosts.map(\.hostname) == ["198.51.100.9", "db-1", "Web-1"])
        let web = try #require(hosts.first { $0.hostname == "Web-1" })
        #expect(web.messages == 2)
        #expect(web.parseProblems == 0)
        #expect(web.lastSeen.seconds == Self.now.seconds)
        #expect(try #require(web.clockSkewSeconds) < 0)
        #expect(hosts.first { $0.hostname == "db-1" }?.parseProblems == 1)
    }

    @Test func retentionByAgeRemovesOldestInSteps() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert((0..<50).map { parse("<14>1 - h app - - - old \($0)", ago: 7200) })
        _ = try await store.insert((0..<20).map { parse("<14>1 - h app - - - new \($0)", ago: 60) })
        _ = try await store.indexPending(maxRows: 10_000)
        let policy = RetentionPolicy(maxAgeSeconds: 3600)
        #expect(try await store.applyRetention(policy, now: Self.now, maxRows: 30) == 30)
        #expect(try await store.applyRetention(policy, now: Self.now, maxRows: 30) == 20)
        #expect(try await store.applyRetention(policy, now: Self.now, maxRows: 30) == 0)
        let all = try await store.search(SearchRequest(query: .all, now: Self.now, limit: 1000))
        #expect(all.records.count == 20)
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("old"), now: Self.now, limit: 1000)).records.isEmpty)
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("new"), now: Self.now, limit: 1000)).records.count == 20)
    }

    @Test func retentionBySizeDeletesOldestFirst() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        let filler = String(repeating: "x", count: 2000)
        _ = try await store.insert((0..<500).map { parse("<14>1 - h app - - - \($0) \(filler)") })
        let deleted = try await store.applyRetention(RetentionPolicy(maxBytes: 100_000), now: Self.now, maxRows: 100)
        #expect(deleted == 100)
        let oldest = try await store.search(SearchRequest(query: .all, now: Self.now, limit: 10_000)).records.last
        #expect(oldest?.record.message.hasPrefix("100 ") == true)
    }

    @Test func searchTextNeverBecomesSQL() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.insert([parse("<14>1 - h app - - - x' OR 1=1; DROP TABLE logs; --")])
        for q in [#""x' OR 1=1; DROP TABLE logs; --""#, "host:\"h' OR '1'='1\"", "app:%", "app:_*", #"sd.a"b.c:d"#, "/'; DROP TABLE logs; --/"] {
            if let query = try? QueryParser.parse(q) {
                _ = try await store.search(SearchRequest(query: query, now: Self.now))
            }
        }
        #expect(try await store.search(SearchRequest(query: .all, now: Self.now)).records.count == 1)
        #expect(try await store.search(SearchRequest(query: try QueryParser.parse("app:_*"), now: Self.now)).records.isEmpty)
    }
}
