import Foundation
import NotiLogCore

/// Plain syslog to any RFC 5424 receiver — rsyslog, syslog-ng, another NotiLog — for hosts that forward there
/// instead of to the acknowledged ingest.
///
/// * `syslog+tcp://HOST:PORT`: the batch's octet-counted frames (RFC 6587) over one kept-open connection. A batch
///   counts as sent once every byte is written to the socket: TCP gives no application acknowledgement, so a
///   receiver that dies with data in its buffers can lose it. Use the server's ingest for at-least-once.
/// * `syslog+udp://HOST:PORT`: one datagram per message (RFC 5426), best effort; messages over 64 KiB are cut.
///
/// Blocking sockets, used from the delivery thread only.
public final class SyslogForwarder: Forwarder, @unchecked Sendable {
    public enum Transport: String, Sendable { case tcp, udp }

    public let transport: Transport
    public let host: String
    public let port: Int
    public let timeout: Duration
    private var socketFD: Int32 = -1

    public init(transport: Transport, host: String, port: Int, timeout: Duration = .seconds(30)) {
        self.transport = transport
        self.host = host
        self.port = port
        self.timeout = timeout
    }

    deinit { if socketFD >= 0 { close(socketFD) } }

    public var destination: String { "syslog+\(transport.rawValue)://\(host):\(port)" }

    public func send(_ segment: Spool.Segment) -> ForwardOutcome {
        do {
            if socketFD < 0 { socketFD = try connectSocket() }
            switch transport {
            case .tcp: try writeAll(segment.payload)
            case .udp: try sendDatagrams(segment.payload)
            }
            return .acknowledged
        } catch {
            if socketFD >= 0 {
                close(socketFD)
                socketFD = -1
            }
            return .retry("\(destination): \(error)")
        }
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
