import Foundation
import Logging
import NotiLogAlerts
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
    public let delivery: DeliveryWorker
    public let alerting: AlertingService
    /// In start order: maintenance, the pipeline, delivery, the rule engine, the listeners, the HTTP API,
    /// readiness, the SIGHUP rule reloader. A `ServiceGroup` shuts them down in reverse: systemd hears STOPPING=1,
    /// the API stops, the listeners stop accepting, the rule engine saves its state (records committed after that
    /// are read back at the next start), delivery stops between sends, the pipeline commits what is queued, and
    /// maintenance stops last.
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
/// `reloadConfiguration` reads the configuration again for a rules reload (SIGHUP, `POST /api/v1/rules/reload`).
public func buildServices(
    configuration: ServerConfiguration, logger: Logger, reloadConfiguration: (@Sendable () -> ServerConfiguration)? = nil
) async throws(ServerError) -> ServerServices {
    try await buildServices(settings: configuration.resolved(), logger: logger, reloadConfiguration: reloadConfiguration ?? { configuration })
}

/// Opens the store and builds the services for checked settings.
public func buildServices(
    settings: ServerSettings, logger: Logger, reloadConfiguration: (@Sendable () -> ServerConfiguration)? = nil
) async throws(ServerError) -> ServerServices {
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
    // Retention set from the UI (kept in the store) is in force over the configuration file's.
    do {
        if let saved = try await store.retentionOverride() { maintenance.setRetentionOverride(saved.policy) }
    } catch {
        throw ServerError(.store, "cannot read the retention setting stored in \(settings.dataDirectory)", underlying: error)
    }
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
    var authLogger = logger
    authLogger[metadataKey: "component"] = "auth"
    let users = UserAuthority(store: store, configuration: settings.httpSettings.sessions)
    do {
        _ = try await users.bootstrapAdmin(dataDirectory: settings.dataDirectory, password: settings.httpSettings.adminPassword, logger: authLogger)
    } catch {
        throw ServerError(.store, "cannot create the user admin in \(settings.dataDirectory)", underlying: error)
    }
    // Alerting: notifiers per channel, the delivery worker on the outbox, the rule engine on committed records.
    var alertsLogger = logger
    alertsLogger[metadataKey: "component"] = "alerts"
    let channels = settings.alerting.channels
    let notifiers: [String: any Notifier]
    do {
        notifiers = try Notifiers.make(from: channels)
    } catch {
        throw ServerError(.invalidConfiguration, "the channels cannot be used", problems: [ConfigurationProblem("channels", error.description)])
    }
    let delivery = DeliveryWorker(
        store: store, notifiers: notifiers, fallbacks: channels.compactMapValues(\.fallback), logger: alertsLogger)
    let alerting = AlertingService(
        rules: [], store: store, pipeline: pipeline, delivery: delivery, configuration: .init(publicURL: settings.alerting.publicURL),
        logger: alertsLogger)
    let knownChannels = Set(channels.keys)
    // The configuration's and rules.d's rules with those created through the API; every change applies the whole set.
    let catalog = RuleCatalog(
        store: store, knownChannels: knownChannels, fileRules: settings.alerting.rules,
        loadFiles: { try (reloadConfiguration?() ?? ServerConfiguration()).loadRules(knownChannels: knownChannels) },
        apply: { [alerting] rules in alerting.reload(rules: rules) })
    do {
        try await catalog.refresh()
    } catch {
        throw ServerError(.store, "cannot read the rules stored in \(settings.dataDirectory)", underlying: error)
    }
    for entry in await catalog.entries {
        if let problem = entry.problem {
            alertsLogger.error("rule not evaluated", metadata: ["rule.name": "\(entry.rule.name)", "error.message": "\(problem)"])
        }
    }
    let reload: @Sendable () async throws -> [Rule] = { [catalog] in try await catalog.reloadFiles() }
    let testChannel: @Sendable (String, String) async throws -> Bool = { [store, delivery] channel, requestedBy in
        guard channels[channel] != nil else { return false }
        let now = SyslogTimestamp.now()
        let notice = AlertNotice(
            alertID: 0, rule: "notilog-test", ruleDescription: "A test message, requested by \(requestedBy)", state: .test,
            startedAt: now, summary: "Test message for channel \(channel): if you read this, NotiLog can reach you here.")
        let json = String(decoding: try JSONEncoder().encode(notice), as: UTF8.self)
        let queued = try await store.enqueueNotification(
            OutboxEntry(channel: channel, idempotencyKey: "test:\(channel):\(now.nanosecondsSinceEpoch)", notice: json), alertID: nil, at: now)
        if queued { delivery.wake() }
        return true
    }
    let alertingSources = AlertingSources(
        store: store, service: alerting, catalog: catalog, channels: channels.mapValues(\.type), testChannel: testChannel)

    var apiConfiguration = APIServer.Configuration(
        host: settings.http.host, port: settings.http.port, version: NotiLogVersion.current, tls: settings.httpSettings.tls,
        publicURL: settings.alerting.publicURL)
    apiConfiguration.tailCredentialRecheck = settings.httpSettings.tailCredentialRecheck
    let api = APIServer(
        configuration: apiConfiguration,
        sources: .init(
            store: store, pipeline: pipeline, listeners: listeners, maintenance: maintenance, storePath: store.path, alerting: alertingSources,
            parsers: settings.parsers),
        tokens: tokens, users: users, logger: logger)
    let readiness = ServerReadiness(listeners: listeners, api: api, pipeline: pipeline, storePath: store.path, logger: logger)
    var services: [any Service] = [maintenance, pipeline, delivery, alerting]
    services += listeners as [any Service]
    services += [api, readiness, RuleReloader(reload: reload, logger: alertsLogger)] as [any Service]
    return ServerServices(
        settings: settings, store: store, pipeline: pipeline, listeners: listeners, maintenance: maintenance, api: api,
        readiness: readiness, delivery: delivery, alerting: alerting, services: services)
}

/// Reloads the rules on SIGHUP. A reload with problems keeps the rules in force and logs every problem.
struct RuleReloader: Service {
    let reload: @Sendable () async throws -> [Rule]
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                do {
                    let rules = try await reload()
                    logger.notice("rules reloaded", metadata: ["rules.count": "\(rules.count)"])
                } catch {
                    logger.error("rules not reloaded; the rules in force stay", metadata: ["error.message": "\(error)"])
                }
            }
        }
    }
}
