import ArgumentParser
import Foundation
import Logging
import NotiLogServer
import ServiceLifecycle
import UnixSignals

/// `notilog-server run`: the collector, until SIGTERM or SIGINT.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the server (the default). SIGTERM or SIGINT stops it gracefully: listeners close, the queue is committed."
    )

    @OptionGroup var options: ServerOptions

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: $NOTILOG_LOG_LEVEL, else info).", valueName: "level"))
    var logLevel: String?

    func run() async throws {
        let levelText = logLevel ?? ProcessInfo.processInfo.environment["NOTILOG_LOG_LEVEL"].flatMap { $0.isEmpty ? nil : $0 } ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            throw ValidationError("unknown log level \"\(levelText)\"")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "notilog-server")

        let configuration = options.load()
        let services: ServerServices
        do {
            let options = self.options
            services = try await buildServices(configuration: configuration, logger: logger, reloadConfiguration: { options.load() })
        } catch {
            logger.critical("cannot start: \(error.message)", metadata: error.underlying.map { ["error.message": "\($0)"] })
            for problem in error.problems { logger.critical("configuration problem: \(problem)") }
            throw ExitCode(1)
        }
        logger.info(
            "starting",
            metadata: [
                "config.file": "\(configuration.file ?? "(none: defaults)")",
                "data.directory": "\(services.settings.dataDirectory)",
                "http.address": "\(services.settings.http)",
            ])

        let group = services.serviceGroup(gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        do {
            try await group.run()
        } catch {
            logger.error("stopped on an error", metadata: ["error.message": "\(error)"])
            throw ExitCode(1)
        }
        let ingest = services.pipeline.counters
        let maintenance = services.maintenance.counters
        let metadata: Logger.Metadata = [
            "ingest.committed": "\(ingest.committed)", "ingest.dropped_queue_full": "\(ingest.droppedQueueFull)",
            "ingest.lost_at_shutdown": "\(ingest.lostAtShutdown)", "maintenance.indexed": "\(maintenance.indexedRows)",
            "maintenance.deleted": "\(maintenance.deletedRows)",
        ]
        if ingest.lostAtShutdown > 0 {
            // The store refused the last batches: those records are gone.
            logger.error("stopped, but records could not be committed", metadata: metadata)
            throw ExitCode(1)
        }
        logger.info("stopped", metadata: metadata)
    }
}
