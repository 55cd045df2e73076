import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

/// The Telegram notifier against `Tests/peers/telegram_standin.py`, which checks calls as the Bot API does and
/// refuses malformed HTML (stricter than Telegram about a bare `&`).
@Suite struct NotifTelegramTests {
    static let token = "123456:TEST-token_abc"

    static func notifier(port: Int, token: String = token, chat: TelegramChatID = .id(-1_001_234_567_890), thread: Int64? = nil)
        -> TelegramNotifier
    {
        TelegramNotifier(
            channel: "ops-telegram",
            settings: TelegramSettings(botToken: token, chatID: chat, messageThreadID: thread, apiBaseURL: "http://127.0.0.1:\(port)"),
            clock: NotifFixtures.clock)
    }

    static func send(_ notifier: TelegramNotifier, _ notice: AlertNotice) async -> DeliveryOutcome {
        await Peers.offThread { notifier.send(notice, idempotencyKey: notice.idempotencyKey(channel: notifier.channel)) }
    }

    @Test func aNoticeIsDeliveredAsBotAPIHTML() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir)
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(port: peer.port, thread: 7), NotifFixtures.notice())
        #expect(outcome == .delivered(detail: "message_id 1"))
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(record["method"] as? String == "sendMessage")
        #expect(record["content_type"] as? String == "application/json")
        let params = try #require(record["params"] as? [String: Any])
        #expect(params["chat_id"] as? Int == -1_001_234_567_890)
        #expect(params["parse_mode"] as? String == "HTML")
        #expect(params["message_thread_id"] as? Int == 7)
        #expect((params["link_preview_options"] as? [String: Any])?["is_disabled"] as? Bool == true)
        let html = try #require(params["text"] as? String)
        #expect(html.hasPrefix("<b>🔥 FIRING: ssh-brute-force</b>\n12 matches in 60 s\n"))
        #expect(html.contains("Search: https://notilog.example.org/search?q=app%3Asshd&amp;from=1"))
        #expect(html.contains("<pre>2026-01-01T00:00:05Z web-1 sshd: Failed password for root from 10.0.0.5 port 52144 ssh2</pre>"))
        let result = try #require((record["response"] as? [String: Any])?["result"] as? [String: Any])
        #expect(result["message_thread_id"] as? Int == 7)
        let entities = result["entities"] as? [[String: Any]] ?? []
        #expect(entities.map { $0["type"] as? String } == ["bold", "pre"])
    }

    @Test func tooManyRequestsIsRetriedAfterTelegramsRetryAfter() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir, ["--rate-limit", "1:7"])
        defer { peer.stop() }
        let notifier = Self.notifier(port: peer.port)
        let first = await Self.send(notifier, NotifFixtures.notice())
        #expect(first == .retry(after: .seconds(7), reason: "Telegram: Too Many Requests: retry after 7 (HTTP 429)"))
        #expect(await Self.send(notifier, NotifFixtures.notice()).isDelivered)
    }

    @Test func aBadGatewayIsRetried() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir, ["--fail-5xx", "1"])
        defer { peer.stop() }
        let notifier = Self.notifier(port: peer.port)
        #expect(await Self.send(notifier, NotifFixtures.notice()) == .retry(after: nil, reason: "Telegram answered HTTP 502"))
        #expect(await Self.send(notifier, NotifFixtures.notice()) == .delivered(detail: "message_id 1"))
    }

    @Test func aWrongTokenFailsWithoutShowingTheToken() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir)
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(port: peer.port, token: "999:WRONG-token"), NotifFixtures.notice())
        #expect(outcome == .failed(reason: "Telegram: Unauthorized (HTTP 401)"))
    }

    @Test func anUnknownChatFails() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir, ["--chat", "42"])
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(port: peer.port, chat: .id(43)), NotifFixtures.notice())
        #expect(outcome == .failed(reason: "Telegram: Bad Request: chat not found (HTTP 400)"))
        #expect(await Self.send(Self.notifier(port: peer.port, chat: .id(42)), NotifFixtures.notice()).isDelivered)
    }

    @Test func noAnswerIsRetriedAndTheTokenIsNotInTheReason() async throws {
        let outcome = await Self.send(Self.notifier(port: Peers.closedPort()), NotifFixtures.notice())
        guard case .retry(nil, let reason) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("cannot connect to http://127.0.0.1:"))
        #expect(!reason.contains("TEST-token"))
    }

    /// Hostile text in every place log text reaches (samples, group values, summary) arrives escaped: the
    /// stand-in parses the HTML as Telegram does, and the text it keeps shows the log text as it was.
    @Test(arguments: NotifFixtures.hostile.map(\.name))
    func hostileLogTextArrivesEscapedAndIntact(name: String) async throws {
        let text = try #require(NotifFixtures.hostile.first { $0.name == name }?.text)
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir)
        defer { peer.stop() }
        let notice = NotifFixtures.notice(
            group: [.init(field: "user", value: text)], samples: [NotifFixtures.sample(text)], summary: "summary: " + text)
        #expect(await Self.send(Self.notifier(port: peer.port), notice).isDelivered)
        let record = try #require(try await peer.records(atLeast: 1).first)
        let shown = try #require(((record["response"] as? [String: Any])?["result"] as? [String: Any])?["text"] as? String)
        // What Telegram shows: samples keep their lines (CR LF → LF, controls as pictures); the rest is one line.
        let multi = NoticeText.multiLine(text)
        let single = NoticeText.oneLine(text)
        #expect(shown.contains("web-1 sshd: " + multi), "sample in \(shown)")
        #expect(shown.contains("Group: user=" + single))
        #expect(shown.contains("summary: " + single))
    }

    /// Far over the limit: the 10 KB line, many samples, emoji (surrogate pairs) at every possible cut, entities
    /// to be escaped, and a summary that alone is over the limit. Each arrives, valid, at most 4096 long.
    @Test(arguments: ["ten-kilobyte sample", "many samples", "emoji samples", "entity-heavy samples", "huge summary", "huge group"])
    func longNoticesAreCutToTheLimit(name: String) async throws {
        var notice = NotifFixtures.notice()
        switch name {
        case "ten-kilobyte sample": notice.samples = [NotifFixtures.sample(NotifFixtures.tenKilobyteLine), NotifFixtures.sample("second")]
        case "many samples": notice.samples = (0..<50).map { NotifFixtures.sample("line \($0) " + String(repeating: "x<&>", count: 120)) }
        case "emoji samples": notice.samples = (0..<20).map { NotifFixtures.sample(String(repeating: "😀👨‍👩‍👧", count: 100 + $0)) }
        case "entity-heavy samples": notice.samples = [NotifFixtures.sample(String(repeating: "&<>\"", count: 3000))]
        case "huge summary": notice.summary = String(repeating: "<b>&amp;😀 ", count: 700)
        default: notice.group = [.init(field: "user", value: String(repeating: "é<", count: 3000))]
        }
        let dir = TemporaryDirectory()
        let peer = try await Peers.telegram(token: Self.token, in: dir)
        defer { peer.stop() }
        let outcome = await Self.send(Self.notifier(port: peer.port), notice)
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(outcome.isDelivered, "\(outcome): \(record["response"] ?? "")")
        let shown = try #require(((record["response"] as? [String: Any])?["result"] as? [String: Any])?["text"] as? String)
        #expect(shown.utf16.count <= 4096)
        #expect(shown.utf16.count > 3800, "cut far more than needed: \(shown.utf16.count)")
        #expect(shown.contains("[… cut to fit Telegram's 4096-character limit]"))
        #expect(shown.hasPrefix("🔥 FIRING: ssh-brute-force"))
        if name.hasSuffix("samples") || name.hasSuffix("sample") {
            // Samples are cut first: the rest of the message is all there.
            #expect(shown.contains("Search: https://notilog.example.org/search?q=app%3Asshd&from=1"))
        }
    }

    /// Random hostile messages of every length: the HTML is always well formed and within the limit.
    @Test func theCutIsAlwaysWellFormedAndWithinTheLimit() {
        var random = SeededGenerator(seed: 4096)
        let alphabet: [String] = ["a", "b", " ", "\n", "&", "<", ">", "\"", "é", "😀", "👨‍👩‍👧", "🇩🇪", "\r\n", "\u{1B}"]
        func randomText(_ n: Int) -> String { (0..<n).map { _ in alphabet.randomElement(using: &random)! }.joined() }
        for round in 0..<200 {
            var notice = NotifFixtures.notice()
            notice.samples = (0..<Int.random(in: 0...8, using: &random)).map { _ in
                NotifFixtures.sample(randomText(Int.random(in: 0...3000, using: &random)))
            }
            notice.summary = randomText(Int.random(in: 0...(round % 4 == 0 ? 6000 : 200), using: &random))
            let html = Self.notifier(port: 9).messageText(for: notice)
            guard let visible = Self.telegramVisibleText(html) else {
                Issue.record("malformed HTML in round \(round): \(html.prefix(200))")
                return
            }
            #expect(visible.utf16.count <= 4096, "round \(round)")
        }
    }

    @Test func pacingIsPerBotAndChat() {
        #expect(Self.notifier(port: 9, chat: .id(42)).pacing == NotifierPacing(key: "telegram:123456:42", minimumInterval: .seconds(1)))
        #expect(Self.notifier(port: 9, chat: .id(-42)).minimumInterval == .seconds(3))
        #expect(Self.notifier(port: 9, chat: .username("@ops_channel")).pacing?.key == "telegram:123456:@ops_channel")
    }

    /// The visible text of Telegram HTML as the notifier writes it (`b` and `pre` tags, the four entities), or nil
    /// when a tag is unbalanced or an `&` starts no entity.
    static func telegramVisibleText(_ html: String) -> String? {
        var out = ""
        var open: [String] = []
        var i = html.startIndex
        while i < html.endIndex {
            let rest = html[i...]
            if rest.hasPrefix("<") {
                guard let end = rest.firstIndex(of: ">") else { return nil }
                let tag = String(rest[rest.index(after: i)..<end])
                if tag.hasPrefix("/") {
                    guard open.popLast() == String(tag.dropFirst()) else { return nil }
                } else {
                    guard tag == "b" || tag == "pre" else { return nil }
                    open.append(tag)
                }
                i = html.index(after: end)
            } else if rest.hasPrefix("&") {
                guard let entity = ["&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": "\""].first(where: { rest.hasPrefix($0.key) }) else { return nil }
                out += entity.value
                i = html.index(i, offsetBy: entity.key.count)
            } else {
                out.append(html[i])
                i = html.index(after: i)
            }
        }
        return open.isEmpty ? out : nil
    }
}
