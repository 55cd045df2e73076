import Foundation
import Logging
import NotiLogAlerts
import NotiLogCollector
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import NotiLogWeb
import ServiceLifecycle
import Synchronization
import Testing

@testable import NotiLogServer

/// Log lines kept in memory, to check what the server says.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    var all: [Entry] { entries.withLock { $0 } }

    func append(_ e: Entry) { entries.withLock { $0.append(e) } }

    var logger: Logger {
        Logger(label: "test") { _ in RecordingLogHandler(recorder: self) }
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        recorder.append(.init(level: event.level, message: "\(event.message)", metadata: all.mapValues { "\($0)" }))
    }
}

@Suite("Server services", .serialized)
struct ServerServicesTests {
    /// Builds and starts the services on 127.0.0.1 port 0 in `dir`; returns them with the running group.
    static func start(
        _ dir: TemporaryDirectory, recorder: LogRecorder = LogRecorder(), configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> (ServerServices, ServiceGroup, Task<Void, Error>) {
        var c = ServerConfiguration(
            dataDir: dir.path, listeners: [.init(udp: "127.0.0.1:0"), .init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0",
            ingest: .init(batchDelay: "20ms"), timeZone: "UTC")
        configure(&c)
        let services = try await buildServices(configuration: c, logger: recorder.logger)
        let group = services.serviceGroup(logger: recorder.logger)
        let running = Task { try await group.run() }
        return (services, group, running)
    }

    static func waitForCount(_ store: SQLiteLogStore, _ n: Int, seconds: Double = 20) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let count = try await store.count()
            if count >= n || Date() > deadline { return count }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func all(_ store: SQLiteLogStore) async throws -> [LogRecord] {
        try await store.search(SearchRequest(query: .all, limit: 10_000)).records.reversed().map(\.record)
    }

    @Test func servicesStartInOrderAndShutDownInReverse() async throws {
        let dir = TemporaryDirectory()
        let services = try await buildServices(
            configuration: ServerConfiguration(
                dataDir: dir.path, listeners: [.init(udp: "127.0.0.1:0"), .init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0"),
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect(services.services.count == 9)
        #expect(services.services[0] as? StoreMaintenance === services.maintenance)
        #expect(services.services[1] as? IngestPipeline === services.pipeline)
        #expect(services.services[2] as? DeliveryWorker === services.delivery)
        #expect(services.services[3] as? AlertingService === services.alerting)
        #expect(services.services[4] as? SyslogListener === services.listeners[0])
        #expect(services.services[5] as? SyslogListener === services.listeners[1])
        #expect(services.services[6] as? APIServer === services.api)
        #expect(services.services[7] as? ServerReadiness === services.readiness)
        #expect(services.services[8] is RuleReloader)
        #expect(services.listeners.map(\.configuration.transport) == [.udp, .tcp])
    }

    @Test func loggerOverUDPAndTCPReachesTheStore() async throws {
        let dir = TemporaryDirectory()
        let recorder = LogRecorder()
        let (services, group, running) = try await Self.start(dir, recorder: recorder)
        let bound = await services.readiness.ready().listeners
        let udp = try #require(bound.first { $0.transport == .udp }).address.port
        let tcp = try #require(bound.first { $0.transport == .tcp }).address.port
        #expect(udp != 0 && tcp != 0)

        try runProgram("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(tcp)", "-T", "--octet-count", "--rfc5424", "-t", "inproc-tcp", "-p", "auth.warning", "--msgid", "M7", "hello over tcp"])
        try runProgram("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(tcp)", "-T", "--rfc3164", "-t", "inproc-lf", "-i", "hello lf-framed"])
        try runProgram("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(udp)", "-d", "--rfc5424", "-t", "inproc-udp", "hello over udp"])
        #expect(try await Self.waitForCount(services.store, 3) == 3)
        let records = try await Self.all(services.store)
        let overTCP = try #require(records.first { $0.appName == "inproc-tcp" })
        #expect(overTCP.message == "hello over tcp")
        #expect(overTCP.msgID == "M7")
        #expect(overTCP.facility == .auth)
        #expect(overTCP.severity == .warning)
        #expect(overTCP.source == "127.0.0.1")
        let lf = try #require(records.first { $0.appName == "inproc-lf" })
        #expect(lf.format == .rfc3164)
        #expect(lf.message == "hello lf-framed")
        #expect(records.first { $0.appName == "inproc-udp" }?.message == "hello over udp")

        // It said where it listens (the real ports) and where the data is.
        let ready = recorder.all.filter { $0.message == "syslog listener ready" }
        #expect(Set(ready.map { $0.metadata["listener.address"] ?? "" }) == ["127.0.0.1:\(udp)", "127.0.0.1:\(tcp)"])
        #expect(Set(ready.map { $0.metadata["listener.protocol"] ?? "" }) == ["udp", "tcp"])
        #expect(recorder.all.contains { $0.message == "NotiLog server ready" && $0.metadata["store.path"] == services.store.path })

        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func gracefulShutdownCommitsWhatIsQueued() async throws {
        let dir = TemporaryDirectory()
        // Batches wait up to a minute to fill: nothing is committed until shutdown makes the writer flush.
        let (services, group, running) = try await Self.start(dir) { $0.ingest = .init(batchSize: 100_000, batchDelay: "60s") }
        let tcp = try #require(await services.readiness.ready().listeners.first { $0.transport == .tcp }).address.port
        let sender = try TestSocket(tcpPort: tcp)
        var stream: [UInt8] = []
        for k in 0..<2_000 {
            let m = "<14>1 2025-11-25T13:17:50Z h app - - - queued \(k)"
            stream += Array("\(m.utf8.count) \(m)".utf8)
        }
        try sender.send(stream)
        #expect(sender.finish())
        while services.pipeline.counters.accepted < 2_000 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await services.store.count() == 0)
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(services.pipeline.counters.committed == 2_000)
        #expect(try await services.store.count() == 2_000)
        // After shutdown nothing more is taken.
        #expect(services.pipeline.offer([SyslogParser().parse("<14>1 - h a - - - late", receivedAt: .now())]) == .closed)
    }

    @Test func maintenanceIndexesWhatIsCommitted() async throws {
        let dir = TemporaryDirectory()
        let (services, group, running) = try await Self.start(dir)
        let tcp = try #require(await services.readiness.ready().listeners.first { $0.transport == .tcp }).address.port
        let sender = try TestSocket(tcpPort: tcp)
        try sender.send(Array((0..<500).map { "<14>1 - h app - - - needle \($0)\n" }.joined().utf8))
        #expect(sender.finish())
        let deadline = Date().addingTimeInterval(20)
        while services.maintenance.counters.indexedRows < 500, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(services.maintenance.counters.indexedRows == 500)
        #expect(try await services.store.indexPending(maxRows: 10) == 0)
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func sourceTimeZonesApplyToRFC3164Senders() async throws {
        let dir = TemporaryDirectory()
        // The server's default zone is UTC; senders on loopback are in New York and write local time without a zone.
        let (services, group, running) = try await Self.start(dir) {
            $0.sourceTimeZones = [.init(match: "127.0.0.0/8", zone: "America/New_York")]
        }
        let udp = try #require(await services.readiness.ready().listeners.first { $0.transport == .udp }).address.port
        try runProgram(
            "/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(udp)", "-d", "--rfc3164", "-t", "ny", "local time in New York"],
            environment: ["TZ": "America/New_York"])
        #expect(try await Self.waitForCount(services.store, 1) == 1)
        let r = try #require(try await Self.all(services.store).first)
        let t = try #require(r.timestamp)
        // Read in the right zone, the message time is the reception time (give or take the clock's second).
        #expect(abs(t.seconds - r.receivedAt.seconds) <= 2, "timestamp \(t) received \(r.receivedAt)")
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
    func aTLSListenerFromTheConfigurationServesTLS() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = (dir.path + "/server.crt", dir.path + "/server.key")
        try makeCertificate(certificate: cert, key: key)
        let (services, group, running) = try await Self.start(dir) {
            $0.dataDir = dir.path + "/data"
            $0.listeners = [.init(tls: "127.0.0.1:0", certificate: cert, key: key)]
        }
        let port = try #require(await services.readiness.ready().listeners.first { $0.transport == .tls }).address.port
        try sendOverTLS("<14>1 2025-11-25T13:17:50Z tls-host app - - - over tls\n", port: port, ca: cert)
        #expect(try await Self.waitForCount(services.store, 1) == 1)
        let r = try #require(try await Self.all(services.store).first)
        #expect(r.hostname == "tls-host")
        #expect(r.message == "over tls")
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test func aListenerThatCannotBindStopsTheGroupWithAnError() async throws {
        let dir = TemporaryDirectory()
        // Take a port, then ask the server for the same one.
        let (first, firstGroup, firstRunning) = try await Self.start(TemporaryDirectory())
        let taken = try #require(await first.readiness.ready().listeners.first { $0.transport == .tcp }).address.port
        let recorder = LogRecorder()
        let (services, _, running) = try await Self.start(dir, recorder: recorder) {
            $0.listeners = [.init(tcp: "127.0.0.1:\(taken)")]
        }
        await #expect(throws: (any Error).self) { try await running.value }
        #expect(services.pipeline.counters.committed == 0)
        await firstGroup.triggerGracefulShutdown()
        try await firstRunning.value
    }

    @Test func anInvalidConfigurationIsOneErrorWithEveryProblem() async throws {
        let c = ServerConfiguration(listeners: [.init(udp: "nowhere"), .init(tls: "127.0.0.1:0")], retention: .init(maxAge: "forever"))
        do {
            _ = try await buildServices(configuration: c, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidConfiguration)
            #expect(error.problems.map(\.path) == [
                "listeners[0].udp", "listeners[1].certificate", "listeners[1].key", "retention.max_age",
            ])
            #expect(error.message == "the configuration has 4 problems")
        }
    }
}
