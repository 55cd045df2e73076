import CCrypto
import Foundation
import HummingbirdBcrypt
import Logging
import NIOPosix
import NotiLogCore
import NotiLogStore
import Synchronization

/// Users, passwords and sign-in sessions. Passwords are bcrypt-hashed on NIO's blocking thread pool (never on an
/// event loop or the cooperative pool). A session's cookie value is 256 random bits, so (as for API tokens) only
/// its SHA-256 is stored.
public final class UserAuthority: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// A session unused this long ends.
        public var idleTimeoutSeconds: Int64 = 12 * 3600
        /// A session ends this long after sign-in, used or not.
        public var absoluteTimeoutSeconds: Int64 = 7 * 86_400
        /// bcrypt's cost (log2 of its rounds), 4...31; 12 costs a few hundred milliseconds per hash.
        public var passwordCost: UInt8 = 12
        public var loginLimits = LoginRateLimiter.Limits()

        public init() {}
    }

    /// Shortest password accepted.
    public static let minimumPasswordLength = 12
    /// bcrypt reads only the first 72 bytes: longer passwords are refused rather than silently cut.
    public static let maximumPasswordBytes = 72
    public static let cookieName = "notilog_session"
    /// `last_seen_at` is written at most this often; idle expiry is this coarse.
    static let lastSeenResolutionSeconds: Int64 = 60

    public let store: any UserStore
    public let configuration: Configuration
    private let limiter: Mutex<LoginRateLimiter>
    /// A hash to verify against for unknown names, so they take as long as wrong passwords (made on first use).
    private let dummyHash = Mutex<String?>(nil)

    public init(store: any UserStore, configuration: Configuration = Configuration()) {
        self.store = store
        self.configuration = configuration
        limiter = Mutex(LoginRateLimiter(limits: configuration.loginLimits))
    }

    // MARK: Passwords

    public func hash(_ password: String) async throws -> String {
        let cost = configuration.passwordCost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// What is wrong with a new password, or nil.
    public static func passwordProblem(_ password: String) -> String? {
        if password.count < minimumPasswordLength {
            return "must be at least \(minimumPasswordLength) characters long (it has \(password.count))"
        }
        if password.utf8.count > maximumPasswordBytes { return "must be at most \(maximumPasswordBytes) bytes long (bcrypt reads no further)" }
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "must not contain control characters" }
        return nil
    }

    /// What is wrong with a user name, or nil: 1 to 64 of ASCII letters, digits and `. _ @ -`, starting with a
    /// letter or digit.
    public static func usernameProblem(_ name: String) -> String? {
        guard (1...64).contains(name.count) else { return "must be 1 to 64 characters long" }
        let allowed = name.unicodeScalars.allSatisfy { s in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "." || s == "_" || s == "@" || s == "-")
        }
        guard allowed, let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first) else {
            return "may hold ASCII letters, digits and . _ @ - only, and must start with a letter or digit"
        }
        return nil
    }

    // MARK: Secrets

    /// Equal bytes, compared in time that depends on the length only.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return CRYPTO_memcmp(x, y, x.count) == 0
    }

    // MARK: Sign-in

    public enum SignInFailure: Error, Sendable, Hashable {
        /// Unknown name, wrong password or disabled user: the caller cannot tell which.
        case rejected
        case limited(retryAfter: Int64)
    }

    /// Checks a name and password (rate-limited per account and address) and opens a session. Returns the
    /// session, its user and the cookie value (shown to the client once).
    public func signIn(
        username: String, password: String, address: String, userAgent: String?, now: SyslogTimestamp = .now(), logger: Logger
    ) async throws -> Result<(UserSession, User, String), SignInFailure> {
        let account = username.lowercased()
        let decision = limiter.withLock { $0.begin(account: account, address: address, now: now.seconds) }
        if case .limited(let wait) = decision {
            logger.warning(
                "sign-in refused: too many failed attempts",
                metadata: ["user.name": "\(username)", "peer.address": "\(address)", "retry_after_seconds": "\(wait)"])
            return .failure(.limited(retryAfter: wait))
        }
        let found = try await store.user(named: username)
        let ok: Bool
        if let found {
            ok = try await verify(password, hash: found.passwordHash) && !found.disabled
        } else {
            // The same work as for a known name, so the answer's timing does not tell names apart.
            _ = try await verify(password, hash: try await dummy())
            ok = false
        }
        guard ok, let user = found else {
            // `begin` has counted the failure already.
            let reason = found.map { $0.disabled ? "user disabled" : "wrong password" } ?? "unknown user"
            logger.warning(
                "sign-in failed", metadata: ["user.name": "\(username)", "peer.address": "\(address)", "reason": "\(reason)"])
            return .failure(.rejected)
        }
        limiter.withLock { $0.recordSuccess(account: account, address: address, begunAt: now.seconds) }
        let (session, secret) = try await openSession(for: user, address: address, userAgent: userAgent, now: now)
        try await store.recordLogin(userID: user.id, at: now)
        logger.info("signed in", metadata: ["user.name": "\(user.username)", "peer.address": "\(address)", "session.id": "\(session.id)"])
        return .success((session, user, secret))
    }

    /// Checks a signed-in user's current password (to change it), counted and limited as sign-ins are.
    public func verifyCurrentPassword(_ password: String, of user: User, address: String, now: SyslogTimestamp = .now(), logger: Logger)
        async throws -> Result<Void, SignInFailure>
    {
        let account = user.username.lowercased()
        if case .limited(let wait) = limiter.withLock({ $0.begin(account: account, address: address, now: now.seconds) }) {
            return .failure(.limited(retryAfter: wait))
        }
        guard try await verify(password, hash: user.passwordHash) else {
            logger.warning(
                "password change refused: wrong current password", metadata: ["user.name": "\(user.username)", "peer.address": "\(address)"])
            return .failure(.rejected)
        }
        limiter.withLock { $0.recordSuccess(account: account, address: address, begunAt: now.seconds) }
        return .success(())
    }

    /// A new session for `user`; returns it and its cookie value.
    func openSession(for user: User, address: String?, userAgent: String?, now: SyslogTimestamp) async throws -> (UserSession, String) {
        let secret = TokenAuthority.randomSecretText()
        let expires = SyslogTimestamp(
            seconds: now.seconds + configuration.absoluteTimeoutSeconds, nanoseconds: now.nanoseconds, fractionDigits: 6)
        let session = try await store.createSession(
            userID: user.id, hash: TokenAuthority.hash(secret), csrfToken: TokenAuthority.randomSecretText(), at: now, expiresAt: expires,
            address: address, userAgent: userAgent.map { String($0.prefix(256)) })
        return (session, secret)
    }

    private func dummy() async throws -> String {
        if let h = dummyHash.withLock({ $0 }) { return h }
        let h = try await hash(TokenAuthority.randomSecretText())
        dummyHash.withLock { $0 = $0 ?? h }
        return h
    }

    /// The active session a cookie value names, with its user (enabled); nil when it is unknown, revoked, expired
    /// or its user is disabled.
    public func session(cookie value: String, now: SyslogTimestamp = .now()) async throws(StoreError) -> (UserSession, User)? {
        guard !value.isEmpty, value.utf8.count <= 128 else { return nil }
        guard let (session, user) = try await store.session(hash: TokenAuthority.hash(value)) else { return nil }
        guard session.isActive(now: now, idleSeconds: configuration.idleTimeoutSeconds), !user.disabled else { return nil }
        if now.seconds - session.lastSeenAt.seconds >= Self.lastSeenResolutionSeconds {
            try? await store.touchSession(id: session.id, at: now)
        }
        return (session, user)
    }

    // MARK: First start

    /// On a first start (no users at all), creates `admin` with the password in `NOTILOG_ADMIN_PASSWORD`, or with a
    /// random one written to `DATA-DIR/admin.password` (mode 0600). Returns the file's path when it wrote one.
    public func bootstrapAdmin(dataDirectory: String, password given: String?, logger: Logger) async throws -> String? {
        // Made now, so the first sign-in with an unknown name takes no longer than the next ones.
        _ = try await dummy()
        guard try await store.userCount() == 0 else { return nil }
        if let given, let problem = Self.passwordProblem(given) {
            throw BootstrapError(message: "NOTILOG_ADMIN_PASSWORD \(problem)")
        }
        let password = given ?? TokenAuthority.randomSecretText()
        let created = try await store.createUser(username: "admin", role: .admin, passwordHash: try await hash(password), at: .now())
        guard case .done = created else { return nil }
        guard given == nil else {
            logger.notice("created the user admin with the password from NOTILOG_ADMIN_PASSWORD")
            return nil
        }
        let path = (dataDirectory as NSString).appendingPathComponent("admin.password")
        try TokenAuthority.writeSecret(password + "\n", to: path)
        logger.notice(
            "created the user admin; its password is in the password file (readable by this user only)",
            metadata: ["password.file": "\(path)"])
        return path
    }

    public struct BootstrapError: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }
}
