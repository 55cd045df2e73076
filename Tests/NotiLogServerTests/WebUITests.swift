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
        // Every page in the source tree: `/NAME` is `UI/NAME.html`, whose script is `/assets/NAME.js`.
        let names = try FileManager.default.contentsOfDirectory(atPath: Peers.packageRoot + "/Sources/NotiLogWeb/UI")
            .filter { $0.hasSuffix(".html") && !$0.hasPrefix("_") }.map { String($0.dropLast(5)) }.sorted()
        #expect(names.contains("search") && names.contains("login"))
        for (path, script) in [("/", "/assets/search.js")] + names.map({ ("/\($0)", "/assets/\($0).js") }) {
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
            "theme.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml", "tail.js": "text/javascript; charset=utf-8",
            "tail.css": "text/css; charset=utf-8", "records.js": "text/javascript; charset=utf-8",
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
            // Off the cooperative pool: a blocking read there can starve the server that is to answer it.
            let port = server.port
            let (status, body) = try await Peers.offThreadThrowing { try Self.rawGET(path, port: port) }
            #expect(status == 404, "\(path): \(status) \(body.prefix(200))")
            #expect(!body.contains("PackageDescription") && !body.contains("root:") && !body.contains("<html"), "\(path)")
        }
        try await server.stop()
    }

    @Test("HEAD answers as GET would, without the body")
    func head() async throws {
        let dir = TemporaryDirectory()
        let server = try await SessionTests.start(dir)
        defer { Task { try? await server.stop() } }
        let browser = server.browser()
        for path in ["/", "/search", "/tail", "/login", "/assets/app.css", "/api/v1/healthz"] {
            let get = try await browser.request("GET", path)
            let head = try await browser.request("HEAD", path)
            #expect(head.status == get.status, "\(path)")
            #expect(head.text.isEmpty, "\(path)")
            #expect(head.headers["content-type"] == get.headers["content-type"], "\(path)")
        }
        #expect(try await browser.request("HEAD", "/api/v1/logs").status == 401)
        #expect(try await browser.request("HEAD", "/no-such-page").status == 404)
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

extension BrowserSuites {
    /// The UI in a real browser: headless Chromium (Debian's `chromium`) driven by Playwright (from PyPI, in
    /// `.peers/python`) through `Tests/peers/ui_browser_check.py`, against the real `notilog-server` binary fed over
    /// syslog. Screenshots go to `test-output/ui-screenshots` (git-ignored); the script prints its checks.
    @Suite("Search page in a browser")
    struct WebUIBrowserTests {
        @Test(
            "sign in, search, expand hostile records, scroll, sign out",
            .enabled(if: BrowserCheck.missing == nil, "needs /usr/bin/chromium and playwright in .peers/python (scripts/setup installs both)"))
        func browserFlow() async throws {
            try await BrowserCheck.run("ui_browser_check.py")
        }

        /// Reports (does not judge) how long the search page takes to paint its first results over a small store;
        /// `make bench-search` runs the same script over 5,000,000 records.
        @Test(
            "the search page's time to first results is measured",
            .enabled(if: BrowserCheck.missing == nil, "needs /usr/bin/chromium and playwright in .peers/python (scripts/setup installs both)"))
        func searchTiming() async throws {
            try await BrowserCheck.run(
                "ui_search_timing.py",
                scriptArguments: ["--send", "20000", "--runs", "3", "--label", "small", "--query", "timeout", "--query", "zqxvulture",
                                  "--query", "host:web-03 severity:<=err"])
        }
    }
}
