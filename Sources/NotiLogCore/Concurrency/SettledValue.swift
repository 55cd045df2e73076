import Synchronization

/// A result that is settled once (an address a service has bound, or why it could not) and awaited by any
/// number of tasks: those that ask before it is settled wait, those that ask after get it at once.
public final class SettledValue<Value: Sendable>: Sendable {
    private let state = Mutex<(result: Result<Value, any Error>?, waiters: [CheckedContinuation<Value, any Error>])>((nil, []))

    public init() {}

    /// The value, once settled; throws the error it was settled with.
    public func value() async throws -> Value {
        try await withCheckedThrowingContinuation { c in
            let ready = state.withLock { s -> Result<Value, any Error>? in
                if let r = s.result { return r }
                s.waiters.append(c)
                return nil
            }
            if let ready { c.resume(with: ready) }
        }
    }

    /// Settles it and wakes the waiters. The first result stays: later calls change nothing.
    public func settle(_ result: Result<Value, any Error>) {
        let waiters = state.withLock { s -> [CheckedContinuation<Value, any Error>] in
            guard s.result == nil else { return [] }
            s.result = result
            defer { s.waiters.removeAll() }
            return s.waiters
        }
        for w in waiters { w.resume(with: result) }
    }
}
