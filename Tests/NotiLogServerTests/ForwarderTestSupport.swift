import Foundation
import Logging
import NotiLogCollector
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import ServiceLifecycle

@testable import NotiLogServer

#if canImport(Glibc)
import Glibc
#endif

// Helpers for the tests that run real forwarders (rsyslog, syslog-ng) against an in-process NotiLog server.

/// The repository's root directory (this file is `Tests/NotiLogServerTests/ForwarderTestSupport.swift`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path

// MARK: - Reading back

/// The records a query finds, oldest first, read through the HTTP API (`GET /api/v1/logs`, following the `next`
/// cursors) — once at least `n` are there and a moment has passed for anything that would come after them (a
/// duplicate shows as an extra record); what there is when `timeout` passes otherwise.
func readBack(_ services: ServerServices, query: String, expecting n: Int, timeout: Duration = .seconds(60)) async throws -> [ReadRecord] {
    let api = try await TestAPI(services)
    func all() async throws -> [ReadRecord] { try await api.records(query).map(ReadRecord.init) }
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var records = try await all()
    while records.count < n, clock.now < deadline {
        try await Task.sleep(for: .milliseconds(50))
        records = try await all()
    }
    // Several batch delays (20 ms in these tests): a duplicate sent right after the last record is committed by then.
    try await Task.sleep(for: .milliseconds(500))
    return try await all()
}

/// A record as the HTTP API gave it: its JSON object without the `id`.
struct ReadRecord: @unchecked Sendable, CustomStringConvertible {
    let json: [String: Any]

    init(_ object: [String: Any]) {
        var json = object
        json["id"] = nil
        self.json = json
    }

    var message: String { json["message"] as? String ?? "" }
    var problems: [Any] { json["problems"] as? [Any] ?? [] }
    var receivedAt: SyslogTimestamp { (json["received_at"] as? String).flatMap(SyslogTimestamp.init(rfc3339:)) ?? SyslogTimestamp(seconds: 0) }
    var description: String {
        (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "\(json)"
    }

    /// True when the API gave exactly the JSON this record has (every field, as `notilogctl parse --json` prints it).
    static func == (lhs: ReadRecord, rhs: LogRecord) -> Bool {
        guard let expected = try? JSONSerialization.jsonObject(with: Data(rhs.jsonBytes())) as? [String: Any] else { return false }
        return NSDictionary(dictionary: lhs.json).isEqual(to: expected)
    }
}

// MARK: - The server

/// A NotiLog server in this process, as `notilog-server run` builds it, listening for syslog on 127.0.0.1 over
/// UDP and TCP and for HTTP on 127.0.0.1 (ports chosen by the system).
struct ForwardingServer {
    let services: ServerServices
    let group: ServiceGroup
    let running: Task<Void, Error>
    let tcpPort: Int
    let udpPort: Int
    let httpPort: Int

    /// Starts it with its data in `dataDir` and returns once the listeners are bound. Times without a zone
    /// (RFC 3164) are read as UTC, the zone the peers in these tests run in.
    static func start(dataDir: String) async throws -> ForwardingServer {
        let configuration = ServerConfiguration(
            dataDir: dataDir, listeners: [.init(udp: "127.0.0.1:0"), .init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0",
            ingest: .init(batchDelay: "20ms"), timeZone: "UTC")
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(configuration: configuration, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let running = Task { try await group.run() }
        let bound = await services.readiness.ready()
        guard let tcp = bound.listeners.first(where: { $0.transport == .tcp }), let udp = bound.listeners.first(where: { $0.transport == .udp })
        else {
            await group.triggerGracefulShutdown()
            throw POSIXError(.EADDRNOTAVAIL, userInfo: [NSLocalizedDescriptionKey: "the server did not bind UDP and TCP: \(bound)"])
        }
        return ForwardingServer(
            services: services, group: group, running: running, tcpPort: tcp.address.port, udpPort: udp.address.port,
            httpPort: bound.http.port)
    }

    /// Stops it gracefully (everything received is committed).
    func stop() async throws {
        await group.triggerGracefulShutdown()
        try await running.value
    }
}

// MARK: - Peers

/// syslog-ng, unpacked by `scripts/setup` from Debian's syslog-ng-core into `.peers/syslog-ng` (as a package it
/// conflicts with rsyslog). It runs from there with its libraries and modules pointed at that directory, as root
/// or not (`--no-caps`), never as the machine's service.
enum SyslogNg {
    static let root = repositoryRoot + "/.peers/syslog-ng"
    static let executable = root + "/usr/sbin/syslog-ng"

    /// The version its configuration declares (`@version:`), from the name of its module directory
    /// (`usr/lib/syslog-ng/3.38`).
    static var version: String? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/usr/lib/syslog-ng")) ?? []
        return names.filter { $0.wholeMatch(of: /[0-9]+\.[0-9]+/) != nil }.max { $0.compare($1, options: .numeric) == .orderedAscending }
    }

    static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: executable) && version != nil }

    static var modulePath: String { root + "/usr/lib/syslog-ng/" + (version ?? "") }

    /// Its own shared libraries (libsyslog-ng, libevtlog) are beside its modules, not where its RUNPATH says; its
    /// local time (BSD-format timestamps) is UTC.
    static var environment: [String: String] { ["LD_LIBRARY_PATH": root + "/usr/lib/syslog-ng", "TZ": "UTC"] }

    /// Checks a configuration without starting (`--syntax-only`); returns the exit status.
    static func checkSyntax(of config: String) throws -> Int32 {
        try runProgram(executable, ["--module-path=\(modulePath)", "--syntax-only", "-f", config], environment: environment)
    }

    /// Writes `config` (after an `@version:` line) to `dir/syslog-ng.conf` and starts syslog-ng in the foreground
    /// with its pid, control and persist files in `dir`, its own messages on stderr; returns once it has started.
    ///
    ///     syslog-ng --module-path=DIR/usr/lib/syslog-ng/3.38 -F --no-caps --stderr
    ///         -f CONF -p PIDFILE -c CTLFILE -R PERSISTFILE
    static func start(config: String, in dir: String) async throws -> ChildProcess {
        let path = dir + "/syslog-ng.conf"
        try "@version: \(version ?? "")\n\(config)".write(toFile: path, atomically: true, encoding: .utf8)
        let process = try ChildProcess(
            executable,
            [
                "--module-path=\(modulePath)", "-F", "--no-caps", "--stderr", "-f", path, "-p", dir + "/syslog-ng.pid",
                "-c", dir + "/syslog-ng.ctl", "-R", dir + "/syslog-ng.persist",
            ],
            environment: environment)
        guard try await process.waitForOutput({ $0.contains("syslog-ng starting up") }) else {
            process.stop()
            throw POSIXError(.ECHILD, userInfo: [NSLocalizedDescriptionKey: "syslog-ng did not start: \(process.text)"])
        }
        return process
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago (for a peer's input, which must be chosen before it starts).
func freeLoopbackPort() throws -> Int {
    Peers.closedPort()
}

/// The port a peer wrote to `path` (rsyslog's `listenPortFileName`), once it is there.
func waitForPortFile(_ path: String, of peer: ChildProcess, seconds: Double = 30) async throws -> Int {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline, peer.isRunning {
        if let text = try? String(contentsOfFile: path, encoding: .utf8),
            let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), port > 0
        {
            return port
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw POSIXError(.ETIMEDOUT, userInfo: [NSLocalizedDescriptionKey: "no port in \(path): \(peer.text)"])
}

/// A connection to a peer's TCP input on 127.0.0.1, retried while the peer is still getting ready to accept.
func connectToPeer(_ peer: ChildProcess, port: Int, seconds: Double = 10) async throws -> TestSocket {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        do {
            return try TestSocket(tcpPort: port)
        } catch where Date() < deadline && peer.isRunning {
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

// MARK: - Writing test messages

/// `2026-10-16T20:17:29.123+01:00`: an instant written as RFC 3339 in a UTC offset, with 0...6 fraction digits.
func rfc3339(seconds: Int64, microseconds: Int32 = 0, fractionDigits: Int = 0, offsetMinutes: Int = 0) -> String {
    let local = SyslogTimestamp(
        seconds: seconds + Int64(offsetMinutes) * 60, nanoseconds: microseconds * 1000, fractionDigits: Int8(fractionDigits))
    let zone = offsetMinutes == 0 ? "Z" : (offsetMinutes > 0 ? "+" : "-") + String(format: "%02d:%02d", abs(offsetMinutes) / 60, abs(offsetMinutes) % 60)
    return String(local.description.dropLast()) + zone
}

/// `Oct  6 20:17:29`: an instant as RFC 3164 writes it in UTC (no year, the day padded with a space).
func bsdTimestamp(seconds: Int64) -> String {
    let text = SyslogTimestamp(seconds: seconds).description  // 2026-10-06T20:17:29Z
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let parts = text.split(separator: "T")
    let date = parts[0].split(separator: "-")
    let day = Int(date[2]) ?? 0
    return "\(months[(Int(date[1]) ?? 1) - 1]) \(day < 10 ? " " : "")\(day) \(parts[1].dropLast())"
}
