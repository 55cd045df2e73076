import Foundation
import Hummingbird
import NotiLogCore
import NotiLogStore

/// `/api/v1/users` (admin only): list, create, change (role, disabled, password), delete, and their sessions.
struct UserRoutes: Sendable {
    let api: APIRoutes
    var users: UserAuthority { api.server.users }

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.get("users") { request, _ in try await self.list(request) }
        v1.post("users") { request, context in try await self.create(request, context) }
        v1.get("users/:name") { request, context in try await self.show(request, context) }
        v1.patch("users/:name") { request, context in try await self.change(request, context) }
        v1.delete("users/:name") { request, context in try await self.delete(request, context) }
        v1.get("users/:name/sessions") { request, context in try await self.sessions(request, context) }
        v1.delete("users/:name/sessions") { request, context in try await self.revokeSessions(request, context, id: nil) }
        v1.delete("users/:name/sessions/:id") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self) else {
                throw APIError(.notFound, "not_found", "no session with id '\(context.parameters.get("id") ?? "")'")
            }
            return try await self.revokeSessions(request, context, id: id)
        }
    }

    private static func name(_ context: APIRequestContext) -> String {
        context.parameters.get("name")?.removingPercentEncoding ?? context.parameters.get("name") ?? ""
    }

    private func existing(_ context: APIRequestContext) async throws(APIError) -> User {
        let name = Self.name(context)
        let user: User?
        do {
            user = try await users.store.user(named: name)
        } catch {
            throw APIError.store(error)
        }
        guard let user else { throw APIError(.notFound, "not_found", "no user named '\(name.prefix(100))'") }
        return user
    }

    static func lastAdmin(_ name: String) -> APIError {
        APIError(.conflict, "last_admin", "\(name) is the last enabled admin: make another user an admin first")
    }

    func list(_ request: Request) async throws -> Response {
        try await api.authorize(request, for: .admin)
        let list: [User]
        do {
            list = try await users.store.users()
        } catch {
            throw APIError.store(error)
        }
        return APIRoutes.json(.object([("users", .array(list.map { SessionRoutes.userJSON($0) }))]))
    }

    struct NewUser: Decodable {
        var username: String
        var password: String
        var role: String?
    }

    func create(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let new = try? JSONDecoder().decode(NewUser.self, from: Data(buffer: body)) else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body {"username": "...", "password": "...", "role": "admin|editor|viewer"}"#)
        }
        if let problem = UserAuthority.usernameProblem(new.username) { throw APIError.invalidParameter("username", problem) }
        guard let role = UserRole(rawValue: new.role ?? "viewer") else {
            throw APIError.invalidParameter("role", "one of admin, editor, viewer; got '\(new.role ?? "")'")
        }
        if let problem = UserAuthority.passwordProblem(new.password) { throw APIError.invalidParameter("password", problem) }
        let hash = try await users.hash(new.password)
        let result: UserWriteResult
        do {
            result = try await users.store.createUser(username: new.username, role: role, passwordHash: hash, at: .now())
        } catch {
            throw APIError.store(error)
        }
        guard case .done(let user) = result else {
            throw APIError(.conflict, "exists", "a user named '\(new.username)' exists already (names ignore case)")
        }
        context.logger.notice("user created", metadata: ["user.name": "\(user.username)", "user.role": "\(role.rawValue)", "by": "\(principal.name)"])
        return APIRoutes.json(SessionRoutes.userJSON(user), status: .created)
    }

    func show(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, for: .admin)
        return APIRoutes.json(SessionRoutes.userJSON(try await existing(context)))
    }

    struct Change: Decodable {
        var role: String?
        var disabled: Bool?
        var password: String?
    }

    func change(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let change = try? JSONDecoder().decode(Change.self, from: Data(buffer: body)),
            change.role != nil || change.disabled != nil || change.password != nil
        else {
            throw APIError(.badRequest, "invalid_parameter", #"expected a JSON body with role, disabled or password: {"role": "editor"}"#)
        }
        var update = UserChange(disabled: change.disabled)
        if let text = change.role {
            guard let role = UserRole(rawValue: text) else { throw APIError.invalidParameter("role", "one of admin, editor, viewer; got '\(text)'") }
            update.role = role
        }
        if let password = change.password {
            if let problem = UserAuthority.passwordProblem(password) { throw APIError.invalidParameter("password", problem) }
            update.passwordHash = try await users.hash(password)
        }
        let user = try await existing(context)
        // An admin setting their own password keeps the session they do it from.
        if let own = principal.session, own.1.id == user.id { update.keepSession = own.0.id }
        let result: UserWriteResult
        do {
            result = try await users.store.updateUser(named: user.username, update, at: .now())
        } catch {
            throw APIError.store(error)
        }
        switch result {
        case .done(let updated):
            context.logger.notice(
                "user changed",
                metadata: [
                    "user.name": "\(updated.username)", "user.role": "\(updated.role.rawValue)", "user.disabled": "\(updated.disabled)",
                    "user.password_changed": "\(update.passwordHash != nil)", "by": "\(principal.name)",
                ])
            return APIRoutes.json(SessionRoutes.userJSON(updated))
        case .lastAdmin: throw Self.lastAdmin(user.username)
        case .notFound, .exists: throw APIError(.notFound, "not_found", "no user named '\(user.username)'")
        }
    }

    func delete(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let user = try await existing(context)
        let result: UserWriteResult
        do {
            result = try await users.store.deleteUser(named: user.username)
        } catch {
            throw APIError.store(error)
        }
        switch result {
        case .done:
            context.logger.notice("user deleted", metadata: ["user.name": "\(user.username)", "by": "\(principal.name)"])
            return APIRoutes.json(.object([("deleted", .string(user.username))]))
        case .lastAdmin: throw Self.lastAdmin(user.username)
        case .notFound, .exists: throw APIError(.notFound, "not_found", "no user named '\(user.username)'")
        }
    }

    func sessions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let user = try await existing(context)
        let now = SyslogTimestamp.now()
        let all: [UserSession]
        do {
            all = try await users.store.sessions(userID: user.id, at: now)
        } catch {
            throw APIError.store(error)
        }
        let idle = users.configuration.idleTimeoutSeconds
        let current = principal.session?.0.id
        let list = all.filter { $0.isActive(now: now, idleSeconds: idle) }.map { SessionRoutes.sessionJSON($0, current: $0.id == current) }
        return APIRoutes.json(.object([("sessions", .array(list))]))
    }

    func revokeSessions(_ request: Request, _ context: APIRequestContext, id: Int64?) async throws -> Response {
        let principal = try await api.authorize(request, for: .admin)
        let user = try await existing(context)
        do {
            if let id {
                guard try await users.store.revokeSession(id: id, userID: user.id, at: .now()) else {
                    throw APIError(.notFound, "not_found", "user \(user.username) has no active session \(id)")
                }
                context.logger.notice("session revoked", metadata: ["user.name": "\(user.username)", "session.id": "\(id)", "by": "\(principal.name)"])
                return APIRoutes.json(.object([("revoked", .int(1))]))
            }
            let n = try await users.store.revokeSessions(userID: user.id, at: .now())
            context.logger.notice("sessions revoked", metadata: ["user.name": "\(user.username)", "sessions.count": "\(n)", "by": "\(principal.name)"])
            return APIRoutes.json(.object([("revoked", .int(n))]))
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }
}
