import Foundation
import NotiLogTestSupport
import Testing

/// `notilogctl user ...` against a real `notilog-server`, passwords given on standard input.
@Suite("notilogctl user", .serialized)
struct UserCtlTests {
    /// Runs `notilogctl` with `stdin` as its standard input (admin token, the server's URL).
    static func ctl(_ server: CtlTestServer, _ arguments: [String], stdin: String? = nil, token: String? = nil) async throws -> CtlResult {
        let dir = server.clientDirectory.path
        let id = UUID().uuidString
        let inPath = dir + "/.in-\(id)", outPath = dir + "/.out-\(id)", errPath = dir + "/.err-\(id)"
        defer {
            for p in [inPath, outPath, errPath] { try? FileManager.default.removeItem(atPath: p) }
        }
        if let stdin { try stdin.write(toFile: inPath, atomically: true, encoding: .utf8) }
        let environment = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": dir, "NOTILOG_SERVER": server.url,
            "NOTILOG_TOKEN": token ?? server.adminToken,
        ]
        let pid = try Peers.spawn(
            try ctlExecutable(), arguments, environment: environment, directory: dir, stdinPath: stdin == nil ? nil : inPath,
            stdoutPath: outPath, stderrPath: errPath)
        guard let status = try await Peers.waitForExit(pid, seconds: 60) else { throw POSIXError(.ETIMEDOUT) }
        return CtlResult(
            status: status, stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// Status of `POST /api/v1/session` with these credentials.
    static func signIn(_ server: CtlTestServer, _ user: String, _ password: String) async throws -> Int {
        let port = Int(server.url.split(separator: ":").last!)!
        var browser = Browser(port: port)
        return try await browser.signIn(user, password).status
    }

    @Test func addListPasswdDisableEnable() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }

        let added = try await Self.ctl(server, ["user", "add", "alice", "--role", "editor", "--password-stdin"], stdin: "alice's password 1\n")
        #expect(added.status == 0, "\(added)")
        #expect(added.stdout.contains("Added user alice (editor)"))
        #expect(try await Self.signIn(server, "alice", "alice's password 1") == 201)

        let list = try await Self.ctl(server, ["user", "list"])
        #expect(list.status == 0, "\(list)")
        #expect(list.lines.first?.hasPrefix("NAME") == true)
        #expect(list.lines.contains { $0.hasPrefix("admin ") && $0.contains("admin") && $0.contains("enabled") })
        #expect(list.lines.contains { $0.hasPrefix("alice ") && $0.contains("editor") })

        let passwd = try await Self.ctl(server, ["user", "passwd", "alice", "--password-stdin"], stdin: "alice's password 2")
        #expect(passwd.status == 0, "\(passwd)")
        #expect(try await Self.signIn(server, "alice", "alice's password 1") == 401)
        #expect(try await Self.signIn(server, "alice", "alice's password 2") == 201)

        #expect(try await Self.ctl(server, ["user", "disable", "alice"]).status == 0)
        #expect(try await Self.signIn(server, "alice", "alice's password 2") == 401)
        let json = try await Self.ctl(server, ["user", "list", "--json"])
        let users = try #require((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["users"] as? [[String: Any]])
        #expect(users.first { $0["username"] as? String == "alice" }?["disabled"] as? Bool == true)
        #expect(try await Self.ctl(server, ["user", "enable", "alice"]).status == 0)
        #expect(try await Self.signIn(server, "alice", "alice's password 2") == 201)

        let role = try await Self.ctl(server, ["user", "role", "alice", "admin"])
        #expect(role.status == 0 && role.stdout.contains("alice is now an admin"), "\(role)")
        #expect(try await Self.ctl(server, ["user", "delete", "alice"]).status == 0)
        #expect(try await Self.ctl(server, ["user", "list"]).lines.allSatisfy { !$0.hasPrefix("alice ") })
    }

    @Test func refusalsSayWhy() async throws {
        let server = try await CtlTestServer.start()
        defer { server.stop() }

        let short = try await Self.ctl(server, ["user", "add", "bob", "--password-stdin"], stdin: "short\n")
        #expect(short.status == 2)
        #expect(short.stderr.contains("at least 12 characters"), "\(short)")

        // No terminal and no --password-stdin: nothing is read from anywhere else.
        let noTerminal = try await Self.ctl(server, ["user", "add", "bob"])
        #expect(noTerminal.status == 2)
        #expect(noTerminal.stderr.contains("--password-stdin"), "\(noTerminal)")

        // The last admin stays.
        let lastAdmin = try await Self.ctl(server, ["user", "disable", "admin"])
        #expect(lastAdmin.status == 2)
        #expect(lastAdmin.stderr.contains("last enabled admin"), "\(lastAdmin)")

        let unknown = try await Self.ctl(server, ["user", "disable", "nobody"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("404"), "\(unknown)")

        // A read token may not manage users.
        let created = try await Self.ctl(server, ["token", "create", "reader", "--scope", "read"])
        let readToken = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let forbidden = try await Self.ctl(server, ["user", "list"], token: readToken)
        #expect(forbidden.status == 2)
        #expect(forbidden.stderr.contains("403"), "\(forbidden)")

        // The password never shows in the process's arguments: there is no flag for it.
        let flag = try await Self.ctl(server, ["user", "add", "carol", "--password", "a long enough password"])
        #expect(flag.status == 64)
    }
}
