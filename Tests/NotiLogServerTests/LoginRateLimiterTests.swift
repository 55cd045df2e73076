import Testing

@testable import NotiLogWeb

/// The sign-in limiter and the Origin check as plain values: no sockets, the time passed in.
@Suite("Sign-in limits and origins")
struct LoginRateLimiterTests {
    @Test func anAccountWaitsUntilItsOldestCountedFailureLeavesTheWindow() {
        var limiter = LoginRateLimiter(limits: .init(perAccount: 3, perAddress: 100, windowSeconds: 60))
        for t in [0, 10, 20] as [Int64] {
            #expect(limiter.check(account: "ann", address: "a", now: t) == .allowed)
            limiter.recordFailure(account: "ann", address: "a", now: t)
        }
        #expect(limiter.check(account: "ann", address: "b", now: 30) == .limited(retryAfter: 30), "another address does not help")
        #expect(limiter.check(account: "bob", address: "a", now: 30) == .allowed)
        #expect(limiter.check(account: "ann", address: "a", now: 60) == .allowed, "the failure at 0 has left the window")
        limiter.recordFailure(account: "ann", address: "a", now: 60)
        #expect(limiter.check(account: "ann", address: "a", now: 61) == .limited(retryAfter: 9))
        limiter.recordSuccess(account: "ann", address: "a", begunAt: 61)
        #expect(limiter.check(account: "ann", address: "a", now: 61) == .allowed)
    }

    @Test func anAddressIsLimitedAcrossAccounts() {
        var limiter = LoginRateLimiter(limits: .init(perAccount: 100, perAddress: 2, windowSeconds: 900))
        limiter.recordFailure(account: "x", address: "192.0.2.1", now: 100)
        limiter.recordFailure(account: "y", address: "192.0.2.1", now: 200)
        #expect(limiter.check(account: "z", address: "192.0.2.1", now: 300) == .limited(retryAfter: 700))
        #expect(limiter.check(account: "z", address: "192.0.2.2", now: 300) == .allowed)
        // A success does not clear the address's count.
        limiter.recordSuccess(account: "z", address: "192.0.2.1", begunAt: 300)
        #expect(limiter.check(account: "z", address: "192.0.2.1", now: 300) != .allowed)
    }

    @Test func attemptsCountFromTheirStartSoParallelOnesCannotAllPass() {
        var limiter = LoginRateLimiter(limits: .init(perAccount: 3, perAddress: 100, windowSeconds: 60))
        // Ten attempts begun before any has been answered: three go ahead.
        let decisions = (0..<10).map { _ in limiter.begin(account: "ann", address: "a", now: 5) }
        #expect(decisions.filter { $0 == .allowed }.count == 3)
        // One of them was right: the account's count is cleared, the address keeps the other two.
        limiter.recordSuccess(account: "ann", address: "a", begunAt: 5)
        #expect(limiter.begin(account: "ann", address: "a", now: 6) == .allowed)
        var byAddress = LoginRateLimiter(limits: .init(perAccount: 100, perAddress: 3, windowSeconds: 60))
        for name in ["x", "y"] { _ = byAddress.begin(account: name, address: "a", now: 1) }
        byAddress.recordSuccess(account: "y", address: "a", begunAt: 1)
        #expect(byAddress.begin(account: "z", address: "a", now: 2) == .allowed, "a success is not a failure")
        #expect(byAddress.begin(account: "z", address: "a", now: 2) == .allowed)
        #expect(byAddress.begin(account: "z", address: "a", now: 2) == .limited(retryAfter: 59))
    }

    @Test func memoryStaysBoundedUnderMadeUpNames() {
        var limiter = LoginRateLimiter(limits: .init(perAccount: 5, perAddress: 1_000_000, windowSeconds: 900))
        limiter.maxKeys = 100
        for k in 0..<1000 { limiter.recordFailure(account: "name-\(k)", address: "a", now: Int64(k)) }
        // The newest names are still counted.
        for _ in 0..<4 { limiter.recordFailure(account: "name-999", address: "a", now: 999) }
        #expect(limiter.check(account: "name-999", address: "a", now: 999) != .allowed)
    }

    @Test(arguments: [
        ("http://127.0.0.1:8514", "127.0.0.1:8514", false, true),
        ("http://127.0.0.1:8514", "127.0.0.1:8515", false, false),
        ("http://evil.example", "127.0.0.1:8514", false, false),
        ("https://logs.example.com", "logs.example.com", false, true),
        ("https://logs.example.com", "logs.example.com:443", false, true),
        ("https://logs.example.com:8443", "logs.example.com:8443", true, true),
        ("http://logs.example.com:8443", "logs.example.com:8443", true, false),
        ("HTTPS://Logs.Example.com", "logs.example.COM", true, true),
        ("null", "127.0.0.1:8514", false, false),
        ("http://127.0.0.1:8514/path", "127.0.0.1:8514", false, false),
    ])
    func origins(origin: String, host: String, tls: Bool, same: Bool) {
        #expect(APIRoutes.sameOrigin(origin, host: host, tls: tls) == same)
    }
}
