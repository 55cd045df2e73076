import Synchronization

/// What one listener has seen; each event is counted here and only here.
public final class ListenerCounters: Sendable {
    public struct Snapshot: Sendable, Hashable {
        public var received: Int64 = 0
        public var parseProblems: Int64 = 0
        public var frameProblems: Int64 = 0
        /// Datagrams lost because the ingest queue was full.
        public var droppedQueueFull: Int64 = 0
        /// Senders outside the allow-list (connections refused, datagrams ignored).
        public var rejectedNotAllowed: Int64 = 0
        /// Connections refused by the connection limits.
        public var rejectedLimit: Int64 = 0
        public var closedIdle: Int64 = 0
        public var connectionErrors: Int64 = 0
        public var openConnections: Int = 0
        /// Records a closing connection delivered after the pipeline had stopped taking records (an operator
        /// must look: this happens only when the store could not keep up at shutdown).
        public var droppedShutdown: Int64 = 0
        /// Times a connection stopped reading because the ingest queue was full.
        public var backPressurePauses: Int64 = 0
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) {
        state.withLock { body(&$0) }
    }
}

/// Open connections per listener and per sender address.
final class ConnectionLimiter: Sendable {
    private let state = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))
    let maxTotal: Int
    let maxPerAddress: Int

    init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Takes a slot for `address`, or returns false when a limit is reached.
    func acquire(_ address: String) -> Bool {
        state.withLock { s in
            let mine = s.byAddress[address, default: 0]
            guard s.total < maxTotal, mine < maxPerAddress else { return false }
            s.total += 1
            s.byAddress[address] = mine + 1
            return true
        }
    }

    func release(_ address: String) {
        state.withLock { s in
            s.total -= 1
            let mine = s.byAddress[address, default: 1] - 1
            s.byAddress[address] = mine > 0 ? mine : nil
        }
    }
}
