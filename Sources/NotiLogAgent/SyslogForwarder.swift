import Foundation
import NotiLogCore
import NotiLogCurl

/// Plain syslog to any RFC 5424 receiver — rsyslog, syslog-ng, another NotiLog — for hosts that forward there
/// instead of to the acknowledged ingest.
///
/// * `syslog+tcp://HOST:PORT`: the batch's octet-counted frames (RFC 6587) over one kept-open connection. A batch
///   counts as sent once every byte is written to the socket: TCP gives no application acknowledgement, so a
///   receiver that dies with data in its buffers can lose it. Use the server's ingest for at-least-once.
/// * `syslog+tls://HOST:PORT`: the same frames over TLS (RFC 5425), through libcurl (`TLSConnection`). The
///   receiver's certificate and host name are always verified (against `ca_file` when given); a client
///   certificate is presented when configured. Sent means written, as for TCP.
/// * `syslog+udp://HOST:PORT`: one datagram per message (RFC 5426), best effort; messages over 64 KiB are cut.
///
/// Before writing a batch to a kept-open connection the forwarder checks that the receiver has not closed it
/// (an idle timeout, a restart), so the batch goes to a new connection instead of into a dead one. Any error
/// closes the connection; the next send opens a new one.
///
/// Blocking sockets, used from the delivery thread only.
public final class SyslogForwarder: Forwarder, @unchecked Sendable {
    public enum Transport: String, Sendable { case tcp, udp, tls }

    public let transport: Transport
    public let host: String
    public let port: Int
    public let timeout: Duration
    /// For `.tls`: the CA file and client certificate; the timeouts come from `timeout`.
    public let tls: TLSConnection.Options
    /// How long a new TLS connection is watched for a refusal before the first batch goes out (a TLS 1.3
    /// server refuses a client certificate after the handshake has completed on the client's side).
    public var tlsRefusalWait: Duration = .milliseconds(500)
    private var socketFD: Int32 = -1
    private var connection: TLSConnection?

    public init(
        transport: Transport, host: String, port: Int, timeout: Duration = .seconds(30), tls: TLSConnection.Options = TLSConnection.Options()
    ) {
        self.transport = transport
        self.host = host
        self.port = port
        self.timeout = timeout
        var options = tls
        options.connectTimeout = min(timeout, .seconds(10))
        options.writeTimeout = timeout
        self.tls = options
    }

    deinit { if socketFD >= 0 { close(socketFD) } }

    public var destination: String { "syslog+\(transport.rawValue)://\(host):\(port)" }

    public func send(_ segment: Spool.Segment) -> ForwardOutcome {
        do {
            switch transport {
            case .tls:
                try sendOverTLS(segment.payload)
            case .tcp:
                if socketFD >= 0, peerHasClosed() { closeSocket() }
                if socketFD < 0 { socketFD = try connectSocket() }
                try writeAll(segment.payload)
            case .udp:
                if socketFD < 0 { socketFD = try connectSocket() }
                try sendDatagrams(segment.payload)
            }
            return .acknowledged
        } catch {
            closeSocket()
            connection = nil
            return .retry("\(destination): \(error)")
        }
    }

    private func sendOverTLS(_ payload: [UInt8]) throws {
        if let open = connection, open.peerHasClosed() { connection = nil }
        let c: TLSConnection
        if let open = connection {
            c = open
        } else {
            c = try TLSConnection(host: host, port: port, options: tls)
            if c.closes(within: tlsRefusalWait) {
                throw ForwardError("\(c.peer) closed the connection right after the TLS handshake (does it refuse the client certificate?)")
            }
            connection = c
        }
        // A typed-throws closure through withUnsafeBytes crashes the 6.3 compiler; carry the error out instead.
        var failure: TLSConnectionError?
        payload.withUnsafeBytes { bytes in
            do throws(TLSConnectionError) { try c.write(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func closeSocket() {
        if socketFD >= 0 {
            close(socketFD)
            socketFD = -1
        }
    }

    /// Whether the receiver has closed the TCP connection (it has nothing to say, so any readable byte or EOF
    /// means it is going away or gone).
    private func peerHasClosed() -> Bool {
        var byte: UInt8 = 0
        let n = recv(socketFD, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        if n == 0 { return true }
        if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR }
        return false
    }

    private func connectSocket() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(transport == .tcp ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else { throw ForwardError("cannot resolve \(host): \(String(cString: gai_strerror(rc)))") }
        defer { freeaddrinfo(result) }
        var lastError = "no address"
        var info: UnsafeMutablePointer<addrinfo>? = first
        while let ai = info {
            defer { info = ai.pointee.ai_next }
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            if fd < 0 { continue }
            var tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
            lastError = String(cString: strerror(errno))
            close(fd)
        }
        throw ForwardError("cannot connect to \(host):\(port): \(lastError)")
    }

    private func writeAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = Glibc.send(socketFD, buffer.baseAddress! + written, buffer.count - written, Int32(MSG_NOSIGNAL))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ForwardError("write failed: \(String(cString: strerror(errno)))")
                }
                written += n
            }
        }
    }

    /// Each octet-counted frame of the payload as its own datagram.
    private func sendDatagrams(_ payload: [UInt8]) throws {
        try payload.withUnsafeBytes { bytes in
            var i = 0
            while i < bytes.count {
                var length = 0
                while i < bytes.count, bytes[i] != UInt8(ascii: " ") {
                    length = length * 10 + Int(bytes[i] - UInt8(ascii: "0"))
                    i += 1
                }
                i += 1
                let count = min(length, 65_000, bytes.count - i)
                if Glibc.send(socketFD, bytes.baseAddress! + i, count, 0) < 0, errno != ECONNREFUSED {
                    throw ForwardError("send failed: \(String(cString: strerror(errno)))")
                }
                i += length
            }
        }
    }
}

struct ForwardError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
