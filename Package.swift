// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "NotiLog",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "notilogctl", targets: ["notilogctl"]),
        .library(name: "NotiLogCore", targets: ["NotiLogCore"]),
        .executable(name: "notilog-server", targets: ["notilog-server"]),
        .executable(name: "notilog-agent", targets: ["notilog-agent"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // Records, syslog parsers, framers, the RFC 5424 formatter, the query language. No I/O.
        .target(
            name: "NotiLogCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // The LogStore protocol, the SQLite store, and the ingest pipeline in front of it.
        .target(
            name: "NotiLogStore",
            dependencies: [
                "NotiLogCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Syslog listeners (UDP, TCP, TLS) feeding the ingest pipeline.
        .target(
            name: "NotiLogCollector",
            dependencies: [
                "NotiLogCore",
                "NotiLogStore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The HTTP API (Hummingbird): search, hosts, stats, health, metrics, API tokens, users and sessions (bcrypt), HTTPS.
        .target(
            name: "NotiLogWeb",
            dependencies: [
                "NotiLogCore",
                "NotiLogStore",
                "NotiLogCollector",
                "NotiLogAlerts",
                "CCrypto",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The web UI's pages, styles and ES modules, served as they are (no build step).
            resources: [.copy("UI")]
        ),
        .executableTarget(
            name: "notilogctl",
            dependencies: [
                "NotiLogCore",
                "NotiLogCurl",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // libcurl with non-variadic wrappers for curl_easy_setopt/getinfo (every outbound HTTP and SMTP request).
        .target(
            name: "CCurl",
            linkerSettings: [.linkedLibrary("curl")]
        ),
        // Blocking HTTP and SMTP clients over libcurl, for the notifiers, the CLI and the agent.
        .target(
            name: "NotiLogCurl",
            dependencies: ["CCurl"]
        ),
        // Rules (model, YAML, engine with an injected clock), alert lifecycle, silences, and the notifiers
        // (Telegram, email, webhook) with their delivery worker.
        .target(
            name: "NotiLogAlerts",
            dependencies: [
                "NotiLogCore",
                "NotiLogStore",
                "NotiLogCurl",
                "CCrypto",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // libsystemd (sd_notify now; sd_journal for the agent later).
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // OpenSSL's libcrypto (SHA-256, HMAC), the system's copy.
        .systemLibrary(
            name: "CCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        // The server's configuration (YAML, NOTILOG_* variables, flags), validation, and its services in order.
        .target(
            name: "NotiLogServer",
            dependencies: [
                "NotiLogCore",
                "NotiLogStore",
                "NotiLogCollector",
                "NotiLogWeb",
                "NotiLogAlerts",
                "CSystemd",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "notilog-server",
            dependencies: [
                "NotiLogServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The agent: journald and file sources, the process/unit watcher, batching, the on-disk spool, and the
        // forwarders (the server's acknowledged HTTP ingest through libcurl; plain syslog).
        .target(
            name: "NotiLogAgent",
            dependencies: [
                "NotiLogCore",
                "NotiLogCurl",
                "CSystemd",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "notilog-agent",
            dependencies: [
                "NotiLogAgent",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers shared by the test targets (temporary directories, seeded generators, a gated store).
        .target(
            name: "NotiLogTestSupport",
            dependencies: ["NotiLogCore", "NotiLogStore"],
            path: "Tests/NotiLogTestSupport"
        ),
        .testTarget(
            name: "NotiLogCoreTests",
            dependencies: [
                "NotiLogCore",
                "NotiLogTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "NotiLogStoreTests",
            dependencies: ["NotiLogCore", "NotiLogStore", "NotiLogTestSupport"]
        ),
        .testTarget(
            name: "NotiLogCollectorTests",
            dependencies: [
                "NotiLogCore",
                "NotiLogStore",
                "NotiLogCollector",
                "NotiLogTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "NotiLogAlertsTests",
            dependencies: ["NotiLogCore", "NotiLogStore", "NotiLogAlerts", "NotiLogCurl", "NotiLogTestSupport"]
        ),
        .testTarget(
            name: "NotiLogAgentTests",
            dependencies: ["NotiLogCore", "NotiLogAgent", "NotiLogTestSupport"]
        ),
        .testTarget(
            name: "NotiLogServerTests",
            dependencies: [
                "NotiLogCore",
                "NotiLogAgent",
                "NotiLogStore",
                "NotiLogCollector",
                "NotiLogServer",
                "NotiLogAlerts",
                "NotiLogCurl",
                "NotiLogWeb",
                "NotiLogTestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
