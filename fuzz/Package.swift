// swift-tools-version:6.0
import PackageDescription

// libFuzzer target for the syslog framer and parser. Build and run with `fuzz/run.sh SECONDS`
// (`make fuzz`, `make fuzz-smoke`); it needs `-sanitize=fuzzer,address -parse-as-library`, which run.sh passes.
let package = Package(
    name: "NotiLogFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "NotiLog", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "SyslogFuzzer",
            dependencies: [
                .product(name: "NotiLogCore", package: "NotiLog"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // SyslogFuzzInvariants.swift links to Tests/NotiLogCoreTests/FuzzRegressionTests.swift: one set of
            // invariants for the fuzzer and the replay tests; this define leaves out its Swift Testing part.
            swiftSettings: [.define("NOTILOG_FUZZER")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
