import Foundation
import NotiLogTestSupport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// An `AF_UNIX` datagram socket standing in for systemd's `NOTIFY_SOCKET`: collects what `sd_notify` sends.
final class NotifySocket: Sendable {
    let path: String
    private let fd: Int32

    init(directory: String) throws {
        path = directory + "/notify.sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        precondition(bytes.count < MemoryLayout.size(ofValue: addr.sun_path))
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        if rc != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Messages received within `seconds`, until one contains `until`.
    func receive(until: String, seconds: Int32 = 20) -> [String] {
        var messages: [String] = []
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let deadline = Date().addingTimeInterval(Double(seconds))
        while Date() < deadline {
            // A signal (a child of the test process ending) interrupts poll: not an end.
            if poll(&pfd, 1, 200) < 0 {
                if errno == EINTR { continue }
                break
            }
            guard pfd.revents & Int16(POLLIN) != 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { continue }
            let text = String(decoding: buffer[..<n], as: UTF8.self)
            messages.append(text)
            if text.contains(until) { break }
        }
        return messages
    }

    deinit { close(fd) }
}

/// A child process whose output (stdout and stderr) is collected; stopped by its PID.
///
/// Spawned with `posix_spawn` and a clean signal state (nothing blocked or ignored, as systemd starts services):
/// `Foundation.Process` hands the child the signal mask of the thread that spawns it, and a test's threads block
/// SIGTERM, so a child like rsyslogd would never see it.
final class ChildProcess {
    let pid: pid_t
    private let output = OutputBuffer()
    private let reader: FileHandle
    private var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        // Close-on-exec: children started later (by other tests) must not hold this pipe open, or this child's
        // output would not end when it exits.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var attributes = cleanSignalSpawnAttributes()
        defer { posix_spawnattr_destroy(&attributes) }

        // The child sees none of this machine's NotiLog settings, only the test's.
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("NOTILOG_") && $0.key != "STATE_DIRECTORY" && $0.key != "NOTIFY_SOCKET"
        }
        env.merge(environment) { _, new in new }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EIO)
        }
        pid = child
        reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
        let output = self.output
        reader.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                output.finish()
                return
            }
            output.append(String(decoding: data, as: UTF8.self))
        }
    }

    var text: String { output.text }

    /// False once the child has exited (and been reaped).
    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return true }
        // Exited: its code; killed by a signal: 128 + the signal, as a shell reports it.
        exitStatus = Peers.exitCode(fromWaitStatus: status)
        return false
    }

    /// Waits for output that satisfies `match`, or gives up after `seconds`.
    func waitForOutput(seconds: Double = 30, _ match: (String) -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if match(text) { return true }
            if !isRunning { return match(text) }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// The exit status once the child exits (with all its output read), or nil if it still runs after `seconds`.
    func waitForExit(seconds: Double = 30) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while isRunning {
            if Date() > deadline { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        while !output.finished, Date() < deadline + 5 { try await Task.sleep(for: .milliseconds(10)) }
        return exitStatus
    }

    func signal(_ sig: Int32) {
        if isRunning { kill(pid, sig) }
    }

    /// Makes sure the child is gone (by its PID).
    func stop() {
        guard isRunning else { return }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        exitStatus = 128 + SIGKILL
    }

    deinit { stop() }
}

/// Text collected from a pipe.
final class OutputBuffer: Sendable {
    private let state = Mutex((text: "", finished: false))

    func append(_ s: String) { state.withLock { $0.text += s } }
    func finish() { state.withLock { $0.finished = true } }
    var text: String { state.withLock { $0.text } }
    var finished: Bool { state.withLock { $0.finished } }
}

/// The built `notilog-server`, beside the test bundle in the build products directory.
func serverExecutable() throws -> String {
    var candidates: [URL] = []
    let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
    candidates.append(exe.deletingLastPathComponent())
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent()) }
    for dir in candidates {
        var d = dir
        // On Linux the tests run from `<products>/NotiLogPackageTests.xctest`; elsewhere from inside a bundle.
        for _ in 0..<4 {
            let path = d.appendingPathComponent("notilog-server").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
            d = d.deletingLastPathComponent()
        }
    }
    throw POSIXError(.ENOENT, userInfo: [NSLocalizedDescriptionKey: "notilog-server not found beside the tests; build it first (swift build --build-tests)"])
}

/// Runs a program to completion with an environment added to this one; returns its exit status. Its output goes
/// to the test's. Spawned with `posix_spawn` (`Peers.runToCompletion`), not `Foundation.Process`, whose `run()`
/// once crashed under load.
@discardableResult
func runProgram(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
    try Peers.runToCompletion(
        executable, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
        captureOutput: false
    ).status
}

/// `listener.protocol=tcp listener.address=127.0.0.1:40123` from the server's "syslog listener ready" lines.
func listenerPorts(in output: String) -> [String: Int] {
    var ports: [String: Int] = [:]
    for line in output.split(separator: "\n") where line.contains("syslog listener ready") {
        guard let proto = line.firstMatch(of: /listener\.protocol=(\w+)/)?.output.1,
            let port = line.firstMatch(of: /listener\.address=\S+:(\d+)/)?.output.1
        else { continue }
        ports[String(proto)] = Int(port)
    }
    return ports
}

/// Sends `text` over TLS with openssl's client (which sends its standard input and stops at its end), trusting `ca`.
func sendOverTLS(_ text: String, port: Int, ca: String) throws {
    let input = FileManager.default.temporaryDirectory.appendingPathComponent("tls-input-\(UUID().uuidString)").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: input))
    defer { try? FileManager.default.removeItem(atPath: input) }
    let pid = try Peers.spawn(
        "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", ca, "-quiet", "-no_ign_eof"], stdinPath: input)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
}
