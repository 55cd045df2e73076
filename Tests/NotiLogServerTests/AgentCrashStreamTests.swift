import Foundation
import NotiLogTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// 200,000 lines written to a file while the agent forwards them: the agent is killed (-9) and restarted, then
/// the server, both while records flow. At the end every line is on the server, and duplicates are at most one
/// batch (the acknowledged transport makes them none in practice: a batch sent again carries its number and is
/// stored once). The duplicate count is printed.
@Suite("Agent to server: a long stream through crashes", .serialized)
struct AgentCrashStreamTests {
    static let total = 200_000
    static let batchRecords = 1000

    /// Writes `line N of the stream` for N in 0..<total, `chunk` lines at a time, about `perSecond` lines a
    /// second, on its own thread.
    final class PacedWriter: Sendable {
        private let progress = Mutex((written: 0, finished: false))
        /// Lines written so far.
        var written: Int { progress.withLock { $0.written } }
        var finished: Bool { progress.withLock { $0.finished } }

        init(path: String, total: Int, perSecond: Int, chunk: Int = 1000) {
            Thread.detachNewThread { [self] in
                defer { progress.withLock { $0.finished = true } }
                guard let handle = FileHandle(forWritingAtPath: path) else { return }
                defer { try? handle.close() }
                handle.seekToEndOfFile()
                let start = Date()
                var n = 0
                while n < total {
                    let end = min(n + chunk, total)
                    handle.write(Data((n..<end).map { "line \($0) of the stream\n" }.joined().utf8))
                    n = end
                    progress.withLock { $0.written = n }
                    let due = start.addingTimeInterval(Double(n) / Double(perSecond))
                    let wait = due.timeIntervalSinceNow
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                }
            }
        }
    }

    /// How many records the query finds (the stats endpoint's total: no paging).
    static func count(_ admin: TestAPI, _ query: String) async throws -> Int {
        let answer = try await admin.request("GET", "/api/v1/stats", ["q": query, "since": "-1h", "buckets": "1", "top": "0"])
        guard answer.status == 200, let total = answer.json["total"] as? Int else { throw TestAPI.APIFailure(answer: answer.text, status: answer.status) }
        return total
    }

    /// Waits until the query finds at least `target` records; the count (less when `seconds` passed first). A
    /// refused connection (the server is being restarted) is waited through.
    static func waitForCount(_ admin: TestAPI, _ query: String, atLeast target: Int, seconds: Double = 120) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var n = 0
        while Date() < deadline {
            n = (try? await count(admin, query)) ?? n
            if n >= target { return n }
            try await Task.sleep(for: .milliseconds(100))
        }
        return n
    }

    /// The N of every `line N of the stream` the query finds, one per record: pages of 10,000, read as bytes
    /// with Foundation's search (a JSON parse of 200,000 records, or a byte loop in a debug build, would take
    /// longer than the rest of the test).
    static func lineNumbers(_ admin: TestAPI, _ query: String) async throws -> [Int] {
        let marker = Data(#""message":"line "#.utf8)
        let nextMarker = Data(#""next":""#.utf8)
        let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        var numbers: [Int] = []
        var cursor: String?
        repeat {
            var p = ["q": query, "limit": "10000"]
            if let cursor { p["cursor"] = cursor }
            let answer = try await admin.request("GET", "/api/v1/logs", p)
            guard answer.status == 200 else { throw TestAPI.APIFailure(answer: answer.text, status: answer.status) }
            let body = answer.body
            var rest = body.startIndex..<body.endIndex
            while let found = body.range(of: marker, in: rest) {
                var i = found.upperBound
                var n = 0
                while i < body.endIndex, body[i] >= zero, body[i] <= nine {
                    n = n * 10 + Int(body[i] - zero)
                    i += 1
                }
                numbers.append(n)
                rest = i..<body.endIndex
            }
            cursor = nil
            if let found = body.range(of: nextMarker, options: .backwards) {
                let end = body[found.upperBound...].firstIndex(of: UInt8(ascii: "\"")) ?? body.endIndex
                cursor = String(decoding: body[found.upperBound..<end], as: UTF8.self)
            }
        } while cursor != nil
        return numbers
    }

    /// Which lines the server holds: records, distinct lines, lines missing, records that are no line written.
    struct Tally {
        var records: Int
        var distinct: Int
        var missing: Int
        var foreign: Int
        var how: String
    }

    static func tally(_ admin: TestAPI, _ query: String, database: String) async throws -> Tally {
        let sqlite3 = "/usr/bin/sqlite3"
        if FileManager.default.isExecutableFile(atPath: sqlite3) {
            let sql = """
                SELECT count(*), count(DISTINCT n), ifnull(min(n), 0), ifnull(max(n), 0), ifnull(sum(message != 'line ' || n || ' of the stream'), 0)
                FROM (SELECT message, CAST(substr(message, 6) AS INTEGER) AS n FROM logs WHERE app = 'stream')
                """
            let result = try Peers.runProgram(sqlite3, ["-readonly", database, sql])
            let f = result.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|").compactMap { Int($0) }
            try #require(result.status == 0 && f.count == 5, "sqlite3: \(result.output)")
            let inRange = f[2] >= 0 && f[3] < total
            let foreign = f[4] + (inRange ? 0 : 1)
            return Tally(records: f[0], distinct: f[1], missing: total - f[1], foreign: foreign, how: "from the database")
        }
        let numbers = try await lineNumbers(admin, query)
        var seen = [UInt8](repeating: 0, count: total)
        var foreign = 0
        for n in numbers {
            if n < total { seen[n] &+= 1 } else { foreign += 1 }
        }
        let distinct = seen.reduce(0) { $0 + ($1 > 0 ? 1 : 0) }
        return Tally(records: numbers.count, distinct: distinct + foreign, missing: total - distinct, foreign: foreign, how: "through the API")
    }

    /// The agent's status file: the file read to `size`, nothing pending and the spool empty.
    static func agentIsIdle(_ statusPath: String, log: String, size: Int) -> Bool {
        guard let data = FileManager.default.contents(atPath: statusPath),
            let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let sources = status["sources"] as? [[String: Any]], let spool = status["spool"] as? [String: Any]
        else { return false }
        return sources.contains { $0["path"] as? String == log && $0["offset"] as? Int == size } && status["pending_records"] as? Int == 0
            && spool["batches"] as? Int == 0
    }

    @Test func everyRecordOfALongStreamArrivesThroughAgentAndServerKills() async throws {
        let began = ContinuousClock.now
        let dir = TemporaryDirectory()
        let port = Peers.closedPort()
        var server = try await AgentEndToEndTests.startServer(dir, port: port)
        defer { server.stop() }
        let (admin, _) = try AgentEndToEndTests.adminAPI(dir, port: port)
        let created = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"agent","scope":"ingest"}"#)
        try #require(created.status == 201, "\(created.text)")
        try (created.json["token"] as! String).write(toFile: dir.path + "/agent.token", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.path + "/logs", withIntermediateDirectories: true)
        let log = dir.path + "/logs/stream.log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let config = dir.path + "/agent.yaml"
        try """
            agent_id: stream-agent
            hostname: stream-host
            state_dir: \(dir.path)/agent
            metrics_interval: 0
            output:
              url: http://127.0.0.1:\(port)
              token_file: \(dir.path)/agent.token
              timeout: 5s
            batch: {max_records: \(Self.batchRecords), max_delay: 200ms}
            files:
              - paths: [\(log)]
                app: stream
            """.write(toFile: config, atomically: true, encoding: .utf8)
        var agent = try await AgentEndToEndTests.startAgent(config)
        defer { agent.stop() }
        let query = "app:stream"
        let writer = PacedWriter(path: log, total: Self.total, perSecond: 10_000)

        // 1. The agent is killed (-9) while records flow, and started again.
        let beforeAgentKill = try await Self.waitForCount(admin, query, atLeast: 40_000)
        try #require(beforeAgentKill >= 40_000, "the stream did not start: \(beforeAgentKill) records\n\(agent.text)")
        agent.stop()
        let writtenAtAgentKill = writer.written
        agent = try await AgentEndToEndTests.startAgent(config)

        // 2. The server is killed (-9) while records flow, and started again a moment later.
        let beforeServerKill = try await Self.waitForCount(admin, query, atLeast: 100_000)
        try #require(beforeServerKill >= 100_000, "\(beforeServerKill) records after the agent's restart\n\(agent.text)")
        server.stop()
        let writtenAtServerKill = writer.written
        try await Task.sleep(for: .seconds(1))
        server = try await AgentEndToEndTests.startServer(dir, port: port)

        // 3. The rest arrives.
        for _ in 0..<1200 where !writer.finished { try await Task.sleep(for: .milliseconds(100)) }
        try #require(writer.written == Self.total, "the writer did not finish")
        let arrived = try await Self.waitForCount(admin, query, atLeast: Self.total, seconds: 180)
        #expect(arrived >= Self.total, "\(arrived) records arrived\n\(agent.text)")
        let allArrived = ContinuousClock.now - began
        let size = (try FileManager.default.attributesOfItem(atPath: log)[.size] as? Int) ?? 0
        var idle = false
        for _ in 0..<600 {
            idle = Self.agentIsIdle(dir.path + "/agent/status.json", log: log, size: size)
            if idle { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(idle, "the agent did not finish reading and sending")
        // Give a late duplicate a moment to show itself.
        try await Task.sleep(for: .seconds(1))

        // The server's count (API) is every line once plus the duplicates; which lines are there is read from its
        // database (a read-only query: seconds, where paging 200,000 records through the API takes a minute or
        // more in a debug build on a busy machine), or through the API when there is no sqlite3 here.
        let counted = try await Self.count(admin, query)
        let tally = try await Self.tally(admin, query, database: dir.path + "/data/notilog.sqlite")
        let duplicates = tally.records - tally.distinct
        print(
            """
            Agent to server, \(Self.total) records: \(tally.records) stored (\(counted) counted), \(tally.missing) missing, \
            \(duplicates) duplicates (agent killed at \(writtenAtAgentKill) written / \(beforeAgentKill) stored, server killed at \
            \(writtenAtServerKill) written / \(beforeServerKill) stored; all arrived after \(allArrived), checked after \
            \(ContinuousClock.now - began), lines read \(tally.how))
            """)
        #expect(tally.records == counted, "the stored records and the API's count disagree")
        #expect(tally.missing == 0, "\(tally.missing) lines missing")
        #expect(tally.foreign == 0, "\(tally.foreign) records that were not written")
        #expect(duplicates <= Self.batchRecords, "\(duplicates) duplicates: more than one batch (\(Self.batchRecords))")
        agent.signal(SIGTERM)
        #expect(try await agent.waitForExit() == 0, "\(agent.text)")
    }
}
