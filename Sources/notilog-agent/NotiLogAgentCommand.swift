import ArgumentParser
import Foundation
import Logging
import NotiLogAgent
import ServiceLifecycle
import UnixSignals

/// `notilog-agent`: forwards this host's logs to a NotiLog server, with nothing lost while it is away.
@main
struct NotiLogAgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notilog-agent",
        abstract: "Forward this host's logs (journald, files, process and unit states) to a NotiLog server.",
        subcommands: [Run.self, Validate.self, Status.self],
        defaultSubcommand: Run.self)
}

struct AgentOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The configuration file (default: $NOTILOG_AGENT_CONFIG, else /etc/notilog/agent.yaml).", valueName: "path"))
    var config: String?

    @Option(name: .long, help: ArgumentHelp("Where the state file and the spool live (overrides state_dir).", valueName: "path"))
    var stateDir: String?

    func load() throws -> AgentConfiguration {
        let path = config ?? ProcessInfo.processInfo.environment["NOTILOG_AGENT_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? "/etc/notilog/agent.yaml"
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no configuration at \(path): give --config FILE (etc/notilog/agent.yaml in the source tree is a commented example)")
        }
        do {
            var c = try AgentConfiguration.load(file: path)
            if let stateDir { c.stateDirectory = stateDir }
            return c
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the agent (the default). SIGTERM or SIGINT stops it: the pending batch goes to the spool, which is sent at the next start.")

    @OptionGroup var options: AgentOptions

    @Option(name: .long, help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default: $NOTILOG_LOG_LEVEL, else info).", valueName: "level"))
    var logLevel: String?

    func run() async throws {
        let levelText = logLevel ?? ProcessInfo.processInfo.environment["NOTILOG_LOG_LEVEL"].flatMap { $0.isEmpty ? nil : $0 } ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else { throw ValidationError("unknown log level \"\(levelText)\"") }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "notilog-agent")
        let configuration = try options.load()
        let runtime: AgentRuntime
        do {
            runtime = try AgentRuntime(configuration: configuration, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: runtime)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            logger.error("stopped on an error", metadata: ["error.message": "\(error)"])
            throw ExitCode(1)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the configuration and print what the agent would do (exit 0 when it is fine, 2 when not).")

    @OptionGroup var options: AgentOptions

    func run() throws {
        let c = try options.load()
        do {
            _ = try c.resolvedToken()
        } catch {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
            throw ExitCode(2)
        }
        var out = "\(c.file ?? "configuration"): fine\n"
        out += "  agent id: \(c.agentID)\n  hostname: \(c.hostname)\n  state: \(c.stateDirectory) (spool up to \(c.spoolMaxBytes >> 20) MiB)\n"
        out += "  output: \(c.output.url)\(c.output.token != nil || c.output.tokenFile != nil ? " with a token" : " without a token")\n"
        out += "  batches: \(c.batch.maxRecords) records / \(c.batch.maxBytes) bytes / \(c.batch.maxDelay), at once from \(c.batch.immediateSeverity.map { "\($0)" } ?? "never")\n"
        out += "  metrics record: \(c.metricsInterval.map { "every \($0)" } ?? "off")\n"
        for (i, f) in c.files.enumerated() {
            out += "  files[\(i)]: \(f.paths.joined(separator: " "))\(f.app.map { " as \($0)" } ?? "")\n"
        }
        if let j = c.journald {
            var parts = [j.directory.map { "files in \($0)" } ?? "the local journal"]
            if !j.units.isEmpty { parts.append("units \(j.units.joined(separator: ","))") }
            if !j.identifiers.isEmpty { parts.append("identifiers \(j.identifiers.joined(separator: ","))") }
            if let p = j.maxPriority { parts.append("priority \(p) and above") }
            if !j.matches.isEmpty { parts.append("matching \(j.matches.joined(separator: " "))") }
            parts.append(j.readFromStart ? "from the start at the first run" : "from now at the first run")
            out += "  journald: \(parts.joined(separator: ", "))\n"
        }
        let watchProblems = ProcessWatcher.problems(in: c.watch)
        if !watchProblems.isEmpty {
            FileHandle.standardError.write(Data(("\(c.file ?? "configuration"): " + watchProblems.joined(separator: "\n  ") + "\n").utf8))
            throw ExitCode(2)
        }
        for p in c.watch.processes {
            out += "  watch process \(p.name)\(p.commandPattern.map { " (command line ~ \($0))" } ?? "")\(p.pidfile.map { " (pidfile \($0))" } ?? "")\n"
        }
        for u in c.watch.units { out += "  watch unit \(u)\n" }
        if !c.watch.isEmpty { out += "  watch every \(c.watch.interval), heartbeat every \(c.watch.heartbeat)\n" }
        if c.files.isEmpty && c.journald == nil && c.watch.isEmpty { out += "  no sources configured: the agent would send nothing\n" }
        print(out, terminator: "")
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how the agent is doing: sources and their positions, the spool, the last acknowledgement (from STATE-DIR/status.json).")

    @OptionGroup var options: AgentOptions

    @Flag(help: "Print the status file as it is (JSON).")
    var json = false

    func run() throws {
        let c = try options.load()
        let path = c.stateDirectory + "/status.json"
        guard let data = FileManager.default.contents(atPath: path),
            let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else {
            throw ValidationError("no status at \(path): the agent has not run with this state directory")
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let pid = status["pid"] as? Int ?? 0
        let running = pid > 0 && kill(pid_t(pid), 0) == 0
        var out = "agent \(status["agent_id"] as? String ?? "?") on \(status["hostname"] as? String ?? "?"): "
        out += running ? "running (pid \(pid), since \(status["started_at"] as? String ?? "?"))\n" : "not running (last status \(status["updated_at"] as? String ?? "?"))\n"
        let output = status["output"] as? [String: Any] ?? [:]
        out += "output: \(output["url"] as? String ?? "?") — \((output["connected"] as? Bool ?? false) ? "connected" : "NOT CONNECTED")"
        out += ", \(output["sent_records"] as? Int ?? 0) records in \(output["sent_batches"] as? Int ?? 0) batches sent"
        if let t = output["last_acknowledged_at"] as? String { out += ", last acknowledged \(t)" }
        out += "\n"
        if let e = output["last_error"] as? String { out += "  last error: \(e)\n" }
        let spool = status["spool"] as? [String: Any] ?? [:]
        out += "spool: \(spool["batches"] as? Int ?? 0) batches, \(spool["bytes"] as? Int ?? 0) of \(spool["max_bytes"] as? Int ?? 0) bytes\n"
        out += "last acknowledged batch: \(status["last_acknowledged_batch"] as? Int ?? 0), pending records: \(status["pending_records"] as? Int ?? 0)\n"
        if let m = status["metrics"] as? [String: Any] {
            func n(_ key: String) -> Int { m[key] as? Int ?? 0 }
            out += "since start: read \(n("read_journal")) journal entries, \(n("read_files")) file records, \(n("read_watch")) watch records;"
            out += " sent \(n("sent_records")) records in \(n("sent_batches")) batches, \(n("retries")) retries;"
            out += " dropped \(n("dropped_records")) records (\(n("dropped_batches")) batches), \(n("quarantined_batches")) batches quarantined\n"
            out += "process: rss \(n("rss_bytes") >> 20) MiB, cpu \(m["cpu_seconds"] as? Double ?? 0) s"
            if let age = m["last_ack_age_seconds"] as? Double { out += ", last acknowledgement \(age) s ago" }
            let every = m["report_every_seconds"] as? Double ?? 0
            out += every > 0 ? ", metrics record every \(every) s\n" : ", no metrics records (metrics_interval: 0)\n"
        }
        for s in status["sources"] as? [[String: Any]] ?? [] {
            if s["kind"] as? String == "watch" {
                out += "watch \(s["watch_kind"] as? String ?? "") \(s["name"] as? String ?? "?"): \(s["state"] as? String ?? "?")"
                if let pids = s["pids"] as? [Int] { out += " (pid \(pids.map(String.init).joined(separator: ",")))" }
                if let since = s["since"] as? String { out += " since \(since)" }
                if let note = s["note"] as? String { out += " — \(note)" }
                out += "\n"
                continue
            }
            if s["kind"] as? String == "journald" {
                out += "journald \(s["directory"] as? String ?? ""): \(s["entries_read"] as? Int ?? 0) entries read, \(s["errors"] as? Int ?? 0) unreadable"
                out += ", cursor \(s["cursor"] as? String ?? "(none yet)")\n"
                continue
            }
            out += "file \(s["path"] as? String ?? "?") (\(s["device"] as? Int ?? 0):\(s["inode"] as? Int ?? 0)): offset \(s["offset"] as? Int ?? 0) of \(s["size"] as? Int ?? 0), \(s["state"] as? String ?? "?")\n"
        }
        print(out, terminator: "")
    }
}
