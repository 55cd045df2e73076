// swift-tools-version:6.1
import PackageDescription

// Parser, framer and formatter benchmarks (ordo-one/benchmark). Run with `make bench` (bench/run.sh);
// figures and what each benchmark measures are in bench/README.md.
let package = Package(
    name: "NotiLogBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "NotiLog", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // The labelled inputs, shared by the benchmarks and the grep/wc baseline files.
        .target(
            name: "BenchInputs",
            dependencies: [.product(name: "NotiLogCore", package: "NotiLog")]
        ),
        // Writes each labelled input to a file, one message a line, for the `grep -c` / `wc -l` baseline.
        .executableTarget(
            name: "write-bench-inputs",
            dependencies: ["BenchInputs"]
        ),
        .executableTarget(
            name: "ParserBenchmarks",
            dependencies: [
                "BenchInputs",
                .product(name: "NotiLogCore", package: "NotiLog"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/ParserBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
