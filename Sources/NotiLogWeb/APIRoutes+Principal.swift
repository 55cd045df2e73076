import HTTPTypes
import Hummingbird
import NotiLogCore
import NotiLogStore

extension APIRoutes {
    /// Who makes the request, refused unless they may do `permission`: an API token (`Authorization: Bearer`),
    /// else a session cookie. A cookie-authenticated request that changes state must carry the session's
    /// `X-CSRF-Token` and, when it sends `Origin`, come from this server's origin; a token request needs neither
    /// (browsers never add the header on their own, so it cannot be forged across sites).
    @discardableResult
    func authorize(_ request: Request, for permission: Permission) async throws(APIError) -> Principal {
        let principal = try await authenticate(request)
        guard principal.may(permission) else {
            throw APIError(.forbidden, "forbidden", "\(principal.describedRole); this needs '\(permission.rawValue)'")
        }
        return principal
    }

    /// The request's credential, checked (CSRF included), whatever its role.
    func authenticate(_ request: Request) async throws(APIError) -> Principal {
        if let header = request.headers[.authorization] {
            // Any scope is enough here: the permission decides.
            return Principal(.token(try await server.tokens.authenticate(header)))
        }
        guard let cookie = request.cookies[UserAuthority.cookieName]?.value else {
            throw APIError(.unauthorized, "unauthorized", "an API token is needed: send 'Authorization: Bearer TOKEN' (or sign in)")
        }
        let found: (UserSession, User)?
        do {
            found = try await server.users.session(cookie: cookie)
        } catch {
            throw APIError.store(error)
        }
        guard let found else {
            throw APIError(.unauthorized, "unauthorized", "the session has ended or is unknown; sign in again")
        }
        let (session, user) = found
        if Self.changesState(request) {
            try checkOrigin(request)
            guard let sent = request.headers[.csrfToken], UserAuthority.constantTimeEqual(sent, session.csrfToken) else {
                throw APIError(
                    .forbidden, "csrf",
                    "this request needs the session's X-CSRF-Token header (GET /api/v1/session gives it)")
            }
        }
        return Principal(.session(session, user))
    }

    static func changesState(_ request: Request) -> Bool {
        ![.get, .head, .options].contains(request.method)
    }

    /// Refuses a request whose `Origin` (when sent) is not this server's: scheme (https when serving TLS), host
    /// and port as the `Host` header gives them, or the origin of `public_url`.
    func checkOrigin(_ request: Request) throws(APIError) {
        guard let origin = request.headers[.origin] else { return }
        if let trusted = server.configuration.publicOrigin, origin.lowercased() == trusted { return }
        let host = request.head.authority ?? request.headers[HTTPField.Name("Host")!]
        guard let host, Self.sameOrigin(origin, host: host, tls: server.configuration.tls != nil) else {
            throw APIError(.forbidden, "forbidden_origin", "requests from another origin are refused (Origin: \(origin.prefix(100)))")
        }
    }

    /// `https://logs.example.com` against `Host: logs.example.com` (default ports may be left out on either side).
    static func sameOrigin(_ origin: String, host: String, tls: Bool) -> Bool {
        let lower = origin.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            // Behind a proxy that ends TLS the browser says https; a server serving TLS itself never hears http.
            guard !tls else { return false }
            scheme = "http"
        } else {
            return false
        }
        func normal(_ authority: Substring) -> Substring {
            let defaultPort = scheme == "https" ? ":443" : ":80"
            return authority.hasSuffix(defaultPort) ? authority.dropLast(defaultPort.count) : authority
        }
        let authority = lower.dropFirst(scheme.count + 3)
        guard !authority.isEmpty, !authority.contains("/") else { return false }
        let h = host.lowercased()[...]
        if normal(authority) == normal(h) { return true }
        // Through a TLS-ending proxy the Host may carry :443 while the origin says https with no port, or vice versa.
        return authority == h
    }
}

extension HTTPField.Name {
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
}
