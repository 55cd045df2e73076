// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "NotiLog",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "notilogctl", targets: ["notilogctl"]),
        .library(name: "NotiLogCore", targets: ["NotiLogCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
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
        .executableTarget(
            name: "notilogctl",
            dependencies: [
                "NotiLogCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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
    ],
    swiftLanguageModes: [.v6]
)
