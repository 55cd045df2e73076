import ArgumentParser
import NotiLogServer

@main
struct NotiLogServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notilog-server",
        abstract: "The NotiLog collector: syslog over UDP, TCP and TLS into a searchable store.",
        discussion: """
            Configuration comes from the YAML file (--config, else $NOTILOG_CONFIG, else \(ServerConfiguration.defaultPath) \
            when it exists), then from NOTILOG_* environment variables, then from the flags. Each variable is the \
            key path in capitals with _ for dots:

              NOTILOG_DATA_DIR, NOTILOG_HTTP, NOTILOG_TIME_ZONE
              NOTILOG_HTTP_TLS_CERT_FILE, _KEY_FILE       serve HTTPS
              NOTILOG_HTTP_SESSION_IDLE_TIMEOUT, _ABSOLUTE_TIMEOUT
              NOTILOG_ADMIN_PASSWORD      the first start's password for the user admin
              NOTILOG_INGEST_QUEUE_CAPACITY, _BATCH_SIZE, _BATCH_DELAY
              NOTILOG_RETENTION_MAX_AGE, NOTILOG_RETENTION_MAX_SIZE
              NOTILOG_SOURCE_TIME_ZONES   MATCH=ZONE,... e.g. 10.0.0.0/8=Europe/Berlin
              NOTILOG_UDP, _TCP, _TLS     HOST:PORT,... replacing those listeners
              NOTILOG_LISTENERS_<KEY>     a key set on every listener it applies to:
                                          ALLOW, MAX_CONNECTIONS, IDLE_TIMEOUT,
                                          MAX_CONNECTIONS_PER_ADDRESS, FRAMING,
                                          MAX_FRAME_SIZE, CERTIFICATE, KEY, CLIENT_CA
              NOTILOG_LOG_LEVEL           trace, debug, info (default), ..., error

            With no configuration at all the server keeps its data in ./data (or $STATE_DIRECTORY under \
            systemd), listens for syslog on 0.0.0.0:5514 over UDP and TCP, and will serve HTTP on 127.0.0.1:8514.
            """,
        subcommands: [RunCommand.self, ValidateCommand.self],
        defaultSubcommand: RunCommand.self
    )
}

/// The configuration file and the flags that override it; `run` and `validate` take the same ones.
struct ServerOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file.", valueName: "file"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Where the database lives.", valueName: "dir"))
    var dataDir: String?

    @Option(name: .long, help: ArgumentHelp("A UDP syslog listener (repeatable; replaces the configured ones).", valueName: "host:port"))
    var udp: [String] = []

    @Option(name: .long, help: ArgumentHelp("A TCP syslog listener (repeatable; replaces the configured ones).", valueName: "host:port"))
    var tcp: [String] = []

    @Option(name: .long, help: ArgumentHelp("A TLS syslog listener (repeatable; replaces the configured ones, keeping their certificate).", valueName: "host:port"))
    var tls: [String] = []

    @Option(name: .long, help: ArgumentHelp("The HTTP API's address.", valueName: "host:port"))
    var http: String?

    var overrides: CommandLineOverrides {
        CommandLineOverrides(
            dataDir: dataDir, udp: udp.isEmpty ? nil : udp, tcp: tcp.isEmpty ? nil : tcp, tls: tls.isEmpty ? nil : tls,
            http: http)
    }

    func load() -> ServerConfiguration {
        ServerConfiguration.load(file: config, overrides: overrides)
    }
}
