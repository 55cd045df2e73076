import Foundation
import NotiLogTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The built `notilogctl`, beside `notilog-server` in the build products directory.
func ctlExecutable() throws -> String {
    let path = URL(fileURLWithPath: try serverExecutable()).deletingLastPathComponent().appendingPathComponent("notilogctl").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "notilogctl not found at \(path); build it first (swift build --build-tests)"])
    }
    return path
}

/// What one `notilogctl` run printed, and how it exited.
struct CtlResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    /// Standard output's lines (without the empty one after the last newline).
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs `notilogctl` to completion in `directory` (its working directory and `HOME`), with only `PATH` and
/// `environment` set: none of this machine's NotiLog settings, proxies or `~/.config/notilog/ctl.yaml` reach it.
func runCtl(_ arguments: [String], in directory: String, environment: [String: String] = [:], seconds: Double = 60) async throws -> CtlResult {
    let id = UUID().uuidString
    let outPath = directory + "/.ctl-\(id).out"
    let errPath = directory + "/.ctl-\(id).err"
    defer {
        try? FileManager.default.removeItem(atPath: outPath)
        try? FileManager.default.removeItem(atPath: errPath)
    }
    let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": directory].merging(environment) { _, new in new }
    let pid = try Peers.spawn(
        try ctlExecutable(), arguments, environment: environment, directory: directory, stdoutPath: outPath, stderrPath: errPath)
    guard let status = try await Peers.waitForExit(pid, seconds: seconds) else {
        throw POSIXError(.ETIMEDOUT, userInfo: [NSLocalizedDescriptionKey: "notilogctl \(arguments) ran longer than \(seconds) s"])
    }
    return CtlResult(
        status: status,
        stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
        stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
}

/// `http.address=127.0.0.1:40125` from the server's "HTTP API ready" line.
func httpPort(in output: String) -> Int? {
    for line in output.split(separator: "\n") where line.contains("HTTP API ready") {
        if let port = line.firstMatch(of: /http\.address=\S+:(\d+)/)?.output.1 { return Int(port) }
    }
    return nil
}

/// A `notilog-server` child on loopback ports 0 with its data in `<directory>/data`, stopped by its PID when released.
final class CtlTestServer {
    /// Holds `data/` (so `./data/admin.token` is found when `notilogctl` runs here).
    let directory: TemporaryDirectory
    /// An empty directory where `notilogctl` runs by default: no `./data/admin.token` in it.
    let clientDirectory = TemporaryDirectory()
    let child: ChildProcess
    let url: String
    let tcpPort: Int
    let adminToken: String
    var adminTokenFile: String { directory.path + "/data/admin.token" }

    private init(directory: TemporaryDirectory, child: ChildProcess, url: String, tcpPort: Int, adminToken: String) {
        self.directory = directory
        self.child = child
        self.url = url
        self.tcpPort = tcpPort
        self.adminToken = adminToken
    }

    /// `config`: server.yaml text (rules, channels); the flags set the data directory and ports.
    static func start(config: String? = nil) async throws -> CtlTestServer {
        let directory = TemporaryDirectory()
        var arguments = ["--data-dir", directory.path + "/data", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0"]
        if let config {
            try config.write(toFile: directory.path + "/server.yaml", atomically: true, encoding: .utf8)
            arguments += ["--config", directory.path + "/server.yaml"]
        }
        let child = try ChildProcess(try serverExecutable(), arguments)
        let ready = try await child.waitForOutput { httpPort(in: $0) != nil && listenerPorts(in: $0)["tcp"] != nil }
        guard ready, let http = httpPort(in: child.text), let tcp = listenerPorts(in: child.text)["tcp"] else {
            child.stop()
            throw POSIXError(.EIO, userInfo: [NSLocalizedDescriptionKey: "notilog-server did not get ready:\n\(child.text)"])
        }
        let tokenFile = directory.path + "/data/admin.token"
        var token = ""
        let deadline = Date().addingTimeInterval(10)
        while token.isEmpty, Date() < deadline {
            token = ((try? String(contentsOfFile: tokenFile, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            if token.isEmpty { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard !token.isEmpty else {
            child.stop()
            throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "no admin token in \(tokenFile):\n\(child.text)"])
        }
        return CtlTestServer(directory: directory, child: child, url: "http://127.0.0.1:\(http)", tcpPort: tcp, adminToken: token)
    }

    /// Sends syslog messages over one TCP connection (octet-counted) and waits until the server has read them.
    func send(_ messages: [String]) throws {
        let socket = try TestSocket(tcpPort: tcpPort)
        var stream: [UInt8] = []
        for m in messages { stream += Array("\(m.utf8.count) \(m)".utf8) }
        try socket.send(stream)
        _ = socket.finish()
    }

    /// Which token a `notilogctl` run gets (through `NOTILOG_TOKEN`).
    enum Auth {
        case admin
        case token(String)
        /// None given: `notilogctl` looks for one itself (ctl.yaml, ./data/admin.token).
        case none
    }

    /// Runs `notilogctl` against this server (through `NOTILOG_SERVER`), by default in `clientDirectory`.
    func ctl(_ arguments: [String], auth: Auth = .admin, environment: [String: String] = [:], in directory: String? = nil) async throws -> CtlResult {
        var env = ["NOTILOG_SERVER": url]
        switch auth {
        case .admin: env["NOTILOG_TOKEN"] = adminToken
        case .token(let token): env["NOTILOG_TOKEN"] = token
        case .none: break
        }
        env.merge(environment) { _, new in new }
        return try await runCtl(arguments, in: directory ?? clientDirectory.path, environment: env)
    }

    /// Waits until a search for `query` finds at least `count` records; returns how many it found last.
    @discardableResult
    func waitForRecords(_ count: Int, query: String = "", seconds: Double = 30) async throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let found = try await ctl(["search", query, "--json", "--limit", "0"]).lines.count
            if found >= count || Date() > deadline { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    func stop() { child.stop() }

    deinit { child.stop() }
}
