import Logging
import NIOCore
import NIOPosix
import NIOSSL
import NotiLogCore
import NotiLogStore
import ServiceLifecycle
import Synchronization

/// A syslog listener (UDP, TCP or TLS) feeding the ingest pipeline; one `Service` per configured address.
///
/// On graceful shutdown it stops accepting, closes its connections (what they delivered is kept) and returns.
public final class SyslogListener: Service {
    public let configuration: ListenerConfiguration
    public let counters = ListenerCounters()
    private let pipeline: IngestPipeline
    private let parsers: SourceParsers
    private let group: any EventLoopGroup
    private let logger: Logger
    private let address = SettledValue<SocketAddress>()
    private let connections = OpenConnections()

    public init(
        configuration: ListenerConfiguration, pipeline: IngestPipeline, parsers: SourceParsers = SourceParsers(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger = Logger(label: "notilog.collector")
    ) {
        self.configuration = configuration
        self.pipeline = pipeline
        self.parsers = parsers
        self.group = group
        var logger = logger
        logger[metadataKey: "listener"] = "\(configuration.name)"
        self.logger = logger
    }

    /// The address the listener is bound to (the real port when configured with port 0); waits for the bind.
    public func boundAddress() async throws -> SocketAddress {
        try await address.value()
    }

    private func bound(_ result: Result<SocketAddress, CollectorError>) {
        address.settle(result.mapError { $0 as any Error })
    }

    public func run() async throws {
        switch configuration.transport {
        case .udp: try await runDatagram()
        case .tcp, .tls: try await runStream()
        }
    }

    // MARK: UDP

    private func runDatagram() async throws {
        let (pipeline, parsers, configuration, counters) = (self.pipeline, self.parsers, self.configuration, self.counters)
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: 8 << 20)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelOption(.datagramVectorReadMessageCount, value: 32)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            SyslogDatagramHandler(
                                pipeline: pipeline, parsers: parsers, allow: configuration.allow,
                                maxFrameSize: configuration.maxFrameSize, counters: counters))
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw bindFailed(error)
        }
        await serve(channel)
    }

    /// Reports the bound address, then serves until shutdown or cancellation closes the channel.
    private func serve(_ channel: any Channel) async {
        bound(.success(channel.localAddress!))
        logger.info("listening", metadata: ["listener.address": "\(channel.localAddress!)"])
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    private func bindFailed(_ error: any Error) -> CollectorError {
        let e = CollectorError(.bind, "cannot listen on \(configuration.name)", underlying: error)
        bound(.failure(e))
        return e
    }

    // MARK: TCP and TLS

    private func makeTLSContext() throws -> NIOSSLContext? {
        guard configuration.transport == .tls else { return nil }
        guard let files = configuration.tls else {
            throw CollectorError(.configuration, "\(configuration.name) needs a certificate and a key")
        }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
            let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: files.privateKey, format: .pem))
            var tls: TLSConfiguration
            if let ca = files.clientCA {
                tls = .makeServerConfigurationWithMTLS(certificateChain: chain, privateKey: key, trustRoots: .file(ca))
            } else {
                tls = .makeServerConfiguration(certificateChain: chain, privateKey: key)
            }
            tls.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw CollectorError(.configuration, "cannot load the TLS certificate or key of \(configuration.name)", underlying: error)
        }
    }

    private func runStream() async throws {
        let tlsContext: NIOSSLContext?
        do {
            tlsContext = try makeTLSContext()
        } catch let e as CollectorError {
            bound(.failure(e))
            throw e
        }
        let limiter = ConnectionLimiter(
            maxTotal: configuration.maxConnections, maxPerAddress: configuration.maxConnectionsPerAddress)
        let configuration = self.configuration
        let counters = self.counters
        let pipeline = self.pipeline
        let parsers = self.parsers
        let connections = self.connections
        let server: any Channel
        do {
            server = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.so_keepalive), value: 1)
                .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16_384, maximum: 262_144))
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let remote = channel.remoteAddress
                        let source = remote?.ipAddress
                        if !configuration.allow.isEmpty, !(remote.map { r in configuration.allow.contains { $0.contains(r) } } ?? false) {
                            counters.update { $0.rejectedNotAllowed += 1 }
                            channel.close(promise: nil)
                            return
                        }
                        let key = source ?? "?"
                        guard limiter.acquire(key) else {
                            counters.update { $0.rejectedLimit += 1 }
                            channel.close(promise: nil)
                            return
                        }
                        connections.insert(channel)
                        channel.closeFuture.whenComplete { _ in
                            limiter.release(key)
                            connections.remove(channel)
                        }
                        let ops = channel.pipeline.syncOperations
                        if let tlsContext { try ops.addHandler(NIOSSLServerHandler(context: tlsContext)) }
                        try ops.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)))
                        try ops.addHandler(
                            ByteToMessageHandler(
                                SyslogFrameDecoder(framing: configuration.framing, maxFrameSize: configuration.maxFrameSize)))
                        try ops.addHandler(
                            SyslogStreamHandler(
                                pipeline: pipeline, parser: parsers.parser(for: remote), source: source, counters: counters,
                                connections: connections))
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw bindFailed(error)
        }
        await serve(server)
        // Stop accepting first, then close the connections; what they delivered reaches the pipeline.
        for c in connections.all { try? await c.close() }
        await connections.waitForHandOvers()
    }
}

/// The open connections of a stream listener, closed on shutdown, and the records closing connections are
/// still handing to the pipeline.
final class OpenConnections: Sendable {
    private let channels = Mutex<[ObjectIdentifier: any Channel]>([:])
    private let handOvers = Mutex<[Int: Task<Void, Never>]>([:])
    private let nextHandOver = Mutex(0)

    func insert(_ c: any Channel) { channels.withLock { $0[ObjectIdentifier(c)] = c } }
    func remove(_ c: any Channel) { _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(c)) } }
    var all: [any Channel] { channels.withLock { Array($0.values) } }

    /// Runs `work` in a task the listener waits for before it returns.
    func handOver(_ work: @escaping @Sendable () async -> Void) {
        let id = nextHandOver.withLock { n in
            n += 1
            return n
        }
        let task = Task {
            await work()
            _ = self.handOvers.withLock { $0.removeValue(forKey: id) }
        }
        handOvers.withLock { $0[id] = task }
    }

    func waitForHandOvers() async {
        while let task = handOvers.withLock({ $0.values.first }) {
            await task.value
            // The task removes itself; drop it here too in case it finished before it was registered.
            handOvers.withLock { tasks in
                if let k = tasks.first(where: { $0.value == task })?.key { tasks.removeValue(forKey: k) }
            }
        }
    }
}

/// The collector's one error type.
public struct CollectorError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case bind, configuration
    }

    public var code: Code
    public var message: String
    public var underlying: String?

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.underlying = underlying.map { "\($0)" }
    }

    public var description: String { underlying.map { "\(message): \($0)" } ?? message }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
