import Foundation
import Logging
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogAgent

/// The journald source against journal files written by `systemd-journal-remote` from export-format fixtures.
@Suite("Agent journald source", .enabled(if: FileManager.default.isExecutableFile(atPath: JournalFixture.remote)))
struct JournalSourceTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func source(_ dir: String, _ configuration: JournalSource.Configuration = .init(), positions: SourcePositions = [:]) throws -> JournalSource {
        var c = configuration
        c.directory = dir
        c.readFromStart = true
        return try JournalSource(configuration: c, positions: positions, logger: logger)
    }

    static func entry(_ n: Int, unit: String = "app.service", identifier: String = "app", priority: Int = 6, extra: [String: String] = [:]) -> [(String, [UInt8])] {
        var fields: [(String, [UInt8])] = [
            ("__REALTIME_TIMESTAMP", Array(String(1_764_900_000_000_000 + UInt64(n) * 1_000_000).utf8)),
            ("__MONOTONIC_TIMESTAMP", Array(String(1000 + n).utf8)),
            ("_BOOT_ID", Array("0123456789abcdef0123456789abcdef".utf8)),
            ("_HOSTNAME", Array("db-1".utf8)), ("PRIORITY", Array(String(priority).utf8)), ("SYSLOG_FACILITY", Array("3".utf8)),
            ("SYSLOG_IDENTIFIER", Array(identifier.utf8)), ("_PID", Array("42".utf8)), ("_SYSTEMD_UNIT", Array(unit.utf8)),
            ("MESSAGE", Array("entry \(n)".utf8)),
        ]
        for (k, v) in extra.sorted(by: { $0.key < $1.key }) { fields.append((k, Array(v.utf8))) }
        return fields
    }

    @Test func everyMappedFieldReachesTheRecord() throws {
        let j = try JournalFixture()
        var binary = Self.entry(1)
        binary.removeAll { $0.0 == "MESSAGE" }
        binary.append(("MESSAGE", [0x66, 0x6f, 0xff, 0xfe, 0x0a, 0x6f]))
        var multi = Self.entry(2, extra: ["CODE_FILE": "src/main.c", "CODE_LINE": "77", "CODE_FUNC": "main", "_EXE": "/usr/bin/app", "_COMM": "app", "_UID": "998", "MESSAGE_ID": "fc2e22bc6ee647b6b90729ab34a250b1", "_TRANSPORT": "journal", "_SYSTEMD_INVOCATION_ID": "aa11"])
        multi.removeAll { $0.0 == "MESSAGE" }
        multi.append(("MESSAGE", Array("first line\nsecond line\n\tindented".utf8)))
        var noIdentifier = Self.entry(3, priority: 2)
        noIdentifier.removeAll { $0.0 == "SYSLOG_IDENTIFIER" }
        noIdentifier.append(("_COMM", Array("kworker".utf8)))
        try j.write([binary, multi, noIdentifier])
        let source = try Self.source(j.directory)
        let entries = source.poll()
        try #require(entries.count == 3)
        let r0 = entries[0].record
        #expect(r0.hostname == "db-1" && r0.appName == "app" && r0.procID == "42" && r0.severity == .info && r0.facility == .daemon)
        #expect(r0.timestamp?.nanosecondsSinceEpoch == 1_764_900_001_000_000_000)
        let sd0 = Dictionary(uniqueKeysWithValues: (r0.structuredData?.first?.parameters ?? []).map { ($0.name, $0.value) })
        #expect(sd0["message_base64"] == Data([0x66, 0x6f, 0xff, 0xfe, 0x0a, 0x6f]).base64EncodedString())
        #expect(sd0["unit"] == "app.service" && sd0["boot_id"] == "0123456789abcdef0123456789abcdef")
        let r1 = entries[1].record
        #expect(r1.message == "first line\nsecond line\n\tindented")
        #expect(r1.msgID == "fc2e22bc6ee647b6b90729ab34a250b1")
        let sd1 = Dictionary(uniqueKeysWithValues: (r1.structuredData?.first?.parameters ?? []).map { ($0.name, $0.value) })
        #expect(sd1["code_file"] == "src/main.c" && sd1["code_line"] == "77" && sd1["code_func"] == "main" && sd1["exe"] == "/usr/bin/app")
        #expect(sd1["uid"] == "998" && sd1["transport"] == "journal" && sd1["invocation_id"] == "aa11" && sd1["comm"] == "app")
        #expect(entries[2].record.appName == "kworker" && entries[2].record.severity == .crit)
        #expect(entries.allSatisfy { $0.sourceKey == "journald" && $0.position?.hasPrefix("s=") == true })
    }

    @Test func aRestartGoesOnRightAfterTheSavedCursor() throws {
        let j = try JournalFixture()
        try j.write((1...6).map { Self.entry($0) })
        let first = try Self.source(j.directory)
        let read = first.poll(limit: 3)
        #expect(read.map(\.record.message) == ["entry 1", "entry 2", "entry 3"])
        let again = try Self.source(j.directory, positions: ["journald": read[2].position!])
        #expect(again.poll().map(\.record.message) == ["entry 4", "entry 5", "entry 6"])
        // New entries appended to the journal are read by the running source.
        try j.write((7...8).map { Self.entry($0) })
        #expect(again.poll().map(\.record.message) == ["entry 7", "entry 8"])
        #expect(again.poll().isEmpty)
    }

    @Test func aVacuumedCursorGoesOnFromTheNearestEntryAfterIt() throws {
        let j = try JournalFixture()
        try j.write((1...5).map { Self.entry($0) })
        let cursor = try #require(try Self.source(j.directory).poll(limit: 2).last?.position)
        // The file with entry 2 is gone; what is left starts at entry 4 (another file, other sequence numbers).
        try j.removeFiles()
        try j.write((4...6).map { Self.entry($0) })
        let resumed = try Self.source(j.directory, positions: ["journald": cursor])
        #expect(resumed.poll().map(\.record.message) == ["entry 4", "entry 5", "entry 6"])
    }

    @Test func filtersByUnitIdentifierPriorityAndMatch() throws {
        let j = try JournalFixture()
        try j.write([
            Self.entry(1, unit: "nginx.service", identifier: "nginx"),
            Self.entry(2, unit: "cron.service", identifier: "CRON", priority: 3),
            Self.entry(3, unit: "ssh.service", identifier: "sshd", priority: 7),
            Self.entry(4, unit: "ssh.service", identifier: "sshd", priority: 4, extra: ["_TRANSPORT": "syslog"]),
            Self.entry(5, unit: "init.scope", identifier: "systemd", extra: ["UNIT": "nginx.service"]),
        ])
        func messages(_ c: JournalSource.Configuration) throws -> [String] { try Self.source(j.directory, c).poll().map(\.record.message) }
        #expect(try messages(.init(units: ["nginx.service"])) == ["entry 1", "entry 5"])
        #expect(try messages(.init(units: ["nginx.service"], identifiers: ["CRON"])) == ["entry 1", "entry 2", "entry 5"])
        #expect(try messages(.init(identifiers: ["sshd"], maxPriority: .info)) == ["entry 4"])
        #expect(try messages(.init(maxPriority: .err)) == ["entry 2"])
        #expect(try messages(.init(matches: ["_TRANSPORT=syslog"])) == ["entry 4"])
        #expect(throws: JournalSourceError.self) { try Self.source(j.directory, .init(matches: ["transport is syslog"])) }
    }
}

