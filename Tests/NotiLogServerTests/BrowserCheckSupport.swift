import Foundation
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The suites that drive Chromium, nested here so that they run one at a time: a browser beside the rest of the
/// suite is load enough on a 2-core machine.
@Suite("Web UI in a browser", .serialized)
enum BrowserSuites {}

/// Runs one of the `Tests/peers/ui_*_check.py` scripts (Playwright driving Debian's headless Chromium) against
/// a real `notilog-server` started for it, and records a test issue when the script reports a failed check.
/// Every script takes `ui_common.py`'s arguments: the UI's URL, the syslog TCP port, the admin's name and
/// password, and where to write screenshots (`test-output/ui-screenshots`, git-ignored).
enum BrowserCheck {
    static let chromium = "/usr/bin/chromium"
    static let password = "browser test password 1"

    /// Why the browser tests cannot run here, or nil. `scripts/setup` installs what is missing (once).
    static let missing: String? = {
        func check() -> String? {
            guard FileManager.default.isExecutableFile(atPath: chromium) else { return "no \(chromium) (Debian's chromium package)" }
            let python = Peers.packageRoot + "/.peers/python/bin/python"
            guard (try? Peers.runProgram(python, ["-c", "import playwright.sync_api"]).status) == 0 else {
                return "no playwright in \(python)"
            }
            return nil
        }
        if check() != nil { _ = try? Peers.runProgram(Peers.packageRoot + "/scripts/setup", []) }
        let reason = check()
        if let reason {
            FileHandle.standardError.write(Data("Web UI browser tests skipped: \(reason); run scripts/setup (as root) to install it\n".utf8))
        }
        return reason
    }()

    /// Starts a server (fresh data directory, `config` as its YAML file when given), runs `script` with the
    /// shared arguments and `scriptArguments`, and expects exit status 0.
    static func run(
        _ script: String, config: String? = nil, serverArguments: [String] = [], scriptArguments: [String] = [],
        environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let dir = TemporaryDirectory()
        var arguments = ["--data-dir", dir.path + "/data", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0"]
        if let config {
            try config.write(toFile: dir.path + "/notilog.yaml", atomically: true, encoding: .utf8)
            arguments += ["--config", dir.path + "/notilog.yaml"]
        }
        var env = environment
        env["NOTILOG_ADMIN_PASSWORD"] = password
        let child = try ChildProcess(try serverExecutable(), arguments + serverArguments, environment: env)
        defer { child.stop() }
        let ready = try await child.waitForOutput { httpPort(in: $0) != nil && listenerPorts(in: $0)["tcp"] != nil }
        guard ready, let http = httpPort(in: child.text), let tcp = listenerPorts(in: child.text)["tcp"] else {
            Issue.record("notilog-server did not get ready:\n\(child.text)", sourceLocation: sourceLocation)
            return
        }
        let screenshots = Peers.packageRoot + "/test-output/ui-screenshots"
        let python = Peers.packageRoot + "/.peers/python/bin/python"
        let name = (script as NSString).deletingPathExtension
        let all = [
            "-B", Peers.peersDirectory + "/" + script, "--url", "http://127.0.0.1:\(http)", "--syslog-tcp", "\(tcp)",
            "--username", "admin", "--password", password, "--screenshots", screenshots, "--chromium", chromium,
        ] + scriptArguments
        // Spawned and reaped by its PID; killed if it runs past a generous bound (a hung browser must not hang the suite).
        let outputPath = dir.path + "/\(name).out"
        let errorPath = dir.path + "/\(name).err"
        let pid = try Peers.spawn(python, all, stdoutPath: outputPath, stderrPath: errorPath)
        let status = try await Peers.waitForExit(pid, seconds: 600)
        let output = ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
        print("\(script) (screenshots in \(screenshots)):\n\(output)")
        #expect(
            status == 0, "\(script) exited \(status.map(String.init) ?? "killed after 600 s"):\n\(output)\n--- server\n\(child.text.suffix(4000))",
            sourceLocation: sourceLocation)
        child.signal(SIGTERM)
        _ = try await child.waitForExit(seconds: 20)
    }
}
