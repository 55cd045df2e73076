/// Failed sign-ins counted per account and per client address over a sliding window. Once either count reaches its
/// limit, attempts for that account (or from that address) are refused — right password or not — until the oldest
/// failure leaves the window. A state machine without a clock of its own: callers pass the time.
public struct LoginRateLimiter: Sendable {
    public struct Limits: Sendable, Hashable {
        public var perAccount: Int
        public var perAddress: Int
        public var windowSeconds: Int64

        /// 5 failures per account and 20 per address in 15 minutes.
        public init(perAccount: Int = 5, perAddress: Int = 20, windowSeconds: Int64 = 900) {
            self.perAccount = perAccount
            self.perAddress = perAddress
            self.windowSeconds = windowSeconds
        }
    }

    public enum Decision: Sendable, Hashable {
        case allowed
        /// Refused; seconds until an attempt may be made again (at least 1).
        case limited(retryAfter: Int64)
    }

    public let limits: Limits
    /// Keys tracked at most (per kind); past this the oldest-failing keys are forgotten first, so a flood of
    /// made-up names cannot grow memory without bound.
    public var maxKeys = 10_000
    private var accounts: [String: [Int64]] = [:]
    private var addresses: [String: [Int64]] = [:]

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether an attempt for `account` (lower-cased by the caller) from `address` may go ahead at `now` (seconds).
    public mutating func check(account: String, address: String, now: Int64) -> Decision {
        let a = recent(&accounts, account, now)
        let b = recent(&addresses, address, now)
        var wait: Int64 = 0
        if a.count >= limits.perAccount, let oldest = a.dropLast(limits.perAccount - 1).last {
            wait = max(wait, oldest + limits.windowSeconds - now)
        }
        if b.count >= limits.perAddress, let oldest = b.dropLast(limits.perAddress - 1).last {
            wait = max(wait, oldest + limits.windowSeconds - now)
        }
        return wait > 0 ? .limited(retryAfter: wait) : .allowed
    }

    /// `check`, and when the attempt may go ahead, counts it as a failure at once: parallel attempts cannot all
    /// pass the check while their passwords are being verified. A success takes it back (`recordSuccess`).
    public mutating func begin(account: String, address: String, now: Int64) -> Decision {
        let decision = check(account: account, address: address, now: now)
        if decision == .allowed { recordFailure(account: account, address: address, now: now) }
        return decision
    }

    public mutating func recordFailure(account: String, address: String, now: Int64) {
        for (key, isAccount) in [(account, true), (address, false)] {
            if isAccount {
                accounts[key, default: []].append(now)
                prune(&accounts, now)
            } else {
                addresses[key, default: []].append(now)
                prune(&addresses, now)
            }
        }
    }

    /// A successful sign-in (begun at `now`) clears the account's failures and takes back the one `begin` counted
    /// for the address (the address's other failures stay: one right guess among many wrong ones must not reset them).
    public mutating func recordSuccess(account: String, address: String, begunAt now: Int64) {
        accounts[account] = nil
        if var times = addresses[address], let k = times.lastIndex(of: now) {
            times.remove(at: k)
            addresses[address] = times.isEmpty ? nil : times
        }
    }

    /// The failures of `key` within the window (dropping older ones).
    private func recent(_ table: inout [String: [Int64]], _ key: String, _ now: Int64) -> [Int64] {
        guard let times = table[key] else { return [] }
        let kept = times.filter { $0 > now - limits.windowSeconds }
        table[key] = kept.isEmpty ? nil : kept
        return kept
    }

    private func prune(_ table: inout [String: [Int64]], _ now: Int64) {
        guard table.count > maxKeys else { return }
        table = table.compactMapValues { times in
            let kept = times.filter { $0 > now - limits.windowSeconds }
            return kept.isEmpty ? nil : kept
        }
        while table.count > maxKeys, let oldest = table.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) })?.key {
            table[oldest] = nil
        }
    }
}
