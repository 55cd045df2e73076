import Foundation
import NotiLogCore
import NotiLogCurl
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

/// The email notifier and the SMTP client against `Tests/peers/smtp_sink.py` (aiosmtpd), reading back what it
/// stored in its Maildir with Python's `email` package.
@Suite struct NotifEmailTests {
    static func settings(
        port: Int, scheme: String = "smtp", starttls: SMTPClient.TLSMode = .off, username: String? = nil, password: String? = nil,
        caFile: String? = nil, to: [String] = ["ops@example.org", "Ann Example <ann@example.org>"], cc: [String] = ["boss@example.org"]
    ) -> EmailSettings {
        EmailSettings(
            smtpURL: "\(scheme)://127.0.0.1:\(port)", starttls: starttls, username: username, password: password.map { .value(ChannelSecret($0)) },
            from: MailAddress("NotiLog Alerts <notilog@example.org>")!, to: to.map { MailAddress($0)! }, cc: cc.map { MailAddress($0)! },
            caFile: caFile, timeout: .seconds(30))
    }

    static func notifier(_ settings: EmailSettings, channel: String = "ops-mail") -> EmailNotifier {
        let password: ChannelSecret? = if case .value(let s) = settings.password { s } else { nil }
        return EmailNotifier(channel: channel, settings: settings, password: password, clock: NotifFixtures.clock)
    }

    static func send(_ notifier: EmailNotifier, _ notice: AlertNotice) async -> DeliveryOutcome {
        await Peers.offThread { notifier.send(notice, idempotencyKey: notice.idempotencyKey(channel: notifier.channel)) }
    }

    /// The one stored mail, parsed.
    static func storedMails(_ dir: TemporaryDirectory) throws -> [ParsedMail] {
        try Peers.maildirMessages(in: dir.path).map(Peers.parseMail)
    }

    @Test func aPlainMailArrivesWithEveryHeader() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.smtp(in: dir)
        defer { peer.stop() }
        let notifier = Self.notifier(Self.settings(port: peer.port))
        let outcome = await Self.send(notifier, NotifFixtures.notice())
        guard case .delivered(let detail) = outcome else {
            Issue.record("not delivered: \(outcome)")
            return
        }
        #expect(detail.hasPrefix("250 2.0.0 OK: queued as "))
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(record["mail_from"] as? String == "notilog@example.org")
        #expect(record["rcpt_tos"] as? [String] == ["ops@example.org", "ann@example.org", "boss@example.org"])
        #expect(record["tls"] as? Bool == false)
        let mail = try #require(try Self.storedMails(dir).first)
        #expect(mail.defects.isEmpty)
        #expect(mail.header("From") == "NotiLog Alerts <notilog@example.org>")
        #expect(mail.header("To") == "ops@example.org, Ann Example <ann@example.org>")
        #expect(mail.header("Cc") == "boss@example.org")
        #expect(mail.header("Subject") == "[FIRING] ssh-brute-force: 12 matches in 60 s")
        #expect(mail.header("Date") == "Thu, 01 Jan 2026 00:01:30 +0000")
        #expect(mail.header("Message-ID") == notifier.messageID(for: NotifFixtures.notice()))
        #expect(mail.header("Message-ID")?.hasPrefix("<alert-42.firing.") == true)
        #expect(mail.header("Message-ID")?.hasSuffix("@example.org>") == true)
        #expect(mail.header("In-Reply-To") == nil)
        #expect(mail.header("Auto-Submitted") == "auto-generated")
        #expect(mail.header("MIME-Version") == "1.0")
        #expect(mail.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(mail.header("X-NotiLog-Idempotency-Key") == "42:ops-mail:firing")
        #expect(mail.contentType == "text/plain")
        #expect(mail.charset == "utf-8")
        #expect(mail.body.hasPrefix("[FIRING] ssh-brute-force\n12 matches in 60 s\n"))
        #expect(mail.body.contains("2026-01-01T00:00:05Z web-1 sshd: Failed password for root from 10.0.0.5 port 52144 ssh2\n"))
        #expect(mail.rawLines.allSatisfy { $0.utf8.count <= 78 })
    }

    @Test func starttlsRequiredVerifiesTheServerWithTheCAFileAndAuthenticates() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = try Peers.makeCertificate(in: dir.path)
        let peer = try await Peers.smtp(in: dir, ["--starttls", cert, key, "--require-starttls", "--auth", "alerts:s3cret pass"])
        defer { peer.stop() }
        let notifier = Self.notifier(Self.settings(port: peer.port, starttls: .required, username: "alerts", password: "s3cret pass", caFile: cert))
        #expect(await Self.send(notifier, NotifFixtures.notice()).isDelivered)
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(record["tls_mode"] as? String == "starttls")
        #expect(record["authenticated"] as? Bool == true)
        #expect(record["auth_user"] as? String == "alerts")
        #expect(try Self.storedMails(dir).count == 1)
    }

    @Test func aServerCertificateFromAnotherCAIsNotTrusted() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = try Peers.makeCertificate(in: dir.path)
        let (otherCA, _) = try Peers.makeCertificate(in: dir.path, name: "other")
        let peer = try await Peers.smtp(in: dir, ["--starttls", cert, key, "--require-starttls"])
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(Self.settings(port: peer.port, starttls: .required, caFile: otherCA)), NotifFixtures.notice())
        guard case .retry(nil, let reason) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("TLS with smtp://127.0.0.1:\(peer.port) failed"))
        #expect(peer.records().isEmpty)
        #expect(try Self.storedMails(dir).isEmpty)
    }

    @Test func starttlsRequiredNeverSendsInClearText() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.smtp(in: dir)
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(Self.settings(port: peer.port, starttls: .required)), NotifFixtures.notice())
        guard case .failed(let reason) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(reason.contains("does not offer STARTTLS"))
        #expect(try Self.storedMails(dir).isEmpty)
        // Opportunistic goes on in clear text when the server has no STARTTLS.
        #expect(await Self.send(Self.notifier(Self.settings(port: peer.port, starttls: .opportunistic)), NotifFixtures.notice()).isDelivered)
    }

    @Test func implicitTLSWithAuth() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = try Peers.makeCertificate(in: dir.path)
        let peer = try await Peers.smtp(in: dir, ["--implicit-tls", cert, key, "--auth", "alerts:pw"])
        defer { peer.stop() }
        let settings = Self.settings(port: peer.port, scheme: "smtps", starttls: .required, username: "alerts", password: "pw", caFile: cert)
        #expect(await Self.send(Self.notifier(settings), NotifFixtures.notice()).isDelivered)
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(record["tls_mode"] as? String == "implicit")
        #expect(record["auth_user"] as? String == "alerts")
    }

    @Test func wrongCredentialsFail() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = try Peers.makeCertificate(in: dir.path)
        let peer = try await Peers.smtp(in: dir, ["--implicit-tls", cert, key, "--auth", "alerts:pw"])
        defer { peer.stop() }
        let settings = Self.settings(port: peer.port, scheme: "smtps", username: "alerts", password: "badpass-XYZ", caFile: cert)
        let outcome = await Self.send(Self.notifier(settings), NotifFixtures.notice())
        guard case .failed(let reason) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(reason.contains("refused the credentials"))
        #expect(reason.contains("535"))
        #expect(!reason.contains("badpass-XYZ"))
    }

    @Test func remindersAndTheResolutionAreThreadedToTheFiringMail() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.smtp(in: dir)
        defer { peer.stop() }
        let notifier = Self.notifier(Self.settings(port: peer.port))
        for notice in [NotifFixtures.notice(.firing), NotifFixtures.notice(.reminder, reminderNumber: 1), NotifFixtures.notice(.resolved)] {
            #expect(await Self.send(notifier, notice).isDelivered)
        }
        let mails = try Self.storedMails(dir)
        try #require(mails.count == 3)
        let (firing, reminder, resolved) = (mails[0], mails[1], mails[2])
        let firingID = try #require(firing.header("Message-ID"))
        #expect(firing.header("X-NotiLog-State") == "firing")
        #expect(reminder.header("X-NotiLog-State") == "reminder")
        #expect(resolved.header("X-NotiLog-State") == "resolved")
        #expect(Set([firingID, reminder.header("Message-ID"), resolved.header("Message-ID")]).count == 3)
        #expect(resolved.header("Message-ID")?.hasPrefix("<alert-42.resolved.") == true)
        #expect(reminder.header("Message-ID")?.hasPrefix("<alert-42.reminder-1.") == true)
        for mail in [reminder, resolved] {
            #expect(mail.header("In-Reply-To") == firingID)
            #expect(mail.header("References") == firingID)
        }
        #expect(resolved.header("Subject") == "[RESOLVED] ssh-brute-force after 1h 2m")
        #expect(resolved.body.hasPrefix("[RESOLVED] ssh-brute-force after 1h 2m\n"))
        // The same notice gives the same Message-ID (a retried send is the same mail); another alert, another one.
        #expect(notifier.messageID(for: NotifFixtures.notice(.firing)) == firingID)
        #expect(notifier.messageID(for: NotifFixtures.notice(.firing, alertID: 43)) != firingID)
        #expect(Self.notifier(Self.settings(port: 1), channel: "other").messageID(for: NotifFixtures.notice(.firing)) != firingID)
    }

    /// CR LF in log text never makes a header, and the 10 KB line, emoji and controls come through the body whole.
    @Test func hostileLogTextCannotAddAHeaderAndArrivesIntact() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.smtp(in: dir)
        defer { peer.stop() }
        let injection = "x\r\nBcc: evil@x"
        let texts = NotifFixtures.hostile.map(\.text) + [NotifFixtures.tenKilobyteLine, ".\r\n.leading dot\r\nFrom the start", injection]
        let notice = NotifFixtures.notice(
            rule: "rule\r\nX-Injected: 1", group: [.init(field: "user", value: injection)], samples: texts.map { NotifFixtures.sample($0) },
            summary: "🔥 Ärger mit " + injection + " =?utf-8?B?SGk=?=")
        #expect(await Self.send(Self.notifier(Self.settings(port: peer.port)), notice).isDelivered)
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(record["rcpt_tos"] as? [String] == ["ops@example.org", "ann@example.org", "boss@example.org"])
        let mail = try #require(try Self.storedMails(dir).first)
        #expect(mail.defects.isEmpty)
        let names = mail.rawHeaderFields.map { $0.prefix { $0 != ":" }.lowercased() }
        #expect(!names.contains("bcc"))
        #expect(!names.contains("x-injected"))
        #expect(mail.all("Subject").count == 1)
        // The subject is one line, decoded exactly (an encoded-word look-alike in log text stays text).
        #expect(mail.header("Subject") == "[FIRING] rule X-Injected: 1: 🔥 Ärger mit x Bcc: evil@x =?utf-8?B?SGk=?=")
        #expect(mail.header("X-NotiLog-Rule") == "rule X-Injected: 1")
        for text in texts {
            #expect(mail.body.contains("web-1 sshd: " + NoticeText.multiLine(text) + "\n"), "\(text.prefix(40)) not in the body")
        }
        #expect(mail.body.contains(NotifFixtures.tenKilobyteLine))
        #expect(mail.rawLines.allSatisfy { $0.utf8.count <= 78 })
    }

    @Test func aRejectedRecipientFails() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.smtp(in: dir, ["--reject-rcpt", "boss@example.org"])
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(Self.settings(port: peer.port)), NotifFixtures.notice())
        guard case .failed(let reason) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(reason.contains("rejected the message"))
        #expect(reason.contains("550 5.1.1 <boss@example.org>: Recipient address rejected"))
        #expect(try Self.storedMails(dir).isEmpty)
    }

    @Test func aTemporaryFailureIsRetriedAsTheSameMail() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.smtp(in: dir, ["--fail-first", "1"])
        defer { peer.stop() }
        let notifier = Self.notifier(Self.settings(port: peer.port))
        let first = await Self.send(notifier, NotifFixtures.notice())
        guard case .retry(nil, let reason) = first else {
            Issue.record("expected a retry, got \(first)")
            return
        }
        #expect(reason.contains("451 4.3.0 Temporary failure"))
        #expect(await Self.send(notifier, NotifFixtures.notice()).isDelivered)
        let records = try await peer.records(atLeast: 2)
        #expect(records.map { $0["accepted"] as? Bool } == [false, true])
        #expect(records[0]["size"] as? Int == records[1]["size"] as? Int)
        let mail = try #require(try Self.storedMails(dir).first)
        #expect(mail.header("Message-ID") == notifier.messageID(for: NotifFixtures.notice()))
    }

    @Test func noServerIsRetried() async throws {
        let outcome = await Self.send(Self.notifier(Self.settings(port: Peers.closedPort())), NotifFixtures.notice())
        guard case .retry(nil, let reason) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("cannot connect to smtp://127.0.0.1:"))
    }

    @Test func theClientRefusesAnEnvelopeWithALineBreak() {
        let client = SMTPClient(url: "smtp://127.0.0.1:9", tls: .off)
        #expect {
            _ = try client.send(SMTPMessage(from: "a@b.c", recipients: ["x@y.z\r\nRCPT TO:<evil@x>"], data: Array("Subject: x\r\n\r\nx\r\n".utf8)))
        } throws: { error in
            (error as? SMTPClientError)?.code == .invalidRequest && (error as? SMTPClientError)?.isPermanent == true
        }
        #expect(!SMTPClient(url: "smtp://h", username: "u", password: "pw-SECRET").description.contains("SECRET"))
    }

    // MARK: - The message format, without a server

    @Test(arguments: [
        ("plain ASCII", "Subject: plain ASCII\r\n"),
        ("Grüße 😀", "Subject: =?utf-8?B?R3LDvMOfZSDwn5iA?=\r\n"),
        ("=?utf-8?B?SGk=?=", "Subject: =?utf-8?B?PT91dGYtOD9CP1NHaz0/PQ==?=\r\n"),
        (String(repeating: "word ", count: 20).trimmingCharacters(in: .whitespaces),
            "Subject: word word word word word word word word word word word word word word\r\n word word word word word word\r\n"),
    ] as [(String, String)])
    func subjectsAreEncodedAndFolded(text: String, header: String) {
        #expect(MailFormat.unstructured("Subject", text) == header)
    }

    @Test func longNonASCIISubjectsBecomeSeveralEncodedWords() {
        let text = String(repeating: "é😀", count: 40)
        let field = MailFormat.unstructured("Subject", text)
        let lines = field.components(separatedBy: "\r\n").dropLast()
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.utf8.count <= 78 })
        let words = lines.map { $0.hasPrefix("Subject: ") ? String($0.dropFirst(9)) : String($0.dropFirst()) }
        let decoded = words.map { word -> String in
            let b64 = word.dropFirst("=?utf-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(b64)) ?? Data(), as: UTF8.self)
        }.joined()
        #expect(decoded == text)
    }

    @Test(arguments: [
        ("a=b\r\n", "a=3Db\r\n"),
        ("trailing space \r\nnext\t\r\n", "trailing space=20\r\nnext=09\r\n"),
        (".dot\r\nFrom here\r\nFrom\r\n", "=2Edot\r\n=46rom here\r\nFrom\r\n"),
        ("naïve\r\n", "na=C3=AFve\r\n"),
        (String(repeating: "a", count: 80) + "\r\n", String(repeating: "a", count: 75) + "=\r\naaaaa\r\n"),
        (String(repeating: "é", count: 13) + "\r\n", String(repeating: "=C3=A9", count: 12) + "=C3=\r\n=A9\r\n"),
    ] as [(String, String)])
    func quotedPrintableKeepsLinesShortAndBytesExact(text: String, encoded: String) {
        #expect(String(decoding: MailFormat.quotedPrintable(Array(text.utf8)), as: UTF8.self) == encoded)
    }

    @Test(arguments: [
        (Int64(0), "Thu, 01 Jan 1970 00:00:00 +0000"), (1_767_225_690, "Thu, 01 Jan 2026 00:01:30 +0000"),
        (1_709_210_096, "Thu, 29 Feb 2024 12:34:56 +0000"), (1_764_941_660, "Fri, 05 Dec 2025 13:34:20 +0000"),
    ] as [(Int64, String)])
    func datesAreRFC5322(seconds: Int64, text: String) {
        #expect(MailFormat.date(SyslogTimestamp(seconds: seconds)) == text)
    }

    @Test func displayNamesAreQuotedOrEncoded() {
        #expect(MailFormat.mailbox(MailAddress("ops@example.org")!) == "ops@example.org")
        #expect(MailFormat.mailbox(MailAddress("Ops Team <ops@example.org>")!) == "Ops Team <ops@example.org>")
        #expect(MailFormat.mailbox(MailAddress("\"Ops, \\\"Night\\\" Team\" <ops@example.org>")!) == "\"Ops, \\\"Night\\\" Team\" <ops@example.org>")
        #expect(MailFormat.mailbox(MailAddress("Jörg <j@example.org>")!) == "=?utf-8?B?SsO2cmc=?= <j@example.org>")
    }
}
