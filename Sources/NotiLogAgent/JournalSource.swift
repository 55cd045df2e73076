import CSystemd
import Foundation
import Logging
import NotiLogCore

/// Reads journald through libsystemd (`sd_journal`): the local journal or a directory of journal files, filtered
/// by unit, identifier, priority and field matches, each entry made into an RFC 5424 record.
///
/// Position: the entry's cursor. On start with a saved cursor the source seeks to it and steps once
/// (`sd_journal_seek_cursor` then `sd_journal_next`): when `sd_journal_test_cursor` confirms that entry, it was
/// already sent and reading goes on after it; when the cursor is gone (the journal was vacuumed or rotated away)
/// the entry reached is the nearest one after it, and it is read — logged, not a stall. Without a saved cursor
/// it starts at the end (only new entries) unless `readFromStart`.
///
/// Mapping: `MESSAGE` → message (multi-line kept; a `MESSAGE` that is not UTF-8 is also kept exactly, base64, in
/// `message_base64`); `PRIORITY` → severity; `SYSLOG_FACILITY` → facility; `SYSLOG_IDENTIFIER` (else `_COMM`) →
/// APP-NAME; `_PID` (else `SYSLOG_PID`) → PROCID; `_HOSTNAME` → HOSTNAME; `__REALTIME_TIMESTAMP` → TIMESTAMP
/// (microseconds); `MESSAGE_ID` → MSGID (its first 32 characters); and into `[journald@32473 …]`: `unit`,
/// `user_unit`, `boot_id`, `machine_id`, `invocation_id`, `exe`, `comm`, `uid`, `gid`, `transport`, `code_file`,
/// `code_line`, `code_func`, `errno`, `systemd_unit` (`UNIT=`, systemd's messages about a unit), `job_type`,
/// `job_result`, `exit_code`, `exit_status`.
///
/// Not thread-safe (an `sd_journal` is not): one thread polls it, the agent's reading loop.
public final class JournalSource: @unchecked Sendable {
    public struct Configuration: Sendable, Hashable {
        /// A directory of journal files (as `journalctl -D`); nil reads the local journal (system and user).
        public var directory: String?
        /// Only these units (`_SYSTEMD_UNIT`, and systemd's messages about them, `UNIT=`) …
        public var units: [String] = []
        /// … or these identifiers (`SYSLOG_IDENTIFIER`); neither: every entry.
        public var identifiers: [String] = []
        /// Entries at this priority or more severe only (`info` leaves out `debug`).
        public var maxPriority: Severity?
        /// `FIELD=value` matches that must all hold.
        public var matches: [String] = []
        /// First start (no saved cursor): from the oldest entry (true) or only new ones (false, the default).
        public var readFromStart = false

        public init(
            directory: String? = nil, units: [String] = [], identifiers: [String] = [], maxPriority: Severity? = nil, matches: [String] = [],
            readFromStart: Bool = false
        ) {
            self.directory = directory
            self.units = units
            self.identifiers = identifiers
            self.maxPriority = maxPriority
            self.matches = matches
            self.readFromStart = readFromStart
        }

        /// What `init` would refuse: a match that is not `FIELD=value` with an upper-case field name.
        public func validate() throws(JournalSourceError) {
            for m in matches {
                let parts = m.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" }) else {
                    throw JournalSourceError("\"\(m)\" is not a journal match (FIELD=value, e.g. _TRANSPORT=kernel)")
                }
            }
        }
    }

    public static let sourceKey = "journald"

    public let configuration: Configuration
    private var journal: OpaquePointer?
    private let logger: Logger
    /// The cursor of the last entry read.
    public private(set) var cursor: String?
    public private(set) var entriesRead: Int64 = 0
    public private(set) var errors: Int64 = 0
    /// The journal stands on an entry not yet read (the nearest one after a vacuumed cursor): `poll` reads it first.
    private var readCurrentFirst = false

    public init(configuration: Configuration, positions: SourcePositions, logger: Logger) throws(JournalSourceError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        var j: OpaquePointer?
        let rc: Int32
        if let directory = configuration.directory {
            rc = sd_journal_open_directory(&j, directory, 0)
        } else {
            rc = sd_journal_open(&j, Int32(SD_JOURNAL_LOCAL_ONLY))
        }
        guard rc >= 0, let j else { throw JournalSourceError("cannot open the journal\(configuration.directory.map { " in \($0)" } ?? ""): \(Self.describe(rc))") }
        journal = j
        // Fields of any size (the default cuts at 64 KiB).
        _ = sd_journal_set_data_threshold(j, 0)
        try addMatches()
        seek(to: positions[Self.sourceKey])
    }

    deinit {
        if let journal { sd_journal_close(journal) }
    }

    private func addMatches() throws(JournalSourceError) {
        guard let j = journal else { return }
        func add(_ text: String) throws(JournalSourceError) {
            let rc = text.withCString { sd_journal_add_match(j, $0, 0) }
            guard rc >= 0 else { throw JournalSourceError("cannot add the journal match \(text): \(Self.describe(rc))") }
        }
        var groups = 0
        // (units OR identifiers) AND (priorities) AND each custom match.
        if !configuration.units.isEmpty || !configuration.identifiers.isEmpty {
            var first = true
            for u in configuration.units {
                if !first { sd_journal_add_disjunction(j) }
                try add("_SYSTEMD_UNIT=\(u)")
                sd_journal_add_disjunction(j)
                try add("UNIT=\(u)")
                first = false
            }
            for id in configuration.identifiers {
                if !first { sd_journal_add_disjunction(j) }
                try add("SYSLOG_IDENTIFIER=\(id)")
                first = false
            }
            groups += 1
        }
        if let max = configuration.maxPriority {
            if groups > 0 { sd_journal_add_conjunction(j) }
            for p in 0...max.rawValue { try add("PRIORITY=\(p)") }
            groups += 1
        }
        for m in configuration.matches {
            if groups > 0 { sd_journal_add_conjunction(j) }
            try add(m)
            groups += 1
        }
    }

    private func seek(to saved: String?) {
        guard let j = journal else { return }
        if let saved {
            if saved.withCString({ sd_journal_seek_cursor(j, $0) }) >= 0 {
                let step = sd_journal_next(j)
                if step > 0, saved.withCString({ sd_journal_test_cursor(j, $0) }) > 0 {
                    cursor = saved
                    return  // That entry was sent; `poll` goes on after it.
                }
                if step > 0 {
                    // The saved entry is gone: the one reached is the nearest after it, not yet sent; `poll` reads
                    // it first (stepping back would not work at the head of the journal).
                    logger.warning(
                        "the saved journal cursor is no longer in the journal (rotated or vacuumed); going on from the nearest entry after it")
                    readCurrentFirst = true
                    return
                }
            }
            logger.warning("the saved journal cursor cannot be used; starting at the end of the journal")
        }
        if configuration.readFromStart {
            _ = sd_journal_seek_head(j)
        } else {
            // The tail, stepped back once: the next entry is the first one written from now on.
            _ = sd_journal_seek_tail(j)
            _ = sd_journal_previous(j)
        }
    }

    /// Reads up to `limit` entries that are there now.
    public func poll(limit: Int = 5000) -> [AgentEntry] {
        guard let j = journal else { return [] }
        // Takes in what changed since the last call (new entries, new or rotated files).
        _ = sd_journal_process(j)
        var out: [AgentEntry] = []
        if readCurrentFirst {
            readCurrentFirst = false
            if let entry = readEntry(j) { out.append(entry) }
        }
        var consecutiveErrors = 0
        while out.count < limit {
            let rc = sd_journal_next(j)
            if rc == 0 { break }
            if rc < 0 {
                // A corrupt entry or file: logged and passed; libsystemd moves past what it cannot read.
                errors += 1
                consecutiveErrors += 1
                if consecutiveErrors == 1 { logger.warning("cannot read a journal entry; passing it", metadata: ["error.message": "\(Self.describe(rc))"]) }
                if consecutiveErrors >= 100 { break }
                continue
            }
            consecutiveErrors = 0
            guard let entry = readEntry(j) else { continue }
            out.append(entry)
        }
        entriesRead += Int64(out.count)
        return out
    }

    /// Waits up to `timeout` for the journal to change (new entries, rotation); true when it did.
    @discardableResult
    public func wait(_ timeout: Duration) -> Bool {
        guard let j = journal else { return false }
        let usec = UInt64(timeout.components.seconds) * 1_000_000 + UInt64(timeout.components.attoseconds / 1_000_000_000_000)
        return sd_journal_wait(j, usec) > 0
    }

    private func readEntry(_ j: OpaquePointer) -> AgentEntry? {
        var cursorPointer: UnsafeMutablePointer<CChar>?
        guard sd_journal_get_cursor(j, &cursorPointer) >= 0, let cursorPointer else { return nil }
        let entryCursor = String(cString: cursorPointer)
        free(cursorPointer)
        cursor = entryCursor
        var usec: UInt64 = 0
        _ = sd_journal_get_realtime_usec(j, &usec)
        var fields: [String: [UInt8]] = [:]
        sd_journal_restart_data(j)
        var data: UnsafeRawPointer?
        var length = 0
        while sd_journal_enumerate_data(j, &data, &length) > 0 {
            guard let data else { continue }
            let bytes = UnsafeRawBufferPointer(start: data, count: length)
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = String(decoding: bytes[..<eq], as: UTF8.self)
            guard Self.wanted.contains(name) else { continue }
            fields[name] = Array(bytes[(eq + 1)...])
        }
        return AgentEntry(record: Self.record(fields, realtimeMicroseconds: usec), sourceKey: Self.sourceKey, position: entryCursor)
    }

    /// Journal fields → structured-data parameter names.
    static let structured: [(field: String, param: String)] = [
        ("_SYSTEMD_UNIT", "unit"), ("_SYSTEMD_USER_UNIT", "user_unit"), ("_BOOT_ID", "boot_id"), ("_MACHINE_ID", "machine_id"),
        ("_SYSTEMD_INVOCATION_ID", "invocation_id"), ("_EXE", "exe"), ("_COMM", "comm"), ("_UID", "uid"), ("_GID", "gid"),
        ("_TRANSPORT", "transport"), ("CODE_FILE", "code_file"), ("CODE_LINE", "code_line"), ("CODE_FUNC", "code_func"),
        ("ERRNO", "errno"), ("UNIT", "systemd_unit"), ("JOB_TYPE", "job_type"), ("JOB_RESULT", "job_result"),
        ("EXIT_CODE", "exit_code"), ("EXIT_STATUS", "exit_status"),
    ]
    static let wanted: Set<String> = Set(
        ["MESSAGE", "PRIORITY", "SYSLOG_FACILITY", "SYSLOG_IDENTIFIER", "_PID", "SYSLOG_PID", "_HOSTNAME", "MESSAGE_ID"]
            + structured.map(\.field))

    /// The record for one entry's fields.
    static func record(_ fields: [String: [UInt8]], realtimeMicroseconds usec: UInt64) -> LogRecord {
        func text(_ name: String) -> String? {
            fields[name].map { String(decoding: $0, as: UTF8.self) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        let time = SyslogTimestamp(nanosecondsSinceEpoch: Int64(usec) * 1000, fractionDigits: 6)
        let severity = text("PRIORITY").flatMap(UInt8.init).flatMap(Severity.init(rawValue:)) ?? .info
        let facility = text("SYSLOG_FACILITY").flatMap(UInt8.init).flatMap(Facility.init(rawValue:)) ?? .user
        var params: [StructuredDataParameter] = []
        for (field, param) in structured { if let v = text(field) { params.append(StructuredDataParameter(param, v)) } }
        let messageBytes = fields["MESSAGE"] ?? []
        let message: String
        if let valid = String(validating: messageBytes, as: UTF8.self) {
            message = valid
        } else {
            message = String(decoding: messageBytes, as: UTF8.self)
            params.append(StructuredDataParameter("message_base64", Data(messageBytes).base64EncodedString()))
        }
        let msgID = text("MESSAGE_ID").map { String($0.prefix(32)) }
        return LogRecord(
            facility: facility, severity: severity, timestamp: time, receivedAt: time, hostname: text("_HOSTNAME"),
            appName: text("SYSLOG_IDENTIFIER") ?? text("_COMM"), procID: text("_PID") ?? text("SYSLOG_PID"), msgID: msgID,
            structuredData: params.isEmpty ? nil : [StructuredDataElement(id: "journald@32473", parameters: params)], message: message)
    }

    static func describe(_ rc: Int32) -> String {
        String(cString: strerror(-rc))
    }
}

public struct JournalSourceError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
