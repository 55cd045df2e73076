import Foundation
import NotiLogCurl
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

@Suite struct NotifChannelConfigTests {
    static let fullYAML = """
        channels:
          ops-telegram:
            type: telegram
            bot_token: "123456:SECRET-token_x"
            chat_id: -1001234567890
            message_thread_id: 7
            api_base_url: http://127.0.0.1:9/
            parse_mode: HTML
            fallback: ops-mail
          ops-mail:
            type: email
            smtp_url: smtp://mail.example.org:587
            starttls: required
            username: notilog
            password: "hunter2-SECRET"
            from: "NotiLog Alerts <notilog@example.org>"
            to: [ops@example.org, "Ann <ann@example.org>"]
            cc: boss@example.org
            subject_template: "{{state}} {{rule}}"
            timeout: 45s
          ops-hook:
            type: webhook
            url: https://hooks.example.org/services/T000/B000/XXSECRETPATH
            secret: "hmac-SECRET"
            headers: {Authorization: "Bearer HEADER-SECRET", X-Team: ops}
            timeout: 5
        """

    @Test func aFullConfigDecodes() throws {
        let channels = try ChannelConfig.channels(fromYAML: Self.fullYAML)
        #expect(channels.keys.sorted() == ["ops-hook", "ops-mail", "ops-telegram"])
        guard case .telegram(let t) = channels["ops-telegram"]?.kind else { Issue.record("not telegram"); return }
        #expect(t.botToken.value == "123456:SECRET-token_x")
        #expect(t.chatID == .id(-1_001_234_567_890))
        #expect(t.messageThreadID == 7)
        #expect(t.apiBaseURL == "http://127.0.0.1:9")
        #expect(channels["ops-telegram"]?.fallback == "ops-mail")
        guard case .email(let e) = channels["ops-mail"]?.kind else { Issue.record("not email"); return }
        #expect(e.starttls == .required)
        #expect(e.password == .value(ChannelSecret("hunter2-SECRET")))
        #expect(e.from == MailAddress("NotiLog Alerts <notilog@example.org>"))
        #expect(e.from.displayName == "NotiLog Alerts")
        #expect(e.to.map(\.address) == ["ops@example.org", "ann@example.org"])
        #expect(e.cc.map(\.address) == ["boss@example.org"])
        #expect(e.subjectTemplate?.source == "{{state}} {{rule}}")
        #expect(e.timeout == .seconds(45))
        guard case .webhook(let w) = channels["ops-hook"]?.kind else { Issue.record("not webhook"); return }
        #expect(w.headers.map(\.name) == ["Authorization", "X-Team"])
        #expect(w.timeout == .seconds(5))
        #expect(w.secret == .value(ChannelSecret("hmac-SECRET")))
        try Notifiers.validate(channels)
        let notifiers = try Notifiers.make(from: channels)
        #expect(notifiers["ops-telegram"] is TelegramNotifier)
        #expect(notifiers["ops-mail"] is EmailNotifier)
        #expect(notifiers["ops-hook"] is WebhookNotifier)
        #expect(notifiers["ops-telegram"]?.pacing == NotifierPacing(key: "telegram:123456:-1001234567890", minimumInterval: .seconds(3)))
    }

    @Test func descriptionsShowNoSecrets() throws {
        let channels = try ChannelConfig.channels(fromYAML: Self.fullYAML)
        let text = channels.values.map(\.description).joined(separator: "\n") + "\(channels)" + String(reflecting: channels)
        for secret in ["SECRET", "hunter2", "HEADER", "XXSECRETPATH", "Bearer"] {
            #expect(!text.contains(secret), "\(secret) shown in \(text)")
        }
        #expect(text.contains("bot: 123456:***"))
        #expect(text.contains("smtp_url: smtp://mail.example.org:587"))
        #expect(text.contains("url: https://hooks.example.org/…"))
    }

    /// Each row: a channel's settings (YAML under `channels: {c: ...}`), the key the error names, part of its message.
    @Test(arguments: [
        ("{type: pager}", "type", "\"pager\" is not a channel type"),
        ("{chat_id: 1}", "type", "missing"),
        ("{type: telegram, chat_id: 1}", "bot_token", "missing"),
        ("{type: telegram, bot_token: \"1:a/b\", chat_id: 1}", "bot_token", "is not a bot token"),
        ("{type: telegram, bot_token: \"1:a\"}", "chat_id", "missing"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: \"ops room\"}", "chat_id", "neither a chat id"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: 1, parse_mode: MarkdownV2}", "parse_mode", "only HTML"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: 1, api_base_url: \"ftp://x\"}", "api_base_url", "not an http(s) URL"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: 1, bot_tokn: x}", "bot_tokn", "not a setting of a telegram channel"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: 1, message_template: \"{{host}}\"}", "message_template", "unknown placeholder {{host}}"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: 1, timeout: soon}", "timeout", "is not a duration"),
        ("{type: telegram, bot_token: \"1:a\", chat_id: 1, message_thread_id: x}", "message_thread_id", "expected an integer"),
        ("{type: email, smtp_url: \"http://mail\", from: a@b.c, to: [x@y.z]}", "smtp_url", "must be smtp://HOST[:PORT]"),
        ("{type: email, smtp_url: \"smtp://u:p@mail\", from: a@b.c, to: [x@y.z]}", "smtp_url", "must not hold credentials"),
        ("{type: email, smtp_url: \"smtp://mail\", starttls: maybe, from: a@b.c, to: [x@y.z]}", "starttls", "not one of required"),
        ("{type: email, smtp_url: \"smtps://mail\", starttls: off, from: a@b.c, to: [x@y.z]}", "starttls", "applies to smtp:// only"),
        ("{type: email, smtp_url: \"smtp://mail\", starttls: off, username: u, password: p, from: a@b.c, to: [x@y.z]}", "starttls", "clear text"),
        ("{type: email, smtp_url: \"smtp://mail\", username: u, password: p, password_file: /f, from: a@b.c, to: [x@y.z]}", "password", "not both"),
        ("{type: email, smtp_url: \"smtp://mail\", username: u, from: a@b.c, to: [x@y.z]}", "password", "missing"),
        ("{type: email, smtp_url: \"smtp://mail\", from: \"not an address\", to: [x@y.z]}", "from", "is not an address"),
        ("{type: email, smtp_url: \"smtp://mail\", from: \"a@b.c\\r\\nBcc: e@x\", to: [x@y.z]}", "from", "is not an address"),
        ("{type: email, smtp_url: \"smtp://mail\", from: a@b.c}", "to", "at least one address"),
        ("{type: email, smtp_url: \"smtp://mail\", from: a@b.c, to: [x@y.z, \"bad <>\"]}", "to", "is not an address"),
        ("{type: email, smtp_url: \"smtp://mail\", from: a@b.c, to: x@y.z, subject_template: \"{{rule}\"}", "subject_template", "not closed"),
        ("{type: webhook}", "url", "missing"),
        ("{type: webhook, url: \"mailto:x@y\"}", "url", "not an http(s) URL"),
        ("{type: webhook, url: \"https://h/x\", headers: {\"X-A\": \"v\\r\\nX-Evil: 1\"}}", "headers", "line break"),
        ("{type: webhook, url: \"https://h/x\", headers: {\"Bad Name\": v}}", "headers", "is not a header name"),
        ("{type: webhook, url: \"https://h/x\", headers: {Content-Type: text/plain}}", "headers", "set by NotiLog itself"),
        ("{type: webhook, url: \"https://h/x\", secret: s, secret_file: /f}", "secret", "not both"),
        ("{type: webhook, url: \"https://h/x\", fallback: \"no such:name\"}", "fallback", "is not a channel name"),
        ("[1, 2]", nil, "expected a map of settings"),
    ] as [(String, String?, String)])
    func wrongSettingsNameTheChannelAndKey(settings: String, key: String?, message: String) {
        #expect {
            _ = try ChannelConfig.channels(fromYAML: "channels:\n  pager-1: \(settings)\n")
        } throws: { error in
            guard let e = error as? ChannelConfigError else { return false }
            let ok = e.channel == "pager-1" && e.key == key && e.message.contains(message)
            if !ok { Issue.record("got \(e)") }
            return ok
        }
    }

    @Test func theErrorReadsWithChannelAndKey() {
        let e = ChannelConfigError(channel: "ops-mail", key: "smtp_url", "must be smtp://HOST[:PORT]")
        #expect(e.description == "channel \"ops-mail\", key smtp_url: must be smtp://HOST[:PORT]")
    }

    @Test func fallbacksMustExistAndNotLoop() throws {
        func channels(_ pairs: [(String, String?)]) -> [String: ChannelConfig] {
            Dictionary(uniqueKeysWithValues: pairs.map { name, fallback in
                (name, ChannelConfig(.webhook(WebhookSettings(url: "https://h/\(name)")), fallback: fallback))
            })
        }
        #expect(throws: ChannelConfigError(channel: "a", key: "fallback", "a channel cannot be its own fallback")) {
            try Notifiers.validate(channels([("a", "a")]))
        }
        #expect(throws: ChannelConfigError(channel: "a", key: "fallback", "no channel named \"z\" (channels: a, b)")) {
            try Notifiers.validate(channels([("a", "z"), ("b", nil)]))
        }
        #expect(throws: ChannelConfigError(channel: "a", key: "fallback", "the fallback chain comes back to \"a\"")) {
            try Notifiers.validate(channels([("a", "b"), ("b", "c"), ("c", "a")]))
        }
        #expect(throws: ChannelConfigError(channel: "bad:name", key: nil, "a channel name is 1 to 64 letters, digits, '_', '-' or '.'")) {
            try Notifiers.validate(channels([("bad:name", nil)]))
        }
        try Notifiers.validate(channels([("a", "b"), ("b", "c"), ("c", nil)]))
    }

    @Test func passwordAndSecretFilesAreReadWhenTheNotifiersAreMade() throws {
        let dir = TemporaryDirectory()
        try "file-password\n".write(toFile: dir.path + "/pw", atomically: true, encoding: .utf8)
        let yaml = """
            channels:
              mail:
                type: email
                smtp_url: smtps://mail.example.org
                username: u
                password_file: \(dir.path)/pw
                from: a@example.org
                to: b@example.org
              hook:
                type: webhook
                url: https://h.example.org/x
                secret_file: \(dir.path)/missing
            """
        let channels = try ChannelConfig.channels(fromYAML: yaml)
        #expect(throws: ChannelConfigError(channel: "hook", key: "secret_file", "cannot read \(dir.path)/missing")) {
            _ = try Notifiers.make(from: channels)
        }
        try "hook-secret".write(toFile: dir.path + "/missing", atomically: true, encoding: .utf8)
        let notifiers = try Notifiers.make(from: channels)
        let mail = try #require(notifiers["mail"] as? EmailNotifier)
        #expect(mail.client.password == "file-password")
        #expect(mail.client.tls == .required)
        #expect(!mail.client.description.contains("file-password"))
    }
}
