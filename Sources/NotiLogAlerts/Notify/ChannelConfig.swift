import Foundation
import NotiLogCore
import NotiLogCurl
import Yams

/// One configured notification channel, as written under `channels:` in the server config:
///
/// ```yaml
/// channels:
///   ops-telegram:
///     type: telegram
///     bot_token: "123456:ABC..."
///     chat_id: -1001234567890
///     message_thread_id: 42              # optional: a forum topic
///     api_base_url: https://api.telegram.org   # the default
///     parse_mode: HTML                   # the only mode: log text is escaped for it
///     message_template: "..."            # optional
///     fallback: ops-mail                 # optional: told when this channel keeps failing
///   ops-mail:
///     type: email
///     smtp_url: smtp://mail.example.org:587     # or smtps://mail.example.org:465
///     starttls: required                 # required (default) | opportunistic | off; smtp:// only
///     username: notilog
///     password_file: /etc/notilog/smtp-password  # or password: "..."
///     from: "NotiLog <notilog@example.org>"
///     to: [ops@example.org]
///     cc: []
///     subject_template: "..."            # optional
///     body_template: "..."               # optional
///     ca_file: /etc/notilog/mail-ca.pem  # optional
///     insecure_skip_verify: false        # tests only
///     timeout: 30s
///   ops-hook:
///     type: webhook
///     url: https://hooks.example.org/notilog
///     secret_file: /etc/notilog/hook-secret    # or secret: "..."; signs the body (HMAC-SHA256)
///     headers: {X-Team: ops}
///     timeout: 10s
///     message_template: "..."            # optional: the payload's "text"
/// ```
///
/// Decoding checks each channel on its own and names the channel and key in every error (`ChannelConfigError`);
/// `Notifiers.validate` checks what needs all channels (fallbacks) or the file system. `description` never shows
/// a token, password, secret, header value or URL path.
public struct ChannelConfig: Sendable, Hashable, Decodable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        case telegram(TelegramSettings)
        case email(EmailSettings)
        case webhook(WebhookSettings)
    }

    public var kind: Kind
    /// The channel told instead when this one keeps failing (the delivery worker's business).
    public var fallback: String?

    public init(_ kind: Kind, fallback: String? = nil) {
        self.kind = kind
        self.fallback = fallback
    }

    /// `telegram`, `email` or `webhook`.
    public var type: String {
        switch kind {
        case .telegram: "telegram"
        case .email: "email"
        case .webhook: "webhook"
        }
    }

    /// Channel names are what idempotency keys and the API use: 1 to 64 of `A-Z a-z 0-9 _ - .`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
    }

    /// The channels of a YAML document whose top level has a `channels:` map (as the server config has).
    public static func channels(fromYAML text: String) throws(ChannelConfigError) -> [String: ChannelConfig] {
        struct Document: Decodable {
            var channels: [String: ChannelConfig]?
        }
        do {
            return try YAMLDecoder().decode(Document.self, from: text).channels ?? [:]
        } catch {
            throw ChannelConfigError.unwrapped(error) ?? ChannelConfigError(channel: "", key: nil, "the channels are not valid YAML: \(error)")
        }
    }

    public init(from decoder: any Decoder) throws {
        let name = decoder.codingPath.last?.stringValue ?? ""
        guard let container = try? decoder.container(keyedBy: SettingKey.self) else {
            throw ChannelConfigError(channel: name, key: nil, "expected a map of settings with a type (telegram, email or webhook)")
        }
        let reader = SettingsReader(channel: name, container: container)
        guard let type = try reader.string("type") else {
            throw ChannelConfigError(channel: name, key: "type", "missing; one of telegram, email, webhook")
        }
        let common: Set<String> = ["type", "fallback"]
        switch type.lowercased() {
        case "telegram":
            try reader.rejectUnknown(allowed: common.union(TelegramSettings.keys), type: "telegram")
            kind = .telegram(try TelegramSettings(reader))
        case "email":
            try reader.rejectUnknown(allowed: common.union(EmailSettings.keys), type: "email")
            kind = .email(try EmailSettings(reader))
        case "webhook":
            try reader.rejectUnknown(allowed: common.union(WebhookSettings.keys), type: "webhook")
            kind = .webhook(try WebhookSettings(reader))
        default:
            throw ChannelConfigError(channel: name, key: "type", "\"\(type)\" is not a channel type; one of telegram, email, webhook")
        }
        fallback = try reader.string("fallback")
        if let fallback, !Self.isValidName(fallback) {
            throw ChannelConfigError(channel: name, key: "fallback", "\"\(fallback)\" is not a channel name")
        }
    }

    public var description: String {
        let settings: String =
            switch kind {
            case .telegram(let t): t.description
            case .email(let e): e.description
            case .webhook(let w): w.description
            }
        return "\(type)(\(settings)\(fallback.map { ", fallback: \($0)" } ?? ""))"
    }

    /// Files named by the channel can be read (CA file, password and secret files).
    func checkFiles(channel: String) throws(ChannelConfigError) {
        switch kind {
        case .telegram: break
        case .email(let e):
            if let caFile = e.caFile, !FileManager.default.isReadableFile(atPath: caFile) {
                throw ChannelConfigError(channel: channel, key: "ca_file", "cannot read \(caFile)")
            }
            _ = try e.password?.resolve(channel: channel, key: "password")
        case .webhook(let w):
            _ = try w.secret?.resolve(channel: channel, key: "secret")
        }
    }
}

/// A channel setting that is wrong, naming the channel and the key.
public struct ChannelConfigError: Error, Hashable, CustomStringConvertible {
    /// The channel's name ("" when the error is about the `channels:` map itself).
    public var channel: String
    /// The key in the channel's settings, when the error is about one.
    public var key: String?
    public var message: String

    public init(channel: String, key: String?, _ message: String) {
        self.channel = channel
        self.key = key
        self.message = message
    }

    /// The channel error inside `error`: decoders (Yams) wrap what `init(from:)` throws in a
    /// `DecodingError.dataCorrupted` whose underlying error it is.
    public static func unwrapped(_ error: any Error) -> ChannelConfigError? {
        var current: (any Error)? = error
        while let e = current {
            if let found = e as? ChannelConfigError { return found }
            switch e as? DecodingError {
            case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
                current = c.underlyingError
            default:
                current = nil
            }
        }
        return nil
    }

    /// `channel "ops-mail", key smtp_url: must be smtp://HOST[:PORT] or smtps://HOST[:PORT]`
    public var description: String {
        var place = channel.isEmpty ? "channels" : "channel \"\(channel)\""
        if let key { place += ", key \(key)" }
        return "\(place): \(message)"
    }
}

/// A secret setting's value: shown as `***` in descriptions, dumps and mirrors.
public struct ChannelSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let value: String

    public init(_ value: String) {
        self.value = value
    }

    public var description: String { "***" }
    public var debugDescription: String { "***" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}

/// A secret given in the config (`password:`) or in a file (`password_file:`), read when the notifier is made.
public enum SecretSource: Sendable, Hashable, CustomStringConvertible {
    case value(ChannelSecret)
    case file(String)

    /// The secret: the value, or the file's content without its trailing line break.
    public func resolve(channel: String, key: String) throws(ChannelConfigError) -> ChannelSecret {
        switch self {
        case .value(let secret): return secret
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ChannelConfigError(channel: channel, key: key + "_file", "cannot read \(path)")
            }
            var text = String(decoding: data, as: UTF8.self)
            while let last = text.last, last.isNewline { text.removeLast() }
            guard !text.isEmpty else {
                throw ChannelConfigError(channel: channel, key: key + "_file", "\(path) is empty")
            }
            return ChannelSecret(text)
        }
    }

    public var description: String {
        switch self {
        case .value: "***"
        case .file(let path): "file \(path)"
        }
    }
}

// MARK: - Telegram

/// A Telegram chat: its numeric id (negative for groups and channels) or a public channel's `@username`.
public enum TelegramChatID: Sendable, Hashable, CustomStringConvertible {
    case id(Int64)
    case username(String)

    public var description: String {
        switch self {
        case .id(let n): String(n)
        case .username(let u): u
        }
    }
}

public struct TelegramSettings: Sendable, Hashable, CustomStringConvertible {
    public static let defaultAPIBaseURL = "https://api.telegram.org"

    public var botToken: ChannelSecret
    public var chatID: TelegramChatID
    /// A forum topic in the chat.
    public var messageThreadID: Int64?
    /// Without a trailing slash.
    public var apiBaseURL: String
    /// The message; the default depends on the notice's state (`NoticeTemplate.defaults`).
    public var messageTemplate: NoticeTemplate?
    public var timeout: Duration

    public init(
        botToken: String, chatID: TelegramChatID, messageThreadID: Int64? = nil, apiBaseURL: String = Self.defaultAPIBaseURL,
        messageTemplate: NoticeTemplate? = nil, timeout: Duration = .seconds(30)
    ) {
        self.botToken = ChannelSecret(botToken)
        self.chatID = chatID
        self.messageThreadID = messageThreadID
        self.apiBaseURL = apiBaseURL
        self.messageTemplate = messageTemplate
        self.timeout = timeout
    }

    static let keys: Set<String> = [
        "bot_token", "chat_id", "message_thread_id", "api_base_url", "parse_mode", "message_template", "timeout",
    ]

    init(_ r: SettingsReader) throws(ChannelConfigError) {
        guard let token = try r.string("bot_token"), !token.isEmpty else { throw r.error("bot_token", "missing") }
        // The token goes into the URL's path: no character that would change the URL.
        guard token.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            throw r.error("bot_token", "is not a bot token (digits, ':', then letters, digits, '_' or '-')")
        }
        botToken = ChannelSecret(token)
        if let n = try? r.container.decodeIfPresent(Int64.self, forKey: SettingKey("chat_id")) {
            chatID = .id(n)
        } else if let text = try r.string("chat_id")?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            if let n = Int64(text) {
                chatID = .id(n)
            } else if text.hasPrefix("@"), text.count > 1, text.dropFirst().utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "_") }) {
                chatID = .username(text)
            } else {
                throw r.error("chat_id", "\"\(text)\" is neither a chat id (a number) nor a channel's @username")
            }
        } else {
            throw r.error("chat_id", "missing")
        }
        messageThreadID = try r.int64("message_thread_id")
        let base = try r.string("api_base_url") ?? Self.defaultAPIBaseURL
        guard let url = URLComponents(string: base), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil, url.user == nil
        else {
            throw r.error("api_base_url", "\"\(base)\" is not an http(s) URL without query or credentials")
        }
        apiBaseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        if let mode = try r.string("parse_mode"), mode.lowercased() != "html" {
            throw r.error("parse_mode", "only HTML is supported (log text is escaped for it), not \"\(mode)\"")
        }
        messageTemplate = try r.template("message_template")
        timeout = try r.duration("timeout") ?? .seconds(30)
    }

    public var description: String {
        // The token's bot id (before the colon) is not secret and tells bots apart.
        let botID = botToken.value.split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        var parts = ["bot: \(botID):***", "chat_id: \(chatID)"]
        if let messageThreadID { parts.append("message_thread_id: \(messageThreadID)") }
        if apiBaseURL != Self.defaultAPIBaseURL { parts.append("api_base_url: \(HTTPClient.origin(apiBaseURL))") }
        if messageTemplate != nil { parts.append("message_template: custom") }
        return parts.joined(separator: ", ")
    }
}

// MARK: - Email

public struct EmailSettings: Sendable, Hashable, CustomStringConvertible {
    /// `smtp://host[:port][/ehlo-name]` or `smtps://host[:port][/ehlo-name]`, without credentials.
    public var smtpURL: String
    /// For `smtp://` URLs; `smtps://` is TLS from the first byte.
    public var starttls: SMTPClient.TLSMode
    public var username: String?
    public var password: SecretSource?
    public var from: MailAddress
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var subjectTemplate: NoticeTemplate?
    public var bodyTemplate: NoticeTemplate?
    public var caFile: String?
    public var insecureSkipVerify: Bool
    public var timeout: Duration

    public init(
        smtpURL: String, starttls: SMTPClient.TLSMode = .required, username: String? = nil, password: SecretSource? = nil,
        from: MailAddress, to: [MailAddress], cc: [MailAddress] = [], subjectTemplate: NoticeTemplate? = nil,
        bodyTemplate: NoticeTemplate? = nil, caFile: String? = nil, insecureSkipVerify: Bool = false, timeout: Duration = .seconds(30)
    ) {
        self.smtpURL = smtpURL
        self.starttls = starttls
        self.username = username
        self.password = password
        self.from = from
        self.to = to
        self.cc = cc
        self.subjectTemplate = subjectTemplate
        self.bodyTemplate = bodyTemplate
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
        self.timeout = timeout
    }

    /// True for `smtps://`.
    public var implicitTLS: Bool { smtpURL.lowercased().hasPrefix("smtps://") }

    static let keys: Set<String> = [
        "smtp_url", "starttls", "username", "password", "password_file", "from", "to", "cc", "subject_template",
        "body_template", "ca_file", "insecure_skip_verify", "timeout",
    ]

    init(_ r: SettingsReader) throws(ChannelConfigError) {
        guard let url = try r.string("smtp_url") else { throw r.error("smtp_url", "missing") }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "smtp" || scheme == "smtps",
            let host = parts.host, !host.isEmpty, parts.query == nil, parts.fragment == nil
        else {
            throw r.error("smtp_url", "\"\(url)\" must be smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT] (implicit TLS)")
        }
        guard parts.user == nil, parts.password == nil else {
            throw r.error("smtp_url", "must not hold credentials; use username and password_file")
        }
        smtpURL = url
        let implicit = scheme == "smtps"
        if let mode = try r.string("starttls") {
            guard let m = SMTPClient.TLSMode(rawValue: mode.lowercased()) else {
                throw r.error("starttls", "\"\(mode)\" is not one of required, opportunistic, off")
            }
            if implicit && m != .required {
                throw r.error("starttls", "smtps:// is TLS from the first byte; starttls applies to smtp:// only")
            }
            starttls = m
        } else {
            starttls = .required
        }
        username = try r.string("username")
        let password = try r.string("password")
        let passwordFile = try r.string("password_file")
        switch (password, passwordFile) {
        case (nil, nil): self.password = nil
        case (let p?, nil): self.password = .value(ChannelSecret(p))
        case (nil, let f?): self.password = .file(f)
        case (_?, _?): throw r.error("password", "give password or password_file, not both")
        }
        if self.password != nil && username == nil { throw r.error("username", "missing (a password is set)") }
        if username != nil && self.password == nil { throw r.error("password", "missing (a username is set): password or password_file") }
        if self.password != nil && !implicit && starttls != .required && !Self.isLoopback(host) {
            throw r.error(
                "starttls", "the password would travel in clear text: set starttls: required or use smtps:// (allowed only to a loopback host)")
        }
        guard let fromText = try r.string("from") else { throw r.error("from", "missing") }
        guard let from = MailAddress(fromText) else { throw r.error("from", MailAddress.syntaxHint(fromText)) }
        self.from = from
        to = try r.addresses("to")
        guard !to.isEmpty else { throw r.error("to", "missing: at least one address") }
        cc = try r.addresses("cc")
        subjectTemplate = try r.template("subject_template")
        bodyTemplate = try r.template("body_template")
        caFile = try r.string("ca_file")
        insecureSkipVerify = try r.bool("insecure_skip_verify") ?? false
        timeout = try r.duration("timeout") ?? .seconds(30)
    }

    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    public var description: String {
        var parts = ["smtp_url: \(HTTPClient.origin(smtpURL))"]
        if !implicitTLS { parts.append("starttls: \(starttls.rawValue)") }
        if let username { parts.append("username: \(username)") }
        if let password { parts.append("password: \(password)") }
        parts.append("from: \(from.address)")
        parts.append("to: \(to.map(\.address).joined(separator: ", "))")
        if !cc.isEmpty { parts.append("cc: \(cc.map(\.address).joined(separator: ", "))") }
        if let caFile { parts.append("ca_file: \(caFile)") }
        if insecureSkipVerify { parts.append("insecure_skip_verify: true") }
        return parts.joined(separator: ", ")
    }
}

/// A mailbox: `ops@example.org` or `NotiLog <notilog@example.org>`. ASCII addresses only (no SMTPUTF8); the
/// display name may be any text without line breaks and is encoded when the header is written.
public struct MailAddress: Sendable, Hashable, CustomStringConvertible {
    public var displayName: String?
    /// The addr-spec: `local@domain`.
    public var address: String

    public init?(_ text: String) {
        let t = text.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix(">"), let open = t.lastIndex(of: "<") {
            var name = t[..<open].trimmingCharacters(in: .whitespaces)
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return nil }
            displayName = name.isEmpty ? nil : name
            address = String(t[t.index(after: open)..<t.index(before: t.endIndex)])
        } else {
            displayName = nil
            address = t
        }
        guard Self.isAddrSpec(address) else { return nil }
    }

    /// `local@domain`: printable ASCII without specials or spaces, one `@`, a domain of letters, digits, `-`, `.`.
    static func isAddrSpec(_ s: String) -> Bool {
        guard let at = s.lastIndex(of: "@") else { return false }
        let local = s[..<at], domain = s[s.index(after: at)...]
        let specials = Set("()<>[]:;@\\,\"".utf8)
        return !local.isEmpty && local.utf8.count <= 64 && !domain.isEmpty && domain.utf8.count <= 255
            && local.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !specials.contains($0) }
            && domain.utf8.allSatisfy { $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }
            && !domain.hasPrefix(".") && !domain.hasSuffix(".") && !domain.contains("..")
    }

    static func syntaxHint(_ text: String) -> String {
        "\"\(text)\" is not an address like ops@example.org or \"Name <ops@example.org>\" (ASCII addresses only)"
    }

    /// The domain part, for Message-IDs.
    public var domain: String { String(address[address.index(after: address.lastIndex(of: "@")!)...]) }

    public var description: String {
        displayName.map { "\($0) <\(address)>" } ?? address
    }
}

// MARK: - Webhook

public struct WebhookSettings: Sendable, Hashable, CustomStringConvertible {
    public var url: String
    /// Signs each body: `X-NotiLog-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
    public var secret: SecretSource?
    /// Extra request headers, sorted by name.
    public var headers: [WebhookHeader]
    public var timeout: Duration
    /// The payload's `text` (plain text); the default depends on the notice's state.
    public var messageTemplate: NoticeTemplate?

    public init(
        url: String, secret: SecretSource? = nil, headers: [WebhookHeader] = [], timeout: Duration = .seconds(10),
        messageTemplate: NoticeTemplate? = nil
    ) {
        self.url = url
        self.secret = secret
        self.headers = headers
        self.timeout = timeout
        self.messageTemplate = messageTemplate
    }

    static let keys: Set<String> = ["url", "secret", "secret_file", "headers", "timeout", "message_template"]

    /// Headers the notifier writes itself (or libcurl does), which a channel cannot set.
    static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "host", "transfer-encoding", "connection", "expect", "idempotency-key",
        "x-notilog-signature",
    ]

    init(_ r: SettingsReader) throws(ChannelConfigError) {
        guard let url = try r.string("url") else { throw r.error("url", "missing") }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), scheme == "https" || scheme == "http",
            let host = parts.host, !host.isEmpty
        else {
            throw r.error("url", "is not an http(s) URL")
        }
        self.url = url
        let secret = try r.string("secret")
        let secretFile = try r.string("secret_file")
        switch (secret, secretFile) {
        case (nil, nil): self.secret = nil
        case (let s?, nil):
            guard !s.isEmpty else { throw r.error("secret", "is empty") }
            self.secret = .value(ChannelSecret(s))
        case (nil, let f?): self.secret = .file(f)
        case (_?, _?): throw r.error("secret", "give secret or secret_file, not both")
        }
        var headers: [WebhookHeader] = []
        for (name, value) in try r.stringMap("headers").sorted(by: { $0.key < $1.key }) {
            guard WebhookHeader.isToken(name) else { throw r.error("headers", "\"\(name)\" is not a header name") }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                throw r.error("headers", "\(name) is set by NotiLog itself")
            }
            guard !value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                throw r.error("headers", "the value of \(name) contains a line break or control character")
            }
            headers.append(WebhookHeader(name: name, value: ChannelSecret(value)))
        }
        self.headers = headers
        timeout = try r.duration("timeout") ?? .seconds(10)
        messageTemplate = try r.template("message_template")
    }

    public var description: String {
        var parts = ["url: \(HTTPClient.origin(url))/…"]
        if let secret { parts.append("secret: \(secret)") }
        if !headers.isEmpty { parts.append("headers: \(headers.map(\.name).joined(separator: ", "))") }
        parts.append("timeout: \(timeout.components.seconds)s")
        return parts.joined(separator: ", ")
    }
}

/// A custom webhook header; its value may be a credential (`Authorization`), so it prints as `***`.
public struct WebhookHeader: Sendable, Hashable {
    public var name: String
    public var value: ChannelSecret

    public init(name: String, value: ChannelSecret) {
        self.name = name
        self.value = value
    }

    /// An RFC 9110 token.
    static func isToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0.isASCIIAlphanumeric || "!#$%&'*+-.^_`|~".utf8.contains($0) }
    }
}

// MARK: - Reading settings

struct SettingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }

    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads one channel's keys, turning every decoding problem into a `ChannelConfigError` naming channel and key.
struct SettingsReader {
    let channel: String
    let container: KeyedDecodingContainer<SettingKey>

    func error(_ key: String, _ message: String) -> ChannelConfigError {
        ChannelConfigError(channel: channel, key: key, message)
    }

    func rejectUnknown(allowed: Set<String>, type: String) throws(ChannelConfigError) {
        for key in container.allKeys.map(\.stringValue).sorted() where !allowed.contains(key) {
            throw error(key, "not a setting of a \(type) channel (settings: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    private func decode<T: Decodable>(_ type: T.Type, _ key: String, _ expected: String) throws(ChannelConfigError) -> T? {
        do {
            return try container.decodeIfPresent(T.self, forKey: SettingKey(key))
        } catch {
            throw self.error(key, "expected \(expected)")
        }
    }

    func string(_ key: String) throws(ChannelConfigError) -> String? { try decode(String.self, key, "a string") }
    func bool(_ key: String) throws(ChannelConfigError) -> Bool? { try decode(Bool.self, key, "true or false") }
    func int64(_ key: String) throws(ChannelConfigError) -> Int64? { try decode(Int64.self, key, "an integer") }

    func stringMap(_ key: String) throws(ChannelConfigError) -> [String: String] {
        try decode([String: String].self, key, "a map of names to strings") ?? [:]
    }

    /// A list of addresses, or one address as a string.
    func addresses(_ key: String) throws(ChannelConfigError) -> [MailAddress] {
        let texts: [String]
        if let one = try? container.decodeIfPresent(String.self, forKey: SettingKey(key)) {
            texts = [one]
        } else {
            texts = try decode([String].self, key, "an address or a list of addresses") ?? []
        }
        return try texts.map { (text: String) throws(ChannelConfigError) -> MailAddress in
            guard let a = MailAddress(text) else { throw error(key, MailAddress.syntaxHint(text)) }
            return a
        }
    }

    /// `10s`, `500ms`, `2m`, `1h30m`, or a number of seconds.
    func duration(_ key: String) throws(ChannelConfigError) -> Duration? {
        if let n = try? container.decodeIfPresent(Int64.self, forKey: SettingKey(key)) {
            guard n > 0 else { throw error(key, "must be more than 0") }
            return .seconds(n)
        }
        guard let text = try string(key) else { return nil }
        guard let d = Self.parseDuration(text), d > .zero else {
            throw error(key, "\"\(text)\" is not a duration like 500ms, 10s, 2m or 1h30m")
        }
        return d
    }

    func template(_ key: String) throws(ChannelConfigError) -> NoticeTemplate? {
        guard let text = try string(key) else { return nil }
        do {
            return try NoticeTemplate(text)
        } catch {
            throw self.error(key, error.description)
        }
    }

    /// The duration syntax of the server's configuration (`200ms`, `30s`, `1h30m`).
    static func parseDuration(_ text: String) -> Duration? {
        DurationText.parse(text)
    }
}

fileprivate extension UInt8 {
    var isASCIIAlphanumeric: Bool {
        (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self)
    }
}
