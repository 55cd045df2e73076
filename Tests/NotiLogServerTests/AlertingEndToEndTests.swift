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

    /// One RFC 5424 message, octet-counted (so it may hold CR and LF), stamped `at` (default now).
    static func frame(host: String, app: String, at date: Date = Date(), _ message: String) -> [UInt8] {
        let text = Array("<2>1 \(SyslogNow.rfc3339(date)) \(host) \(app) - - - \(message)".utf8)
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

    // MARK: Webhook, fallback, threshold and absence through the server

    /// The admin token of a data directory and a GET on the server's API with it; the JSON answer, or nil.
    static func api(http: Int, dataDir: String, _ path: String) throws -> [String: Any]? {
        let token = try String(contentsOfFile: dataDir + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let result = try Peers.runProgram(
            "/usr/bin/curl", ["-s", "-f", "-m", "30", "-H", "Authorization: Bearer \(token)", "http://127.0.0.1:\(http)\(path)"])
        guard result.status == 0 else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any]
    }

    /// Polls `done` every 100 ms until it holds or `seconds` pass; returns whether it held.
    static func eventually(seconds: Double = 120, _ done: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await done() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await done()
    }

    /// The webhook payload a receiver's record holds (its body as JSON).
    static func payload(_ record: [String: Any]) -> [String: Any] {
        guard let body = record["body"] as? String else { return [:] }
        return ((try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]) ?? [:]
    }

    /// The mails in the sink's Maildir so far, oldest first, each parsed once.
    final class Mailbox {
        let directory: String
        private var parsed: [String: ParsedMail] = [:]

        init(_ directory: String) { self.directory = directory }

        func mails() throws -> [ParsedMail] {
            try Peers.maildirMessages(in: directory).map { path in
                if let mail = parsed[path] { return mail }
                let mail = try Peers.parseMail(path)
                parsed[path] = mail
                return mail
            }
        }

        /// The mails of a rule in a state (`X-NotiLog-Rule`, `X-NotiLog-State`).
        func mails(rule: String, state: String) throws -> [ParsedMail] {
            try mails().filter { $0.header("X-NotiLog-Rule") == rule && $0.header("X-NotiLog-State") == state }
        }
    }

    @Test func aWebhookGetsTheSignedPayloadWithTheLogTextIntact() async throws {
        let dir = TemporaryDirectory()
        let secret = "hook-secret-" + UUID().uuidString
        let hook = try await Peers.webhook(in: dir, ["--secret", secret])
        defer { hook.stop() }
        let config = """
            data_dir: \(dir.path)/data
            public_url: https://logs.example.com
            channels:
              ops-hook:
                type: webhook
                url: http://127.0.0.1:\(hook.port)/hooks/notilog
                secret: "\(secret)"
            rules:
              - name: oom-killer
                kind: match
                query: '"out of memory"'
                group_by: [host]
                channels: [ops-hook]
            """
        let (server, tcp, http) = try await Self.startServer(config: config, in: dir.path)
        defer { server.stop() }

        let markup = "Out of memory: Killed process 4242 (<script>alert(1)</script> & \"java\") \r\nBcc: evil@example.com\r\n"
        let hostile = markup + String(repeating: "x", count: 10_000)
        try await Self.sendMessages([Self.frame(host: "web-7", app: "kernel", hostile)], port: tcp, to: server)

        let records = try await hook.records(atLeast: 1, seconds: 120)
        #expect(records.count == 1, "\(records)")
        let record = try #require(records.first)
        #expect(record["method"] as? String == "POST")
        #expect(record["path"] as? String == "/hooks/notilog")
        #expect(record["status"] as? Int == 200)
        // The receiver computed HMAC-SHA256 of the body it got under the shared secret: the header matched.
        #expect(record["signature_verified"] as? Bool == true)
        let headers = record["headers"] as? [String: String] ?? [:]
        #expect(headers["content-type"]?.hasPrefix("application/json") == true)

        let payload = Self.payload(record)
        #expect(payload["version"] as? Int == 1)
        #expect(payload["channel"] as? String == "ops-hook")
        let key = try #require(payload["idempotency_key"] as? String)
        #expect(key.hasSuffix(":ops-hook:firing"))
        #expect(headers["idempotency-key"] == key)
        let notice = try #require(payload["notice"] as? [String: Any])
        #expect(notice["rule"] as? String == "oom-killer")
        #expect(notice["state"] as? String == "firing")
        let group = notice["group"] as? [[String: Any]] ?? []
        #expect(group.count == 1)
        #expect(group.first?["field"] as? String == "host")
        #expect(group.first?["value"] as? String == "web-7")
        // The sample is the message as it came — markup, ampersand, quotes, CR LF — not escaped for any other
        // medium (JSON carries it as is); a notice quotes a long line in part, and marks the cut.
        let sample = try #require((notice["samples"] as? [[String: Any]])?.first)
        #expect(sample["hostname"] as? String == "web-7")
        let quoted = try #require(sample["message"] as? String)
        #expect(quoted.hasPrefix(markup))
        #expect(quoted.hasSuffix("…"))
        #expect(hostile.hasPrefix(String(quoted.dropLast())))
        #expect((payload["text"] as? String)?.contains("oom-killer") == true)

        // The whole 10 KB line is stored as it came (the notice links to it).
        let logs = try Self.api(http: http, dataDir: dir.path + "/data", "/api/v1/logs?q=host%3Aweb-7&limit=10")
        let stored = (logs?["records"] as? [[String: Any]])?.compactMap { $0["message"] as? String } ?? []
        #expect(stored == [hostile], "\(stored.map(\.count))")
    }

    /// Telegram answers 502 for longer than the fallback threshold: the fallback channel (a webhook) is told, once,
    /// while the outage lasts, and after it the original notice still reaches Telegram, exactly once.
    ///
    /// About a minute by design: the delivery worker retries after 2, 4, 8, 16 s and tells the fallback at the 5th
    /// failed attempt (~30 s), so the first retry after the outage comes ~32 s later. Neither the backoff nor the
    /// attempt count has a configuration setting; this test waits for the events, not for fixed times.
    @Test func aTelegramOutageTellsTheFallbackAndTheNoticeStillArrivesOnce() async throws {
        let dir = TemporaryDirectory()
        let telegram = try await Peers.telegram(token: Self.token, in: dir, ["--fail-5xx", "100000"])
        defer { telegram.stop() }
        let hook = try await Peers.webhook(in: dir)
        defer { hook.stop() }
        let config = """
            data_dir: \(dir.path)/data
            channels:
              ops-telegram:
                type: telegram
                bot_token: "\(Self.token)"
                chat_id: "-100123"
                api_base_url: http://127.0.0.1:\(telegram.port)
                fallback: ops-hook
              ops-hook:
                type: webhook
                url: http://127.0.0.1:\(hook.port)/fallback
            rules:
              - name: oom-killer
                kind: match
                query: '"out of memory"'
                group_by: [host]
                channels: [ops-telegram]
            """
        let (server, tcp, http) = try await Self.startServer(config: config, in: dir.path)
        defer { server.stop() }
        try await Self.sendMessages([Self.frame(host: "db-3", app: "kernel", "Out of memory: Killed process 77 (postgres)")], port: tcp, to: server)

        // The fallback is told while Telegram is still down.
        let told = try await hook.records(atLeast: 1, seconds: 180)
        #expect(told.count == 1, "\(told)")
        let fallback = Self.payload(try #require(told.first))
        #expect(fallback["channel"] as? String == "ops-hook")
        let key = try #require(fallback["idempotency_key"] as? String)
        #expect(key.hasPrefix("fallback:") && key.hasSuffix(":ops-telegram:firing"), "\(key)")
        let notice = try #require(fallback["notice"] as? [String: Any])
        #expect(notice["rule"] as? String == "oom-killer")
        #expect((notice["summary"] as? String)?.contains("ops-telegram") == true, "\(notice)")
        let duringOutage = telegram.records()
        #expect(!duringOutage.isEmpty)
        #expect(duringOutage.allSatisfy { ($0["status"] as? Int) == 502 }, "\(duringOutage.map { $0["status"] ?? "?" })")
        #expect(Self.sentTexts(duringOutage).isEmpty)

        // The outage ends. Once the outbox has the Telegram notice as delivered, nothing sends it again.
        try await telegram.control(["reset": true])
        let alertID = try #require(notice["alert_id"] as? Int)
        var notifications: [[String: Any]] = []
        let delivered = try await Self.eventually(seconds: 180) {
            notifications = try Self.api(http: http, dataDir: dir.path + "/data", "/api/v1/alerts/\(alertID)")?["notifications"] as? [[String: Any]] ?? []
            return notifications.contains { $0["channel"] as? String == "ops-telegram" && $0["state"] as? String == "delivered" }
        }
        #expect(delivered, "\(notifications)")
        let texts = Self.sentTexts(telegram.records())
        #expect(texts.count == 1, "\(texts)")
        #expect(texts.first?.contains("db-3") == true)
        #expect(texts.first?.contains("oom-killer") == true)
        // One notification per channel: the original (Telegram) and the fallback's (webhook), each delivered once.
        #expect(notifications.filter { $0["channel"] as? String == "ops-telegram" }.count == 1, "\(notifications)")
        #expect(notifications.filter { $0["channel"] as? String == "ops-hook" }.map { $0["state"] as? String } == ["delivered"], "\(notifications)")
        #expect(hook.records().count == 1)
    }

    /// A threshold rule (5 "Failed password" from one host within 60 s) and an absence rule (2 s) through the
    /// server: each fires and resolves by mail, and each resolved mail is threaded to its firing one.
    @Test func thresholdAndAbsenceRulesFireAndResolveWithThreadedMails() async throws {
        let dir = TemporaryDirectory()
        let smtp = try await Peers.smtp(in: dir)
        defer { smtp.stop() }
        let config = """
            data_dir: \(dir.path)/data
            channels:
              ops-mail:
                type: email
                smtp_url: smtp://127.0.0.1:\(smtp.port)
                starttls: "off"
                from: notilog@example.com
                to: [ops@example.com]
            rules:
              - name: ssh-brute-force
                kind: threshold
                query: 'app:sshd "Failed password"'
                group_by: [host]
                threshold: 5
                window: 60s
                resolve_after: 1s
                channels: [ops-mail]
              - name: backup-silent
                kind: absence
                query: 'app:backup'
                group_by: [host]
                window: 2s
                channels: [ops-mail]
            """
        let (server, tcp, _) = try await Self.startServer(config: config, in: dir.path)
        defer { server.stop() }
        let mailbox = Mailbox(dir.path)

        // Five failures from web-3 stamped one second apart, 50 s ago: within 60 s of each other, so the rule fires.
        // Windows count records at their own time, so ~10 s later the window no longer holds five and the alert
        // resolves (no minute of waiting). One failure from web-4 is not enough for an alert of its own.
        let start = Date().addingTimeInterval(-50)
        var frames = (0..<5).map { i in
            Self.frame(host: "web-3", app: "sshd", at: start.addingTimeInterval(Double(i)), "Failed password for root from 10.0.0.5 port \(40_000 + i) ssh2")
        }
        frames.append(Self.frame(host: "web-4", app: "sshd", "Failed password for admin from 10.0.0.9 port 50000 ssh2"))
        // The backup job reports once, then is quiet for longer than 2 s.
        frames.append(Self.frame(host: "db-2", app: "backup", "backup finished: 12 GB"))
        try await Self.sendMessages(frames, port: tcp, to: server)

        #expect(try await Self.eventually { try !mailbox.mails(rule: "backup-silent", state: "firing").isEmpty })
        // It reports again: the absence is over.
        try await Self.sendMessages([Self.frame(host: "db-2", app: "backup", "backup finished: 12 GB")], port: tcp, to: server)
        #expect(try await Self.eventually { try !mailbox.mails(rule: "backup-silent", state: "resolved").isEmpty })
        #expect(try await Self.eventually { try !mailbox.mails(rule: "ssh-brute-force", state: "resolved").isEmpty })

        // The threshold alert: one firing mail for web-3, one resolved mail threaded to it.
        let sshFiring = try mailbox.mails(rule: "ssh-brute-force", state: "firing")
        let sshResolved = try mailbox.mails(rule: "ssh-brute-force", state: "resolved")
        #expect(sshFiring.count == 1, "\(sshFiring.map(\.headers))")
        #expect(sshResolved.count == 1, "\(sshResolved.map(\.headers))")
        let firing = try #require(sshFiring.first)
        let resolved = try #require(sshResolved.first)
        #expect(firing.header("Subject")?.contains("ssh-brute-force") == true)
        #expect(firing.body.contains("web-3"))
        #expect(!firing.body.contains("web-4"))
        #expect(firing.header("In-Reply-To") == nil)
        let firingID = try #require(firing.header("Message-ID"))
        #expect(resolved.header("X-NotiLog-Alert") == firing.header("X-NotiLog-Alert"))
        #expect(resolved.header("Message-ID") != firingID)
        #expect(resolved.header("In-Reply-To") == firingID)
        #expect(resolved.header("References")?.contains(firingID) == true)

        // The absence alert: its resolved mail is threaded to the firing mail of the same alert (the job may fall
        // quiet again and open a new alert meanwhile; that one has its own mails).
        let backupResolved = try #require(try mailbox.mails(rule: "backup-silent", state: "resolved").first)
        let backupFiring = try #require(
            try mailbox.mails(rule: "backup-silent", state: "firing").first { $0.header("X-NotiLog-Alert") == backupResolved.header("X-NotiLog-Alert") })
        #expect(backupFiring.body.contains("db-2"))
        let backupFiringID = try #require(backupFiring.header("Message-ID"))
        #expect(backupResolved.header("In-Reply-To") == backupFiringID)
        #expect(backupResolved.header("References")?.contains(backupFiringID) == true)
        #expect(try mailbox.mails().allSatisfy { $0.defects.isEmpty })
        // No alert for web-4 (one failure), and none for the sshd records in the absence rule.
        #expect(try mailbox.mails().allSatisfy { !($0.header("Subject") ?? "").contains("web-4") })
    }
}

/// The current time in RFC 3339, for test messages.
enum SyslogNow {
    static func rfc3339(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }
}
