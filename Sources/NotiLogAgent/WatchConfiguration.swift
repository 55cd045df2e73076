import NotiLogCore

/// What the process and unit watcher watches (`watch:` in agent.yaml); `ProcessWatcher` does the watching.
public struct WatchConfiguration: Sendable, Hashable {
    /// A process to watch, by name (the kernel's `comm`, as `pgrep` matches it), by a regular expression over its
    /// command line, or by a pidfile; `name` also names it in reports.
    public struct Process: Sendable, Hashable {
        public var name: String
        public var commandPattern: String?
        public var pidfile: String?

        public init(name: String, commandPattern: String? = nil, pidfile: String? = nil) {
            self.name = name
            self.commandPattern = commandPattern
            self.pidfile = pidfile
        }
    }

    public var processes: [Process] = []
    /// systemd units by full name (`nginx.service`).
    public var units: [String] = []
    /// How often processes and units are looked at.
    public var interval: Duration = .seconds(5)
    /// A `running` report for each watched thing this often even without a change (absence rules use them).
    public var heartbeat: Duration = .seconds(60)

    public init(processes: [Process] = [], units: [String] = [], interval: Duration = .seconds(5), heartbeat: Duration = .seconds(60)) {
        self.processes = processes
        self.units = units
        self.interval = interval
        self.heartbeat = heartbeat
    }

    public var isEmpty: Bool { processes.isEmpty && units.isEmpty }
}
