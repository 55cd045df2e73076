import CCrypto
import Foundation
import NotiLogCore
import NotiLogCurl

/// POSTs notices as JSON to a URL.
///
/// ## Payload, version 1
///
/// `Content-Type: application/json`, UTF-8, keys sorted:
///
/// ```json
/// {
///   "version": 1,
///   "channel": "ops-hook",
///   "idempotency_key": "42:ops-hook:firing",
///   "sent_at": "2026-12-05T13:41:07.250000Z",
///   "text": "[FIRING] ssh-brute-force\n12 matches in 60 s\n...",
///   "notice": {
///     "alert_id": 42, "rule": "ssh-brute-force", "rule_description": "...", "severity": "warning",
///     "state": "firing",                       // firing | reminder | resolved | test
///     "group": [{"field": "source_ip", "value": "10.0.0.5"}],
///     "count": 12, "first_seen": "...", "last_seen": "...", "started_at": "...", "resolved_at": "...",
///     "samples": [{"id": 1234, "received_at": "...", "hostname": "web-1", "app": "sshd",
///                  "severity": "info", "message": "Failed password for root from 10.0.0.5 port 52144 ssh2"}],
///     "suppressed": {"count": 47, "top_hosts": ["web-1"]},
///     "reminder_number": 0, "search_url": "https://notilog.example.org/search?q=...", "summary": "12 matches in 60 s"
///   }
/// }
/// ```
///
/// `notice` is `AlertNotice` with snake_case keys; times are RFC 3339 in UTC; a field that is not known (no
/// severity, not resolved yet, a sample's host) is left out. `text` is the channel's `message_template` (or the
/// default for the state) as plain text. Consumers should ignore keys they do not know: later versions of
/// payload 1 may add keys; a change that removes or changes one raises `version`.
///
/// ## Headers
///
/// `Idempotency-Key` (the same on every retry of one notice to one channel: drop repeats by it),
/// `X-NotiLog-Signature: sha256=<hex HMAC-SHA256(secret, body)>` when the channel has a secret (computed over the
/// exact body bytes), and the channel's own headers.
///
/// ## Answers
///
/// 2xx → delivered; 408, 429 and 5xx → retry (after `Retry-After` seconds when given); no answer → retry; any
/// other status (redirects are not followed) → failed.
public struct WebhookNotifier: Notifier {
    public static let payloadVersion = 1

    public let channel: String
    public let settings: WebhookSettings
    let secret: ChannelSecret?
    public var http: HTTPClient
    let clock: @Sendable () -> SyslogTimestamp

    public init(
        channel: String, settings: WebhookSettings, secret: ChannelSecret?, http: HTTPClient = HTTPClient(),
        clock: @escaping @Sendable () -> SyslogTimestamp = { SyslogTimestamp.now() }
    ) {
        self.channel = channel
        self.settings = settings
        self.secret = secret
        self.http = http.forChannel(timeout: settings.timeout)
        self.clock = clock
    }

    public func send(_ notice: AlertNotice, idempotencyKey: String) -> DeliveryOutcome {
        let body = payload(for: notice, idempotencyKey: idempotencyKey)
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "application/json"), ("Idempotency-Key", NoticeText.oneLine(idempotencyKey)),
        ]
        if let secret { headers.append(("X-NotiLog-Signature", Self.signature(secret: secret.value, body: body))) }
        headers += settings.headers.map { ($0.name, $0.value.value) }
        do throws(HTTPClientError) {
            let response = try http.send(HTTPRequest(.post, settings.url, headers: headers, body: body))
            return Self.outcome(status: response.status, retryAfter: response.header("Retry-After"))
        } catch {
            if error.code == .invalidRequest { return .failed(reason: error.description) }
            return .retry(after: nil, reason: error.description)
        }
    }

    /// The JSON body (payload version 1, see the type's documentation).
    public func payload(for notice: AlertNotice, idempotencyKey: String) -> [UInt8] {
        let template = settings.messageTemplate ?? .defaultMessage(for: notice.state, telegram: false)
        let now = clock()
        let payload = Payload(
            version: Self.payloadVersion, channel: channel, idempotencyKey: idempotencyKey, sentAt: now,
            text: template.render(NoticeValues(notice, now: now)).plain, notice: notice)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, numbers and the notice's own Codable conformance: nothing here can fail to encode.
        return Array(try! encoder.encode(payload))
    }

    /// `sha256=` and the lowercase hex HMAC-SHA256 of `body` keyed with `secret`.
    public static func signature(secret: String, body: [UInt8]) -> String {
        "sha256=" + HMACSHA256.hex(key: Array(secret.utf8), message: body)
    }

    static func outcome(status: Int, retryAfter: String?) -> DeliveryOutcome {
        switch status {
        case 200..<300:
            return .delivered(detail: "HTTP \(status)")
        case 408, 429, 500...:
            let seconds = retryAfter.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            return .retry(after: seconds.map { .seconds(max(0, $0)) }, reason: "the webhook answered HTTP \(status)")
        case 300..<400:
            return .failed(reason: "the webhook answered HTTP \(status) (a redirect, not followed): configure the final URL")
        default:
            return .failed(reason: "the webhook answered HTTP \(status)")
        }
    }

    private struct Payload: Encodable {
        var version: Int
        var channel: String
        var idempotencyKey: String
        var sentAt: SyslogTimestamp
        var text: String
        var notice: AlertNotice
    }
}

/// HMAC-SHA256 from the system's libcrypto.
enum HMACSHA256 {
    static func mac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                _ = HMAC(
                    EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count,
                    &out, &length)
            }
        }
        return Array(out.prefix(Int(length)))
    }

    static func hex(key: [UInt8], message: [UInt8]) -> String {
        mac(key: key, message: message).map { String(format: "%02x", $0) }.joined()
    }
}
