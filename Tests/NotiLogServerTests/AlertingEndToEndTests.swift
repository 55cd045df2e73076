import Foundation
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Syslog in, notifications out, through the real server binary and the real peers: the Telegram stand-in
/// (Bot API over HTTP, with scripted 429s and outages) and an aiosmtpd SMTP server writing a Maildir.
@Suite("Alerting end to end", .serialized)
struct AlertingEndToEndTests {
    static let token = "4242:TESTTOKEN"

    static func configuration(dataDir: String, telegramPort: Int, smtpPort: Int?) -> String {
        var text = """
            data_dir: \(dataDir)
            public_url: https://logs.example.com
            channels:
              ops-telegram:
                type: telegram
                bot_token: "\(token)"
                chat_id: "-100123"
                api_base_url: http://127.0.0.1:\(telegramPort)

            """
        if let smtpPort {
            text += """
                  ops-mail:
                    type: email
                    smtp_url: smtp://127.0.0.1:\(smtpPort)
                    starttls: "off"
                    from: notilog@example.com
                    to: [ops@example.com]

                """
        }
        text += """
            rules:
              - name: oom-killer
                kind: match
                query: '"out of memory"'
                group_by: [host]
                channels: [ops-telegram\(smtpPort == nil ? "" : ", ops-mail")]
            """
        return text
    }

    /// The server binary with this configuration; returns it with its TCP syslog and HTTP ports.
    static func startServer(config: String, in dir: String) async throws -> (ChildProcess, tcp: Int, http: Int) {
        let path = dir + "/server.yaml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let server = try ChildProcess(try serverExecutable(), ["--config", path, "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0"])
        let ready = try await server.waitForOutput { httpPort(in: $0) != nil && listenerPorts(in: $0)["tcp"] != nil }
        guard ready, let http = httpPort(in: server.text), let tcp = listenerPorts(in: server.text)["tcp"] else {
            server.stop()
            throw PeerError("the server did not start: \(server.text)")
        }
        return (server, tcp, http)
    }

    /// One RFC 5424 message, octet-counted (so it may hold CR and LF).
    static func frame(host: String, app: String, _ message: String) -> [UInt8] {
        let text = Array("<2>1 \(SyslogNow.rfc3339()) \(host) \(app) - - - \(message)".utf8)
        return Array("\(text.count) ".utf8) + text
    }

    static func sendMessages(_ frames: [[UInt8]], port: Int, to server: ChildProcess) async throws {
        let socket = try await connectToPeer(server, port: port)
        for f in frames { try socket.send(f) }
        #expect(socket.finish())
    }

    /// The messages the stand-in accepted, as Telegram would show them (its HTML parsed to text).
    static func sentTexts(_ records: [[String: Any]]) -> [String] {
        records.compactMap { r in
            guard (r["status"] as? Int) == 200, let response = r["response"] as? [String: Any],
                let result = response["result"] as? [String: Any]
            else { return nil }
            return result["text"] as? String
        }
    }

    @Test func aMatchNotifiesTelegramAndEmailOnceWithLogTextEscaped() async throws {
        let dir = TemporaryDirectory()
        // The first sendMessage is answered 429 (retry after 1 s): the notice must still arrive, once.
        let telegram = try await Peers.telegram(token: Self.token, in: dir, ["--rate-limit", "1:1"])
        defer { telegram.stop() }
        let smtp = try await Peers.smtp(in: dir)
        defer { smtp.stop() }
        let (server, tcp, _) = try await Self.startServer(
            config: Self.configuration(dataDir: dir.path + "/data", telegramPort: telegram.port, smtpPort: smtp.port), in: dir.path)
        defer { server.stop() }

        let hostile = "Out of memory: Killed process 4242 (<script>alert(1)</script> & \"java\") \r\nBcc: evil@example.com\r\n" + String(repeating: "x", count: 10_000)
        try await Self.sendMessages(
            [Self.frame(host: "web-7", app: "kernel", hostile), Self.frame(host: "web-7", app: "kernel", "all good")], port: tcp, to: server)

        let records = try await telegram.records(atLeast: 2, seconds: 60)
        #expect((records.first?["status"] as? Int) == 429, "\(records)")
        let texts = Self.sentTexts(try await telegram.records(atLeast: 2, seconds: 5))
        #expect(texts.count == 1, "\(texts)")
        let text = try #require(texts.first)
        #expect(text.contains("oom-killer"))
        #expect(text.contains("web-7"))
        // The stand-in parses HTML as Telegram does and rejects a message it cannot parse; it accepted this one, and
        // the log text is in it as text (the parsed text holds the characters; no tag came from the log).
        #expect(text.contains("<script>alert(1)</script> & \"java\""))
        let html = records.compactMap { ($0["params"] as? [String: Any])?["text"] as? String }.last ?? ""
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp;"))
        #expect(text.utf16.count <= 4096)

        // The mail: one message, threaded headers of its own, the log text in the body and not in a header.
        var mails: [String] = []
        for _ in 0..<600 where mails.isEmpty {
            mails = Peers.maildirMessages(in: dir.path)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(mails.count == 1)
        let mail = try Peers.parseMail(try #require(mails.first))
        #expect(mail.header("Bcc") == nil)
        #expect(mail.header("Subject")?.contains("oom-killer") == true)
        #expect(mail.header("Message-ID") != nil)
    }

    @Test func aNotificationQueuedBeforeKill9IsDeliveredAfterTheRestartOnce() async throws {
        let dir = TemporaryDirectory()
        // Telegram is down (502) until told otherwise.
        let telegram = try await Peers.telegram(token: Self.token, in: dir, ["--fail-5xx", "100000"])
        defer { telegram.stop() }
        let config = Self.configuration(dataDir: dir.path + "/data", telegramPort: telegram.port, smtpPort: nil)
        var (server, tcp, _) = try await Self.startServer(config: config, in: dir.path)
        try await Self.sendMessages([Self.frame(host: "db-1", app: "kernel", "Out of memory: Killed process 7 (postgres)")], port: tcp, to: server)
        // The alert fired and its notice is in the outbox: a send was tried and failed.
        _ = try await telegram.records(atLeast: 1, seconds: 60)
        server.signal(SIGKILL)
        _ = try await server.waitForExit()
        server.stop()

        try await telegram.control(["reset": true])
        (server, tcp, _) = try await Self.startServer(config: config, in: dir.path)
        defer { server.stop() }
        var texts: [String] = []
        for _ in 0..<600 where texts.isEmpty {
            texts = Self.sentTexts(telegram.records())
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(texts.count == 1)
        #expect(texts.first?.contains("db-1") == true)
        // Nothing more arrives for the same alert (one notice per idempotency key).
        try await Task.sleep(for: .seconds(2))
        #expect(Self.sentTexts(telegram.records()).count == 1)
    }
}

/// The current time in RFC 3339, for test messages.
enum SyslogNow {
    static func rfc3339() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}
