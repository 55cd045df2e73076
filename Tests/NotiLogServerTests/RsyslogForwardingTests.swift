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

    /// A port that was free a moment ago (for a server that must start after its sender).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        try withUnsafeMutablePointer(to: &addr) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(fd, $0, len) == 0, getsockname(fd, $0, &len) == 0 else { throw POSIXError(.EADDRINUSE) }
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    @Test func messagesQueuedWhileTheServerIsAwayArriveWhenItStarts() async throws {
        let dir = TemporaryDirectory()
        let port = try Self.freePort()
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
        var inPort: Int?
        let deadline = Date().addingTimeInterval(20)
        while inPort == nil, Date() < deadline, rsyslog.isRunning {
            inPort = (try? String(contentsOfFile: dir.path + "/inport", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            if inPort == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        var input = try #require(inPort, "rsyslogd did not start: \(rsyslog.text)")

        // Sent while no server listens: rsyslog keeps them in its queue.
        let total = 300
        // The port file can appear a moment before rsyslogd accepts (or be read half-written): retry briefly.
        var connected: TestSocket?
        let connectBy = Date().addingTimeInterval(10)
        while connected == nil {
            do {
                connected = try TestSocket(tcpPort: input)
            } catch where Date() < connectBy {
                try await Task.sleep(for: .milliseconds(50))
                inPort = (try? String(contentsOfFile: dir.path + "/inport", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
                input = inPort ?? input
            }
        }
        let sender = try #require(connected)
        var stream: [UInt8] = []
        for k in 0..<total {
            let m = "<165>1 2025-11-25T13:17:50.\(String(format: "%03d", k))+01:00 app-host-\(k % 3) rsfwd \(k) M\(k) [ex@32473 seq=\"\(k)\"] forwarded \(k)"
            stream += Array("\(m.utf8.count) \(m)".utf8)
        }
        try sender.send(stream)
        #expect(sender.finish())
        try await Task.sleep(for: .milliseconds(500))

        // Now the server starts on the port rsyslog forwards to.
        var c = ServerConfiguration(dataDir: dir.path + "/data", listeners: [.init(tcp: "127.0.0.1:\(port)")], ingest: .init(batchDelay: "20ms"))
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
