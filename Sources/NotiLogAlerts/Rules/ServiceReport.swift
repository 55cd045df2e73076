import NotiLogCore

/// What a record says about a process or a systemd unit: the input of `state` rules.
///
/// Two sources say it:
///
/// 1. **The agent's watcher** (the contract between agent and server) sends an RFC 5424 record carrying
///
///        [watch@32473 kind="unit" name="nginx.service" state="crashed" exit_code="1" signal="KILL" restarts="3"]
///
///    * `kind`: `unit` (a systemd unit; `name` is the full unit name with its suffix, `nginx.service`, as systemd
///      writes it, so the agent's reports and journald's messages about a unit fall in one group) or `process`
///      (`name` is the process name, `nginx`).
///    * `state`: `running`, `stopped` (ended on purpose), `crashed` (ended unexpectedly or failed to start) or
///      `restarting` (about to be started again after a crash).
///    * optional: `exit_code` (decimal), `signal` (name without `SIG`, `KILL`), `restarts` (restarts so far).
///    The message text is free and is not read.
///
/// 2. **systemd's own messages** from journald (app `systemd`, as `systemd[1]` logs them):
///    `nginx.service: Main process exited, code=killed, status=9/KILL` and
///    `nginx.service: Failed with result 'signal'.` → crashed (a clean `code=exited, status=0/SUCCESS` is not a
///    report); `Failed to start nginx.service - …` → crashed;
///    `nginx.service: Scheduled restart job, restart counter is at 3.` → restarting (restarts 3);
///    `Started nginx.service - …` → running; `Stopped nginx.service - …` and `nginx.service: Deactivated
///    successfully.` → stopped. Messages that give only the unit's description (`Started A high performance web
///    server.`, systemd before 249) name no unit and are not reports.
public struct ServiceReport: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case process, unit
    }

    /// The SD-ID of the agent's watcher reports (32473 is the private enterprise number set aside for examples
    /// by RFC 5612; the agent is NotiLog's own, so no registered number is needed).
    public static let structuredDataID = "watch@32473"

    public var kind: Kind
    public var name: String
    public var state: ServiceState
    public var exitCode: Int?
    public var signal: String?
    public var restarts: Int?
    /// systemd's words (`Failed with result 'signal'`), when the report came from them.
    public var detail: String?

    public init(kind: Kind, name: String, state: ServiceState, exitCode: Int? = nil, signal: String? = nil, restarts: Int? = nil, detail: String? = nil) {
        self.kind = kind
        self.name = name
        self.state = state
        self.exitCode = exitCode
        self.signal = signal
        self.restarts = restarts
        self.detail = detail
    }

    /// The report a record carries, if any.
    public init?(_ record: LogRecord) {
        if let report = Self.fromStructuredData(record) {
            self = report
        } else if Self.isSystemd(record), let report = Self.fromSystemdMessage(record.message) {
            self = report
        } else {
            return nil
        }
    }

    /// Whether the record can be a report at all (the agent's structured data, or systemd's own message): a cheap
    /// test that lets the engine pass over other records without handing them to `state` rules.
    public static func mayDescribe(_ record: LogRecord) -> Bool {
        record.hasStructuredDataElement(id: structuredDataID) || isSystemd(record)
    }

    /// One line for people: `crashed (signal KILL)`, `restarting (restart 3)`.
    public var summary: String {
        var parts: [String] = []
        if let signal { parts.append("signal \(signal)") }
        if let exitCode { parts.append("exit code \(exitCode)") }
        if let restarts, state == .restarting { parts.append("restart \(restarts)") }
        if parts.isEmpty, let detail { parts.append(detail) }
        return state.rawValue + (parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")")
    }

    // MARK: Agent

    static func fromStructuredData(_ record: LogRecord) -> ServiceReport? {
        guard let name = record.structuredDataValue(id: structuredDataID, param: "name"), !name.isEmpty,
            let stateText = record.structuredDataValue(id: structuredDataID, param: "state"),
            let state = ServiceState(rawValue: stateText)
        else { return nil }
        let kind = record.structuredDataValue(id: structuredDataID, param: "kind").flatMap(Kind.init(rawValue:)) ?? .process
        var signal = record.structuredDataValue(id: structuredDataID, param: "signal")
        if let s = signal, s.hasPrefix("SIG") { signal = String(s.dropFirst(3)) }
        return ServiceReport(
            kind: kind, name: name, state: state,
            exitCode: record.structuredDataValue(id: structuredDataID, param: "exit_code").flatMap { Int($0) },
            signal: signal?.isEmpty == true ? nil : signal,
            restarts: record.structuredDataValue(id: structuredDataID, param: "restarts").flatMap { Int($0) })
    }

    // MARK: systemd

    /// `systemd` (PID 1 or a user instance), without decoding the app name.
    static func isSystemd(_ record: LogRecord) -> Bool {
        record.withBytes(of: .appName) { bytes in
            guard let bytes else { return false }
            let word = "systemd".utf8
            guard bytes.count >= word.count, bytes.prefix(word.count).elementsEqual(word) else { return false }
            // `systemd[1]` when a sender kept the PID in the tag.
            return bytes.count == word.count || bytes[word.count] == UInt8(ascii: "[")
        }
    }

    static let unitSuffixes = [
        ".service", ".socket", ".timer", ".mount", ".automount", ".swap", ".target", ".path", ".slice", ".scope", ".device",
    ]

    static func isUnitName(_ word: Substring) -> Bool {
        unitSuffixes.contains { word.hasSuffix($0) && word.count > $0.count }
    }

    /// The unit named at the start of `text` (up to a space, or the end without a final period).
    static func leadingUnit(_ text: Substring) -> String? {
        var word = text.prefix { $0 != " " }
        if word.count == text.count, word.hasSuffix(".") { word = word.dropLast() }
        return isUnitName(word) ? String(word) : nil
    }

    static func fromSystemdMessage(_ message: String) -> ServiceReport? {
        let text = message[...]
        // "Started nginx.service - A high performance web server."
        for (prefix, state) in [("Started ", ServiceState.running), ("Stopped ", .stopped), ("Failed to start ", .crashed)]
        where text.hasPrefix(prefix) {
            guard let unit = leadingUnit(text.dropFirst(prefix.count)) else { return nil }
            return ServiceReport(kind: .unit, name: unit, state: state, detail: state == .crashed ? "failed to start" : nil)
        }
        // "nginx.service: <event>"
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let unitText = text[..<colon]
        guard isUnitName(unitText), !unitText.contains(" ") else { return nil }
        let unit = String(unitText)
        let event = text[text.index(after: colon)...].drop { $0 == " " }

        if event.hasPrefix("Main process exited, ") {
            // code=exited, status=1/FAILURE · code=killed, status=9/KILL · code=dumped, status=11/SEGV
            let fields = event.dropFirst("Main process exited, ".count)
            let code = value(of: "code=", in: fields)
            let status = value(of: "status=", in: fields)
            let number = status.flatMap { Int($0.prefix { $0 != "/" }) }
            let name = status.flatMap { s in s.firstIndex(of: "/").map { String(s[s.index(after: $0)...]) } }
            switch code {
            case "exited":
                guard let number, number != 0 else { return nil }
                return ServiceReport(kind: .unit, name: unit, state: .crashed, exitCode: number, detail: String(event))
            case "killed", "dumped":
                return ServiceReport(kind: .unit, name: unit, state: .crashed, signal: name ?? number.map(String.init), detail: String(event))
            default:
                return nil
            }
        }
        if event.hasPrefix("Failed with result '") {
            let result = event.dropFirst("Failed with result '".count).prefix { $0 != "'" }
            return ServiceReport(kind: .unit, name: unit, state: .crashed, detail: "failed with result '\(result)'")
        }
        if event.hasPrefix("Unit entered failed state") {
            return ServiceReport(kind: .unit, name: unit, state: .crashed, detail: "entered failed state")
        }
        if event.hasPrefix("Scheduled restart job, restart counter is at ") {
            let n = Int(event.dropFirst("Scheduled restart job, restart counter is at ".count).prefix { $0.isNumber })
            return ServiceReport(kind: .unit, name: unit, state: .restarting, restarts: n)
        }
        if event.hasPrefix("Deactivated successfully") {
            return ServiceReport(kind: .unit, name: unit, state: .stopped)
        }
        return nil
    }

    /// `status=9/KILL` in `code=killed, status=9/KILL` → `9/KILL`.
    static func value(of key: String, in fields: Substring) -> Substring? {
        for part in fields.split(separator: ",") {
            let p = part.drop { $0 == " " }
            if p.hasPrefix(key) { return p.dropFirst(key.count).prefix { $0 != " " && $0 != "." } }
        }
        return nil
    }
}
