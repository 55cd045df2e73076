import CCurl
import Foundation

/// A client TLS connection that carries raw bytes (syslog over TLS, RFC 5425), made by libcurl: an
/// `https://HOST:PORT` URL with `CURLOPT_CONNECT_ONLY` does the TCP and TLS handshakes and stops there, then
/// `curl_easy_send` writes the bytes. The peer's certificate and host name are always verified.
///
/// Blocking; one thread at a time. Closing is dropping the value.
public final class TLSConnection {
    public struct Options: Sendable, Hashable {
        /// CA certificates (PEM) to verify the peer with, instead of the system's.
        public var caFile: String?
        /// A client certificate and its key (PEM), for receivers that ask for one.
        public var certificateFile: String?
        public var keyFile: String?
        /// Longest wait for the TCP and TLS handshakes.
        public var connectTimeout: Duration
        /// Longest wait for the peer to take more bytes.
        public var writeTimeout: Duration

        public init(
            caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, connectTimeout: Duration = .seconds(10),
            writeTimeout: Duration = .seconds(30)
        ) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.connectTimeout = connectTimeout
            self.writeTimeout = writeTimeout
        }
    }

    public let host: String
    public let port: Int
    public let options: Options
    private let handle: UnsafeMutableRawPointer
    private let socket: curl_socket_t
    /// libcurl writes its detailed messages here for as long as the handle lives.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// Connects and completes the TLS handshake, verifying the peer.
    public init(host: String, port: Int, options: Options = Options()) throws(TLSConnectionError) {
        self.host = host
        self.port = port
        self.options = options
        let origin = "\(host.contains(":") ? "[\(host)]" : host):\(port)"
        guard CurlLibrary.initialized, let handle = curl_easy_init() else {
            throw TLSConnectionError(.cannotConnect, "libcurl could not be initialised", peer: origin)
        }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var socket = CURL_SOCKET_BAD
        do throws(TLSConnectionError) {
            func set(_ code: CURLcode, _ what: String) throws(TLSConnectionError) {
                guard code == CURLE_OK else {
                    throw TLSConnectionError(.cannotConnect, "cannot set \(what): \(String(cString: curl_easy_strerror(code)))", peer: origin)
                }
            }
            try set(ccurl_setopt_ptr(handle, CURLOPT_ERRORBUFFER, errorBuffer), "the error buffer")
            try set(ccurl_setopt_str(handle, CURLOPT_URL, "https://\(origin)"), "the URL")
            try set(ccurl_setopt_str(handle, CURLOPT_PROTOCOLS_STR, "https"), "the protocols")
            try set(ccurl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1), "connect only")
            try set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "no signals")
            // Syslog does not go through HTTP proxies set in the environment.
            try set(ccurl_setopt_str(handle, CURLOPT_PROXY, ""), "no proxy")
            try set(ccurl_setopt_long(handle, CURLOPT_SSL_ENABLE_ALPN, 0), "no ALPN")
            try set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "peer verification")
            try set(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "host name verification")
            try set(ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1), "TCP keep-alive")
            try set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, HTTPClient.milliseconds(options.connectTimeout)), "the connect timeout")
            if let caFile = options.caFile { try set(ccurl_setopt_str(handle, CURLOPT_CAINFO, caFile), "the CA file") }
            if let file = options.certificateFile { try set(ccurl_setopt_str(handle, CURLOPT_SSLCERT, file), "the client certificate") }
            if let file = options.keyFile { try set(ccurl_setopt_str(handle, CURLOPT_SSLKEY, file), "the client key") }

            let result = curl_easy_perform(handle)
            guard result == CURLE_OK else {
                let code: TLSConnectionError.Code = result == CURLE_OPERATION_TIMEDOUT ? .timedOut : .cannotConnect
                throw TLSConnectionError(code, Self.message(result, errorBuffer), peer: origin)
            }
            guard ccurl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket != CURL_SOCKET_BAD else {
                throw TLSConnectionError(.cannotConnect, "libcurl gave no socket for the connection", peer: origin)
            }
        } catch {
            curl_easy_cleanup(handle)
            errorBuffer.deallocate()
            throw error
        }
        self.handle = handle
        self.errorBuffer = errorBuffer
        self.socket = socket
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    /// `HOST:PORT` for messages.
    public var peer: String { "\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    /// Writes every byte (or throws): waits while the peer is slow, up to `writeTimeout` without progress.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSConnectionError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            var sent = 0
            errorBuffer[0] = 0
            let result = curl_easy_send(handle, base + offset, bytes.count - offset, &sent)
            switch result {
            case CURLE_OK:
                offset += sent
            case CURLE_AGAIN:
                guard try wait(for: Int16(POLLOUT), timeout: options.writeTimeout) else {
                    throw TLSConnectionError(
                        .timedOut, "the peer took no bytes for \(options.writeTimeout) (\(offset) of \(bytes.count) written)", peer: peer)
                }
            default:
                throw TLSConnectionError(.broken, Self.message(result, errorBuffer), peer: peer)
            }
        }
    }

    /// Whether the peer has closed the connection (or broken it with a TLS alert), without waiting. Anything the
    /// peer sent is read and dropped: a syslog receiver has nothing to say.
    public func peerHasClosed() -> Bool {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        for _ in 0..<64 {
            var received = 0
            let result = withUnsafeMutableBytes(of: &buffer) { curl_easy_recv(handle, $0.baseAddress, $0.count, &received) }
            switch result {
            case CURLE_AGAIN: return false
            case CURLE_OK where received > 0: continue
            default: return true
            }
        }
        return false
    }

    /// Whether the peer closes the connection within `duration`: a TLS 1.3 server refuses a client certificate
    /// only after the client has finished its handshake, so a refusal shows here rather than in `init`.
    public func closes(within duration: Duration) -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + duration
        while true {
            if peerHasClosed() { return true }
            let left = deadline - clock.now
            if left <= .zero { return false }
            guard (try? wait(for: Int16(POLLIN), timeout: left)) == true else { return false }
        }
    }

    /// Waits until the socket is ready for `events`; false when `timeout` passed first.
    private func wait(for events: Int16, timeout: Duration) throws(TLSConnectionError) -> Bool {
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        while true {
            let n = poll(&descriptor, 1, Int32(clamping: max(1, HTTPClient.milliseconds(timeout))))
            if n > 0 { return true }
            if n == 0 { return false }
            if errno != EINTR { throw TLSConnectionError(.broken, "poll failed: \(String(cString: strerror(errno)))", peer: peer) }
        }
    }

    private static func message(_ result: CURLcode, _ errorBuffer: UnsafeMutablePointer<CChar>) -> String {
        let detail = String(cString: errorBuffer)
        return detail.isEmpty ? String(cString: curl_easy_strerror(result)) : detail
    }
}

/// A TLS connection that could not be made or broke.
public struct TLSConnectionError: Error, CustomStringConvertible {
    public enum Code: Sendable, Equatable {
        /// No connection: refused, unknown host, the handshake or the certificate check failed.
        case cannotConnect
        case timedOut
        /// The connection broke while writing.
        case broken
    }

    public var code: Code
    /// libcurl's own words, e.g. "SSL certificate problem: self-signed certificate".
    public var message: String
    /// `HOST:PORT`.
    public var peer: String

    init(_ code: Code, _ message: String, peer: String) {
        self.code = code
        self.message = message
        self.peer = peer
    }

    public var description: String {
        switch code {
        case .cannotConnect: "cannot connect to \(peer) over TLS: \(message)"
        case .timedOut: "TLS connection to \(peer) timed out: \(message)"
        case .broken: "TLS connection to \(peer) failed: \(message)"
        }
    }
}
