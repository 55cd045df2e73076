import Foundation
import Logging
import NotiLogCurl
import NotiLogServer
import NotiLogTestSupport
import ServiceLifecycle
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A browser-like client: keeps the session cookie and CSRF token itself (URLSession's own cookie handling is
/// off, so no test's cookie reaches another's server), sends what a page would.
struct Browser: Sendable {
    let base: String
    var cookie: String?
    var csrf: String?

    init(port: Int) {
        base = "http://127.0.0.1:\(port)"
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpCookieAcceptPolicy = .never
        configuration.httpShouldSetCookies = false
        configuration.httpCookieStorage = nil
        return URLSession(configuration: configuration)
    }()

    /// Sends the cookie (when signed in), `X-CSRF-Token` when `csrf` is set and `sendCSRF`, and any `headers`.
    func request(
        _ method: String = "GET", _ path: String, body: String? = nil, headers: [String: String] = [:], sendCSRF: Bool = true
    ) async throws -> TestAPI.Answer {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = method
        request.httpShouldHandleCookies = false
        if let cookie { request.setValue("notilog_session=\(cookie)", forHTTPHeaderField: "Cookie") }
        if sendCSRF, let csrf { request.setValue(csrf, forHTTPHeaderField: "X-CSRF-Token") }
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await Self.session.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields["\(k)".lowercased()] = "\(v)" }
        return TestAPI.Answer(status: http.statusCode, headers: fields, body: data)
    }

    /// Signs in; on success keeps the cookie and the CSRF token. Returns the answer either way.
    @discardableResult
    mutating func signIn(_ username: String, _ password: String, headers: [String: String] = [:]) async throws -> TestAPI.Answer {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["username": username, "password": password]), as: UTF8.self)
        let answer = try await request("POST", "/api/v1/session", body: body, headers: headers)
        if answer.status == 201, let setCookie = answer.headers["set-cookie"],
            let value = setCookie.firstMatch(of: /notilog_session=([^;]*)/)?.output.1
        {
            cookie = String(value)
            csrf = answer.json["csrf_token"] as? String
        }
        return answer
    }
}

/// Sign-in, sessions, CSRF, roles and users, against an in-process server on loopback (bcrypt cost 4 here, so
/// the tests do not wait on the hash; the server's default is 12).
@Suite("Users and sessions", .serialized)
struct SessionTests {
    static let adminPassword = "correct horse battery staple"

    struct Running {
        let services: ServerServices
        let group: ServiceGroup
        let task: Task<Void, Error>
        let admin: TestAPI
        let port: Int

        func browser() -> Browser { Browser(port: port) }

        func stop() async throws {
            await group.triggerGracefulShutdown()
            try await task.value
        }
    }

    static func start(
        _ dir: TemporaryDirectory, adminPassword: String? = SessionTests.adminPassword, adjust: (inout ServerConfiguration) -> Void = { _ in },
        settings: (inout ServerSettings) -> Void = { _ in }
    ) async throws -> Running {
        var c = ServerConfiguration(dataDir: dir.path, listeners: [.init(tcp: "127.0.0.1:0")], http: "127.0.0.1:0", timeZone: "UTC")
        c.adminPassword = adminPassword
        adjust(&c)
        var resolved = try c.resolved()
        resolved.httpSettings.sessions.passwordCost = 4
        settings(&resolved)
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(settings: resolved, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let task = Task { try await group.run() }
        let bound = await services.readiness.ready()
        let token = try String(contentsOfFile: dir.path + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return Running(services: services, group: group, task: task, admin: TestAPI(port: bound.http.port, token: token), port: bound.http.port)
    }

    /// Creates a user through the API with the admin token.
    static func addUser(_ server: Running, _ name: String, role: String, password: String = "a long enough password") async throws {
        let answer = try await server.admin.request(
            "POST", "/api/v1/users", body: #"{"username":"\#(name)","password":"\#(password)","role":"\#(role)"}"#)
        #expect(answer.status == 201, "\(answer.text)")
    }

    @Test func signInSetsAStrictHttpOnlyCookieAndSignOutEndsTheSession() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        var browser = server.browser()

        // Unknown user and wrong password: the same answer.
        let unknown = try await browser.signIn("nobody", Self.adminPassword)
        let wrong = try await browser.signIn("admin", "not the password at all")
        #expect(unknown.status == 401 && wrong.status == 401)
        #expect(unknown.errorCode == "invalid_credentials" && unknown.errorCode == wrong.errorCode)
        #expect(unknown.errorMessage == wrong.errorMessage)
        #expect(unknown.headers["set-cookie"] == nil)
        #expect(browser.cookie == nil)

        let answer = try await browser.signIn("ADMIN", Self.adminPassword)
        #expect(answer.status == 201, "\(answer.text)")
        let setCookie = try #require(answer.headers["set-cookie"])
        let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(attributes.contains("HttpOnly"))
        #expect(attributes.contains("SameSite=Strict"))
        #expect(attributes.contains("Path=/"))
        #expect(!attributes.contains("Secure"), "plain HTTP: no Secure attribute")
        let cookie = try #require(browser.cookie)
        #expect(cookie.count >= 43, "256 random bits")
        #expect((answer.json["user"] as? [String: Any])?["username"] as? String == "admin")
        #expect((answer.json["user"] as? [String: Any])?["role"] as? String == "admin")
        #expect((answer.json["user"] as? [String: Any])?["password_hash"] == nil)

        // Who am I, with the CSRF token; the cookie reads like a token would.
        let me = try await browser.request("GET", "/api/v1/session")
        #expect(me.status == 200)
        #expect(me.json["csrf_token"] as? String == browser.csrf)
        #expect(try await browser.request("GET", "/api/v1/logs").status == 200)
        #expect(try await browser.request("GET", "/api/v1/users").status == 200)

        // Signing out needs the CSRF token; afterwards the cookie is dead.
        #expect(try await browser.request("DELETE", "/api/v1/session", sendCSRF: false).status == 403)
        let out = try await browser.request("DELETE", "/api/v1/session")
        #expect(out.status == 200, "\(out.text)")
        #expect(out.headers["set-cookie"]?.contains("Max-Age=0") == true)
        let after = try await browser.request("GET", "/api/v1/logs")
        #expect(after.status == 401)
        #expect(after.errorCode == "unauthorized")
        try await server.stop()
    }

    @Test func cookieRequestsThatChangeStateNeedTheCSRFTokenAndTheServersOrigin() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        var browser = server.browser()
        try await browser.signIn("admin", Self.adminPassword)
        let body = #"{"name":"from-the-ui","scope":"read"}"#

        let missing = try await browser.request("POST", "/api/v1/tokens", body: body, sendCSRF: false)
        #expect(missing.status == 403)
        #expect(missing.errorCode == "csrf")
        let wrong = try await browser.request("POST", "/api/v1/tokens", body: body, headers: ["X-CSRF-Token": String(repeating: "A", count: 43)])
        #expect(wrong.status == 403)
        #expect(wrong.errorCode == "csrf")
        let elsewhere = try await browser.request("POST", "/api/v1/tokens", body: body, headers: ["Origin": "http://evil.example"])
        #expect(elsewhere.status == 403)
        #expect(elsewhere.errorCode == "forbidden_origin")
        let otherPort = try await browser.request("POST", "/api/v1/tokens", body: body, headers: ["Origin": "http://127.0.0.1:1"])
        #expect(otherPort.status == 403)
        let same = try await browser.request("POST", "/api/v1/tokens", body: body, headers: ["Origin": browser.base])
        #expect(same.status == 201, "\(same.text)")
        #expect(try await browser.request("POST", "/api/v1/tokens", body: body).status == 201, "no Origin: the CSRF token is enough")
        // Reading needs no CSRF token.
        #expect(try await browser.request("GET", "/api/v1/tokens", sendCSRF: false).status == 200)

        // A bearer token is not cookie-based: no CSRF token, as before.
        #expect(try await server.admin.request("POST", "/api/v1/tokens", body: body).status == 201)

        // Sign-in checks the Origin too.
        var other = server.browser()
        let foreign = try await other.signIn("admin", Self.adminPassword, headers: ["Origin": "https://evil.example"])
        #expect(foreign.status == 403)
        #expect(other.cookie == nil)
        #expect(try await other.signIn("admin", Self.adminPassword, headers: ["Origin": other.base]).status == 201)
        try await server.stop()
    }

    @Test func failedSignInsAreLimitedPerAccountAndPerAddress() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try await Self.addUser(server, "carol", role: "viewer")
        var browser = server.browser()
        for _ in 0..<5 {
            #expect(try await browser.signIn("carol", "wrong password here").status == 401)
        }
        let limited = try await browser.signIn("carol", "a long enough password")
        #expect(limited.status == 429, "even the right password waits: \(limited.text)")
        #expect(limited.errorCode == "rate_limited")
        let retry = try #require(limited.headers["retry-after"].flatMap(Int.init))
        #expect(retry > 0 && retry <= 900)
        // Another account from the same address is not limited yet (5 of 20 failures for the address).
        #expect(try await browser.signIn("admin", Self.adminPassword).status == 201)
        // ... until the address reaches 20 failures.
        for k in 0..<15 {
            #expect(try await browser.signIn("made-up-\(k)", "wrong password here").status == 401)
        }
        #expect(try await browser.signIn("admin", Self.adminPassword).status == 429)
        try await server.stop()
    }

    /// Every route with the least role that may use it (bodies that pass the role check; what follows may fail).
    static let routes: [(method: String, path: String, body: String?, needs: String)] = [
        ("GET", "/api/v1/logs", nil, "viewer"),
        ("GET", "/api/v1/hosts", nil, "viewer"),
        ("GET", "/api/v1/stats", nil, "viewer"),
        ("GET", "/api/v1/status", nil, "viewer"),
        ("GET", "/metrics", nil, "viewer"),
        ("GET", "/api/v1/alerts", nil, "viewer"),
        ("GET", "/api/v1/rules", nil, "viewer"),
        ("GET", "/api/v1/silences", nil, "viewer"),
        ("GET", "/api/v1/channels", nil, "viewer"),
        ("POST", "/api/v1/rules/test", #"{"name":"t","kind":"match","query":"x"}"#, "viewer"),
        ("POST", "/api/v1/rules", #"{"name":"r","kind":"match","query":"x"}"#, "editor"),
        ("PUT", "/api/v1/rules/r", #"{"name":"r","kind":"match","query":"y"}"#, "editor"),
        ("POST", "/api/v1/rules/r/disable", nil, "editor"),
        ("POST", "/api/v1/rules/r/enable", nil, "editor"),
        ("DELETE", "/api/v1/rules/r", nil, "editor"),
        ("POST", "/api/v1/rules/reload", nil, "editor"),
        ("POST", "/api/v1/alerts/1/ack", nil, "editor"),
        ("POST", "/api/v1/silences", #"{"rule":"r","duration":"1h"}"#, "editor"),
        ("DELETE", "/api/v1/silences/1", nil, "editor"),
        ("POST", "/api/v1/channels/none/test", nil, "editor"),
        ("GET", "/api/v1/tokens", nil, "admin"),
        ("POST", "/api/v1/tokens", #"{"name":"x","scope":"read"}"#, "admin"),
        ("DELETE", "/api/v1/tokens/999", nil, "admin"),
        ("GET", "/api/v1/users", nil, "admin"),
        ("POST", "/api/v1/users", #"{"username":"x","password":"short"}"#, "admin"),
        ("GET", "/api/v1/users/admin", nil, "admin"),
        ("PATCH", "/api/v1/users/nobody", #"{"role":"viewer"}"#, "admin"),
        ("DELETE", "/api/v1/users/nobody", nil, "admin"),
        ("GET", "/api/v1/users/admin/sessions", nil, "admin"),
        ("DELETE", "/api/v1/users/nobody/sessions", nil, "admin"),
    ]

    @Test func eachRoleReachesItsRoutesOnly() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try await Self.addUser(server, "vera", role: "viewer")
        try await Self.addUser(server, "eddie", role: "editor")
        let readToken = try #require(
            try await server.admin.request("POST", "/api/v1/tokens", body: #"{"name":"r","scope":"read"}"#).json["token"] as? String)
        var viewer = server.browser()
        var editor = server.browser()
        #expect(try await viewer.signIn("vera", "a long enough password").status == 201)
        #expect(try await editor.signIn("eddie", "a long enough password").status == 201)
        let (asViewer, asEditor) = (viewer, editor)
        let rank = ["viewer": 0, "editor": 1, "admin": 2]
        typealias Send = @Sendable (String, String, String?) async throws -> TestAPI.Answer
        let reader = server.admin.with(token: readToken)
        let viaViewer: Send = { m, p, b in try await asViewer.request(m, p, body: b) }
        let viaEditor: Send = { m, p, b in try await asEditor.request(m, p, body: b) }
        let viaReadToken: Send = { m, p, b in try await reader.request(m, p, body: b) }
        for (who, level, send) in [("viewer", 0, viaViewer), ("editor", 1, viaEditor), ("read token", 0, viaReadToken)] {
            for route in Self.routes {
                let answer = try await send(route.method, route.path, route.body)
                if level >= rank[route.needs]! {
                    #expect(answer.status != 403 && answer.status != 401, "\(who) \(route.method) \(route.path): \(answer.status) \(answer.text)")
                } else {
                    #expect(answer.status == 403, "\(who) \(route.method) \(route.path): \(answer.status) \(answer.text)")
                    #expect(answer.errorCode == "forbidden")
                }
            }
        }
        // The editor's rule is there, made by the editor.
        let rule = try await editor.request("POST", "/api/v1/rules", body: #"{"name":"eddies-rule","kind":"match","query":"boom"}"#)
        #expect(rule.status == 201, "\(rule.text)")
        #expect(try await viewer.request("GET", "/api/v1/rules/eddies-rule").status == 200)
        try await server.stop()
    }

    @Test func disablingAUserEndsTheirSessionsAndSignIns() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try await Self.addUser(server, "dave", role: "editor")
        var dave = server.browser()
        #expect(try await dave.signIn("dave", "a long enough password").status == 201)
        #expect(try await dave.request("GET", "/api/v1/logs").status == 200)

        // The admin sees and can end the session.
        let sessions = try await server.admin.request("GET", "/api/v1/users/dave/sessions")
        #expect((sessions.json["sessions"] as? [[String: Any]])?.count == 1)

        let disabled = try await server.admin.request("PATCH", "/api/v1/users/dave", body: #"{"disabled":true}"#)
        #expect(disabled.status == 200, "\(disabled.text)")
        #expect(disabled.json["disabled"] as? Bool == true)
        #expect(try await dave.request("GET", "/api/v1/logs").status == 401)
        var again = server.browser()
        #expect(try await again.signIn("dave", "a long enough password").errorCode == "invalid_credentials")

        // Enabled again: signing in works, the old cookie stays dead; an admin ends the new session.
        #expect(try await server.admin.request("PATCH", "/api/v1/users/dave", body: #"{"disabled":false}"#).status == 200)
        #expect(try await dave.request("GET", "/api/v1/logs").status == 401)
        #expect(try await again.signIn("dave", "a long enough password").status == 201)
        #expect(try await server.admin.request("DELETE", "/api/v1/users/dave/sessions").json["revoked"] as? Int == 1)
        #expect(try await again.request("GET", "/api/v1/logs").status == 401)
        try await server.stop()
    }

    @Test func changingThePasswordEndsTheOtherSessions() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        try await Self.addUser(server, "pat", role: "viewer", password: "first password 123")
        var laptop = server.browser()
        var phone = server.browser()
        #expect(try await laptop.signIn("pat", "first password 123").status == 201)
        #expect(try await phone.signIn("pat", "first password 123").status == 201)

        let wrong = try await laptop.request("POST", "/api/v1/session/password", body: #"{"current_password":"nope nope nope","new_password":"second password 456"}"#)
        #expect(wrong.status == 403)
        let short = try await laptop.request("POST", "/api/v1/session/password", body: #"{"current_password":"first password 123","new_password":"short"}"#)
        #expect(short.status == 400)
        #expect(short.errorMessage?.contains("at least 12 characters") == true, "\(short.text)")
        let noCSRF = try await laptop.request(
            "POST", "/api/v1/session/password", body: #"{"current_password":"first password 123","new_password":"second password 456"}"#,
            sendCSRF: false)
        #expect(noCSRF.status == 403)

        let changed = try await laptop.request(
            "POST", "/api/v1/session/password", body: #"{"current_password":"first password 123","new_password":"second password 456"}"#)
        #expect(changed.status == 200, "\(changed.text)")
        #expect(try await laptop.request("GET", "/api/v1/logs").status == 200, "the session that changed it goes on")
        #expect(try await phone.request("GET", "/api/v1/logs").status == 401, "every other session ended")
        var fresh = server.browser()
        #expect(try await fresh.signIn("pat", "first password 123").status == 401)
        #expect(try await fresh.signIn("pat", "second password 456").status == 201)

        // An admin setting the password ends every session of that user.
        #expect(try await server.admin.request("PATCH", "/api/v1/users/pat", body: #"{"password":"third password 789"}"#).status == 200)
        #expect(try await laptop.request("GET", "/api/v1/logs").status == 401)
        #expect(try await fresh.request("GET", "/api/v1/logs").status == 401)
        try await server.stop()
    }

    @Test func theLastEnabledAdminStays() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir)
        for (method, body) in [("PATCH", #"{"role":"editor"}"#), ("PATCH", #"{"disabled":true}"#), ("DELETE", nil)] {
            let answer = try await server.admin.request(method, "/api/v1/users/admin", body: body)
            #expect(answer.status == 409, "\(method) \(body ?? ""): \(answer.text)")
            #expect(answer.errorCode == "last_admin")
        }
        try await Self.addUser(server, "second", role: "admin")
        #expect(try await server.admin.request("PATCH", "/api/v1/users/admin", body: #"{"role":"editor"}"#).status == 200)
        #expect(try await server.admin.request("PATCH", "/api/v1/users/second", body: #"{"disabled":true}"#).status == 409)

        // Input checks say what is wrong.
        let short = try await server.admin.request("POST", "/api/v1/users", body: #"{"username":"x","password":"short"}"#)
        #expect(short.status == 400)
        #expect(short.errorMessage?.contains("password: must be at least 12 characters") == true, "\(short.text)")
        let badName = try await server.admin.request("POST", "/api/v1/users", body: #"{"username":"<b>","password":"long enough password"}"#)
        #expect(badName.status == 400)
        #expect(badName.errorMessage?.hasPrefix("username:") == true)
        let dup = try await server.admin.request("POST", "/api/v1/users", body: #"{"username":"SECOND","password":"long enough password"}"#)
        #expect(dup.status == 409)
        try await server.stop()
    }

    @Test func theFirstStartWritesTheAdminPasswordToAPrivateFile() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir, adminPassword: nil)
        let path = dir.path + "/admin.password"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let password = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(password.count >= 12)
        var browser = server.browser()
        #expect(try await browser.signIn("admin", password).status == 201)
        try await server.stop()

        // A second start leaves the user and the file alone, whatever NOTILOG_ADMIN_PASSWORD says.
        let again = try await Self.start(dir, adminPassword: "another password entirely")
        var second = again.browser()
        #expect(try await second.signIn("admin", "another password entirely").status == 401)
        #expect(try await second.signIn("admin", password).status == 201)
        try await again.stop()
    }

    @Test func theFirstStartTakesTheAdminPasswordFromTheEnvironment() async throws {
        let dir = TemporaryDirectory()
        let configuration = ServerConfiguration.load(
            environment: ["NOTILOG_DATA_DIR": dir.path, "NOTILOG_ADMIN_PASSWORD": "from the environment"], defaultFile: "/nonexistent")
        #expect(configuration.adminPassword == "from the environment")
        let server = try await Self.start(dir, adminPassword: configuration.adminPassword)
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/admin.password"))
        var browser = server.browser()
        #expect(try await browser.signIn("admin", "from the environment").status == 201)
        try await server.stop()

        // Too short: a configuration problem naming the variable.
        let short = ServerConfiguration.load(environment: ["NOTILOG_DATA_DIR": dir.path, "NOTILOG_ADMIN_PASSWORD": "short"], defaultFile: "/nonexistent")
        let problems = short.problems(checkFiles: false)
        #expect(problems.contains { $0.origin == "NOTILOG_ADMIN_PASSWORD" && $0.message.contains("at least 12") }, "\(problems)")
    }

    @Test func httpsServesTheAPIWithSecureCookies() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = try Peers.makeCertificate(in: dir.path)
        let server = try await Self.start(dir) { $0.httpTLS = .init(certFile: cert, keyFile: key) }
        let base = "https://127.0.0.1:\(server.port)"
        var client = HTTPClient()
        client.caFile = cert
        let health = try await Peers.offThreadThrowing { [client] in
            try client.send(HTTPRequest(.get, base + "/api/v1/healthz"))
        }
        #expect(health.status == 200)
        let body = Array(#"{"username":"admin","password":"\#(Self.adminPassword)"}"#.utf8)
        let signIn = try await Peers.offThreadThrowing { [client] in
            try client.send(HTTPRequest(.post, base + "/api/v1/session", headers: [("Content-Type", "application/json")], body: body))
        }
        #expect(signIn.status == 201, "\(String(decoding: signIn.body, as: UTF8.self))")
        let setCookie = try #require(signIn.header("Set-Cookie"))
        #expect(setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.contains("Secure"))
        // An https Origin of this server passes; http is refused.
        let cookie = try #require(setCookie.firstMatch(of: /notilog_session=([^;]*)/)?.output.1)
        let csrf = try #require(
            (try? JSONSerialization.jsonObject(with: Data(signIn.body)) as? [String: Any])?["csrf_token"] as? String)
        for (origin, expected) in [("https://127.0.0.1:\(server.port)", 201), ("http://127.0.0.1:\(server.port)", 403)] {
            let headers = [("Cookie", "notilog_session=\(cookie)"), ("X-CSRF-Token", csrf), ("Origin", origin), ("Content-Type", "application/json")]
            let created = try await Peers.offThreadThrowing { [client] in
                try client.send(HTTPRequest(.post, base + "/api/v1/tokens", headers: headers, body: Array(#"{"name":"t","scope":"read"}"#.utf8)))
            }
            #expect(created.status == expected, "\(origin): \(String(decoding: created.body, as: UTF8.self))")
        }
        // Plain HTTP to the HTTPS port gets no answer.
        let plain = await Peers.offThread {
            Result { () throws(HTTPClientError) in try HTTPClient().send(HTTPRequest(.get, "http://127.0.0.1:\(server.port)/api/v1/healthz")) }
        }
        #expect((try? plain.get())?.status != 200)
        try await server.stop()
    }

    @Test func behindAnHTTPSProxyThePublicURLMakesCookiesSecureAndIsATrustedOrigin() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir) { $0.publicURL = "https://logs.example.com/" }
        var browser = server.browser()
        let answer = try await browser.signIn("admin", Self.adminPassword, headers: ["Origin": "https://logs.example.com"])
        #expect(answer.status == 201, "\(answer.text)")
        #expect(answer.headers["set-cookie"]?.contains("; Secure") == true)
        let body = #"{"name":"t","scope":"read"}"#
        #expect(try await browser.request("POST", "/api/v1/tokens", body: body, headers: ["Origin": "https://logs.example.com"]).status == 201)
        #expect(try await browser.request("POST", "/api/v1/tokens", body: body, headers: ["Origin": "https://logs.example.org"]).status == 403)
        try await server.stop()
    }

    @Test func anIdleSessionEnds() async throws {
        let dir = TemporaryDirectory()
        let server = try await Self.start(dir, settings: { $0.httpSettings.sessions.idleTimeoutSeconds = 1 })
        var browser = server.browser()
        #expect(try await browser.signIn("admin", Self.adminPassword).status == 201)
        try await Task.sleep(for: .milliseconds(1500))
        let after = try await browser.request("GET", "/api/v1/session")
        #expect(after.status == 401)
        #expect(after.errorMessage?.contains("sign in again") == true)
        try await server.stop()
    }

    @Test func httpTLSProblemsNameTheirKeys() throws {
        let dir = TemporaryDirectory()
        let yaml = """
            http:
              address: "127.0.0.1:0"
              tls: {cert_file: \(dir.path)/missing.crt}
              session: {idle_timeout: soon, absolute_timeout: 7d}
            """
        let c = ServerConfiguration.parse(yaml: yaml)
        #expect(c.http == "127.0.0.1:0")
        let problems = c.problems(checkFiles: true).map(\.path)
        #expect(problems.contains("http.tls.key_file"), "\(problems)")
        #expect(problems.contains("http.session.idle_timeout"), "\(problems)")
        let withCert = ServerConfiguration.parse(yaml: "http: {tls: {cert_file: \(dir.path)/missing.crt, key_file: \(dir.path)/missing.key}, sesion: {}}")
        let paths = withCert.problems(checkFiles: true)
        #expect(paths.contains { $0.path == "http.tls.cert_file" && $0.message.contains("file not found") }, "\(paths)")
        #expect(paths.contains { $0.path == "http.sesion" && $0.message.contains("did you mean session") }, "\(paths)")
        // The short form still works.
        #expect(ServerConfiguration.parse(yaml: "http: \"127.0.0.1:9000\"").http == "127.0.0.1:9000")
        // The variables set the same keys, and problems say where the value came from.
        let env = ServerConfiguration.load(
            environment: [
                "NOTILOG_HTTP_TLS_CERT_FILE": dir.path + "/env.crt", "NOTILOG_HTTP_SESSION_ABSOLUTE_TIMEOUT": "30s",
            ], defaultFile: "/nonexistent")
        let envProblems = env.problems(checkFiles: true)
        #expect(envProblems.contains { $0.path == "http.tls.key_file" }, "\(envProblems)")
        #expect(envProblems.contains { $0.path == "http.tls.cert_file" && $0.origin == "NOTILOG_HTTP_TLS_CERT_FILE" } == false, "no file check without a key")
        #expect(envProblems.contains { $0.path == "http.session.absolute_timeout" && $0.origin == "NOTILOG_HTTP_SESSION_ABSOLUTE_TIMEOUT" }, "\(envProblems)")
    }
}
