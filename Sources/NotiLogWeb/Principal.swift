import NotiLogStore

/// What an endpoint needs. Every endpoint but health, sign-in and ingest names one.
public enum Permission: String, Sendable, Hashable, CaseIterable {
    /// Search, hosts, stats, status, metrics, alerts, rules, silences and channels as lists.
    case read
    /// Rules, silences, channel tests, acknowledging alerts.
    case edit
    /// Tokens, users, settings.
    case admin
}

/// Who makes a request: a user signed in with a session cookie, or an API token.
public struct Principal: Sendable {
    public enum Credential: Sendable {
        case token(APIToken)
        case session(UserSession, User)
    }

    public var credential: Credential

    public init(_ credential: Credential) {
        self.credential = credential
    }

    /// For records of who did what (`acknowledged_by`, `created_by`): the token's or the user's name.
    public var name: String {
        switch credential {
        case .token(let t): t.name
        case .session(_, let u): u.username
        }
    }

    /// The role a credential acts with: a `read` token is a viewer, an `admin` token an admin; an `ingest` token
    /// has none (it only sends logs, through the ingest endpoint's own check).
    public var role: UserRole? {
        switch credential {
        case .token(let t):
            switch t.scope {
            case .read: .viewer
            case .admin: .admin
            case .ingest: nil
            }
        case .session(_, let u): u.role
        }
    }

    /// The one permission check of the API.
    public func may(_ permission: Permission) -> Bool {
        guard let role else { return false }
        return Self.permissions(of: role).contains(permission)
    }

    public static func permissions(of role: UserRole) -> Set<Permission> {
        switch role {
        case .viewer: [.read]
        case .editor: [.read, .edit]
        case .admin: [.read, .edit, .admin]
        }
    }

    /// The role's name as refusals say it: `this token has the 'read' scope`, `user alice is a viewer`.
    var describedRole: String {
        switch credential {
        case .token(let t): "this token has the '\(t.scope.rawValue)' scope"
        case .session(_, let u): "user \(u.username) is \(u.role == .admin ? "an" : "a") \(u.role.rawValue)"
        }
    }

    var session: (UserSession, User)? {
        if case .session(let s, let u) = credential { return (s, u) }
        return nil
    }
}
