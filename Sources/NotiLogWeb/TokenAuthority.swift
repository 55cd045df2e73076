import CCrypto
import Foundation
import Logging
import NotiLogCore
import NotiLogStore

#if canImport(Glibc)
import Glibc
#endif

/// Issues, checks and revokes bearer tokens. Only the SHA-256 of a token is stored: a token is 256 random bits,
/// so a fast hash is enough (a slow password hash guards guessable secrets, which these are not).
public struct TokenAuthority: Sendable {
    public let store: any APITokenStore
    /// A token's `last_used_at` is written at most this often (a write per request would cost more than it tells).
    public var lastUsedResolutionSeconds: Int64 = 60

    public init(store: any APITokenStore) {
        self.store = store
    }

    /// `nl_` and 43 characters of base64url (32 random bytes).
    public static func newSecret() -> String {
        "nl_" + randomSecretText()
    }

    /// 32 random bytes as base64url (43 characters): API tokens, session ids, CSRF tokens, generated passwords.
    static func randomSecretText() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func hash(_ token: String) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let bytes = Array(token.utf8)
        let ok = bytes.withUnsafeBytes { raw in
            EVP_Digest(raw.baseAddress, raw.count, &digest, &length, EVP_sha256(), nil)
        }
        precondition(ok == 1 && length == 32, "SHA-256 from libcrypto failed")
        return Array(digest.prefix(Int(length)))
    }

    /// Creates a token; the returned secret is shown once and never stored.
    public func create(name: String, scope: TokenScope, now: SyslogTimestamp = .now()) async throws(StoreError) -> (APIToken, String) {
        let secret = Self.newSecret()
        let token = try await store.createToken(name: name, scope: scope, hash: Self.hash(secret), at: now)
        return (token, secret)
    }

    /// The active token an `Authorization` header carries, with enough scope; 401 or 403 otherwise.
    public func authorize(_ header: String?, needs scope: TokenScope, now: SyslogTimestamp = .now()) async throws(APIError) -> APIToken {
        let token = try await authenticate(header, now: now)
        guard token.scope.allows(scope) else {
            throw APIError(.forbidden, "forbidden", "this token has the '\(token.scope.rawValue)' scope; this needs '\(scope.rawValue)'")
        }
        return token
    }

    /// The active token an `Authorization` header carries, whatever its scope; 401 otherwise.
    public func authenticate(_ header: String?, now: SyslogTimestamp = .now()) async throws(APIError) -> APIToken {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError(.unauthorized, "unauthorized", "an API token is needed: send 'Authorization: Bearer TOKEN'")
        }
        let secret = header.dropFirst(7).trimmingCharacters(in: .whitespaces)
        let token: APIToken?
        do {
            token = try await store.token(hash: Self.hash(secret))
        } catch {
            throw APIError.store(error)
        }
        guard let token, token.isActive else {
            throw APIError(.unauthorized, "unauthorized", "the API token is unknown or revoked")
        }
        if now.seconds - (token.lastUsedAt?.seconds ?? 0) >= lastUsedResolutionSeconds {
            try? await store.markTokenUsed(id: token.id, at: now)
        }
        return token
    }

    /// On a first start (no active admin token), creates one and writes it to `DATA-DIR/admin.token` (mode 0600).
    /// Returns the file's path when it wrote one.
    public func bootstrapAdminToken(dataDirectory: String, logger: Logger) async throws -> String? {
        let path = (dataDirectory as NSString).appendingPathComponent("admin.token")
        let tokens = try await store.tokens()
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            let hash = Self.hash(text.trimmingCharacters(in: .whitespacesAndNewlines))
            if let t = try await store.token(hash: hash), t.isActive {
                logger.info("admin API token", metadata: ["token.file": "\(path)"])
                return nil
            }
        }
        guard !tokens.contains(where: { $0.isActive && $0.scope == .admin }) else { return nil }
        let (_, secret) = try await create(name: "admin (created on first start)", scope: .admin)
        try Self.writeSecret(secret + "\n", to: path)
        logger.notice(
            "created the admin API token; it is in the token file (readable by this user only)",
            metadata: ["token.file": "\(path)"])
        return path
    }

    /// Writes a file that only its owner can read, atomically (a temporary file renamed over the old one).
    static func writeSecret(_ text: String, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            let code = POSIXErrorCode(rawValue: errno) ?? .EIO
            unlink(temporary)
            throw POSIXError(code)
        }
    }
}
