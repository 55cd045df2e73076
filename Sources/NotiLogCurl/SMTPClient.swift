import CCurl

/// A blocking SMTP client over libcurl: one message per call, on the caller's thread.
///
/// `smtp://host[:port]` speaks plain SMTP, upgraded with STARTTLS as `tls` says; `smtps://host[:port]` speaks TLS
/// from the first byte (`tls` is then irrelevant). A path in the URL (`smtp://host:587/notilog.example.org`) is
/// the name libcurl says in EHLO. libcurl picks the AUTH mechanism the server offers, dot-stuffs the data and ends
/// it. Each call uses its own easy handle (connect, send, QUIT), so a value is `Sendable` without locks.
public struct SMTPClient: Sendable {
    /// What to do about STARTTLS on an `smtp://` URL.
    public enum TLSMode: String, Sendable, Hashable {
        /// Never upgrade: the whole exchange, AUTH included, is in clear text.
        case off
        /// Upgrade when the server offers STARTTLS, else go on in clear text.
        case opportunistic
        /// Upgrade or fail before anything else is said (`CURLUSESSL_ALL`).
        case required
    }

    public var url: String
    public var tls: TLSMode
    public var username: String?
    public var password: String?
    /// PEM file with the CA certificates to trust instead of the system's.
    public var caFile: String?
    /// False skips certificate and host name checks: for tests against a throwaway certificate only.
    public var verifyPeer = true
    public var connectTimeout: Duration = .seconds(10)
    /// Longest time for the whole exchange, connection included.
    public var timeout: Duration = .seconds(60)

    public init(url: String, tls: TLSMode = .required, username: String? = nil, password: String? = nil) {
        self.url = url
        self.tls = tls
        self.username = username
        self.password = password
    }

    /// Sends one message and returns the server's answer to it; throws when the server did not take it.
    public func send(_ message: SMTPMessage) throws(SMTPClientError) -> SMTPReceipt {
        guard CurlLibrary.initialized else {
            throw SMTPClientError(.invalidRequest, "libcurl could not be initialised", url: url)
        }
        guard message.from.isEnvelopeSafe, !message.recipients.isEmpty, message.recipients.allSatisfy(\.isEnvelopeSafe) else {
            throw SMTPClientError(.invalidRequest, "an envelope address is empty or contains a line break, space or angle bracket", url: url)
        }
        guard let handle = curl_easy_init() else {
            throw SMTPClientError(.invalidRequest, "libcurl could not create a handle", url: url)
        }
        defer { curl_easy_cleanup(handle) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var recipientList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(recipientList) }
        let exchange = MailExchange(data: message.data)

        func set(_ code: CURLcode, _ what: String) throws(SMTPClientError) {
            guard code == CURLE_OK else {
                throw SMTPClientError(.invalidRequest, "cannot set \(what): \(String(cString: curl_easy_strerror(code)))", url: url)
            }
        }

        try set(ccurl_setopt_str(handle, CURLOPT_URL, url), "the URL")
        try set(ccurl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "smtp,smtps"), "the protocols")
        try set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "no signals")
        try set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, HTTPClient.milliseconds(connectTimeout)), "the connect timeout")
        try set(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, HTTPClient.milliseconds(timeout)), "the timeout")
        try set(ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer), "the error buffer")
        let useSSL: curl_usessl =
            switch tls {
            case .off: CURLUSESSL_NONE
            case .opportunistic: CURLUSESSL_TRY
            case .required: CURLUSESSL_ALL
            }
        try set(ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(useSSL.rawValue)), "STARTTLS")
        if let caFile { try set(ccurl_setopt_str(handle, CURLOPT_CAINFO, caFile), "the CA file") }
        if !verifyPeer {
            try set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0), "no peer verification")
            try set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0), "no host verification")
        }
        if let username { try set(ccurl_setopt_str(handle, CURLOPT_USERNAME, username), "the user name") }
        if let password { try set(ccurl_setopt_str(handle, CURLOPT_PASSWORD, password), "the password") }

        try set(ccurl_setopt_str(handle, CURLOPT_MAIL_FROM, "<\(message.from)>"), "the sender")
        for recipient in message.recipients {
            guard let appended = curl_slist_append(recipientList, "<\(recipient)>") else {
                throw SMTPClientError(.invalidRequest, "cannot add recipient \(recipient)", url: url)
            }
            recipientList = appended
        }
        try set(ccurl_setopt_ptr(handle, CURLOPT_MAIL_RCPT, recipientList), "the recipients")

        let context = Unmanaged.passUnretained(exchange).toOpaque()
        try set(ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1), "upload")
        try set(ccurl_setopt_off(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.data.count)), "the message size")
        try set(ccurl_setopt_data_callback(handle, CURLOPT_READFUNCTION, MailExchange.readData), "the read callback")
        try set(ccurl_setopt_ptr(handle, CURLOPT_READDATA, context), "the read context")
        // libcurl hands every server reply line to the header callback (the "headers" of a pingpong protocol).
        try set(ccurl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, MailExchange.receiveReply), "the reply callback")
        try set(ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, context), "the reply context")

        let result = withExtendedLifetime(exchange) { curl_easy_perform(handle) }
        var lastCode = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &lastCode)
        guard result == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
            // The reply that refused is the last one, unless libcurl said QUIT after it (221 then comes last, and
            // CURLINFO_RESPONSE_CODE reports that).
            let refusal = exchange.replies.last { $0.code != 221 }.flatMap { $0.code >= 400 ? $0 : nil }
            throw SMTPClientError(
                Self.code(for: result, replyCode: refusal?.code), message, url: url, replyCode: refusal?.code ?? (lastCode >= 400 ? lastCode : nil),
                reply: refusal?.text, curlCode: Int(result.rawValue))
        }
        let accepted = exchange.replies.last { $0.code == 250 }
        return SMTPReceipt(code: accepted?.code ?? lastCode, reply: accepted?.text ?? "")
    }

    static func code(for result: CURLcode, replyCode: Int?) -> SMTPClientError.Code {
        if let replyCode {
            if result == CURLE_LOGIN_DENIED { return replyCode >= 500 ? .authentication : .rejectedTemporarily }
            if result == CURLE_USE_SSL_FAILED, replyCode >= 500 { return .tlsUnavailable }
            return replyCode >= 500 ? .rejected : .rejectedTemporarily
        }
        switch result {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .cannotConnect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM:
            return .tls
        case CURLE_USE_SSL_FAILED: return .tlsUnavailable
        case CURLE_LOGIN_DENIED: return .authentication
        case CURLE_OPERATION_TIMEDOUT: return .timedOut
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_NOT_BUILT_IN: return .invalidRequest
        default: return .transfer
        }
    }
}

extension SMTPClient: CustomStringConvertible {
    /// The server and settings, never the password.
    public var description: String {
        "SMTPClient(\(HTTPClient.origin(url)), starttls: \(tls.rawValue)\(username.map { ", user: \($0)" } ?? "")\(caFile.map { ", ca_file: \($0)" } ?? "")\(verifyPeer ? "" : ", verify: off"))"
    }
}

/// The envelope and the bytes of one message.
public struct SMTPMessage: Sendable, Hashable {
    /// The envelope sender, an addr-spec without angle brackets (`alerts@example.org`).
    public var from: String
    /// Every envelope recipient (To, Cc and Bcc together), addr-specs without angle brackets.
    public var recipients: [String]
    /// The RFC 5322 message (header, blank line, body) with CRLF line ends, each line at most 998 bytes.
    public var data: [UInt8]

    public init(from: String, recipients: [String], data: [UInt8]) {
        self.from = from
        self.recipients = recipients
        self.data = data
    }
}

/// The server's acceptance of a message.
public struct SMTPReceipt: Sendable, Hashable {
    /// 250.
    public var code: Int
    /// The reply to the end of the data, e.g. `250 2.0.0 OK: queued as 4F2A1`.
    public var reply: String
}

/// A message the server did not take, or could not be sent to it.
public struct SMTPClientError: Error, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No connection: refused, unknown host.
        case cannotConnect
        /// The TLS handshake failed (certificate not trusted, wrong host name, no common protocol).
        case tls
        /// STARTTLS is required but the server did not offer it or refused it.
        case tlsUnavailable
        /// The server refused the credentials.
        case authentication
        /// A 5xx reply to MAIL, RCPT or the data: the server will not take this message as it is.
        case rejected
        /// A 4xx reply: try again later.
        case rejectedTemporarily
        case timedOut
        /// The connection broke during the exchange.
        case transfer
        /// The message could not be sent as given (bad URL or address).
        case invalidRequest
    }

    public var code: Code
    /// libcurl's own words, e.g. "RCPT failed: 550".
    public var message: String
    public var url: String
    /// The server's reply code that ended the exchange, when it was one.
    public var replyCode: Int?
    /// That reply's text, e.g. `550 5.1.1 <x@example.org>: Recipient address rejected`.
    public var reply: String?
    public var curlCode: Int?

    init(_ code: Code, _ message: String, url: String, replyCode: Int? = nil, reply: String? = nil, curlCode: Int? = nil) {
        self.code = code
        self.message = message
        self.url = url
        self.replyCode = replyCode
        self.reply = reply
        self.curlCode = curlCode
    }

    /// True when sending the same message again cannot succeed until something changes: a 5xx reply, refused
    /// credentials, STARTTLS missing where it is required, or a request libcurl cannot make. Connection, TLS
    /// handshake and timeout failures and 4xx replies are temporary.
    public var isPermanent: Bool {
        switch code {
        case .rejected, .authentication, .tlsUnavailable, .invalidRequest: true
        case .cannotConnect, .tls, .rejectedTemporarily, .timedOut, .transfer: false
        }
    }

    public var description: String {
        let origin = HTTPClient.origin(url)
        let said = reply.map { ": server said \"\($0)\"" } ?? ""
        switch code {
        case .cannotConnect: return "cannot connect to \(origin): \(message)"
        case .tls: return "TLS with \(origin) failed: \(message)"
        case .tlsUnavailable: return "\(origin) does not offer STARTTLS, which is required: \(message)\(said)"
        case .authentication: return "\(origin) refused the credentials: \(message)\(said)"
        case .rejected: return "\(origin) rejected the message: \(message)\(said)"
        case .rejectedTemporarily: return "\(origin) deferred the message: \(message)\(said)"
        case .timedOut: return "SMTP exchange with \(origin) timed out: \(message)"
        case .transfer: return "SMTP exchange with \(origin) failed: \(message)\(said)"
        case .invalidRequest: return message
        }
    }
}

extension String {
    /// Safe between angle brackets in MAIL FROM / RCPT TO: not empty, no controls, spaces or brackets.
    fileprivate var isEnvelopeSafe: Bool {
        !isEmpty && !unicodeScalars.contains { $0.value < 0x21 || $0 == "<" || $0 == ">" || $0.value == 0x7F }
    }
}

/// The data a transfer reads from and the replies it collects; passed to the callbacks as an unretained pointer.
private final class MailExchange {
    let data: [UInt8]
    var offset = 0
    var replies: [(code: Int, text: String)] = []

    init(data: [UInt8]) {
        self.data = data
    }

    static let readData: ccurl_data_callback = { buffer, size, count, context in
        guard let context, let buffer else { return 0 }
        let exchange = Unmanaged<MailExchange>.fromOpaque(context).takeUnretainedValue()
        let n = min(size * count, exchange.data.count - exchange.offset)
        guard n > 0 else { return 0 }
        exchange.data.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + exchange.offset, byteCount: n)
        }
        exchange.offset += n
        return n
    }

    /// One reply line (`250-PIPELINING`, `550 5.1.1 ...`); a multi-line reply's last line carries a space after
    /// the code, and only those lines are kept.
    static let receiveReply: ccurl_data_callback = { data, size, count, context in
        guard let context else { return 0 }
        let exchange = Unmanaged<MailExchange>.fromOpaque(context).takeUnretainedValue()
        let n = size * count
        guard let data, n > 0 else { return n }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
            .trimmingSuffix { $0 == "\r" || $0 == "\n" }
        let bytes = Array(line.utf8)
        if bytes.count >= 3, bytes[0..<3].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), bytes.count == 3 || bytes[3] == 0x20,
            let code = Int(String(decoding: bytes[0..<3], as: UTF8.self))
        {
            exchange.replies.append((code, line))
        }
        return n
    }
}

extension String {
    fileprivate func trimmingSuffix(while predicate: (Character) -> Bool) -> String {
        var s = Substring(self)
        while let last = s.last, predicate(last) { s = s.dropLast() }
        return String(s)
    }
}
