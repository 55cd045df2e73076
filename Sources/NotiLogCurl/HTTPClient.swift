import CCurl
import Foundation

/// A blocking HTTP client over libcurl, for callers that may block a thread for the length of one request
/// (a command line tool, a delivery worker's thread).
///
/// Each request uses its own easy handle, so a value is `Sendable` without locks. Redirects are not followed (an
/// `Authorization` header must not travel to another host) and only http and https URLs are fetched. Proxies set
/// in the environment (`http_proxy`, `no_proxy`) apply, as in other command line tools.
/// Nothing here knows about NotiLog, so the type can move to a shared target when the notifiers need it.
public struct HTTPClient: Sendable {
    /// Longest wait for the connection (TCP and TLS handshakes).
    public var connectTimeout: Duration = .seconds(10)
    /// Longest time for the whole request, connection included.
    public var timeout: Duration = .seconds(60)
    public var userAgent = "notilog"
    /// Larger response bodies end the transfer with `.responseTooLarge`.
    public var maxResponseBytes = 512 << 20

    /// CA certificates to verify the server with (PEM), instead of the system's; and a client certificate and
    /// key (PEM) for servers that ask for one.
    public var caFile: String?
    public var clientCertificateFile: String?
    public var clientKeyFile: String?

    public init() {}

    /// Sends `request` and returns the response whatever its status; throws only when no response arrived.
    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        guard CurlLibrary.initialized else {
            throw HTTPClientError(.invalidRequest, "libcurl could not be initialised", url: request.url)
        }
        guard let handle = curl_easy_init() else {
            throw HTTPClientError(.invalidRequest, "libcurl could not create a handle", url: request.url)
        }
        defer { curl_easy_cleanup(handle) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        let transfer = Transfer(limit: maxResponseBytes)

        func set(_ code: CURLcode, _ what: String) throws(HTTPClientError) {
            guard code == CURLE_OK else {
                throw HTTPClientError(.invalidRequest, "cannot set \(what): \(String(cString: curl_easy_strerror(code)))", url: request.url)
            }
        }

        try set(ccurl_setopt_str(handle, CURLOPT_URL, request.url), "the URL")
        try set(ccurl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "http,https"), "the protocols")
        try set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "no signals")
        try set(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "no redirects")
        try set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(connectTimeout)), "the connect timeout")
        try set(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(timeout)), "the timeout")
        try set(ccurl_setopt_str(handle, CURLOPT_USERAGENT, userAgent), "the user agent")
        if let caFile { try set(ccurl_setopt_str(handle, CURLOPT_CAINFO, caFile), "the CA file") }
        if let clientCertificateFile { try set(ccurl_setopt_str(handle, CURLOPT_SSLCERT, clientCertificateFile), "the client certificate") }
        if let clientKeyFile { try set(ccurl_setopt_str(handle, CURLOPT_SSLKEY, clientKeyFile), "the client key") }
        try set(ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer), "the error buffer")

        switch request.method {
        case .get: try set(ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1), "GET")
        case .post: try set(ccurl_setopt_long(handle, CURLOPT_POST, 1), "POST")
        case .put, .patch, .delete: try set(ccurl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, request.method.rawValue), "the method")
        }
        if let body = request.body {
            try set(ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "the body size")
            // COPYPOSTFIELDS copies the bytes now, so the array need not outlive this call.
            var bytes = body
            let copied = bytes.withUnsafeMutableBytes { ccurl_setopt_ptr(handle, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
            try set(copied, "the body")
        } else if request.method == .post {
            try set(ccurl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0), "the body size")
        }

        // "Expect:" stops libcurl from waiting for a 100 Continue before sending a larger body.
        for (name, value) in request.headers + [("Expect", "")] {
            guard !(name + value).contains(where: { $0.isNewline }) else {
                throw HTTPClientError(.invalidRequest, "header \(name) contains a line break", url: request.url)
            }
            let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
            guard let appended = curl_slist_append(headerList, line) else {
                throw HTTPClientError(.invalidRequest, "cannot add header \(name)", url: request.url)
            }
            headerList = appended
        }
        try set(ccurl_setopt_ptr(handle, CURLOPT_HTTPHEADER, headerList), "the headers")

        let context = Unmanaged.passUnretained(transfer).toOpaque()
        try set(ccurl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, Transfer.receiveBody), "the body callback")
        try set(ccurl_setopt_ptr(handle, CURLOPT_WRITEDATA, context), "the body context")
        try set(ccurl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, Transfer.receiveHeader), "the header callback")
        try set(ccurl_setopt_ptr(handle, CURLOPT_HEADERDATA, context), "the header context")

        let result = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        guard result == CURLE_OK else {
            let detail = String(cString: errorBuffer)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
            if transfer.exceededLimit {
                throw HTTPClientError(.responseTooLarge, "response from \(Self.origin(request.url)) is larger than \(maxResponseBytes) bytes", url: request.url)
            }
            throw HTTPClientError(Self.code(for: result), message, url: request.url, curlCode: Int(result.rawValue))
        }
        var status = 0
        _ = ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: transfer.headers, body: transfer.body)
    }

    static func code(for result: CURLcode) -> HTTPClientError.Code {
        switch result {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_SSL_CONNECT_ERROR,
            CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            .cannotConnect
        case CURLE_OPERATION_TIMEDOUT: .timedOut
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: .invalidRequest
        default: .transfer
        }
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    /// `scheme://host:port` of a URL, for messages (no path, query or credentials).
    public static func origin(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        var authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return String(url[..<schemeEnd.upperBound]) + authority
    }
}

/// One HTTP request.
public struct HTTPRequest: Sendable {
    public enum Method: String, Sendable {
        case get = "GET", post = "POST", put = "PUT", patch = "PATCH", delete = "DELETE"
    }

    public var method: Method
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(_ method: Method, _ url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// The status, headers and body of a response.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// In the order received; names as the server wrote them.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
}

/// A request that got no response.
public struct HTTPClientError: Error, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No connection: refused, unknown host, TLS handshake failed.
        case cannotConnect
        case timedOut
        case responseTooLarge
        /// The request could not be made as given (bad URL, header with a line break).
        case invalidRequest
        /// The connection broke during the exchange.
        case transfer
    }

    public var code: Code
    /// libcurl's own words, e.g. "Failed to connect to 127.0.0.1 port 8514 after 0 ms: Couldn't connect to server".
    public var message: String
    public var url: String
    public var curlCode: Int?

    init(_ code: Code, _ message: String, url: String, curlCode: Int? = nil) {
        self.code = code
        self.message = message
        self.url = url
        self.curlCode = curlCode
    }

    public var description: String {
        let origin = HTTPClient.origin(url)
        switch code {
        case .cannotConnect: return "cannot connect to \(origin): \(message)"
        case .timedOut: return "request to \(origin) timed out: \(message)"
        case .responseTooLarge, .invalidRequest: return message
        case .transfer: return "request to \(origin) failed: \(message)"
        }
    }
}

/// `curl_global_init` once per process, before the first handle (it is not thread-safe, a `static let` is).
enum CurlLibrary {
    static let initialized: Bool = curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
}

/// What the callbacks of one transfer collect; passed to them as an unretained pointer.
private final class Transfer {
    let limit: Int
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var exceededLimit = false

    init(limit: Int) {
        self.limit = limit
    }

    static let receiveBody: ccurl_data_callback = { data, size, count, context in
        guard let context else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
        let n = size * count
        guard let data, n > 0 else { return n }
        guard transfer.body.count + n <= transfer.limit else {
            transfer.exceededLimit = true
            return 0
        }
        transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: n))
        return n
    }

    /// Called once per header line, status lines included; a new status line (after a 1xx) starts over.
    static let receiveHeader: ccurl_data_callback = { data, size, count, context in
        guard let context else { return 0 }
        let transfer = Unmanaged<Transfer>.fromOpaque(context).takeUnretainedValue()
        let n = size * count
        guard let data, n > 0 else { return n }
        let line = String(decoding: UnsafeRawBufferPointer(start: data, count: n), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            transfer.headers.removeAll()
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
            transfer.headers.append((name, value))
        }
        return n
    }
}
