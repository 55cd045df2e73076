import Foundation
import NotiLogCore

/// Watches processes (by name, command-line pattern or pidfile) and systemd units, and reports each change — and a
/// heartbeat now and then — as a record carrying `[watch@32473 kind name state …]`, the structured data the
/// server's `state` rules read (`ServiceReport` in NotiLogAlerts) and its `absence` rules can count on.
///
/// **Processes** come from the proc file system (`procRoot`): a name matches `/proc/PID/comm` (as `pgrep` does;
/// the kernel cuts names to 15 bytes, so a longer name matches its first 15), a pattern is a regular expression
/// searched in `/proc/PID/cmdline` with the arguments joined by spaces (as `pgrep -f`); a pidfile names one PID,
/// which must exist and not be a zombie (and, with a pattern too, match it: a stale pidfile whose PID was reused
/// is then not mistaken for the process). A watched process is `running` while at least one process matches.
/// How changes are told apart (a stop, a crash, a restart) is `ProcessTracker`'s: in short, a process that is gone
/// is `crashed` at once when its exit status can be read (a zombie its parent has not reaped yet, with a non-zero
/// status), else `stopped` — "exit status unknown", since only a parent learns it — at the next look if it has not
/// come back; one back by then, or replaced by a new PID within a look, is `restarting` then `running`, counted in
/// `restarts`. Crashes of processes run by systemd are better told by the unit (below, or systemd's journal lines).
///
/// **Units** come from systemd over the system bus (`SystemBus`), only where systemd and a system bus are present.
/// Where they are not (a container, this project's build sandbox) units are not looked at: their `status` says
/// why, once, and nothing is reported for them — systemd's own journal messages about them (`Main process exited,
/// code=killed, status=9/KILL`, `Scheduled restart job, restart counter is at 3`), which the journald source
/// forwards, give the server the same states.
///
/// **Heartbeats**: a record with the current state and the message `heartbeat` for every watched thing that has
/// reported nothing for `configuration.heartbeat`, so absence rules notice a host (or an agent) gone quiet. They
/// are `info` whatever the state (they are not news), and never `restarting` (the server counts those).
///
/// Not thread-safe: one thread calls `poll` and reads `status`, the agent's reading loop (as with the journald
/// source). `poll` is cheap between looks; a look reads `comm` (and `cmdline`, when a pattern needs it) of every
/// process, and `stat` of the few that match.
public final class ProcessWatcher: @unchecked Sendable {
    public static let sourceKey = "watch"

    public let configuration: WatchConfiguration
    public let hostname: String
    private let proc: ProcTable
    private let now: @Sendable () -> SyslogTimestamp
    private var lastLook: SyslogTimestamp?
    private var processes: [WatchedProcess]
    private var units: [UnitTracker]
    private var bus: SystemBus?
    /// Why units are not looked at, or the last error reading one (per unit).
    private var unitNotes: [String: String] = [:]

    /// A process and how to find it.
    struct WatchedProcess {
        var configuration: WatchConfiguration.Process
        var pattern: Regex<AnyRegexOutput>?
        /// What is wrong with the configuration (an invalid pattern): such a process is not looked for.
        var problem: String?
        var tracker: ProcessTracker
    }

    public init(
        configuration: WatchConfiguration, hostname: String, procRoot: String = "/proc", now: @escaping @Sendable () -> SyslogTimestamp = { .now() }
    ) {
        self.configuration = configuration
        self.hostname = hostname
        self.now = now
        proc = ProcTable(root: procRoot)
        processes = configuration.processes.map { p in
            var w = WatchedProcess(configuration: p, tracker: ProcessTracker(name: p.name))
            if let text = p.commandPattern {
                do { w.pattern = try Regex(text) } catch { w.problem = "the pattern \(text) is not a regular expression: \(error)" }
            }
            return w
        }
        units = configuration.units.map { UnitTracker(name: $0) }
        if !units.isEmpty { connect() }
    }

    /// What a watcher with this configuration could not do (for `notilog-agent validate`): invalid patterns.
    public static func problems(in configuration: WatchConfiguration) -> [String] {
        var out: [String] = []
        for p in configuration.processes {
            if p.name.isEmpty { out.append("a watched process has no name") }
            if let text = p.commandPattern {
                do { _ = try Regex(text) } catch { out.append("\(p.name): the pattern \(text) is not a regular expression: \(error)") }
            }
        }
        if configuration.interval <= .zero { out.append("the watch interval must be more than zero") }
        return out
    }

    /// Looks at the processes (and units) when `configuration.interval` has passed since the last look (or on the
    /// first call), and returns a record for every change and every due heartbeat.
    public func poll() -> [AgentEntry] {
        let t = now()
        if let lastLook, ProcessTracker.elapsed(from: lastLook, to: t) < configuration.interval { return [] }
        lastLook = t
        var out: [AgentEntry] = []
        lookAtProcesses(t, &out)
        lookAtUnits(t, &out)
        return out
    }

    /// Name, kind, state, PIDs and since when, for each watched process then unit.
    public var status: [WatchStatus] {
        processes.map { w in
            var s = w.tracker.status
            s.note = w.problem
            return s
        }
            + units.map { u in
                var s = u.status
                s.note = unitNotes[u.name]
                return s
            }
    }

    // MARK: Processes

    private func lookAtProcesses(_ t: SyslogTimestamp, _ out: inout [AgentEntry]) {
        guard !processes.isEmpty else { return }
        let needsScan = processes.contains { $0.problem == nil && $0.configuration.pidfile == nil }
        let needsCommandLines = processes.contains { $0.pattern != nil }
        let table = needsScan ? proc.scan(commandLines: needsCommandLines) : []
        for i in processes.indices where processes[i].problem == nil {
            let pids = matches(processes[i], in: table)
            // How the previous processes ended matters only when none is left.
            let previous = processes[i].tracker.pids
            let ended = pids.isEmpty ? previous.lazy.compactMap { self.proc.exitStatus($0) }.first : nil
            let reports = processes[i].tracker.observe(pids, ended: ended, at: t, heartbeat: configuration.heartbeat)
            out += reports.map { entry(kind: .process, name: processes[i].configuration.name, $0, t) }
        }
    }

    private func matches(_ w: WatchedProcess, in table: [ProcTable.Entry]) -> [Int32] {
        let c = w.configuration
        if let pidfile = c.pidfile {
            guard let pid = ProcTable.pid(inPidfile: pidfile), proc.isAlive(pid) else { return [] }
            if let pattern = w.pattern {
                let line = ProcTable.readBytes("\(proc.root)/\(pid)/cmdline", limit: 65536).map { bytes in
                    String(decoding: bytes.reversed().drop { $0 == 0 }.reversed().map { $0 == 0 ? UInt8(ascii: " ") : $0 }, as: UTF8.self)
                }
                guard let line, (try? pattern.firstMatch(in: line)) != nil else { return [] }
            }
            return [pid]
        }
        let candidates: [Int32]
        if let pattern = w.pattern {
            candidates = table.filter { e in
                guard let line = e.commandLine, !line.isEmpty else { return false }
                return (try? pattern.firstMatch(in: line)) != nil
            }.map(\.pid)
        } else {
            let name = c.name
            let short = String(decoding: name.utf8.prefix(15), as: UTF8.self)
            candidates = table.filter { $0.comm == name || (name.utf8.count > 15 && $0.comm == short) }.map(\.pid)
        }
        return candidates.filter { proc.isAlive($0) }
    }

    // MARK: Units

    private func connect() {
        switch SystemBus.open() {
        case .success(let b):
            bus = b
            unitNotes = [:]
        case .failure(let why):
            bus = nil
            let note = "\(why.reason): units are not looked at; systemd's journal messages about them still reach the server"
            for u in units { unitNotes[u.name] = note }
        }
    }

    private func lookAtUnits(_ t: SyslogTimestamp, _ out: inout [AgentEntry]) {
        guard !units.isEmpty else { return }
        // Without a bus at the start there is none to come back: only a broken connection is tried again.
        guard let bus else { return }
        if !bus.isOpen {
            connect()
            guard self.bus != nil else { return }
        }
        for i in units.indices {
            let name = units[i].name
            switch self.bus!.properties(of: name) {
            case .success(let p):
                unitNotes[name] = nil
                out += units[i].observe(p, at: t, heartbeat: configuration.heartbeat).map { entry(kind: .unit, name: name, $0, t) }
            case .failure(let why):
                unitNotes[name] = why.reason
            }
        }
    }

    // MARK: Records

    private func entry(kind: WatchStatus.Kind, name: String, _ r: WatchReport, _ t: SyslogTimestamp) -> AgentEntry {
        Self.entry(kind: kind, name: name, r, at: t, hostname: hostname)
    }

    /// The record of one report: `[watch@32473 kind name state exit_code? signal? restarts? pid?]` and a sentence.
    static func entry(kind: WatchStatus.Kind, name: String, _ r: WatchReport, at t: SyslogTimestamp, hostname: String) -> AgentEntry {
        var parameters = [
            StructuredDataParameter("kind", kind.rawValue), StructuredDataParameter("name", name),
            StructuredDataParameter("state", r.state.rawValue),
        ]
        if let code = r.exit?.exitCode { parameters.append(StructuredDataParameter("exit_code", String(code))) }
        if let signal = r.exit?.signal { parameters.append(StructuredDataParameter("signal", signal)) }
        if let restarts = r.restarts { parameters.append(StructuredDataParameter("restarts", String(restarts))) }
        if let pid = r.pid { parameters.append(StructuredDataParameter("pid", String(pid))) }
        let severity: Severity
        switch r.state {
        case _ where r.isHeartbeat: severity = .info
        case .crashed: severity = .err
        case .restarting: severity = .warning
        case .stopped: severity = .notice
        case .running: severity = .info
        }
        let record = LogRecord(
            facility: .daemon, severity: severity, timestamp: t, receivedAt: t, hostname: hostname, appName: "notilog-agent", msgID: "WATCH",
            structuredData: [StructuredDataElement(id: "watch@32473", parameters: parameters)], message: r.message)
        return AgentEntry(record: record, sourceKey: Self.sourceKey, position: nil)
    }
}
