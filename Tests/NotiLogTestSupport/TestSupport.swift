import Foundation
import NotiLogCore
import NotiLogStore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A temporary directory, removed when the value is released.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "notilog-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// SplitMix64: a seeded generator so a failing property run can be replayed.
public struct SeededGenerator: RandomNumberGenerator {
    public var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A real SQLite store behind a gate: inserts wait while the gate is closed, or fail a given number of times.
/// It stands for a slow or failing disk; the records still go to SQLite.
public final class GatedStore: LogStore {
    public let inner: SQLiteLogStore
    private let gate = Mutex<(open: Bool, failuresLeft: Int, inserts: Int)>((true, 0, 0))

    public init(_ inner: SQLiteLogStore) {
        self.inner = inner
    }

    public func close() { gate.withLock { $0.open = false } }
    public func open() { gate.withLock { $0.open = true } }
    public func fail(times: Int) { gate.withLock { $0.failuresLeft = times } }

    /// Waits until the store holds `count` records (at most `seconds`) and returns how many it holds.
    public func waitForCount(_ count: Int, seconds: Double = 30) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let n = try await inner.count()
            if n >= count || Date() > deadline { return n }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func insert(_ batch: [LogRecord], marks: [IngestMark]) async throws(StoreError) -> ClosedRange<Int64>? {
        while !gate.withLock({ $0.open }) { try? await Task.sleep(for: .milliseconds(5)) }
        let fail = gate.withLock { g -> Bool in
            if g.failuresLeft > 0 {
                g.failuresLeft -= 1
                return true
            }
            g.inserts += 1
            return false
        }
        if fail { throw StoreError(.write, "disk I/O error (test)") }
        return try await inner.insert(batch, marks: marks)
    }

    public func ingestMark(agent: String, sequence: Int64) async throws(StoreError) -> IngestMark? {
        try await inner.ingestMark(agent: agent, sequence: sequence)
    }

    public func search(_ request: SearchRequest) async throws(StoreError) -> SearchPage { try await inner.search(request) }
    public func record(id: Int64) async throws(StoreError) -> StoredRecord? { try await inner.record(id: id) }
    public func records(after id: Int64, limit: Int) async throws(StoreError) -> [StoredRecord] { try await inner.records(after: id, limit: limit) }
    public func hosts() async throws(StoreError) -> [HostSummary] { try await inner.hosts() }
    public func stats(_ request: StatsRequest) async throws(StoreError) -> LogStats { try await inner.stats(request) }
    public func figures() async throws(StoreError) -> StoreFigures { try await inner.figures() }
    public func indexPending(maxRows: Int) async throws(StoreError) -> Int { try await inner.indexPending(maxRows: maxRows) }
    public func applyRetention(_ policy: RetentionPolicy, now: SyslogTimestamp, maxRows: Int) async throws(StoreError) -> Int {
        try await inner.applyRetention(policy, now: now, maxRows: maxRows)
    }
}

/// A socket handed to a thread of its own (one thread uses it at a time).
private struct UncheckedSocket: @unchecked Sendable {
    let socket: TestSocket
}

/// A plain blocking socket to 127.0.0.1, as a sender would open it.
public final class TestSocket {
    public let fd: Int32

    public convenience init(tcpPort port: Int) throws {
        try self.init(tcpPort: port, configure: { _ in })
    }

    /// A TCP connection to 127.0.0.1; `configure` sees the socket before it connects (buffer sizes, say).
    public init(tcpPort port: Int, configure: (Int32) -> Void) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        configure(fd)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let e = errno
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: e) ?? .EIO)
        }
    }

    public init(udpPort port: Int) {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Writes everything (blocking), or throws when the peer closed.
    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            offset += n
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// True when the peer has closed the connection (reads EOF or an error within `seconds`); what it sends
    /// before closing (a TLS alert, say) is read and ignored.
    public func waitForClose(seconds: Int32 = 5) -> Bool {
        waitForEnd(until: Date().addingTimeInterval(Double(seconds)))
    }

    /// `waitForClose` on a thread of its own, for async tests: blocking one of the cooperative pool's few threads
    /// (two on a 2-core machine) can starve the very server that is to close the connection.
    public func closed(seconds: Int32 = 5) async -> Bool {
        let socket = UncheckedSocket(socket: self)
        return await Peers.offThread { socket.socket.waitForClose(seconds: seconds) }
    }

    /// Ends the stream and waits until the server has read all of it and closed its side (true), or `seconds` pass.
    public func finish(seconds: Int32 = 20) -> Bool {
        shutdown(fd, Int32(SHUT_WR))
        return waitForEnd(until: Date().addingTimeInterval(Double(seconds)))
    }

    /// Reads (and drops) what arrives until the peer closes (true) or the deadline passes. A signal interrupting
    /// `poll` (the test process's children end all the time) is not an end, and neither is a wake-up with nothing
    /// to read.
    private func waitForEnd(until deadline: Date) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 512)
        while Date() < deadline {
            let ready = poll(&pfd, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready < 0 {
                if errno == EINTR { continue }
                return false
            }
            if ready == 0 { continue }
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if n == 0 { return true }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                return true  // reset: closed as well
            }
        }
        return false
    }

    deinit { close(fd) }
}
