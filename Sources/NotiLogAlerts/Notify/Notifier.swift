import NotiLogCore
import NotiLogCurl

/// Sends a notice to one configured channel (Telegram, email, webhook).
///
/// `send` blocks for the length of one request: it runs on a delivery worker's thread, never on a cooperative
/// one. It never throws: whatever happens is a `DeliveryOutcome`, which tells the worker whether to try again.
/// A notifier sends each call at once; pacing (`pacing`), retries with backoff and the fallback channel are the
/// delivery worker's job.
public protocol Notifier: Sendable {
    /// The channel's configured name.
    var channel: String { get }
    /// The shortest spacing between two messages to the same destination, when the service sets one.
    var pacing: NotifierPacing? { get }
    /// Sends one notice. `idempotencyKey` identifies (alert, channel, state): a retried send carries the same key,
    /// and the channels that can say so tell the receiver (webhook header, mail headers and Message-ID).
    func send(_ notice: AlertNotice, idempotencyKey: String) -> DeliveryOutcome
}

extension Notifier {
    public var pacing: NotifierPacing? { nil }
}

/// How a send ended.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The service took the message; `detail` says what it answered (`message_id 42`, `250 2.0.0 queued as X`).
    case delivered(detail: String)
    /// Not taken this time; try again, not before `after` when the service said so (Telegram's `retry_after`,
    /// HTTP `Retry-After`).
    case retry(after: Duration?, reason: String)
    /// Sending the same message again cannot succeed (wrong token or chat, rejected recipient, 4xx from a webhook).
    case failed(reason: String)

    public var isDelivered: Bool {
        if case .delivered = self { return true }
        return false
    }
}

/// At most one message per `minimumInterval` to the destination `key` (several channels may share one).
public struct NotifierPacing: Sendable, Hashable {
    /// Names the destination, e.g. `telegram:-1001234567890` (no secrets).
    public var key: String
    public var minimumInterval: Duration

    public init(key: String, minimumInterval: Duration) {
        self.key = key
        self.minimumInterval = minimumInterval
    }
}

/// Builds the notifiers for the configured channels.
public enum Notifiers {
    /// One notifier per channel, keyed by the channel's name. Checks the channels first (`validate`) and reads the
    /// password and secret files. `clock` gives the time written into messages (Date header, `sent_at`, how long
    /// an alert has been firing).
    public static func make(
        from channels: [String: ChannelConfig], http: HTTPClient = HTTPClient(),
        clock: @escaping @Sendable () -> SyslogTimestamp = { SyslogTimestamp.now() }
    ) throws(ChannelConfigError) -> [String: any Notifier] {
        try validate(channels)
        var notifiers: [String: any Notifier] = [:]
        for (name, config) in channels.sorted(by: { $0.key < $1.key }) {
            switch config.kind {
            case .telegram(let settings):
                notifiers[name] = TelegramNotifier(channel: name, settings: settings, http: http, clock: clock)
            case .email(let settings):
                let password = try settings.password?.resolve(channel: name, key: "password")
                notifiers[name] = EmailNotifier(channel: name, settings: settings, password: password, clock: clock)
            case .webhook(let settings):
                let secret = try settings.secret?.resolve(channel: name, key: "secret")
                notifiers[name] = WebhookNotifier(channel: name, settings: settings, secret: secret, http: http, clock: clock)
            }
        }
        return notifiers
    }

    /// Checks what a single channel's decoding cannot: names, fallbacks that exist and do not loop, and that the
    /// files a channel names can be read. What `notilog-server validate` runs.
    public static func validate(_ channels: [String: ChannelConfig]) throws(ChannelConfigError) {
        for (name, config) in channels.sorted(by: { $0.key < $1.key }) {
            guard ChannelConfig.isValidName(name) else {
                throw ChannelConfigError(
                    channel: name, key: nil, "a channel name is 1 to 64 letters, digits, '_', '-' or '.'")
            }
            if let fallback = config.fallback {
                guard fallback != name else {
                    throw ChannelConfigError(channel: name, key: "fallback", "a channel cannot be its own fallback")
                }
                guard channels[fallback] != nil else {
                    throw ChannelConfigError(
                        channel: name, key: "fallback",
                        "no channel named \"\(fallback)\" (channels: \(channels.keys.sorted().joined(separator: ", ")))")
                }
                // Follow the chain: a loop would pass a failing notice round for ever.
                var seen: Set<String> = [name]
                var next: String? = fallback
                while let current = next {
                    guard seen.insert(current).inserted else {
                        throw ChannelConfigError(
                            channel: name, key: "fallback", "the fallback chain comes back to \"\(current)\"")
                    }
                    next = channels[current]?.fallback
                }
            }
            try config.checkFiles(channel: name)
        }
    }
}

extension HTTPClient {
    /// The client as an HTTP channel uses it: the channel's timeout for the whole request (and at most that to
    /// connect), and small answers only (a service's reply to one message, 1 MiB at most).
    func forChannel(timeout: Duration) -> HTTPClient {
        var http = self
        http.timeout = timeout
        http.connectTimeout = min(http.connectTimeout, timeout)
        http.maxResponseBytes = 1 << 20
        return http
    }
}
