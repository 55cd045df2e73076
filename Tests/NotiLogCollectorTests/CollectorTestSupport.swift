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

/// Runs a program to completion and returns its exit status.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> Int32 {
    try Peers.runToCompletion(executable, arguments, captureOutput: false).status
}
