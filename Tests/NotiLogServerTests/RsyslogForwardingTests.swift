import Foundation
import Logging
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

@testable import NotiLogServer

#if canImport(Glibc)
import Glibc
#endif

/// Debian's rsyslogd (the rsyslog package); the suite is skipped without it.
let rsyslogdPath = "/usr/sbin/rsyslogd"

/// The shipped rsyslog snippet (`etc/rsyslog.d/60-notilog.conf`) with a real rsyslogd, run by hand on loopback.
@Suite("rsyslog forwarding", .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: rsyslogdPath)))
struct RsyslogForwardingTests {
    static let rsyslogd = rsyslogdPath
    static let snippet = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("etc/rsyslog.d/60-notilog.conf").path

    @Test func theSnippetParses() throws {
        let dir = TemporaryDirectory()
        let main = dir.path + "/rsyslog.conf"
        try "include(file=\"\(Self.snippet)\")\n".write(toFile: main, atomically: true, encoding: .utf8)
        #expect(try runProgram(Self.rsyslogd, ["-N1", "-f", main]) == 0)
    }

    @Test func messagesQueuedWhileTheServerIsAwayArriveWhenItStarts() async throws {
        let dir = TemporaryDirectory()
        let port = try freeLoopbackPort()
        try FileManager.default.createDirectory(atPath: dir.path + "/spool", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir.path + "/work", withIntermediateDirectories: true)
        // The snippet as a user installs it, pointed at this test's server and spool, retrying every second.
        let forward = try String(contentsOfFile: Self.snippet, encoding: .utf8)
            .replacingOccurrences(of: "target=\"notilog.example.net\"", with: "target=\"127.0.0.1\"")
            .replacingOccurrences(of: "port=\"514\"", with: "port=\"\(port)\"")
            .replacingOccurrences(of: "queue.spoolDirectory=\"/var/spool/rsyslog\"", with: "queue.spoolDirectory=\"\(dir.path)/spool\"")
            .replacingOccurrences(of: "action.resumeInterval=\"10\"", with: "action.resumeInterval=\"1\"")
        try forward.write(toFile: dir.path + "/60-notilog.conf", atomically: true, encoding: .utf8)
        try """
            global(workDirectory="\(dir.path)/work")
            module(load="imtcp")
            input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="\(dir.path)/inport")
            include(file="\(dir.path)/60-notilog.conf")
            """.write(toFile: dir.path + "/rsyslog.conf", atomically: true, encoding: .utf8)
        let rsyslog = try ChildProcess(Self.rsyslogd, ["-n", "-f", dir.path + "/rsyslog.conf", "-i", dir.path + "/rsyslogd.pid"])
        defer { rsyslog.stop() }
        let input = try await waitForPortFile(dir.path + "/inport", of: rsyslog)

        // Sent while no server listens: rsyslog keeps them in its queue.
        let total = 300
        // The port file can appear a moment before rsyslogd accepts: connecting is retried briefly.
        let sender = try await connectToPeer(rsyslog, port: input)
        var stream: [UInt8] = []
        for k in 0..<total {
            let m = "<165>1 2025-11-25T13:17:50.\(String(format: "%03d", k))+01:00 app-host-\(k % 3) rsfwd \(k) M\(k) [ex@32473 seq=\"\(k)\"] forwarded \(k)"
            stream += Array("\(m.utf8.count) \(m)".utf8)
        }
        try sender.send(stream)
        #expect(sender.finish())
        try await Task.sleep(for: .milliseconds(500))

        // Now the server starts on the port rsyslog forwards to.
        var c = ServerConfiguration(dataDir: dir.path + "/data", listeners: [.init(tcp: "127.0.0.1:\(port)")], http: "127.0.0.1:0", ingest: .init(batchDelay: "20ms"))
        c.timeZone = "UTC"
        let services = try await buildServices(configuration: c, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let group = services.serviceGroup(logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        let running = Task { try await group.run() }
        let query = SearchRequest(query: try QueryParser.parse("app:rsfwd"), limit: 10_000)
        let until = Date().addingTimeInterval(60)
        var records: [LogRecord] = []
        while Date() < until {
            records = try await services.store.search(query).records.reversed().map(\.record)
            if Set(records.map(\.message)).count >= total { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        rsyslog.signal(SIGTERM)
        #expect(try await rsyslog.waitForExit() != nil)
        await group.triggerGracefulShutdown()
        try await running.value

        // At least once: rsyslog may send again the message that was in flight when a connection failed.
        #expect(Set(records.map(\.message)) == Set((0..<total).map { "forwarded \($0)" }), "\(rsyslog.text)")
        #expect(records.count >= total && records.count <= total + 2)
        #expect(Array(records.map(\.message).prefix(total)) == (0..<total).map { "forwarded \($0)" })
        let first = try #require(records.first)
        #expect(first.hostname == "app-host-0")
        #expect(first.facility == .local4)
        #expect(first.severity == .notice)
        #expect(first.procID == "0")
        #expect(first.msgID == "M0")
        #expect(first.format == .rfc5424)
        #expect(first.structuredData.map { $0.map(\.id) } == ["ex@32473"])
        #expect(first.timestamp == SyslogTimestamp(seconds: 1_764_073_070, nanoseconds: 0, fractionDigits: 3))
        #expect(records.allSatisfy { $0.problems.isEmpty })
    }
}

// MARK: - UDP, traditional format

extension RsyslogForwardingTests {
    /// A message the test sends rsyslog; `k` numbers it and is in its text.
    struct Traditional {
        var k: Int
        var facility: Facility
        var severity: Severity
        var hostname: String
        var appName: String
        var procID: String?
        var text: String
        var seconds: Int64
        /// Sent as RFC 5424 (with msgid, structured data and a fraction) rather than RFC 3164.
        var rfc5424: Bool

        /// Every facility and severity, host names with and without a domain, program names as real ones look,
        /// with and without pid, times in the last 40 days (so every day of the month below 10 too); every fifth
        /// message arrives at rsyslog as RFC 5424.
        static func make(_ total: Int) -> [Traditional] {
            let apps = ["sshd", "postfix/smtpd", "CRON", "systemd-logind", "my.app_x", "nginx", "kernel-helper"]
            let start = SyslogTimestamp.now().seconds - 40 * 86_400
            return (0..<total).map { k -> Traditional in
                let rfc5424 = k % 5 == 4
                return Traditional(
                    k: k, facility: Facility(rawValue: UInt8(k % 24))!, severity: Severity(rawValue: UInt8(k / 24 % 8))!,
                    hostname: k % 2 == 1 ? "rs-\(k % 7).example.net" : "db-\(k % 7)", appName: apps[k % apps.count],
                    procID: k % 4 == 0 && !rfc5424 ? nil : "\(2000 + k)",
                    text: "traditional \(k): ünïcödé \"quoted\" [brackets] key=value",
                    seconds: start + Int64(k) * 11_520 + Int64(k * 37 % 60), rfc5424: rfc5424)
            }
        }

        var pri: Int { Int(facility.rawValue) * 8 + Int(severity.rawValue) }

        /// RFC 3164 `<PRI>Oct  6 20:17:29 HOST APP[PID]: MSG` (LF-framed), or RFC 5424 (octet-counted).
        var frame: [UInt8] {
            if rfc5424 {
                let m = "<\(pri)>1 \(rfc3339(seconds: seconds, microseconds: 250_000, fractionDigits: 3)) \(hostname) \(appName) "
                    + "\(procID ?? "-") ID\(k % 10) [x@32473 k=\"\(k)\"] \(text)"
                return Array("\(m.utf8.count) \(m)".utf8)
            }
            return Array("<\(pri)>\(bsdTimestamp(seconds: seconds)) \(hostname) \(appName)\(procID.map { "[\($0)]" } ?? ""): \(text)\n".utf8)
        }

        /// What NotiLog should store, as captured from rsyslog 8.2302 with `nc`: `<PRI>Oct  6 20:17:29 HOST TAG MSG`,
        /// the time as rsyslog received it (UTC here) without year or fraction, `APP[PID]:` for a message that came
        /// as RFC 3164 and `APP[PID]` (no colon) for one that came as RFC 5424; no msgid or structured data.
        func expected(receivedAt: SyslogTimestamp) -> LogRecord {
            LogRecord(
                facility: facility, severity: severity, timestamp: SyslogTimestamp(seconds: seconds), receivedAt: receivedAt,
                hostname: hostname, appName: appName, procID: procID, message: text, source: "127.0.0.1", format: .rfc3164)
        }
    }

    /// rsyslog forwarding over UDP in `RSYSLOG_TraditionalForwardFormat` (RFC 3164): each message arrives once,
    /// with every field the format carries.
    @Test func udpInTheTraditionalFormatArrivesWithEveryField() async throws {
        let dir = TemporaryDirectory()
        let server = try await ForwardingServer.start(dataDir: dir.path + "/data")
        try FileManager.default.createDirectory(atPath: dir.path + "/work", withIntermediateDirectories: true)
        try """
            global(workDirectory="\(dir.path)/work")
            module(load="imtcp")
            input(type="imtcp" port="0" address="127.0.0.1" listenPortFileName="\(dir.path)/inport" ruleset="fwd")
            ruleset(name="fwd") {
                action(type="omfwd" target="127.0.0.1" port="\(server.udpPort)" protocol="udp"
                    template="RSYSLOG_TraditionalForwardFormat")
            }
            """.write(toFile: dir.path + "/rsyslog.conf", atomically: true, encoding: .utf8)
        // Its local time (which the traditional format writes) is UTC, the server's zone for senders without one.
        let rsyslog = try ChildProcess(
            Self.rsyslogd, ["-n", "-f", dir.path + "/rsyslog.conf", "-i", dir.path + "/rsyslogd.pid"], environment: ["TZ": "UTC"])
        defer { rsyslog.stop() }
        let input = try await waitForPortFile(dir.path + "/inport", of: rsyslog)

        let total = 300
        let sent = Traditional.make(total)
        // RFC 3164 one per line on one connection, RFC 5424 octet-counted on another.
        let lines = try await connectToPeer(rsyslog, port: input)
        let counted = try await connectToPeer(rsyslog, port: input)
        // In batches with a pause between them, as a fair UDP sender would.
        for start in stride(from: 0, to: total, by: 50) {
            let batch = sent[start..<min(start + 50, total)]
            try lines.send(batch.filter { !$0.rfc5424 }.flatMap(\.frame))
            try counted.send(batch.filter(\.rfc5424).flatMap(\.frame))
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(lines.finish() && counted.finish(), "rsyslog did not read all of the input: \(rsyslog.text)")
        let records = try await readBack(server.services, query: "", expecting: total)
        rsyslog.signal(SIGTERM)
        #expect(try await rsyslog.waitForExit() != nil)
        try await server.stop()

        // Each message once: none lost, none twice, nothing else.
        let numbers = records.map { r in r.message.firstMatch(of: /^traditional ([0-9]+):/).flatMap { Int($0.output.1) } }
        #expect(records.count == total, "\(rsyslog.text)")
        #expect(Set(numbers.compactMap { $0 }) == Set(0..<total))
        #expect(numbers.allSatisfy { $0 != nil }, "records that are none of the messages sent: \(records.filter { $0.message.firstMatch(of: /^traditional [0-9]+:/) == nil })")
        // Every field of each.
        for (record, k) in zip(records, numbers) {
            guard let k else { continue }
            #expect(record == sent[k].expected(receivedAt: record.receivedAt))
        }
        #expect(records.allSatisfy { $0.problems.isEmpty })
        #expect(server.services.pipeline.counters.droppedQueueFull == 0)
    }
}
