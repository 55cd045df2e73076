import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A test peer from `Tests/peers` (Telegram stand-in, SMTP sink, webhook receiver) running as a child process:
/// started with a port file and a record file in the test's temporary directory, stopped by its PID.
///
/// Spawned with `posix_spawn` and a clean signal state: a test's threads block signals, and `Foundation.Process`
/// would hand that mask to the child, which then could not be stopped with SIGTERM. Its stdout and stderr go to
/// `logPath`, shown when it does not start.
public final class PeerProcess: Sendable {
    public let name: String
    public let pid: pid_t
    public let port: Int
    public let recordPath: String
    public let logPath: String
    /// Kept while the peer runs: its files are in there.
    let directory: TemporaryDirectory
    private let exited = Mutex(false)

    /// Starts `arguments[0]` with `--port-file` and `--record` in `directory` added, and waits for the port.
    init(name: String, _ arguments: [String], in temporary: TemporaryDirectory, seconds: Double = 30) async throws {
        self.name = name
        directory = temporary
        let directory = temporary.path
        let portFile = "\(directory)/\(name).port"
        recordPath = "\(directory)/\(name).jsonl"
        logPath = "\(directory)/\(name).log"
        let argv = arguments + ["--port-file", portFile, "--record", recordPath]
        pid = try Self.spawn(argv, output: logPath)
        let deadline = Date().addingTimeInterval(seconds)
        var port = 0
        while Date() < deadline {
            if let text = try? String(contentsOfFile: portFile, encoding: .utf8), let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), p > 0 {
                port = p
                break
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                exited.withLock { $0 = true }
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        self.port = port
        guard port > 0 else {
            stop()
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw PeerError("\(name) did not start: \(log)")
        }
    }

    /// SIGTERM, then SIGKILL if it is still there after `seconds`; always reaped.
    public func stop(seconds: Double = 5) {
        let done = exited.withLock { e -> Bool in
            defer { e = true }
            return e
        }
        guard !done else { return }
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                return
            }
            usleep(10_000)
        }
    }

    deinit { stop() }

    /// The record file's JSON lines.
    /// Changes a running peer's scripted behaviour (`POST /control` of the Telegram stand-in), e.g. `["reset": true]`.
    public func control(_ settings: [String: Any]) async throws {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: settings), as: UTF8.self)
        let result = try Peers.runProgram(
            "/usr/bin/curl", ["-sS", "-f", "-H", "Content-Type: application/json", "-d", body, "http://127.0.0.1:\(port)/control"])
        guard result.status == 0 else { throw PeerError("\(name) /control failed: \(result.output)") }
    }

    public func records() -> [[String: Any]] {
        guard let text = try? String(contentsOfFile: recordPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }
    }

    /// The records once there are at least `count` (the peer writes a record before it answers, so after a
    /// client has its answer the record is normally there already).
    public func records(atLeast count: Int, seconds: Double = 10) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let r = records()
            if r.count >= count || Date() > deadline { return r }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func spawn(_ argv: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = cleanSignalSpawnAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, argv[0], &actions, &attributes, cArgs, environ)
        guard rc == 0 else { throw PeerError("cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        return child
    }
}

public struct PeerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Starting the peers, and what the tests around them share.
public enum Peers {
    /// The package's root directory (this file is `Tests/NotiLogAlertsTests/PeerSupport.swift`).
    public static let packageRoot: String = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    public static var peersDirectory: String { packageRoot + "/Tests/peers" }
    public static let python3 = "/usr/bin/python3"

    /// `.peers/python/bin/python` (with aiosmtpd), made by `scripts/setup` when it is not there yet.
    public static let venvPython: Result<String, PeerError> = {
        let python = packageRoot + "/.peers/python/bin/python"
        if (try? runProgram(python, ["-c", "import aiosmtpd"]).status) == 0 { return .success(python) }
        let setup = (try? runProgram(packageRoot + "/scripts/setup", []))
        if (try? runProgram(python, ["-c", "import aiosmtpd"]).status) == 0 { return .success(python) }
        return .failure(PeerError("no aiosmtpd in \(python), and scripts/setup did not make it: \(setup?.output ?? "")"))
    }()

    public static func telegram(token: String, in directory: TemporaryDirectory, _ extra: [String] = []) async throws -> PeerProcess {
        try await PeerProcess(
            name: "telegram", [python3, peersDirectory + "/telegram_standin.py", "--token", token] + extra, in: directory)
    }

    public static func webhook(in directory: TemporaryDirectory, _ extra: [String] = []) async throws -> PeerProcess {
        try await PeerProcess(name: "webhook", [python3, peersDirectory + "/webhook_receiver.py"] + extra, in: directory)
    }

    /// The SMTP sink storing into `directory/maildir`.
    public static func smtp(in directory: TemporaryDirectory, _ extra: [String] = []) async throws -> PeerProcess {
        let python = try venvPython.get()
        return try await PeerProcess(
            name: "smtp", [python, peersDirectory + "/smtp_sink.py", "--maildir", directory.path + "/maildir"] + extra, in: directory)
    }

    /// A self-signed certificate for 127.0.0.1 and localhost: (certificate, key) paths; the certificate is its own CA.
    public static func makeCertificate(in directory: String, name: String = "server") throws -> (cert: String, key: String) {
        let cert = "\(directory)/\(name)-cert.pem", key = "\(directory)/\(name)-key.pem"
        let result = try runProgram(
            "/usr/bin/openssl",
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert,
            ])
        guard result.status == 0 else { throw PeerError("openssl req failed: \(result.output)") }
        return (cert, key)
    }

    /// A loopback port nothing listens on (TCP nor UDP), for a peer to be told before anything binds it. It is
    /// taken below the ephemeral range (`ip_local_port_range`), where the kernel never hands out ports for
    /// `bind(0)` or outgoing connections, so another test cannot take it meanwhile by chance.
    public static func closedPort() -> Int {
        let range = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))?
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let low = range?.first ?? 32768
        if low > 11_000 {
            for _ in 0..<100 {
                let port = Int.random(in: 10_000..<low)
                if isFree(port, Int32(SOCK_STREAM.rawValue)) && isFree(port, Int32(SOCK_DGRAM.rawValue)) { return port }
            }
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = loopback(port: 0)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return addr
    }

    /// Whether `port` can be bound on 127.0.0.1 now (the socket is closed at once).
    private static func isFree(_ port: Int, _ type: Int32) -> Bool {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = loopback(port: port)
        return withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// Runs a blocking call (a notifier's send) on a thread outside the cooperative pool.
    public static func offThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }

    /// `offThread` for a call that throws: its error is thrown here.
    public static func offThreadThrowing<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await offThread { Result { try body() } }.get()
    }

    /// The Maildir files (`new/`) in arrival order.
    public static func maildirMessages(in directory: String) -> [String] {
        let dir = directory + "/maildir/new"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.sorted { a, b in
            // Maildir names start with seconds and microseconds: "<s>.M<us>P<pid>Q<n>.host".
            let key: (String) -> (Int, Int, Int) = { n in
                let parts = n.split(separator: ".")
                let s = Int(parts.first ?? "") ?? 0
                let m = parts.count > 1 ? String(parts[1]) : ""
                let us = Int(m.dropFirst().prefix { $0.isNumber }) ?? 0
                let q = Int(m.split(separator: "Q").last ?? "") ?? 0
                return (s, us, q)
            }
            return key(a) < key(b)
        }.map { dir + "/" + $0 }
    }

    /// A mail as Python's `email` package reads it (policy `default`): header fields decoded (RFC 2047), the body
    /// decoded (quoted-printable or base64, then UTF-8), and what it found wrong (`defects`). Another parser than
    /// the one that wrote it, so an encoding mistake shows.
    public static func parseMail(_ path: String) throws -> ParsedMail {
        let script = """
            import email, email.policy, json, sys
            raw = open(sys.argv[1], 'rb').read()
            m = email.message_from_bytes(raw, policy=email.policy.default)
            body = m.get_body(preferencelist=('plain',))
            out = {
                'headers': [[k, str(v)] for k, v in m.items()],
                # Line breaks in a mail are CRLF; a decoded body's are LF here.
                'body': body.get_content().replace('\\r\\n', '\\n') if body is not None else None,
                'defects': [type(d).__name__ for d in m.defects] + [type(d).__name__ for p in m.walk() for d in p.defects],
                'content_type': m.get_content_type(),
                'charset': m.get_content_charset(),
            }
            print(json.dumps(out))
            """
        let result = try runProgram(python3, ["-c", script, path])
        guard result.status == 0, let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any] else {
            throw PeerError("python could not parse \(path): \(result.output)")
        }
        let headers = (object["headers"] as? [[String]] ?? []).map { ($0[0], $0[1]) }
        return ParsedMail(
            headers: headers, body: object["body"] as? String ?? "", defects: object["defects"] as? [String] ?? [],
            contentType: object["content_type"] as? String ?? "", charset: object["charset"] as? String,
            raw: (try? Data(contentsOf: URL(fileURLWithPath: path))).map { [UInt8]($0) } ?? [])
    }

    /// Runs a program to completion; its stdout and stderr together.
    public static func runProgram(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try runToCompletion(executable, arguments, captureOutput: true)
    }

    /// Runs a program to completion with `posix_spawn` and a clean signal state (as `PeerProcess` starts peers),
    /// not `Foundation.Process`, whose `run()` once crashed a loaded test run (SIGSEGV in `memmove`).
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil: this process's.
    ///   - captureOutput: collect stdout and stderr (together) and return them; false: the child writes to this
    ///     process's stdout and stderr, and `output` is empty.
    /// - Returns: the exit status, or 128 + the signal that killed it (as a shell reports it); standard input is
    ///   `/dev/null`.
    public static func runToCompletion(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, captureOutput: Bool = true
    ) throws -> (status: Int32, output: String) {
        var fds: [Int32] = [-1, -1]
        if captureOutput {
            // Close-on-exec from the start (a socket pair, as Glibc's module has no pipe2): a child another test
            // spawns meanwhile must not hold the write end, or this read would not end when this child exits.
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
                throw PeerError("socketpair: \(String(cString: strerror(errno)))")
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if captureOutput {
            // dup2 clears close-on-exec on 1 and 2; the pipe's own descriptors close at exec.
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        }
        var attributes = cleanSignalSpawnAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = envp.map { envp in posix_spawn(&child, executable, &actions, &attributes, argv, envp) }
            ?? posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        if captureOutput { close(fds[1]) }
        guard rc == 0 else {
            if captureOutput { close(fds[0]) }
            throw PeerError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        var output: [UInt8] = []
        if captureOutput {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = read(fds[0], &buffer, buffer.count)
                if n > 0 {
                    output += buffer[..<n]
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            close(fds[0])
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return (exitCode(fromWaitStatus: status), String(decoding: output, as: UTF8.self))
    }
}

/// A stored mail, parsed.
public struct ParsedMail {
    /// Decoded values, in order.
    public var headers: [(name: String, value: String)]
    /// The decoded text body, line breaks as LF.
    public var body: String
    public var defects: [String]
    public var contentType: String
    public var charset: String?
    /// The bytes as stored.
    public var raw: [UInt8]

    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public func all(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }.map(\.value)
    }

    /// The raw header section (up to the first empty line), unfolded: one element per field, `Name: value`.
    public var rawHeaderFields: [String] {
        let text = String(decoding: raw, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { return [] }
        var fields: [String] = []
        for line in text[..<end.lowerBound].components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t"), !fields.isEmpty {
                fields[fields.count - 1] += line
            } else {
                fields.append(line)
            }
        }
        return fields
    }

    /// The raw lines of the whole message (split at CRLF).
    public var rawLines: [String] {
        String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n")
    }
}

/// Spawn attributes that give a child no blocked signals and default handlers: a test's threads block signals,
/// and a child inheriting that mask could not be stopped with SIGTERM. Destroy them after `posix_spawn`.
public func cleanSignalSpawnAttributes() -> posix_spawnattr_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    var none = sigset_t()
    sigemptyset(&none)
    posix_spawnattr_setsigmask(&attributes, &none)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for sig: Int32 in 1..<32 where sig != SIGKILL && sig != SIGSTOP { sigaddset(&defaults, sig) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    return attributes
}

extension Peers {
    /// Starts a program with `posix_spawn` and a clean signal state — never `Foundation.Process`, whose child
    /// monitoring (a dispatch source and a run-loop thread) crashed loaded test runs twice (SIGSEGV in `memmove`
    /// inside `Process.run()`, and in libdispatch's event loop) beside children started this way.
    ///
    /// - Parameters:
    ///   - environment: the child's whole environment; nil: this process's.
    ///   - directory: its working directory; nil: this process's.
    ///   - stdinPath, stdoutPath, stderrPath: files for its standard streams (`/dev/null` when nil; output files
    ///     are created or truncated).
    /// - Returns: its PID, to be reaped with `waitForExit`.
    public static func spawn(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdinPath: String? = nil, stdoutPath: String? = nil, stderrPath: String? = nil
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        var attributes = cleanSignalSpawnAttributes()
        defer { posix_spawnattr_destroy(&attributes) }
        // A working directory through `env -C` (Glibc's module does not export posix_spawn_file_actions_addchdir_np).
        let program = directory == nil ? executable : "/usr/bin/env"
        let words = directory.map { ["/usr/bin/env", "-C", $0, "--", executable] } ?? [executable]
        let argv = (words + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer {
            argv.forEach { free($0) }
            envp?.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = envp.map { envp in posix_spawn(&child, program, &actions, &attributes, argv, envp) }
            ?? posix_spawn(&child, program, &actions, &attributes, argv, environ)
        guard rc == 0 else { throw PeerError("cannot start \(executable): \(String(cString: strerror(rc)))") }
        return child
    }

    /// A `waitpid` status as a shell reports it: the exit code, or 128 + the signal that ended the process.
    public static func exitCode(fromWaitStatus status: Int32) -> Int32 {
        status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    /// Reaps `pid` once it exits and returns its status (128 + signal when a signal ended it); after `seconds` it
    /// is killed (SIGKILL), reaped, and nil is returned.
    public static func waitForExit(_ pid: pid_t, seconds: Double) async throws -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        var status: Int32 = 0
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return exitCode(fromWaitStatus: status) }
            if r < 0 && errno != EINTR { return nil }
            if Date() > deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return nil
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
