import Foundation
import NotiLogCore
import NotiLogCurl

/// Sends notices to a Telegram chat through the Bot API's `sendMessage`, in HTML parse mode.
///
/// The message is the channel's template (or the default for the notice's state) with every piece of text — the
/// template's own and every value — HTML-escaped (`&`, `<`, `>`, `"`); the notifier adds only its own tags: the
/// first line in `<b>`, the samples in `<pre>`. It fits Telegram's 4096-character limit (UTF-16 code units of the
/// text as shown, after entities are read): samples are cut first, from the last one back, and the cut is
/// marked; only when the rest is still too long is the text itself cut, between characters (never inside an
/// entity, a tag or a surrogate pair), with open tags closed and the cut marked.
///
/// Answers: `ok` → delivered (`message_id`); 429 → retry after Telegram's `retry_after`; 5xx and no answer →
/// retry; 400/401/403/404 and other 4xx → failed, with Telegram's description. The bot token is in the URL's path
/// and never in an outcome's text.
public struct TelegramNotifier: Notifier {
    /// Telegram's limit on a message's text.
    public static let maxTextLength = 4096

    public let channel: String
    public let settings: TelegramSettings
    public var http: HTTPClient
    let clock: @Sendable () -> SyslogTimestamp

    public init(
        channel: String, settings: TelegramSettings, http: HTTPClient = HTTPClient(),
        clock: @escaping @Sendable () -> SyslogTimestamp = { SyslogTimestamp.now() }
    ) {
        self.channel = channel
        self.settings = settings
        self.http = http.forChannel(timeout: settings.timeout)
        self.clock = clock
    }

    /// Telegram asks bots for at most one message a second in a chat, and 20 a minute in a group or channel.
    public var minimumInterval: Duration {
        switch settings.chatID {
        case .id(let n) where n > 0: .seconds(1)
        default: .seconds(3)
        }
    }

    /// Per bot and chat: channels that differ only in their topic share Telegram's limit.
    public var pacing: NotifierPacing? {
        let botID = settings.botToken.value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        return NotifierPacing(key: "telegram:\(botID):\(settings.chatID)", minimumInterval: minimumInterval)
    }

    public func send(_ notice: AlertNotice, idempotencyKey: String) -> DeliveryOutcome {
        let url = "\(settings.apiBaseURL)/bot\(settings.botToken.value)/sendMessage"
        let request = HTTPRequest(
            .post, url, headers: [("Content-Type", "application/json"), ("Accept", "application/json")],
            body: requestBody(for: notice))
        let outcome: DeliveryOutcome
        do throws(HTTPClientError) {
            let response = try http.send(request)
            outcome = Self.outcome(status: response.status, body: response.body, retryAfterHeader: response.header("Retry-After"))
        } catch {
            outcome = error.code == .invalidRequest ? .failed(reason: error.description) : .retry(after: nil, reason: error.description)
        }
        return scrubbed(outcome)
    }

    /// The `sendMessage` JSON body.
    public func requestBody(for notice: AlertNotice) -> [UInt8] {
        let call = SendMessage(
            chatID: settings.chatID, text: messageText(for: notice), messageThreadID: settings.messageThreadID)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings, integers and a bool cannot fail.
        return Array(try! encoder.encode(call))
    }

    /// The message's HTML text, within the limit.
    public func messageText(for notice: AlertNotice) -> String {
        let template = settings.messageTemplate ?? .defaultMessage(for: notice.state, telegram: true)
        let rendered = template.render(NoticeValues(notice, now: clock()))
        return TelegramHTML.fit(TelegramHTML.pieces(rendered), limit: Self.maxTextLength).html
    }

    /// What an answer from the Bot API means.
    static func outcome(status: Int, body: [UInt8], retryAfterHeader: String? = nil) -> DeliveryOutcome {
        let answer = try? JSONDecoder().decode(APIAnswer.self, from: Data(body))
        let description = answer?.description.map(NoticeText.oneLine).map { String($0.prefix(300)) }
        let said = description.map { "Telegram: \($0) (HTTP \(status))" } ?? "Telegram answered HTTP \(status)"
        switch status {
        case 200..<300:
            guard let answer, answer.ok else { return .failed(reason: said + " without \"ok\": true") }
            return .delivered(detail: answer.result?.messageID.map { "message_id \($0)" } ?? "ok")
        case 429:
            let seconds = answer?.parameters?.retryAfter ?? retryAfterHeader.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            return .retry(after: seconds.map { .seconds(max(0, $0)) }, reason: said)
        case 500...:
            return .retry(after: nil, reason: said)
        default:
            if let chat = answer?.parameters?.migrateToChatID {
                return .failed(reason: said + "; the group is now the supergroup \(chat): set chat_id: \(chat)")
            }
            return .failed(reason: said)
        }
    }

    /// The token never leaves in a reason, whatever libcurl or a proxy put into its words.
    private func scrubbed(_ outcome: DeliveryOutcome) -> DeliveryOutcome {
        let token = settings.botToken.value
        switch outcome {
        case .delivered: return outcome
        case .retry(let after, let reason): return .retry(after: after, reason: reason.replacingOccurrences(of: token, with: "***"))
        case .failed(let reason): return .failed(reason: reason.replacingOccurrences(of: token, with: "***"))
        }
    }

    private struct SendMessage: Encodable {
        var chatID: TelegramChatID
        var text: String
        var messageThreadID: Int64?

        enum CodingKeys: String, CodingKey {
            case chatID = "chat_id", text, parseMode = "parse_mode", messageThreadID = "message_thread_id"
            case linkPreviewOptions = "link_preview_options"
        }

        struct LinkPreviewOptions: Encodable {
            var is_disabled = true
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            switch chatID {
            case .id(let n): try c.encode(n, forKey: .chatID)
            case .username(let u): try c.encode(u, forKey: .chatID)
            }
            try c.encode(text, forKey: .text)
            try c.encode("HTML", forKey: .parseMode)
            try c.encodeIfPresent(messageThreadID, forKey: .messageThreadID)
            try c.encode(LinkPreviewOptions(), forKey: .linkPreviewOptions)
        }
    }

    private struct APIAnswer: Decodable {
        var ok: Bool
        var description: String?
        var result: Message?
        var parameters: Parameters?

        struct Message: Decodable {
            var messageID: Int64?
            enum CodingKeys: String, CodingKey { case messageID = "message_id" }
        }

        struct Parameters: Decodable {
            var retryAfter: Int?
            var migrateToChatID: Int64?
            enum CodingKeys: String, CodingKey {
                case retryAfter = "retry_after"
                case migrateToChatID = "migrate_to_chat_id"
            }
        }
    }
}

/// Telegram HTML built from escaped text and the notifier's own tags, and cut to a length.
enum TelegramHTML {
    enum Piece: Hashable {
        /// Plain text, escaped when written.
        case text(String)
        case open(String)
        case close(String)
        /// Sample lines, written inside `<pre>` one per line.
        case samples([String])
    }

    /// What marks a cut.
    static let cutMark = "[… cut to fit Telegram's 4096-character limit]"

    /// The first line bold (when it has no samples), samples in `<pre>`, everything else plain text.
    static func pieces(_ rendered: RenderedText) -> [Piece] {
        var out: [Piece] = []
        for (n, line) in rendered.lines.enumerated() {
            if n > 0 { out.append(.text("\n")) }
            let bold = n == 0 && !line.contains { if case .samples = $0 { true } else { false } } && !line.isEmpty
            if bold { out.append(.open("b")) }
            for piece in line {
                switch piece {
                case .literal(let s), .value(let s): out.append(.text(s))
                case .samples(let lines): out.append(.samples(lines))
                }
            }
            if bold { out.append(.close("b")) }
        }
        return out
    }

    /// The visible length, in UTF-16 code units, as Telegram counts it.
    static func visibleLength(_ pieces: [Piece]) -> Int {
        pieces.reduce(0) { sum, piece in
            switch piece {
            case .text(let s): sum + s.utf16.count
            case .samples(let lines): sum + lines.reduce(0) { $0 + $1.utf16.count } + max(0, lines.count - 1)
            case .open, .close: sum
            }
        }
    }

    /// Pieces whose visible text is at most `limit` long: samples cut first, then the text.
    static func fit(_ pieces: [Piece], limit: Int) -> [Piece] {
        var pieces = pieces
        var total = visibleLength(pieces)
        if total > limit {
            // Samples first: each block shares what the rest leaves.
            let rest = visibleLength(pieces.filter { if case .samples = $0 { false } else { true } })
            var budget = limit - rest
            for i in pieces.indices {
                guard case .samples(let lines) = pieces[i] else { continue }
                let kept = fitSamples(lines, budget: budget)
                pieces[i] = .samples(kept)
                budget -= visibleLength([.samples(kept)])
            }
            total = visibleLength(pieces)
        }
        if total > limit {
            pieces = cutText(pieces, limit: limit)
        }
        return pieces
    }

    /// As many whole lines as fit in `budget` with the cut mark after them; the first line that does not fit is
    /// cut when a useful part of it fits. No lines when not even the mark fits.
    static func fitSamples(_ lines: [String], budget: Int) -> [String] {
        let full = lines.reduce(0) { $0 + $1.utf16.count } + max(0, lines.count - 1)
        if full <= budget { return lines }
        let mark = cutMark.utf16.count
        guard budget >= mark else { return [] }
        var kept: [String] = []
        var used = mark  // the mark, after a line break when something precedes it
        for line in lines {
            let cost = line.utf16.count + 1
            if used + cost <= budget {
                kept.append(line)
                used += cost
                continue
            }
            let room = budget - used - 1 - 1  // the line break and the "…"
            if room >= 40 { kept.append(prefix(line, utf16: room) + "…") }
            break
        }
        kept.append(cutMark)
        return kept
    }

    /// Cuts the text so that it and the cut mark fit; closes the tags left open.
    static func cutText(_ pieces: [Piece], limit: Int) -> [Piece] {
        // Samples become plain text in <pre> here, so one walk handles everything.
        var flat: [Piece] = []
        for piece in pieces {
            if case .samples(let lines) = piece {
                if !lines.isEmpty { flat += [.open("pre"), .text(lines.joined(separator: "\n")), .close("pre")] }
            } else {
                flat.append(piece)
            }
        }
        let mark = "\n" + cutMark
        var room = max(0, limit - mark.utf16.count)
        var out: [Piece] = []
        var open: [String] = []
        for piece in flat {
            switch piece {
            case .open(let tag):
                out.append(piece)
                open.append(tag)
            case .close:
                out.append(piece)
                open.removeLast()
            case .text(let s):
                let n = s.utf16.count
                if n <= room {
                    out.append(piece)
                    room -= n
                    continue
                }
                let part = prefix(s, utf16: room)
                if !part.isEmpty { out.append(.text(part)) }
                for tag in open.reversed() { out.append(.close(tag)) }
                out.append(.text(mark))
                return out
            case .samples:
                break
            }
        }
        return out
    }

    /// The longest prefix of whole characters at most `utf16` code units long.
    static func prefix(_ s: String, utf16 limit: Int) -> String {
        var n = 0
        var end = s.startIndex
        for i in s.indices {
            let w = s[i].utf16.count
            if n + w > limit { break }
            n += w
            end = s.index(after: i)
        }
        return String(s[..<end])
    }

    /// `&`, `<`, `>` and `"` as entities: all Telegram needs for text and attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }
}

extension Array where Element == TelegramHTML.Piece {
    var html: String {
        map { piece in
            switch piece {
            case .text(let s): TelegramHTML.escape(s)
            case .open(let tag): "<\(tag)>"
            case .close(let tag): "</\(tag)>"
            case .samples(let lines): lines.isEmpty ? "" : "<pre>" + TelegramHTML.escape(lines.joined(separator: "\n")) + "</pre>"
            }
        }.joined()
    }
}
