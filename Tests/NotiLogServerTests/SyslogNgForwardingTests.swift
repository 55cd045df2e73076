import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogServer

#if canImport(Glibc)
import Glibc
#endif

/// A real syslog-ng (unpacked by `scripts/setup`), run by hand on loopback, forwarding to an in-process NotiLog
/// server with each of its drivers; the shipped snippet `etc/syslog-ng/conf.d/notilog.conf` is the syslog() case.
@Suite("syslog-ng forwarding", .serialized, .enabled(if: SyslogNg.isAvailable))
struct SyslogNgForwardingTests {
    static let snippet = repositoryRoot + "/etc/syslog-ng/conf.d/notilog.conf"

    /// How syslog-ng sends to NotiLog.
    enum Driver: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// The shipped snippet: `syslog(transport("tcp"))`, RFC 5424 with octet counting, through a disk buffer.
        case syslog
        /// `network(transport("tcp"))`: the BSD format (RFC 3164), one message per line.
        case networkTCP
        /// `network(transport("udp"))`: the BSD format, one message per datagram.
        case networkUDP

        var testDescription: String {
            switch self {
            case .syslog: "syslog() over TCP (the shipped snippet)"
            case .networkTCP: "network() over TCP"
            case .networkUDP: "network() over UDP"
            }
        }

        /// The configuration after the source `s_src`: the destination and the log path.
        func destination(_ server: ForwardingServer, dir: String) throws -> String {
            switch self {
            case .syslog:
                // The snippet as a user installs it, pointed at this test's server and directory, reconnecting every second.
                try FileManager.default.createDirectory(atPath: dir + "/buffer", withIntermediateDirectories: true)
                let snippet = try String(contentsOfFile: SyslogNgForwardingTests.snippet, encoding: .utf8)
                    .replacingOccurrences(of: "\"notilog.example.net\"\n", with: "\"127.0.0.1\"\n")
                    .replacingOccurrences(of: "port(514)", with: "port(\(server.tcpPort))")
                    .replacingOccurrences(of: "time-reopen(10)", with: "time-reopen(1)")
                    .replacingOccurrences(of: "dir(\"/var/lib/syslog-ng\")", with: "dir(\"\(dir)/buffer\")")
                try snippet.write(toFile: dir + "/notilog.conf", atomically: true, encoding: .utf8)
                return "@include \"\(dir)/notilog.conf\"\n"
            case .networkTCP, .networkUDP:
                // Times in UTC, which the server assumes for senders without a zone.
                let (transport, port) = self == .networkTCP ? ("tcp", server.tcpPort) : ("udp", server.udpPort)
                return """
                    destination d_notilog {
                        network("127.0.0.1" transport("\(transport)") port(\(port)) time-zone("UTC") time-reopen(1));
                    };
                    log { source(s_src); destination(d_notilog); flags(flow-control); };

                    """
            }
        }
    }

    /// A message the test sends syslog-ng as RFC 5424; `k` numbers it and is in its text.
    struct Sent {
        var k: Int
        var facility: Facility
        var severity: Severity
        var hostname: String
        var appName: String
        var procID: String?
        var msgID: String?
        var structuredData: [StructuredDataElement]?
        var text: String
        var byteOrderMark: Bool
        var seconds: Int64
        var microseconds: Int32
        var fractionDigits: Int
        var offsetMinutes: Int

        /// Every facility and severity, host names with and without a domain, program names as real ones look,
        /// with and without pid, msgid and structured data (escapes included), a BOM now and then, times in the
        /// last 40 days (so every day of the month below 10 too) with 0, 3 or 6 fraction digits in four offsets,
        /// and for the syslog() driver a multi-line message now and then.
        static func make(_ total: Int, multiLine: Bool) -> [Sent] {
            let apps = ["sshd", "postfix/smtpd", "CRON", "systemd-logind", "my.app_x", "nginx", "kernel-helper"]
            let start = SyslogTimestamp.now().seconds - 40 * 86_400
            return (0..<total).map { k -> Sent in
                var sd: [StructuredDataElement]?
                if k % 5 != 0 {
                    sd = [StructuredDataElement(id: "notilog@32473", parameters: [.init("seq", "\(k)"), .init("quote", "say \"hi\" \\ [x]")])]
                    if k % 2 == 1 {
                        sd?.append(StructuredDataElement(id: "origin", parameters: [.init("ip", "192.0.2.\(k % 250)"), .init("software", "syslog-ng")]))
                    }
                }
                return Sent(
                    k: k, facility: Facility(rawValue: UInt8(k % 24))!, severity: Severity(rawValue: UInt8(k / 24 % 8))!,
                    hostname: k % 2 == 1 ? "sng-\(k % 7).example.net" : "web-\(k % 7)", appName: apps[k % apps.count],
                    procID: k % 4 == 0 ? nil : "\(1000 + k)", msgID: k % 3 == 0 ? nil : "ID\(k % 10)", structuredData: sd,
                    text: multiLine && k % 13 == 5
                        ? "message \(k): an exception\n\tat frame one\n\tat frame two"
                        : "message \(k): ünïcödé \"quoted\" [brackets] key=value",
                    byteOrderMark: k % 11 == 0, seconds: start + Int64(k) * 11_520 + Int64(k * 37 % 60),
                    microseconds: [0, 123_000, 123_456][k % 3], fractionDigits: [0, 3, 6][k % 3],
                    offsetMinutes: [0, 60, -330, 345][k % 4])
            }
        }

        /// The RFC 5424 text, octet-counted.
        var frame: [UInt8] {
            var sd: String?
            for element in structuredData ?? [] {
                var text = "[\(element.id)"
                for p in element.parameters { text += " \(p.name)=\"\(Self.escape(p.value))\"" }
                sd = (sd ?? "") + text + "]"
            }
            let time = rfc3339(seconds: seconds, microseconds: microseconds, fractionDigits: fractionDigits, offsetMinutes: offsetMinutes)
            let m = "<\(Int(facility.rawValue) * 8 + Int(severity.rawValue))>1 \(time) \(hostname) \(appName) \(procID ?? "-") "
                + "\(msgID ?? "-") \(sd ?? "-") \(byteOrderMark ? "\u{FEFF}" : "")\(text)"
            return Array("\(m.utf8.count) \(m)".utf8)
        }

        static func escape(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "]", with: "\\]")
        }

        /// What NotiLog should store, as captured from syslog-ng 3.38 with `nc`:
        /// * syslog(): `LEN <PRI>1 2026-10-16T20:17:29.123+01:00 HOST APP PID MSGID [SD] MSG\n` — fields, structured
        ///   data (order and escapes), BOM and offset as received; the fraction written with 3 digits (the
        ///   snippet's `frac-digits(3)`); a trailing LF inside the frame, which ends it.
        /// * network(): `<PRI>Oct 16 19:17:29 HOST APP[PID]: MSG\n` (`APP:` without a pid) in UTC
        ///   (`time-zone("UTC")`), no year, fraction, msgid, structured data or BOM.
        func expected(via driver: Driver, receivedAt: SyslogTimestamp) -> LogRecord {
            switch driver {
            case .syslog:
                LogRecord(
                    facility: facility, severity: severity,
                    timestamp: SyslogTimestamp(seconds: seconds, nanoseconds: microseconds / 1000 * 1_000_000, fractionDigits: 3),
                    receivedAt: receivedAt, hostname: hostname, appName: appName, procID: procID, msgID: msgID,
                    structuredData: structuredData, message: text, source: "127.0.0.1", format: .rfc5424)
            case .networkTCP, .networkUDP:
                LogRecord(
                    facility: facility, severity: severity, timestamp: SyslogTimestamp(seconds: seconds), receivedAt: receivedAt,
                    hostname: hostname, appName: appName, procID: procID, message: text, source: "127.0.0.1", format: .rfc3164)
            }
        }
    }

    @Test func theSnippetParses() throws {
        let dir = TemporaryDirectory()
        try """
            @version: \(SyslogNg.version ?? "")
            source s_src { syslog(ip("127.0.0.1") transport("tcp") port(0)); };
            @include "\(Self.snippet)"

            """.write(toFile: dir.path + "/syslog-ng.conf", atomically: true, encoding: .utf8)
        #expect(try SyslogNg.checkSyntax(of: dir.path + "/syslog-ng.conf") == 0)
    }

    /// A few hundred messages through syslog-ng with `flags(flow-control)`: each arrives once, with every field.
    @Test(arguments: Driver.allCases)
    func everyMessageArrivesOnceWithEveryField(_ driver: Driver) async throws {
        let dir = TemporaryDirectory()
        let server = try await ForwardingServer.start(dataDir: dir.path + "/data")
        let input = try freeLoopbackPort()
        let destination = try driver.destination(server, dir: dir.path)
        // Its source reads RFC 5424 and keeps the host names the messages carry.
        let config = """
            options { use-dns(no); dns-cache(no); };
            source s_src { syslog(ip("127.0.0.1") transport("tcp") port(\(input)) keep-hostname(yes)); };
            \(destination)
            """
        let syslogNg = try await SyslogNg.start(config: config, in: dir.path)
        defer { syslogNg.stop() }

        let total = 300
        let sent = Sent.make(total, multiLine: driver == .syslog)
        let sender = try await connectToPeer(syslogNg, port: input)
        // In batches with a pause between them, which UDP gets from a fair sender.
        for start in stride(from: 0, to: total, by: 50) {
            try sender.send(sent[start..<min(start + 50, total)].flatMap(\.frame))
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sender.finish(), "syslog-ng did not read all of the input: \(syslogNg.text)")
        let records = try await readBack(server.services, query: "", expecting: total)
        syslogNg.signal(SIGTERM)
        #expect(try await syslogNg.waitForExit() == 0, "\(syslogNg.text)")
        try await server.stop()

        // Each message once: none lost, none twice, nothing else; over TCP in the order sent.
        let numbers = records.map { r in r.message.firstMatch(of: /^message ([0-9]+):/).flatMap { Int($0.output.1) } }
        #expect(records.count == total, "\(syslogNg.text)")
        #expect(Set(numbers.compactMap { $0 }) == Set(0..<total))
        #expect(numbers.allSatisfy { $0 != nil }, "records that are none of the messages sent: \(records.filter { $0.message.firstMatch(of: /^message [0-9]+:/) == nil })")
        if driver != .networkUDP {
            #expect(numbers == (0..<total).map { Optional($0) })
        }
        // Every field of each.
        for (record, k) in zip(records, numbers) {
            guard let k else { continue }
            #expect(record == sent[k].expected(via: driver, receivedAt: record.receivedAt))
        }
        #expect(records.allSatisfy { $0.problems.isEmpty })
        #expect(server.services.pipeline.counters.droppedQueueFull == 0)
    }
}
