import Foundation
import NotiLogTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A minimal WebSocket client (RFC 6455) over a plain socket, for the live tail's tests: it sends the handshake
/// as written (any headers, any `Origin`), reads frames only when asked — so a test can be a client that does not
/// read — and reassembles fragmented text messages. Blocking: call it through `Peers.offThread`.
final class WebSocketTestClient: @unchecked Sendable {
    /// The handshake's answer: its status, head and (when refused) body.
    struct Handshake {
        var status: Int
        var head: String
        var body: String
    }

    /// What `next` read: a text message, or the server's close (its code and reason).
    enum Message: Equatable {
        case text(String)
        case close(code: Int?, reason: String)
        case timeout
    }

    let socket: TestSocket
    private var buffer: [UInt8] = []
    /// The fragments read so far of a text message whose last fragment has not come (kept across time-outs).
    private var partial: [UInt8] = []
    private(set) var closed = false

    private init(socket: TestSocket) {
        self.socket = socket
    }

    /// Connects and sends the upgrade request for `path`; returns the client when the server switched protocols.
    /// `receiveBuffer` sets `SO_RCVBUF` before connecting (a small one makes a client that does not read fill up
    /// soon).
    static func connect(
        port: Int, path: String, headers: [(String, String)] = [], receiveBuffer: Int32? = nil
    ) throws -> (Handshake, WebSocketTestClient?) {
        let socket = try TestSocket(tcpPort: port, receiveBuffer: receiveBuffer)
        let client = WebSocketTestClient(socket: socket)
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        try socket.send(request)
        // The head, up to the empty line.
        let deadline = Date().addingTimeInterval(20)
        while client.buffer.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
            guard Date() < deadline, client.fill(until: deadline) else { break }
        }
        guard let end = client.buffer.firstRange(of: Array("\r\n\r\n".utf8)) else {
            throw PeerError("no handshake answer for \(path): \(String(decoding: client.buffer.prefix(300), as: UTF8.self))")
        }
        let head = String(decoding: client.buffer[..<end.lowerBound], as: UTF8.self)
        client.buffer.removeFirst(end.upperBound)
        let status = head.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        guard status == 101 else {
            // A refusal: read what body comes until the server closes (it does for refused upgrades).
            let bodyDeadline = Date().addingTimeInterval(5)
            while client.fill(until: bodyDeadline) {}
            return (Handshake(status: status, head: head, body: String(decoding: client.buffer, as: UTF8.self)), nil)
        }
        guard head.lowercased().contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=") else {
            throw PeerError("a 101 without the expected Sec-WebSocket-Accept: \(head)")
        }
        return (Handshake(status: status, head: head, body: ""), client)
    }

    /// Reads more bytes into the buffer; false on EOF, error or the deadline.
    private func fill(until deadline: Date) -> Bool {
        var pfd = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return false }
            let ready = poll(&pfd, 1, Int32(min(left, 1) * 1000))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let n = recv(socket.fd, &chunk, chunk.count, 0)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            buffer += chunk[..<n]
            return true
        }
    }

    /// One frame from the buffer (reading as needed): FIN, opcode, payload. Nil at EOF or the deadline.
    private func frame(until deadline: Date) -> (fin: Bool, opcode: UInt8, payload: [UInt8])? {
        while true {
            if buffer.count >= 2 {
                let fin = buffer[0] & 0x80 != 0
                let opcode = buffer[0] & 0x0F
                let masked = buffer[1] & 0x80 != 0
                var length = Int(buffer[1] & 0x7F)
                var offset = 2
                var complete = true
                if length == 126 {
                    if buffer.count >= 4 { length = Int(buffer[2]) << 8 | Int(buffer[3]) } else { complete = false }
                    offset = 4
                } else if length == 127 {
                    if buffer.count >= 10 {
                        length = buffer[2..<10].reduce(0) { $0 << 8 | Int($1) }
                    } else {
                        complete = false
                    }
                    offset = 10
                }
                if masked { offset += 4 }
                if complete && buffer.count >= offset + length {
                    var payload = Array(buffer[offset..<(offset + length)])
                    if masked {
                        let key = Array(buffer[(offset - 4)..<offset])
                        for k in payload.indices { payload[k] ^= key[k % 4] }
                    }
                    buffer.removeFirst(offset + length)
                    return (fin, opcode, payload)
                }
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    /// The next text message (answering pings on the way), the server's close, or `.timeout`.
    func next(seconds: Double = 20) throws -> Message {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            guard let f = frame(until: deadline) else {
                if Date() >= deadline { return .timeout }
                closed = true
                return .close(code: nil, reason: "connection closed without a close frame")
            }
            switch f.opcode {
            case 0x1, 0x0:
                partial += f.payload
                if f.fin {
                    defer { partial.removeAll() }
                    return .text(String(decoding: partial, as: UTF8.self))
                }
            case 0x8:
                closed = true
                let code = f.payload.count >= 2 ? Int(f.payload[0]) << 8 | Int(f.payload[1]) : nil
                let reason = f.payload.count > 2 ? String(decoding: f.payload[2...], as: UTF8.self) : ""
                try? send(opcode: 0x8, f.payload.prefix(2).map { $0 })
                return .close(code: code, reason: reason)
            case 0x9:
                try send(opcode: 0xA, f.payload)
            default:
                continue
            }
        }
    }

    /// The next message as a JSON object (nil for a close or a time-out).
    func nextJSON(seconds: Double = 20) throws -> [String: Any]? {
        guard case .text(let text) = try next(seconds: seconds) else { return nil }
        return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    /// Sets the socket's receive buffer (the window it offers grows with it as the client reads).
    func setReceiveBuffer(_ bytes: Int32) {
        var size = bytes
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    /// A masked frame, as a client must send.
    func send(opcode: UInt8, _ payload: [UInt8]) throws {
        var frame: [UInt8] = [0x80 | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else {
            frame.append(0x80 | 126)
            frame += [UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        }
        let key: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += key
        for (k, b) in payload.enumerated() { frame.append(b ^ key[k % 4]) }
        try socket.send(frame)
    }

    /// Sends a close frame (1000) and waits briefly for the server's.
    func close() {
        guard !closed else { return }
        try? send(opcode: 0x8, [0x03, 0xE8])
        let deadline = Date().addingTimeInterval(2)
        while let f = frame(until: deadline), f.opcode != 0x8 {}
        closed = true
    }
}

extension TestSocket {
    /// A TCP connection to 127.0.0.1, its receive buffer set first (the window it offers follows from it).
    convenience init(tcpPort port: Int, receiveBuffer: Int32?) throws {
        guard let receiveBuffer else {
            try self.init(tcpPort: port)
            return
        }
        try self.init(tcpPort: port, configure: { fd in
            var size = receiveBuffer
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        })
    }
}
