import NotiLogCore

/// What a watched process or unit is doing, as the watcher reports it (the `state` of `[watch@32473 …]`).
public enum WatchState: String, Sendable, Hashable, Codable, CaseIterable {
    case running, stopped, crashed, restarting
}

/// Where one watched thing stands (`ProcessWatcher.status`, for `notilog-agent status`).
public struct WatchStatus: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case process, unit
    }

    public var name: String
    public var kind: Kind
    /// nil before the first look, or when the thing cannot be looked at (see `note`).
    public var state: WatchState?
    /// The matching processes (a unit's are not read).
    public var pids: [Int32]
    /// When `state` began, as far as the watcher saw it.
    public var since: SyslogTimestamp?
    /// Restarts the watcher counted (a unit: systemd's `NRestarts`).
    public var restarts: Int
    /// Why there is no state, or what is wrong with the configuration of this thing.
    public var note: String?

    public init(name: String, kind: Kind, state: WatchState?, pids: [Int32] = [], since: SyslogTimestamp? = nil, restarts: Int = 0, note: String? = nil) {
        self.name = name
        self.kind = kind
        self.state = state
        self.pids = pids
        self.since = since
        self.restarts = restarts
        self.note = note
    }
}

/// How a process ended, when the watcher could read it (a zombie's exit status, a unit's `ExecMainCode`).
struct ExitStatus: Sendable, Hashable {
    var exitCode: Int?
    /// Without `SIG`: `KILL`.
    var signal: String?

    /// A `waitpid` status word; nil for a clean exit (0), which a zombie also shows when its status is hidden.
    init?(waitStatus w: Int32) {
        if w & 0x7f == 0 {
            let code = Int((w >> 8) & 0xff)
            guard code != 0 else { return nil }
            exitCode = code
        } else if w & 0x7f != 0x7f {
            signal = Self.signalName(Int(w & 0x7f))
        } else {
            return nil
        }
    }

    init(exitCode: Int? = nil, signal: String? = nil) {
        self.exitCode = exitCode
        self.signal = signal
    }

    /// Linux's numbering on x86 and Arm (as systemd prints `status=9/KILL`); a number when there is no name.
    static func signalName(_ n: Int) -> String {
        let names = [
            "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
            "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU", "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO",
            "PWR", "SYS",
        ]
        return (1...names.count).contains(n) ? names[n - 1] : String(n)
    }

    /// `killed by signal KILL`, `exited with code 1`.
    var sentence: String {
        if let signal { return "killed by signal \(signal)" }
        if let exitCode { return "exited with code \(exitCode)" }
        return "ended"
    }
}

/// One report before it becomes a record.
struct WatchReport: Sendable, Hashable {
    var state: WatchState
    var pid: Int32?
    var exit: ExitStatus?
    var restarts: Int?
    var message: String
    var isHeartbeat = false
}

/// The state machine of one watched process: what each look (the matching PIDs now) changes, as reports.
///
/// A process that is gone without a readable exit status is reported `stopped` only when it is still gone at the
/// next look: one that comes back by then (a supervisor restarting it) is a restart, `restarting` then `running`,
/// not a stop and a start. When the exit status is readable (a zombie not yet reaped, with a non-zero status) the
/// end is reported at once — `crashed` with the exit code or signal, as systemd does — and a return at the next
/// look is a restart. All previous PIDs replaced by new ones within one look is a restart too (a pidfile rewritten,
/// a daemon re-executed); some PIDs staying (a worker replaced beside its master) is no change.
struct ProcessTracker: Sendable {
    let name: String
    private(set) var state: WatchState?
    /// Sorted; while `vanished`, the PIDs last seen.
    private(set) var pids: [Int32] = []
    private(set) var since: SyslogTimestamp?
    private(set) var restarts = 0
    private var lastReport: SyslogTimestamp?
    /// Gone at the last look, exit status unknown: `stopped` at this one unless back.
    private var vanished = false
    /// Ended with a known status at the last look: back at this one is a restart.
    private var justEnded = false

    init(name: String) {
        self.name = name
    }

    /// - Parameters:
    ///   - current: the matching PIDs now.
    ///   - ended: how the previous PIDs ended, if that could be read (only used when none match now).
    mutating func observe(_ current: [Int32], ended: ExitStatus?, at now: SyslogTimestamp, heartbeat: Duration) -> [WatchReport] {
        let current = current.sorted()
        var out: [WatchReport] = []
        defer {
            if !out.isEmpty { lastReport = now }
        }
        guard let state else {
            let s: WatchState = current.isEmpty ? .stopped : .running
            set(s, now)
            pids = current
            out.append(WatchReport(state: s, pid: current.first, message: current.isEmpty ? "\(name) is not running" : "\(name) is running (\(Self.pidList(current)))"))
            return out
        }
        if !current.isEmpty {
            let replaced = state == .running && !vanished && !pids.isEmpty && Set(pids).isDisjoint(with: current)
            if replaced || (state == .running && vanished) || justEnded {
                restarts += 1
                let gone = pids.isEmpty ? "" : " \(Self.pidList(pids)) ended and"
                out.append(
                    WatchReport(
                        state: .restarting, pid: pids.first, restarts: restarts,
                        message: "\(name) restarted:\(gone) \(Self.pidList(current)) took its place (restart \(restarts))"))
                set(.restarting, now)
                out.append(WatchReport(state: .running, pid: current.first, restarts: restarts, message: "\(name) is running (\(Self.pidList(current)))"))
                set(.running, now)
            } else if state != .running {
                out.append(WatchReport(state: .running, pid: current.first, restarts: restarts > 0 ? restarts : nil, message: "\(name) started (\(Self.pidList(current)))"))
                set(.running, now)
            }
            pids = current
            vanished = false
            justEnded = false
        } else if state == .running {
            if vanished {
                out.append(
                    WatchReport(
                        state: .stopped, pid: pids.first,
                        message: "\(name) (\(Self.pidList(pids))) is gone; its exit status is unknown (not a child of the agent)"))
                set(.stopped, now)
                vanished = false
                pids = []
            } else if let ended {
                out.append(WatchReport(state: .crashed, pid: pids.first, exit: ended, message: "\(name) (\(Self.pidList(pids))) crashed: \(ended.sentence)"))
                set(.crashed, now)
                justEnded = true
                pids = []
            } else {
                vanished = true
            }
        } else {
            justEnded = false
        }
        if out.isEmpty, !vanished, let s = self.state, Self.heartbeatDue(last: lastReport, now: now, every: heartbeat) {
            out.append(WatchReport(state: s, pid: pids.first, restarts: s == .running && restarts > 0 ? restarts : nil, message: "heartbeat", isHeartbeat: true))
        }
        return out
    }

    var status: WatchStatus {
        WatchStatus(name: name, kind: .process, state: state, pids: vanished ? [] : pids, since: since, restarts: restarts)
    }

    private mutating func set(_ s: WatchState, _ now: SyslogTimestamp) {
        if state != s { since = now }
        state = s
    }

    static func pidList(_ pids: [Int32]) -> String {
        pids.count == 1 ? "pid \(pids[0])" : "pids " + pids.prefix(8).map(String.init).joined(separator: ", ") + (pids.count > 8 ? ", …" : "")
    }

    /// Heartbeats never repeat `restarting`: the server's restart limits count each `restarting` report.
    static func heartbeatDue(last: SyslogTimestamp?, now: SyslogTimestamp, every: Duration) -> Bool {
        guard let last else { return true }
        return elapsed(from: last, to: now) >= every
    }

    /// A clock that went back counts as a long time (the next look and heartbeat happen rather than stall).
    static func elapsed(from a: SyslogTimestamp, to b: SyslogTimestamp) -> Duration {
        let d = b.nanosecondsSinceEpoch &- a.nanosecondsSinceEpoch
        return d < 0 ? .seconds(Int64.max / 4) : .nanoseconds(d)
    }
}

/// A unit's state as systemd's bus tells it.
struct UnitProperties: Sendable, Hashable {
    var activeState: String
    var subState: String
    /// `NRestarts`, `ExecMainCode` (`CLD_EXITED` 1, `CLD_KILLED` 2, `CLD_DUMPED` 3) and `ExecMainStatus`: services only.
    var restarts: Int?
    var execMainCode: Int32?
    var execMainStatus: Int32?

    /// What the watcher reports for it; nil while it is on its way (`activating`, `deactivating`, `reloading` …).
    ///
    /// `auto-restart` is systemd waiting `RestartSec` before it restarts, before it counts that restart (the
    /// journal's "restart counter is at N" comes with `auto-restart-queued`), so there the report says N + 1.
    var report: (state: WatchState, exit: ExitStatus?, restarts: Int?)? {
        if subState.hasPrefix("auto-restart") {
            let n = restarts ?? 0
            return (.restarting, nil, subState == "auto-restart" ? n + 1 : n)
        }
        switch activeState {
        case "active", "reloading", "refreshing":
            return (.running, nil, restarts.flatMap { $0 > 0 ? $0 : nil })
        case "inactive":
            return (.stopped, nil, nil)
        case "failed":
            var exit: ExitStatus?
            switch (execMainCode, execMainStatus) {
            case (1, let s?) where s != 0: exit = ExitStatus(exitCode: Int(s))
            case (2, let s?), (3, let s?): exit = ExitStatus(signal: ExitStatus.signalName(Int(s)))
            default: break
            }
            return (.crashed, exit, nil)
        default:
            return nil
        }
    }
}

/// The state machine of one watched unit: a report when what systemd says changes, heartbeats between.
struct UnitTracker: Sendable {
    let name: String
    private(set) var state: WatchState?
    private(set) var since: SyslogTimestamp?
    private(set) var restarts = 0
    private var lastReported: WatchReport?
    private var lastReport: SyslogTimestamp?

    init(name: String) {
        self.name = name
    }

    mutating func observe(_ p: UnitProperties, at now: SyslogTimestamp, heartbeat: Duration) -> [WatchReport] {
        if let n = p.restarts { restarts = n }
        guard let r = p.report else { return [] }
        let words = "\(p.activeState)/\(p.subState)"
        let message: String
        switch r.state {
        case .running: message = "\(name) is running (\(words))"
        case .stopped: message = "\(name) is stopped (\(words))"
        case .crashed: message = "\(name) failed (\(words))" + (r.exit.map { ": main process \($0.sentence)" } ?? "")
        case .restarting: message = "\(name) is restarting (\(words), restart \(r.restarts ?? 0))"
        }
        let report = WatchReport(state: r.state, exit: r.exit, restarts: r.restarts, message: message)
        var out: [WatchReport] = []
        if let before = lastReported, (before.state, before.exit, before.restarts) == (report.state, report.exit, report.restarts) {
            guard r.state != .restarting, ProcessTracker.heartbeatDue(last: lastReport, now: now, every: heartbeat) else { return [] }
            out.append(WatchReport(state: r.state, exit: r.exit, restarts: r.restarts, message: "heartbeat", isHeartbeat: true))
        } else {
            // Restarted between two looks that both saw it running (faster than the interval): systemd counted it.
            if let before = lastReported, before.state == .running, r.state == .running, let n = r.restarts, n > (before.restarts ?? 0) {
                out.append(WatchReport(state: .restarting, restarts: n, message: "\(name) restarted (restart \(n))"))
            }
            out.append(report)
            if state != r.state { since = now }
            state = r.state
            lastReported = report
        }
        lastReport = now
        return out
    }

    var status: WatchStatus {
        WatchStatus(name: name, kind: .unit, state: state, since: since, restarts: restarts)
    }
}
