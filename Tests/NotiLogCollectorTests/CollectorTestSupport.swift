import Foundation
import NIOCore
import NIOPosix
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Synchronization

@testable import NotiLogCollector

#if canImport(Glibc)
import Glibc
#endif

/// A store, a pipeline and one listener on 127.0.0.1 port 0, running until `stop()`.
final class RunningCollector: Sendable {
    let directory: String
    let store: SQLiteLogStore
    let pipeline: IngestPipeline
    let listener: SyslogListener
    let port: Int
    private let tasks: Mutex<[Task<Void, Error>]>

    init(
        _ transport: ListenerConfiguration.Transport, store: (any LogStore)? = nil, queueCapacity: Int = 100_000,
        configure: (inout ListenerConfiguration) -> Void = { _ in }
    ) async throws {
        let dir = NSTemporaryDirectory() + "notilog-test-" + UUID().uuidString
        directory = dir
        let sqlite = try SQLiteLogStore(directory: dir)
        self.store = sqlite
        pipeline = IngestPipeline(
            store: store ?? sqlite, configuration: .init(queueCapacity: queueCapacity, batchSize: 500, maxBatchDelay: .milliseconds(20)))
        var config = ListenerConfiguration(transport: transport, host: "127.0.0.1", port: 0)
        configure(&config)
        listener = SyslogListener(configuration: config, pipeline: pipeline)
        let pipeline = self.pipeline
        let listener = self.listener
        tasks = Mutex([Task { try await pipeline.run() }, Task { try await listener.run() }])
        port = try await listener.boundAddress().port!
    }

    /// Waits until the store holds at least `count` records (or `seconds` pass) and returns them oldest first.
    func records(atLeast count: Int, seconds: Double = 20) async throws -> [LogRecord] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let page = try await store.search(SearchRequest(query: .all, limit: 10_000))
            if page.records.count >= count || Date() > deadline { return page.records.reversed().map(\.record) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func stop() async {
        for t in tasks.withLock({ $0 }) { t.cancel() }
        pipeline.beginClosing()
        for t in tasks.withLock({ $0 }) { _ = try? await t.value }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// A plain blocking socket to 127.0.0.1, as a sender would open it.
final class TestSocket {
    let fd: Int32

    init(tcpPort port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            close(fd)
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
    }

    init(udpPort port: Int) {
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
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// True when the peer has closed the connection (reads EOF or an error within `seconds`).
    func waitForClose(seconds: Int32 = 5) -> Bool {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, seconds * 1000) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_DONTWAIT)) <= 0
    }

    deinit { close(fd) }
}

/// Runs a program to completion and returns its exit status.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    try p.run()
    p.waitUntilExit()
    return p.terminationStatus
}
