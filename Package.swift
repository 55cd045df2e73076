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
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Records, syslog parsers, framers, the RFC 5424 formatter, the query language. No I/O.
        .target(
            name: "NotiLogCore",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "notilogctl",
            dependencies: [
                "NotiLogCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "NotiLogCoreTests",
            dependencies: [
                "NotiLogCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
