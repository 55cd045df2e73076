import Foundation
import Hummingbird
import NotiLogCore
import NotiLogStore

/// `/api/v1/session`: sign in (a session cookie), who am I (with the CSRF token), sign out, change my password.
struct SessionRoutes: Sendable {
    let api: APIRoutes
    var users: UserAuthority { api.server.users }

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.post("session") { request, context in try await self.signIn(request, context) }
        v1.get("session") { request, _ in try await self.current(request) }
        v1.delete("session") { request, _ in try await self.signOut(request) }
        v1.post("session/password") { request, context in try await self.changePassword(request, context) }
    }

    static func userJSON(_ u: User) -> JSONValue {
        .object([
            ("username", .string(u.username)), ("role", .string(u.role.rawValue)), ("disabled", .bool(u.disabled)),
            ("created_at", .time(u.createdAt)), ("updated_at", .time(u.updatedAt)), ("last_login_at", .time(u.lastLoginAt)),
        ])
    }

    static func sessionJSON(_ s: UserSession, current: Bool? = nil) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .int(s.id)), ("created_at", .time(s.createdAt)), ("last_seen_at", .time(s.lastSeenAt)),
            ("expires_at", .time(s.expiresAt)), ("address", .string(s.address)), ("user_agent", .string(s.userAgent)),
        ]
        if let current { members.append(("current", .bool(current))) }
        return .object(members)
    }

    /// The answer to sign-in and to `GET /session`: the user, the CSRF token, when the session ends.
    func sessionAnswer(_ session: UserSession, _ user: User, status: HTTPResponse.Status = .ok) -> JSONValue {
        let idleEnd = session.lastSeenAt.seconds + users.configuration.idleTimeoutSeconds
        let end = min(idleEnd, session.expiresAt.seconds)
        return .object([
            ("user", Self.userJSON(user)), ("csrf_token", .string(session.csrfToken)), ("session", Self.sessionJSON(session)),
            ("idle_expires_at", .time(SyslogTimestamp(seconds: end, nanoseconds: 0, fractionDigits: 0))),
        ])
    }

    /// `notilog_session=…; Path=/; Max-Age=…; HttpOnly; SameSite=Strict` (and `Secure` over HTTPS).
    func cookie(_ value: String, maxAge: Int64) -> String {
        var text = "\(UserAuthority.cookieName)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict"
        if api.server.configuration.secureCookies { text += "; Secure" }
        return text
    }

    /// 429 with `Retry-After`.
    static func rateLimited(_ wait: Int64) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .retryAfter: "\(wait)"]
        headers[.cacheControl] = "no-store"
        let error = APIError(.tooManyRequests, "rate_limited", "too many failed attempts; try again in \(wait) seconds")
        return Response(status: .tooManyRequests, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.json.bytes)))
    }

    struct Credentials: Decodable {
        var username: String
        var password: String
    }

    func signIn(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try api.checkOrigin(request)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let credentials = try? JSONDecoder().decode(Credentials.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body {"username": "...", "password": "..."}"#)
        }
        let username = credentials.username.trimmingCharacters(in: .whitespaces)
        guard UserAuthority.usernameProblem(username) == nil, !credentials.password.isEmpty else {
            throw APIError(.unauthorized, "invalid_credentials", "wrong user name or password")
        }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        let result = try await users.signIn(
            username: username, password: credentials.password, address: address, userAgent: request.headers[.userAgent],
            logger: context.logger)
        switch result {
        case .failure(.limited(let wait)):
            return Self.rateLimited(wait)
        case .failure(.rejected):
            throw APIError(.unauthorized, "invalid_credentials", "wrong user name or password")
        case .success(let (session, user, secret)):
            var response = APIRoutes.json(sessionAnswer(session, user), status: .created)
            response.headers[.setCookie] = cookie(secret, maxAge: users.configuration.absoluteTimeoutSeconds)
            return response
        }
    }

    func current(_ request: Request) async throws -> Response {
        let principal = try await api.authenticate(request)
        switch principal.credential {
        case .session(let session, let user):
            return APIRoutes.json(sessionAnswer(session, user))
        case .token(let token):
            return APIRoutes.json(
                .object([("token", APIRoutes.tokenJSON(token)), ("role", .string(principal.role?.rawValue))]))
        }
    }

    /// The session's own: a token has none to end.
    private func ownSession(_ principal: Principal) throws(APIError) -> (UserSession, User) {
        guard let own = principal.session else {
            throw APIError(.badRequest, "no_session", "this request is made with an API token, not a session")
        }
        return own
    }

    func signOut(_ request: Request) async throws -> Response {
        let (session, user) = try ownSession(try await api.authenticate(request))
        do {
            _ = try await users.store.revokeSession(id: session.id, userID: user.id, at: .now())
        } catch {
            throw APIError.store(error)
        }
        var response = APIRoutes.json(.object([("signed_out", .string(user.username))]))
        response.headers[.setCookie] = cookie("", maxAge: 0)
        return response
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String

        enum CodingKeys: String, CodingKey {
            case currentPassword = "current_password"
            case newPassword = "new_password"
        }
    }

    /// Needs the current password; every other session of the user ends.
    func changePassword(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let (session, user) = try ownSession(try await api.authenticate(request))
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let change = try? JSONDecoder().decode(PasswordChange.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body {"current_password": "...", "new_password": "..."}"#)
        }
        if let problem = UserAuthority.passwordProblem(change.newPassword) {
            throw APIError.invalidParameter("new_password", problem)
        }
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        switch try await users.verifyCurrentPassword(change.currentPassword, of: user, address: address, logger: context.logger) {
        case .failure(.limited(let wait)): return Self.rateLimited(wait)
        case .failure(.rejected): throw APIError(.forbidden, "invalid_credentials", "the current password is wrong")
        case .success: break
        }
        let hash = try await users.hash(change.newPassword)
        let result: UserWriteResult
        do {
            result = try await users.store.updateUser(named: user.username, UserChange(passwordHash: hash, keepSession: session.id), at: .now())
        } catch {
            throw APIError.store(error)
        }
        guard case .done(let updated) = result else { throw APIError(.notFound, "not_found", "no user named \(user.username)") }
        context.logger.notice("password changed; other sessions ended", metadata: ["user.name": "\(user.username)"])
        return APIRoutes.json(.object([("user", Self.userJSON(updated)), ("other_sessions_ended", .bool(true))]))
    }
}
