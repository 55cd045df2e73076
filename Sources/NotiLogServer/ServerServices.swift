import Logging
import NotiLogCollector
import NotiLogCore
import NotiLogStore
import NotiLogWeb
import ServiceLifecycle
import UnixSignals

/// Everything `notilog-server run` runs, built and not yet started.
public struct ServerServices: Sendable {
    public let settings: ServerSettings
    public let store: SQLiteLogStore
    public let pipeline: IngestPipeline
    public let listeners: [SyslogListener]
    public let maintenance: StoreMaintenance
    public let api: APIServer
    public let readiness: ServerReadiness
    /// In start order: maintenance, the pipeline, the listeners, the HTTP API, readiness. A `ServiceGroup` shuts
    /// them down in reverse: systemd hears STOPPING=1, the API stops, the listeners stop accepting, the pipeline
    /// commits what is queued, and maintenance stops last.
    public let services: [any Service]

    /// One group for all of them, shutting down gracefully on the given signals.
    public func serviceGroup(gracefulShutdownSignals: [UnixSignal] = [], logger: Logger) -> ServiceGroup {
        var configuration = ServiceGroupConfiguration(
            services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
            gracefulShutdownSignals: gracefulShutdownSignals, logger: logger)
        // A shutdown that hangs (a store that never answers) ends in cancellation, before TimeoutStopSec=120.
        configuration.maximumGracefulShutdownDuration = .seconds(90)
        return ServiceGroup(configuration: configuration)
    }
}

/// Checks the configuration, opens the store and builds the services (see `ServerServices.services`).
public func buildServices(configuration: ServerConfiguration, logger: Logger) async throws(ServerError) -> ServerServices {
    try await buildServices(settings: configuration.resolved(), logger: logger)
}

/// Opens the store and builds the services for checked settings.
public func buildServices(settings: ServerSettings, logger: Logger) async throws(ServerError) -> ServerServices {
    let store: SQLiteLogStore
    do {
        store = try SQLiteLogStore(directory: settings.dataDirectory)
    } catch {
        throw ServerError(.store, "cannot open the store in \(settings.dataDirectory)", underlying: error)
    }
    let pipeline = IngestPipeline(store: store, configuration: settings.ingest)
    var maintenanceLogger = logger
    maintenanceLogger[metadataKey: "component"] = "maintenance"
    let maintenance = StoreMaintenance(store: store, configuration: settings.maintenance, onFailure: { [maintenanceLogger] failure in
        // The first failure of a streak is worth a warning; a long streak means the store needs an operator.
        let level: Logger.Level = failure.consecutive >= 10 ? .error : (failure.consecutive == 1 ? .warning : .debug)
        maintenanceLogger.log(
            level: level, "store maintenance step failed",
            metadata: [
                "maintenance.step": "\(failure.step.rawValue)", "maintenance.consecutive_failures": "\(failure.consecutive)",
                "error.message": "\(failure.error)",
            ])
    }, ingestBacklog: { [pipeline] in pipeline.counters.queued >= pipeline.configuration.batchSize })
    var collectorLogger = logger
    collectorLogger[metadataKey: "component"] = "collector"
    let listeners = settings.listeners.map {
        SyslogListener(configuration: $0, pipeline: pipeline, parsers: settings.parsers, logger: collectorLogger)
    }
    let tokens = TokenAuthority(store: store)
    do {
        _ = try await tokens.bootstrapAdminToken(dataDirectory: settings.dataDirectory, logger: logger)
    } catch {
        throw ServerError(.store, "cannot create the admin API token in \(settings.dataDirectory)", underlying: error)
    }
    let api = APIServer(
        configuration: .init(host: settings.http.host, port: settings.http.port, version: NotiLogVersion.current),
        sources: .init(store: store, pipeline: pipeline, listeners: listeners, maintenance: maintenance, storePath: store.path),
        tokens: tokens, logger: logger)
    let readiness = ServerReadiness(listeners: listeners, api: api, pipeline: pipeline, storePath: store.path, logger: logger)
    var services: [any Service] = [maintenance, pipeline]
    services += listeners as [any Service]
    services += [api, readiness] as [any Service]
    return ServerServices(
        settings: settings, store: store, pipeline: pipeline, listeners: listeners, maintenance: maintenance, api: api,
        readiness: readiness, services: services)
}
