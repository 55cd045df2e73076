import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOSSL
import NotiLogCollector
import NotiLogCore
import NotiLogStore
import ServiceLifecycle
import Synchronization

/// The HTTP API under `/api/v1` (and Prometheus metrics at `/metrics`), served by Hummingbird as one service of
/// the server's group, over HTTPS when given a certificate. Every endpoint but `GET /api/v1/healthz` and sign-in
/// needs a bearer token (see `TokenAuthority`) or a session cookie (see `UserAuthority`).
public final class APIServer: Service {
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        public var version: String
        /// Serve HTTPS with this (certificate and key); nil serves plain HTTP. Session cookies are `Secure` then.
        public var tls: TLSConfiguration?
        /// The address users reach the UI at (`public_url`), when known: its origin is accepted as well as the
        /// `Host` header's (a proxy may rewrite `Host`), and an https one makes session cookies `Secure` behind a
        /// proxy that ends TLS.
        public var publicURL: String?
        /// How often an open live tail's credential is checked again (a revoked token or ended session closes it).
        public var tailCredentialRecheck: Duration = .seconds(60)

        public init(host: String, port: Int, version: String, tls: TLSConfiguration? = nil, publicURL: String? = nil) {
            self.host = host
            self.port = port
            self.version = version
            self.tls = tls
            self.publicURL = publicURL
        }

        /// `https://logs.example.com` of `publicURL` (scheme and authority, lower case).
        var publicOrigin: String? {
            guard let url = publicURL?.lowercased(), let schemeEnd = url.range(of: "://") else { return nil }
            let authority = url[schemeEnd.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            return authority.isEmpty ? nil : String(url[..<schemeEnd.upperBound]) + authority
        }

        /// Session cookies carry `Secure`: the server speaks HTTPS, or users reach it through an https URL.
        var secureCookies: Bool { tls != nil || publicOrigin?.hasPrefix("https://") == true }
    }

    /// What the API reads from: the store, and the live counters of the services beside it.
    public struct Sources: Sendable {
        public var store: any LogStore
        public var pipeline: IngestPipeline
        public var listeners: [SyslogListener]
        public var maintenance: StoreMaintenance
        public var storePath: String
        /// Rules, alerts, silences and channels; nil serves no `/alerts`, `/rules`, ... routes.
        public var alerting: AlertingSources?
        /// How `POST /ingest` parses messages (the time zone configured for the sender's address).
        public var parsers: SourceParsers

        public init(
            store: any LogStore, pipeline: IngestPipeline, listeners: [SyslogListener], maintenance: StoreMaintenance, storePath: String,
            alerting: AlertingSources? = nil, parsers: SourceParsers = SourceParsers()
        ) {
            self.store = store
            self.pipeline = pipeline
            self.listeners = listeners
            self.maintenance = maintenance
            self.storePath = storePath
            self.alerting = alerting
            self.parsers = parsers
        }
    }

    public let configuration: Configuration
    public let tokens: TokenAuthority
    public let users: UserAuthority
    let sources: Sources
    let startedAt = SyslogTimestamp.now()
    /// Agents' batches being committed by `POST /ingest` (a second copy waits for the first).
    let ingestInFlight = Mutex<Set<IngestRoutes.BatchKey>>([])
    /// The live tail's subscription to committed records, shared by every `GET /api/v1/tail` connection.
    let tail: TailHub
    private let logger: Logger
    private let bound = SettledValue<SocketAddress>()

    public init(configuration: Configuration, sources: Sources, tokens: TokenAuthority, users: UserAuthority, logger: Logger) {
        self.configuration = configuration
        self.sources = sources
        self.tokens = tokens
        self.users = users
        self.logger = logger
        var tailLogger = logger
        tailLogger[metadataKey: "component"] = "tail"
        self.tail = TailHub(pipeline: sources.pipeline, store: sources.store, logger: tailLogger)
    }

    /// The address the server listens on once it is bound (the real port when configured with 0).
    public func boundAddress() async throws -> SocketAddress {
        try await bound.value()
    }

    /// Settles the bound address: the channel's, or (when the server ended without one) an error.
    private func settle(_ address: SocketAddress?) {
        bound.settle(
            address.map { .success($0) }
                ?? .failure(APIError(.serviceUnavailable, "unavailable", "the HTTP API did not start on \(configuration.host):\(configuration.port)")))
    }

    public func run() async throws {
        let router = Router(context: APIRequestContext.self)
        router.add(middleware: JSONErrorMiddleware())
        APIRoutes(server: self).register(on: router)
        UIRoutes(logger: logger).register(on: router)
        var httpLogger = logger
        httpLogger[metadataKey: "component"] = "http"
        // WebSocket upgrades (the live tail) go to a router of their own; every other request to `router`.
        let upgrades = Router(context: TailUpgradeContext.self)
        TailRoutes(api: APIRoutes(server: self)).registerUpgrade(on: upgrades, logger: httpLogger)
        let http1: HTTPServerBuilder = .http1WebSocketUpgrade(
            webSocketRouter: upgrades,
            configuration: .init(http1: .init(), ws: .init(maxFrameSize: 1 << 14, autoPing: .enabled(timePeriod: .seconds(30)))))
        var server = http1
        if let tls = configuration.tls {
            do {
                server = try .tls(http1, tlsConfiguration: tls)
            } catch {
                settle(nil)
                throw APIError(.internalServerError, "internal", "cannot serve HTTPS: \(error)")
            }
        }
        let app = Application(
            responder: HeadAsGetResponder(inner: router.buildResponder()),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "NotiLog"),
            onServerRunning: { [weak self] channel in
                guard let self else { return }
                self.settle(channel.localAddress)
                self.logger.info(
                    "HTTP API ready",
                    metadata: [
                        "http.address": "\(channel.localAddress.map(Self.describe) ?? "\(self.configuration.host):\(self.configuration.port)")",
                        "http.scheme": "\(self.configuration.tls == nil ? "http" : "https")",
                    ])
            },
            logger: httpLogger)
        do {
            // `run()`, not `runService()`: the server's group owns the signals and tells this service when to stop.
            // The tail's hub reads committed records meanwhile (it ends when the pipeline finishes its subscribers).
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.tail.run() }
                try await app.run()
                group.cancelAll()
            }
        } catch {
            settle(nil)
            throw error
        }
        settle(nil)
    }

    /// `127.0.0.1:8514`, `[::1]:8514`.
    static func describe(_ address: SocketAddress) -> String {
        guard let ip = address.ipAddress, let port = address.port else { return "\(address)" }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}

/// The API's request context: Hummingbird's core storage only (the token is checked per handler, by scope).
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's address (the ingest endpoint parses by it, as listeners do).
    public var remoteAddress: SocketAddress?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// Token creation bodies are tiny.
    public var maxUploadSize: Int { 64 * 1024 }
}
