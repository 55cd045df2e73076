import CCrypto
import Foundation
import NotiLogCore
import NotiLogCurl

/// Sends notices as mail over SMTP (libcurl), one message per notice to the channel's To and Cc addresses.
///
/// The message is RFC 5322 and MIME: `Date`, `From`, `To`, `Cc`, a `Message-ID` that is the same for every try
/// of one notice (so a retried send after a lost answer is recognisably the same mail), `In-Reply-To` and
/// `References` naming the firing mail's Message-ID in reminders and resolutions (mail clients thread them),
/// `Subject` (folded onto one line, cut to `subjectLimit` characters, RFC 2047 encoded-words when it holds
/// anything but printable ASCII or looks like an encoded-word itself), `Auto-Submitted: auto-generated`, and a
/// `text/plain; charset=utf-8` body in quoted-printable, so lines of any length and any characters arrive as
/// they were. No header is written from unfolded text: log text cannot add a header line.
///
/// Outcomes: accepted → delivered (the server's reply); a 4xx reply, no connection, a failed TLS handshake or a
/// timeout → retry; a 5xx reply (a rejected recipient, refused credentials) or STARTTLS missing where it is
/// required → failed.
public struct EmailNotifier: Notifier {
    /// Longest subject, in characters, before encoding.
    public static let subjectLimit = 200

    public let channel: String
    public let settings: EmailSettings
    public let client: SMTPClient
    let clock: @Sendable () -> SyslogTimestamp

    public init(
        channel: String, settings: EmailSettings, password: ChannelSecret?,
        clock: @escaping @Sendable () -> SyslogTimestamp = { SyslogTimestamp.now() }
    ) {
        self.channel = channel
        self.settings = settings
        var client = SMTPClient(
            url: settings.smtpURL, tls: settings.implicitTLS ? .required : settings.starttls, username: settings.username,
            password: password?.value)
        client.caFile = settings.caFile
        client.verifyPeer = !settings.insecureSkipVerify
        client.timeout = settings.timeout
        client.connectTimeout = min(.seconds(10), settings.timeout)
        self.client = client
        self.clock = clock
    }

    /// Every envelope recipient: To then Cc, each once.
    public var recipients: [String] {
        var seen: Set<String> = []
        return (settings.to + settings.cc).map(\.address).filter { seen.insert($0.lowercased()).inserted }
    }

    public func send(_ notice: AlertNotice, idempotencyKey: String) -> DeliveryOutcome {
        let mail = SMTPMessage(
            from: settings.from.address, recipients: recipients, data: message(for: notice, idempotencyKey: idempotencyKey))
        do throws(SMTPClientError) {
            let receipt = try client.send(mail)
            return .delivered(detail: receipt.reply.isEmpty ? "accepted (\(receipt.code))" : receipt.reply)
        } catch {
            return error.isPermanent ? .failed(reason: error.description) : .retry(after: nil, reason: error.description)
        }
    }

    /// The whole message: header, blank line, quoted-printable body; CRLF line ends.
    public func message(for notice: AlertNotice, idempotencyKey: String) -> [UInt8] {
        let now = clock()
        let values = NoticeValues(notice, now: now)
        var header = ""
        header += "Date: \(MailFormat.date(now))\r\n"
        header += MailFormat.addressList("From", [settings.from])
        header += MailFormat.addressList("To", settings.to)
        if !settings.cc.isEmpty { header += MailFormat.addressList("Cc", settings.cc) }
        header += "Message-ID: \(messageID(for: notice))\r\n"
        if notice.state == .reminder || notice.state == .resolved {
            let firing = messageID(for: notice, state: .firing)
            header += "In-Reply-To: \(firing)\r\n"
            header += "References: \(firing)\r\n"
        }
        header += MailFormat.unstructured("Subject", subject(for: notice, values: values))
        header += "MIME-Version: 1.0\r\n"
        header += "Content-Type: text/plain; charset=utf-8\r\n"
        header += "Content-Transfer-Encoding: quoted-printable\r\n"
        header += "Auto-Submitted: auto-generated\r\n"
        header += "X-Auto-Response-Suppress: All\r\n"
        header += "X-NotiLog-Alert: \(notice.alertID)\r\n"
        header += "X-NotiLog-State: \(notice.state.rawValue)\r\n"
        header += MailFormat.unstructured("X-NotiLog-Rule", NoticeText.oneLine(notice.rule))
        header += MailFormat.unstructured("X-NotiLog-Idempotency-Key", NoticeText.oneLine(idempotencyKey))
        header += "\r\n"

        let template = settings.bodyTemplate ?? .defaultMessage(for: notice.state, telegram: false)
        let text = template.render(values).plain + "\n\n-- \nNotiLog, channel \(channel)\n"
        let body = MailFormat.quotedPrintable(Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
        return Array(header.utf8) + body
    }

    /// The subject as shown (decoded): one line, at most `subjectLimit` characters.
    public func subject(for notice: AlertNotice) -> String {
        subject(for: notice, values: NoticeValues(notice, now: clock()))
    }

    func subject(for notice: AlertNotice, values: NoticeValues) -> String {
        let template = settings.subjectTemplate ?? .defaultSubject(for: notice.state)
        var text = NoticeText.oneLine(template.render(values).plain)
        if text.count > Self.subjectLimit { text = String(text.prefix(Self.subjectLimit - 1)) + "…" }
        // A value that came out empty at the end ("[FIRING] rule: ") leaves its separator behind.
        while let last = text.last, last == ":" || last == " " || last == "-" { text.removeLast() }
        return text.isEmpty ? "NotiLog: \(NoticeText.oneLine(notice.rule))" : text
    }

    /// `<alert-42.firing.5f1c0e2ab39d7a41@example.org>`: the alert, the state (and reminder number), and a hash of
    /// the channel, alert and start time, so ids from two installations (or a database started afresh) do not
    /// collide; at the From address's domain. The same for every try of one notice.
    public func messageID(for notice: AlertNotice, state: AlertNotice.State? = nil) -> String {
        let state = state ?? notice.state
        var local = "alert-\(notice.alertID).\(state.rawValue)"
        if state == .reminder { local += "-\(notice.reminderNumber)" }
        let seed = "\(channel)\n\(notice.alertID)\n\(notice.startedAt.description)"
        let hash = MailFormat.sha256Hex(Array(seed.utf8)).prefix(16)
        return "<\(local).\(hash)@\(settings.from.domain)>"
    }
}

/// RFC 5322 / MIME pieces: dates, addresses, unstructured headers with encoded-words, quoted-printable.
enum MailFormat {
    /// `Fri, 05 Dec 2025 13:41:00 +0000`.
    static func date(_ t: SyslogTimestamp) -> String {
        // "2025-12-05T13:41:00Z"
        let iso = NoticeText.time(t)
        let parts = iso.split(whereSeparator: { "-T:Z".contains($0) }).map(String.init)
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let dayNumber = t.seconds >= 0 ? t.seconds / 86_400 : (t.seconds - 86_399) / 86_400
        let weekday = days[Int(((dayNumber % 7) + 7) % 7)]
        guard parts.count >= 6, let month = Int(parts[1]), (1...12).contains(month) else { return iso }
        return "\(weekday), \(parts[2]) \(months[month - 1]) \(parts[0]) \(parts[3]):\(parts[4]):\(parts[5]) +0000"
    }

    /// `To: a@example.org, Ops <b@example.org>`, folded before an address that would pass 78 columns.
    static func addressList(_ name: String, _ addresses: [MailAddress]) -> String {
        var lines: [String] = [name + ":"]
        for (i, a) in addresses.enumerated() {
            let item = mailbox(a) + (i < addresses.count - 1 ? "," : "")
            if lines[lines.count - 1].utf8.count + 1 + item.utf8.count > 78 && lines[lines.count - 1] != name + ":" {
                lines.append(" " + item)
            } else {
                lines[lines.count - 1] += " " + item
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// A mailbox: the address alone, or the display name (as atoms, a quoted string, or encoded-words) and the
    /// address in angle brackets.
    static func mailbox(_ a: MailAddress) -> String {
        guard let name = a.displayName, !name.isEmpty else { return a.address }
        let atext = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~ ".utf8)
        let phrase: String
        if name.utf8.allSatisfy(atext.contains) && !name.contains("=?") {
            phrase = name
        } else if name.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) && !name.contains("=?") {
            phrase = "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        } else {
            phrase = encodedWords(name).joined(separator: " ")
        }
        return "\(phrase) <\(a.address)>"
    }

    /// An unstructured header field (`Subject`): `text` must already be one line. Printable ASCII is folded at
    /// spaces to keep lines within 78 columns where it can; anything else (or text that looks like an
    /// encoded-word) is written as RFC 2047 encoded-words, one per folded line.
    static func unstructured(_ name: String, _ text: String) -> String {
        let plain = text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && !text.contains("=?")
        let words = plain ? text.split(separator: " ").map(String.init) : encodedWords(text)
        var lines: [String] = [name + ":"]
        for word in words {
            if lines[lines.count - 1].utf8.count + 1 + word.utf8.count > 78 && lines[lines.count - 1] != name + ":" {
                lines.append(" " + word)
            } else {
                lines[lines.count - 1] += " " + word
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// `=?utf-8?B?...?=` words of at most 30 bytes of text each, never splitting a character's UTF-8 bytes.
    static func encodedWords(_ text: String) -> [String] {
        var words: [String] = []
        var chunk: [UInt8] = []
        func flush() {
            if !chunk.isEmpty { words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=") }
            chunk = []
        }
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 30 { flush() }
            chunk += bytes
        }
        flush()
        return words
    }

    /// RFC 2045 quoted-printable of text whose line breaks are CRLF: lines of at most 76 characters (soft breaks
    /// `=` CRLF), `=`, controls, non-ASCII bytes, white space at a line's end, a `.` starting a line and `From `
    /// starting a line encoded, so the body survives any relay byte for byte.
    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 8)
        var column = 0
        var i = 0
        func emit(_ token: [UInt8]) {
            // Keep room for the "=" of a soft break.
            if column + token.count > 75 {
                out += Array("=\r\n".utf8)
                column = 0
            }
            out += token
            column += token.count
        }
        func encoded(_ b: UInt8) -> [UInt8] { [UInt8(ascii: "="), hex[Int(b >> 4)], hex[Int(b & 0xF)]] }
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A {
                out += [0x0D, 0x0A]
                column = 0
                i += 2
                continue
            }
            let atLineEnd = i + 1 == bytes.count || (bytes[i + 1] == 0x0D && i + 2 < bytes.count && bytes[i + 2] == 0x0A)
            let atLineStart = column == 0
            let token: [UInt8]
            switch b {
            case 0x20, 0x09:
                token = atLineEnd ? encoded(b) : [b]
            case UInt8(ascii: "="):
                token = encoded(b)
            case UInt8(ascii: ".") where atLineStart:
                token = encoded(b)
            case UInt8(ascii: "F") where atLineStart && bytes[i...].starts(with: Array("From ".utf8)):
                token = encoded(b)
            case 0x21...0x7E:
                token = [b]
            default:
                token = encoded(b)
            }
            emit(token)
            i += 1
        }
        if out.suffix(2) != [0x0D, 0x0A] { out += [0x0D, 0x0A] }
        return out
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        bytes.withUnsafeBytes { raw in
            _ = EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
        }
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
