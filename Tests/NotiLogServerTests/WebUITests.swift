import Foundation
import NotiLogServer
import NotiLogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The web UI's files as the server serves them: content types, the security headers on every answer, caching,
/// and that no request path reaches the file system.
@Suite("Web UI files", .serialized)
struct WebUIFileTests {
    static let csp =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

    static func expectSecurityHeaders(_ answer: TestAPI.Answer, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.headers["content-security-policy"] == csp, "\(path)", sourceLocation: sourceLocation)
        #expect(answer.headers["x-content-type-options"] == "nosniff", "\(path)", sourceLocation: sourceLocation)
        #expect(answer.headers["referrer-policy"] == "same-origin", "\(path)", sourceLocation: sourceLocation)
    }

    @Test("pages are HTML with the CSP header and no inline script")
    func pages() async throws {
        let dir = TemporaryDirectory()
        let server = try await SessionTests.start(dir)
        defer { Task { try? await server.stop() } }
        let browser = server.browser()
        for (path, script) in [("/", "/assets/search.js"), ("/search", "/assets/search.js"), ("/login", "/assets/login.js")] {
            let answer = try await browser.request("GET", path)
            #expect(answer.status == 200, "\(path): \(answer.text)")
            #expect(answer.headers["content-type"] == "text/html; charset=utf-8", "\(path)")
            #expect(answer.headers["cache-control"] == "no-cache", "\(path)")
            Self.expectSecurityHeaders(answer, path)
            let html = answer.text
            #expect(html.contains(#"<script type="module" src="\#(script)"></script>"#), "\(path)")
            // Every script comes from a file, and no element carries an event handler attribute.
            let scripts = html.matches(of: /<script\b[^>]*>/).map { String($0.output) }
            #expect(!scripts.isEmpty && scripts.allSatisfy { $0.contains(#"src="/assets/"#) }, "\(path): \(scripts)")
            #expect(html.firstMatch(of: /(?i)\son[a-z]+\s*=/) == nil, "\(path) has an inline event handler")
            #expect(html.firstMatch(of: /(?i)<style\b|\sstyle\s*=/) == nil, "\(path) has inline styles")
        }
        // The pages need no session (their scripts ask for one); the API still does.
        #expect(try await browser.request("GET", "/api/v1/logs").status == 401)
        try await server.stop()
    }

    @Test("assets have their content types, validators and the security headers")
    func assets() async throws {
        let dir = TemporaryDirectory()
        let server = try await SessionTests.start(dir)
        defer { Task { try? await server.stop() } }
        let browser = server.browser()
        let expected = [
            "app.css": "text/css; charset=utf-8", "common.js": "text/javascript; charset=utf-8",
            "search.js": "text/javascript; charset=utf-8", "login.js": "text/javascript; charset=utf-8",
            "theme.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml",
        ]
        for (name, type) in expected.sorted(by: { $0.key < $1.key }) {
            let path = "/assets/" + name
            let answer = try await browser.request("GET", path)
            #expect(answer.status == 200, "\(path)")
            #expect(answer.headers["content-type"] == type, "\(path)")
            Self.expectSecurityHeaders(answer, path)
            let etag = try #require(answer.headers["etag"], "\(path) has no ETag")
            #expect(answer.headers["cache-control"] == "no-cache", "\(path)")
            let again = try await browser.request("GET", path, headers: ["If-None-Match": etag])
            #expect(again.status == 304, "\(path)")
            #expect(again.body.isEmpty, "\(path)")
        }
        try await server.stop()
    }

    static let notServed = [
        "/assets/nothing.js", "/assets/", "/assets/../Package.swift", "/assets/..%2FPackage.swift", "/assets/..%2fPackage.swift",
        "/assets/%2e%2e/Package.swift", "/assets/%2e%2e%2fPackage.swift", "/assets/%2E%2E%2F%2E%2E%2FPackage.swift",
        "/assets/..%5cPackage.swift", "/assets/....//Package.swift", "/assets//etc/passwd", "/assets/%2fetc%2fpasswd",
        "/assets/..", "/assets/%00", "/assets/app.css%00.js", "/assets/../../../../etc/passwd", "/assets/UI/search.html",
        "/assets/../search.html", "/assets/.%2e/.%2e/Package.swift", "/Package.swift", "/UI/search.html", "/search.html",
    ]

    @Test("unknown assets and path traversal are 404s")
    func traversal() async throws {
        let dir = TemporaryDirectory()
        let server = try await SessionTests.start(dir)
        defer { Task { try? await server.stop() } }
        for path in Self.notServed {
            // Sent as is, over a plain socket: an HTTP client library would tidy the path first.
            let (status, body) = try Self.rawGET(path, port: server.port)
            #expect(status == 404, "\(path): \(status) \(body.prefix(200))")
            #expect(!body.contains("PackageDescription") && !body.contains("root:") && !body.contains("<html"), "\(path)")
        }
        try await server.stop()
    }

    @Test("the scripts never turn text into markup")
    func scriptsUseTextOnly() async throws {
        let assets = Peers.packageRoot + "/Sources/NotiLogWeb/UI/assets"
        let names = try FileManager.default.contentsOfDirectory(atPath: assets).filter { $0.hasSuffix(".js") }
        #expect(names.count >= 4)
        for name in names {
            let text = try String(contentsOfFile: assets + "/" + name, encoding: .utf8)
            for banned in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "javascript:"] {
                #expect(!text.contains(banned), "\(name) uses \(banned)")
            }
        }
    }

    /// `GET path HTTP/1.1` over a socket to 127.0.0.1; the status and the body (all that came after the head).
    static func rawGET(_ path: String, port: Int) throws -> (Int, String) {
        let socket = try TestSocket(tcpPort: port)
        try socket.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket.fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let n = recv(socket.fd, &buffer, buffer.count, 0)
            if n > 0 {
                received += buffer[..<n]
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                break
            }
        }
        let text = String(decoding: received, as: UTF8.self)
        guard let line = text.split(separator: "\r\n").first, let code = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw PeerError("no HTTP answer for \(path): \(text.prefix(200))")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return (code, body)
    }
}

/// The UI in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright (from PyPI, in
/// `.peers/python`) through `Tests/peers/ui_browser_check.py`, against the real `notilog-server` binary fed over
/// syslog. Screenshots go to `test-output/ui-screenshots` (git-ignored); the script prints its checks.
@Suite("Web UI in a browser", .serialized)
struct WebUIBrowserTests {
    static let chromium = "/usr/bin/chromium"

    /// Why the browser test cannot run here, or nil. `scripts/setup` installs what is missing (once).
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
            FileHandle.standardError.write(Data("Web UI browser test skipped: \(reason); run scripts/setup (as root) to install it\n".utf8))
        }
        return reason
    }()

    @Test(
        "sign in, search, expand hostile records, scroll, sign out",
        .enabled(if: missing == nil, "needs /usr/bin/chromium and playwright in .peers/python (scripts/setup installs both)"))
    func browserFlow() async throws {
        let dir = TemporaryDirectory()
        let password = "browser test password 1"
        let child = try ChildProcess(
            try serverExecutable(),
            ["--data-dir", dir.path + "/data", "--tcp", "127.0.0.1:0", "--udp", "127.0.0.1:0", "--http", "127.0.0.1:0"],
            environment: ["NOTILOG_ADMIN_PASSWORD": password])
        defer { child.stop() }
        let ready = try await child.waitForOutput { httpPort(in: $0) != nil && listenerPorts(in: $0)["tcp"] != nil }
        guard ready, let http = httpPort(in: child.text), let tcp = listenerPorts(in: child.text)["tcp"] else {
            Issue.record("notilog-server did not get ready:\n\(child.text)")
            return
        }
        let screenshots = Peers.packageRoot + "/test-output/ui-screenshots"
        let python = Peers.packageRoot + "/.peers/python/bin/python"
        let arguments = [
            "-B", Peers.peersDirectory + "/ui_browser_check.py", "--url", "http://127.0.0.1:\(http)", "--syslog-tcp", "\(tcp)",
            "--username", "admin", "--password", password, "--screenshots", screenshots, "--chromium", Self.chromium,
        ]
        // Spawned and reaped by its PID; killed if it runs past a generous bound (a hung browser must not hang the suite).
        let outputPath = dir.path + "/ui_browser_check.out"
        let pid = try Peers.spawn(python, arguments, stdoutPath: outputPath, stderrPath: dir.path + "/ui_browser_check.err")
        let status = try await Peers.waitForExit(pid, seconds: 600)
        let output =
            ((try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: dir.path + "/ui_browser_check.err", encoding: .utf8)) ?? "")
        print("ui_browser_check.py (screenshots in \(screenshots)):\n\(output)")
        #expect(status == 0, "ui_browser_check.py exited \(status.map(String.init) ?? "killed after 600 s"):\n\(output)\n--- server\n\(child.text.suffix(4000))")
        child.signal(SIGTERM)
        _ = try await child.waitForExit(seconds: 20)
    }
}
