import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogStore

@Suite("Users and sessions in the store")
struct UserStoreTests {
    static let now = SyslogTimestamp(seconds: 1_764_076_672)
    static func later(_ seconds: Int64) -> SyslogTimestamp { SyslogTimestamp(seconds: now.seconds + seconds) }

    @Test func namesAreUniqueIgnoringCase() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        #expect(try await store.userCount() == 0)
        guard case .done(let alice) = try await store.createUser(username: "Alice", role: .editor, passwordHash: "h1", at: Self.now) else {
            Issue.record("not created")
            return
        }
        #expect(alice.username == "Alice")
        #expect(try await store.createUser(username: "alice", role: .viewer, passwordHash: "h2", at: Self.now) == .exists)
        #expect(try await store.user(named: "ALICE")?.id == alice.id)
        #expect(try await store.user(named: "bob") == nil)
        #expect(try await store.userCount() == 1)
    }

    @Test func theLastEnabledAdminCannotBeDemotedDisabledOrDeleted() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        _ = try await store.createUser(username: "root", role: .admin, passwordHash: "h", at: Self.now)
        _ = try await store.createUser(username: "ed", role: .editor, passwordHash: "h", at: Self.now)
        #expect(try await store.updateUser(named: "root", UserChange(role: .viewer), at: Self.now) == .lastAdmin)
        #expect(try await store.updateUser(named: "root", UserChange(disabled: true), at: Self.now) == .lastAdmin)
        #expect(try await store.deleteUser(named: "root") == .lastAdmin)
        #expect(try await store.user(named: "root")?.role == .admin)
        // With a second admin, the first may go.
        guard case .done = try await store.updateUser(named: "ed", UserChange(role: .admin), at: Self.now) else {
            Issue.record("ed not promoted")
            return
        }
        guard case .done(let root) = try await store.updateUser(named: "root", UserChange(disabled: true), at: Self.later(1)) else {
            Issue.record("root not disabled")
            return
        }
        #expect(root.disabled)
        #expect(try await store.updateUser(named: "ed", UserChange(role: .editor), at: Self.now) == .lastAdmin)
        #expect(try await store.updateUser(named: "nobody", UserChange(role: .editor), at: Self.now) == .notFound)
    }

    @Test func sessionsEndWithThePasswordOrTheUser() async throws {
        let dir = TemporaryDirectory()
        let store = try SQLiteLogStore(directory: dir.path)
        guard case .done(let user) = try await store.createUser(username: "vic", role: .viewer, passwordHash: "h", at: Self.now) else {
            Issue.record("not created")
            return
        }
        let end = Self.later(7 * 86_400)
        let a = try await store.createSession(
            userID: user.id, hash: Array(repeating: 1, count: 32), csrfToken: "c1", at: Self.now, expiresAt: end, address: "127.0.0.1",
            userAgent: "test")
        let b = try await store.createSession(
            userID: user.id, hash: Array(repeating: 2, count: 32), csrfToken: "c2", at: Self.now, expiresAt: end, address: nil, userAgent: nil)
        let found = try #require(try await store.session(hash: Array(repeating: 1, count: 32)))
        #expect(found.0.id == a.id && found.0.csrfToken == "c1" && found.0.address == "127.0.0.1")
        #expect(found.1.username == "vic")
        #expect(found.0.isActive(now: Self.later(60), idleSeconds: 3600))
        #expect(!found.0.isActive(now: Self.later(3600), idleSeconds: 3600))
        #expect(!found.0.isActive(now: end, idleSeconds: 30 * 86_400))

        // A new password keeps only the session that set it.
        _ = try await store.updateUser(named: "vic", UserChange(passwordHash: "h2", keepSession: b.id), at: Self.later(5))
        #expect(try await store.session(hash: Array(repeating: 1, count: 32))?.0.revokedAt != nil)
        #expect(try await store.session(hash: Array(repeating: 2, count: 32))?.0.revokedAt == nil)
        #expect(try await store.sessions(userID: user.id, at: Self.later(6)).map(\.id) == [b.id])

        // Disabling ends every session, the kept one too.
        _ = try await store.updateUser(named: "vic", UserChange(disabled: true), at: Self.later(7))
        #expect(try await store.sessions(userID: user.id, at: Self.later(8)).isEmpty)
        #expect(try await store.revokeSession(id: b.id, userID: user.id, at: Self.later(9)) == false)

        // Deleting the user deletes its sessions.
        _ = try await store.deleteUser(named: "vic")
        #expect(try await store.session(hash: Array(repeating: 2, count: 32)) == nil)
    }
}
