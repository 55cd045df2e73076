import Logging
import NIOCore
import NotiLogCollector
import NotiLogStore
import NotiLogWeb
import ServiceLifecycle
import Synchronization

/// The last service of the group, so the first to hear of shutdown: once every listener and the HTTP API are
/// bound it logs where the server listens (the real ports, also for port 0) and where the data is, and tells systemd `READY=1`; while
/// running it keeps systemd's `STATUS=` line current; on shutdown it sends `STOPPING=1` before the listeners close.
public final class ServerReadiness: Service {
    private let listeners: [SyslogListener]
    private let api: APIServer
    private let pipeline: IngestPipeline
    private let storePath: String
    private let logger: Logger
    private let notifier: SystemdNotifier
    private let statusInterval: Duration
    private let state = Mutex<(bound: Bound?, waiters: [CheckedContinuation<Bound, Never>])>((nil, []))

    /// Where everything listens once bound.
    public struct Bound: Sendable, Hashable {
        public var listeners: [BoundListener]
        public var http: HostPort
    }

    /// A listener and the address it got.
    public struct BoundListener: Sendable, Hashable {
        public var transport: ListenerConfiguration.Transport
        public var address: HostPort
    }

    public init(
        listeners: [SyslogListener], api: APIServer, pipeline: IngestPipeline, storePath: String, logger: Logger,
        notifier: SystemdNotifier = SystemdNotifier(), statusInterval: Duration = .seconds(30)
    ) {
        self.listeners = listeners
        self.api = api
        self.pipeline = pipeline
        self.storePath = storePath
        self.logger = logger
        self.notifier = notifier
        self.statusInterval = statusInterval
    }

    /// Where each listener and the HTTP API listen, once all are bound (waits until then).
    public func ready() async -> Bound {
        await withCheckedContinuation { c in
            let bound = state.withLock { s -> Bound? in
                if let b = s.bound { return b }
                s.waiters.append(c)
                return nil
            }
            if let bound { c.resume(returning: bound) }
        }
    }

    public func run() async throws {
        var bound: [BoundListener] = []
        var http = HostPort(host: api.configuration.host, port: api.configuration.port)
        do {
            for listener in listeners {
                let address = try await listener.boundAddress()
                let hp = HostPort(host: address.ipAddress ?? listener.configuration.host, port: address.port ?? listener.configuration.port)
                bound.append(BoundListener(transport: listener.configuration.transport, address: hp))
            }
            let address = try await api.boundAddress()
            http = HostPort(host: address.ipAddress ?? api.configuration.host, port: address.port ?? api.configuration.port)
        } catch {
            // That listener reports its own error and the group stops; nothing is ready.
            try? await gracefulShutdown()
            return
        }
        for b in bound {
            logger.info(
                "syslog listener ready",
                metadata: ["listener.protocol": "\(b.transport.rawValue)", "listener.address": "\(b.address)"])
        }
        logger.info("NotiLog server ready", metadata: ["store.path": "\(storePath)", "http.address": "\(http)"])
        let waiters = state.withLock { s in
            s.bound = Bound(listeners: bound, http: http)
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.resume(returning: Bound(listeners: bound, http: http)) }
        let listening = (bound.map { "\($0.transport.rawValue) \($0.address)" } + ["http \(http)"]).joined(separator: ", ")
        notifier.ready(status: "Listening on \(listening)")

        try? await cancelWhenGracefulShutdown { [pipeline, notifier, statusInterval] in
            while true {
                try await Task.sleep(for: statusInterval)
                let c = pipeline.counters
                notifier.status(
                    "Listening on \(listening); \(c.committed) records committed, \(c.queued) queued, \(c.droppedQueueFull) dropped")
            }
        }
        logger.info("shutting down: closing listeners, then committing what is queued")
        notifier.stopping(status: "Stopping: closing listeners, committing the ingest queue")
    }
}
