import Foundation
import NotiLogCore
import NotiLogTestSupport
import Synchronization
import Testing

@testable import NotiLogAgent

#if canImport(Glibc)
import Glibc
#endif

/// A clock the tests move by hand: multi-line flushes and closing rotated files depend on it, never on real time.
final class TestClock: Sendable {
    private let nanoseconds = Mutex<Int64>(1_700_000_000_000_000_000)
    var now: SyslogTimestamp { SyslogTimestamp(nanosecondsSinceEpoch: nanoseconds.withLock { $0 }, fractionDigits: 6) }
    func advance(seconds: Double) { nanoseconds.withLock { $0 += Int64(seconds * 1e9) } }
}

/// A file source over a temporary directory, with the positions of every entry it returned taken as acknowledged
/// (what the agent saves once the server has them), so `restart()` is an agent restart.
final class Tail {
    let dir = TemporaryDirectory()
    let clock = TestClock()
    var configuration: FileSource.Configuration
    var source: FileSource
    var acknowledged: SourcePositions = [:]
    var entries: [AgentEntry] = []

    init(pattern: String = "*.log", _ configure: (inout FileSource.Configuration) -> Void = { _ in }) throws {
        configuration = FileSource.Configuration(paths: [dir.path + "/" + pattern], readExistingFromStart: true)
        configure(&configuration)
        source = try FileSource(configuration: configuration, hostname: "host-1", positions: [:], now: { [clock] in clock.now })
    }

    func path(_ name: String) -> String { dir.path + "/" + name }

    /// Polls and returns the messages.
    @discardableResult
    func poll() -> [String] { pollEntries().map(\.record.message) }

    func pollEntries() -> [AgentEntry] {
        let new = source.poll()
        entries += new
        for e in new { acknowledged[e.sourceKey] = e.position }
        return new
    }

    func restart() throws {
        source = try FileSource(configuration: configuration, hostname: "host-1", positions: acknowledged, now: { [clock] in clock.now })
    }

    func append(_ name: String, _ text: String) { append(name, Array(text.utf8)) }

    func append(_ name: String, _ bytes: [UInt8]) {
        let fd = open(path(name), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "cannot open \(name)")
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        precondition(n == bytes.count)
    }

    func rename(_ from: String, _ to: String) { precondition(Glibc.rename(path(from), path(to)) == 0) }
    func delete(_ name: String) { precondition(unlink(path(name)) == 0) }
    func truncate(_ name: String, to size: Int = 0) { precondition(Glibc.truncate(path(name), off_t(size)) == 0) }
    func copy(_ from: String, _ to: String) { append(to, Array(FileManager.default.contents(atPath: path(from)) ?? Data())) }

    func identity(_ name: String) -> (device: UInt64, inode: UInt64) {
        var st = stat()
        precondition(stat(path(name), &st) == 0)
        return (UInt64(st.st_dev), UInt64(st.st_ino))
    }

    func sourceKey(_ name: String) -> String {
        let id = identity(name)
        return "file:\(id.device):\(id.inode)"
    }
}

@Suite("File source")
struct FileSourceTests {
    // MARK: Lines

    @Test func linesAreReadOnceInOrderAndAnUnfinishedLineWaitsForItsEnd() throws {
        let t = try Tail()
        t.append("app.log", "one\ntwo\nthr")
        #expect(t.poll() == ["one", "two"])
        let held = FilePosition(t.acknowledged[t.sourceKey("app.log")]!)!
        #expect(held.offset == 8)  // not the 3 bytes of "thr"
        #expect(t.source.status.first?.readOffset == 11)
        #expect(t.poll() == [])
        t.append("app.log", "ee\nfour\n")
        #expect(t.poll() == ["three", "four"])
        #expect(FilePosition(t.acknowledged[t.sourceKey("app.log")]!)!.offset == 19)
        #expect(t.poll() == [])
    }

    @Test(arguments: [
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\r\r\n", ["a\r"]),
        ("\n\r\n", ["", ""]),
        ("a\rb\n", ["a\rb"]),
    ])
    func crlfLineEnds(_ text: String, _ expected: [String]) throws {
        let t = try Tail()
        t.append("app.log", text)
        #expect(t.poll() == expected)
    }

    @Test func aCarriageReturnAndItsNewlineInDifferentWrites() throws {
        let t = try Tail()
        t.append("app.log", "abc\r")
        #expect(t.poll() == [])
        t.append("app.log", "\n")
        #expect(t.poll() == ["abc"])
    }

    @Test(arguments: [
        // (line, limit, kept)
        ("0123456789abcdef", 10, "0123456789"),
        ("0123456789\r", 10, "0123456789"),
        ("0123456789", 10, "0123456789"),
        ("ééééé", 5, "éé"),  // 10 bytes; the cut does not split a character
    ])
    func longLinesAreCutAndSaySo(_ line: String, _ limit: Int, _ kept: String) throws {
        let t = try Tail { $0.maxLineBytes = limit }
        t.append("app.log", line + "\nnext\n")
        let entries = t.pollEntries()
        #expect(entries.map(\.record.message) == [kept, "next"])
        let full = line.utf8.count - (line.hasSuffix("\r") ? 1 : 0)
        if full > limit {
            #expect(entries[0].record.problems == [ParseProblem(field: .message, column: kept.utf8.count + 1, reason: "cut at \(kept.utf8.count) of \(full) bytes (maxLineBytes \(limit))")])
        } else {
            #expect(entries[0].record.problems.isEmpty)
        }
        #expect(entries[1].record.problems.isEmpty)
        #expect(FilePosition(entries[1].position!)!.offset == Int64(line.utf8.count + 6))
    }

    @Test func aLongLineWrittenInPiecesIsHeldCutAndCountedWhole() throws {
        let t = try Tail { $0.maxLineBytes = 8 }
        for _ in 0..<5 {
            t.append("app.log", "abcdefghij")
            #expect(t.poll() == [])
        }
        t.append("app.log", "\n")
        let e = t.pollEntries()
        #expect(e.map(\.record.message) == ["abcdefgh"])
        #expect(e.first?.record.problems.first?.reason == "cut at 8 of 50 bytes (maxLineBytes 8)")
        #expect(FilePosition(e[0].position!)!.offset == 51)
    }

    @Test func bytesThatAreNotUTF8AreKeptAsTheyAre() throws {
        let t = try Tail()
        let line: [UInt8] = [0x61, 0xFF, 0x62, 0xC3]  // "a", a stray byte, "b", half of a two-byte character
        t.append("app.log", line + [0x0A] + Array("ok\n".utf8))
        let e = t.pollEntries()
        try #require(e.count == 2)
        let r = e[0].record
        #expect(r.withBytes(of: .message) { $0.map(Array.init) } == line)
        #expect(r.problems == [ParseProblem(field: .encoding, column: 2, reason: "invalid UTF-8; the line's bytes are kept as they are")])
        #expect(r.hostname == "host-1" && r.appName == "app" && r.severity == .info && r.facility == .user)
        #expect(r.structuredDataValue(id: "file@32473", param: "path") == t.path("app.log"))
        // What the agent forwards carries the same bytes.
        let wire = RFC5424Formatter().format(r)
        #expect(Array(wire.suffix(line.count + 1)) == [0x20] + line)
        #expect(e[1].record.message == "ok" && e[1].record.problems.isEmpty)
    }

    @Test func entriesNameTheirFileHostAppAndSourceKey() throws {
        let t = try Tail { $0.facility = .local3; $0.severity = .warning }
        t.append("nginx-access.log", "GET /\n")
        let e = try #require(t.pollEntries().first)
        #expect(e.sourceKey == t.sourceKey("nginx-access.log"))
        #expect(e.record.hostname == "host-1" && e.record.appName == "nginx-access")
        #expect(e.record.facility == .local3 && e.record.severity == .warning)
        #expect(e.record.timestamp == t.clock.now && e.record.receivedAt == t.clock.now)
        #expect(e.record.structuredData == [StructuredDataElement(id: "file@32473", parameters: [StructuredDataParameter("path", t.path("nginx-access.log"))])])
        let p = try #require(FilePosition(e.position!))
        #expect(p.offset == 6 && p.fingerprintBytes == 6 && p.path == t.path("nginx-access.log"))

        let named = try Tail { $0.app = "web" }
        named.append("x.log", "a\n")
        #expect(named.pollEntries().first?.record.appName == "web")
    }

    // MARK: Finding files

    @Test(arguments: [false, true])
    func filesThereAtTheFirstStartAreReadFromTheirEndUnlessAskedOtherwise(_ fromStart: Bool) throws {
        let t = try Tail { $0.readExistingFromStart = fromStart }
        t.append("old.log", "history 1\nhistory 2\nhalf")
        #expect(t.poll() == (fromStart ? ["history 1", "history 2"] : []))
        t.append("new.log", "new 1\n")
        t.append("old.log", " done\n")
        // A file that appears later is read from its start; reading from the end started at a line's start.
        #expect(Set(t.poll()) == ["new 1", "half done"])
    }

    @Test func aFileThatAppearedWhileTheAgentWasAwayIsReadFromItsStart() throws {
        let t = try Tail { $0.readExistingFromStart = false }
        t.append("app.log", "a1\n")
        t.poll()
        t.append("app.log", "a2\n")
        #expect(t.poll() == ["a2"])
        // Away: a new file matching the pattern is created and written.
        t.append("worker.log", "w1\nw2\n")
        t.append("app.log", "a3\n")
        try t.restart()
        #expect(Set(t.poll()) == ["a3", "w1", "w2"])
    }

    @Test func excludedFilesAndOtherKindsAreNotRead() throws {
        let t = try Tail(pattern: "*") { $0.exclude = ["*.gz", "*/skip-*"] }
        t.append("app.log", "yes\n")
        t.append("app.log.1.gz", "no\n")
        t.append("skip-me.log", "no\n")
        try FileManager.default.createDirectory(atPath: t.path("dir.log"), withIntermediateDirectories: true)
        #expect(t.poll() == ["yes"])
        #expect(t.source.status.map(\.path) == [t.path("app.log")])
    }

    @Test func oneBigFileDoesNotStarveTheOthersAndIsReadOverSeveralPolls() throws {
        let t = try Tail { $0.maxBytesPerPoll = 100 }
        let lines = (0..<100).map { String(format: "line %05d", $0) }  // 11 bytes each
        t.append("big.log", lines.joined(separator: "\n") + "\n")
        t.append("small.log", "small\n")
        let first = t.poll()
        #expect(first.contains("small"))
        #expect(first.filter { $0.hasPrefix("line") }.count == 9)
        var all = first.filter { $0.hasPrefix("line") }
        for _ in 0..<20 { all += t.poll() }
        #expect(all == lines)
    }

    // MARK: Rotation, truncation, deletion

    @Test func renameAndCreateRotationLosesNothingAndRepeatsNothing() throws {
        let t = try Tail()
        t.append("app.log", "a1\na2\n")
        #expect(t.poll() == ["a1", "a2"])
        t.append("app.log", "a3\na4-")
        t.rename("app.log", "app.log.1")
        t.append("app.log", "b1\n")
        t.append("app.log.1", "end\na5\n")  // the writer has not reopened yet
        // The renamed file first (its lines were written first), then the new one from its start.
        #expect(t.poll() == ["a3", "a4-end", "a5", "b1"])
        #expect(t.source.status.map(\.state).sorted { $0.rawValue < $1.rawValue } == [.following, .rotated])
        t.append("app.log.1", "a6")  // still appended to, still read; the unfinished line waits
        t.clock.advance(seconds: 4)
        #expect(t.poll() == [])
        t.clock.advance(seconds: 4)
        #expect(t.poll() == [])  // quiet for 4 s only
        t.clock.advance(seconds: 2)
        #expect(t.poll() == ["a6"])  // quiet long enough: finished and closed
        #expect(t.source.status.map(\.path) == [t.path("app.log")])
        t.append("app.log", "b2\n")
        #expect(t.poll() == ["b2"])
    }

    @Test func aRotatedFileThatStillMatchesIsJustFollowed() throws {
        let t = try Tail()
        t.append("app.log", "a1\n")
        t.poll()
        t.rename("app.log", "app-1.log")
        t.append("app.log", "b1\n")
        t.append("app-1.log", "a2\n")
        #expect(Set(t.poll()) == ["a2", "b1"])
        t.clock.advance(seconds: 60)
        #expect(t.poll() == [])
        #expect(t.source.status.map(\.state) == [.following, .following])
        #expect(Set(t.entries.map(\.record.message)) == ["a1", "a2", "b1"] && t.entries.count == 3)
    }

    @Test func copytruncateIsReadAgainFromTheStart() throws {
        let t = try Tail()
        t.append("app.log", "a1\na2\n")
        t.poll()
        t.copy("app.log", "app.log.1")
        t.truncate("app.log")
        #expect(t.poll() == [])
        t.append("app.log", "b1\n")
        let e = t.pollEntries()
        #expect(e.map(\.record.message) == ["b1"])
        #expect(FilePosition(e[0].position!)!.offset == 3)
        #expect(t.source.status.first?.truncations == 1)
    }

    @Test func aTruncationHiddenByNewWritesIsFoundByTheFirstBytes() throws {
        let t = try Tail()
        t.append("app.log", "old 1\nold 2\n")
        t.poll()
        t.truncate("app.log")
        t.append("app.log", "new 1 is longer\nnew 2\n")  // already past the old offset when polled
        #expect(t.poll() == ["new 1 is longer", "new 2"])
        #expect(t.source.status.first?.truncations == 1)
    }

    @Test func theUnfinishedLineOfATruncatedFileIsSentAsItIs() throws {
        let t = try Tail()
        t.append("app.log", "a1\nhal")
        #expect(t.poll() == ["a1"])
        t.truncate("app.log")
        t.append("app.log", "f\nb1\n")
        #expect(t.poll() == ["hal", "f", "b1"])
    }

    @Test func aFileDeletedWhileBeingReadIsFinished() throws {
        let t = try Tail { $0.maxBytesPerPoll = 16 }
        t.append("app.log", "l1\n")
        t.poll()
        let key = t.sourceKey("app.log")
        t.append("app.log", "l2\nl3\nl4\nl5\nl6\nl7\nlast")
        t.delete("app.log")
        var read: [String] = []
        for _ in 0..<4 { read += t.poll() }
        #expect(read == ["l2", "l3", "l4", "l5", "l6", "l7", "last"])
        #expect(t.source.status.isEmpty)
        // Its position is of no use any more: a restart drops it.
        #expect(t.acknowledged[key] != nil)
        try t.restart()
        #expect(t.poll() == [] && t.source.status.isEmpty)
    }

    // MARK: Positions and restarts

    @Test func positionsRoundTripAndRefuseOtherText() {
        let p = FilePosition(offset: 5120, fingerprintBytes: 64, fingerprint: 0xa3f2_b0c4_d5e6_f708, path: "/var/log/a:b.log")
        #expect(p.description == "1:5120:64:a3f2b0c4d5e6f708:/var/log/a:b.log")
        #expect(FilePosition(p.description) == p)
        #expect(FilePosition("1:0:0:0000000000000001:") == FilePosition(offset: 0, fingerprintBytes: 0, fingerprint: 1, path: ""))
        for bad in ["", "2:1:1:0000000000000001:/x", "1:-1:1:0000000000000001:/x", "1:1:65:0000000000000001:/x", "1:1:1:01:/x", "1:1:1:0000000000000001", "cursor"] {
            #expect(FilePosition(bad) == nil, "\(bad)")
        }
    }

    @Test func aRestartGoesOnAfterWhatWasAcknowledged() throws {
        let t = try Tail { $0.multilineStart = #"^\d"# }
        t.append("app.log", "1 a\n  a+\n2 b\n  b+\n3 c\n  c+")
        #expect(t.poll() == ["1 a\n  a+", "2 b\n  b+"])  // "3 c" is still being joined, "  c+" unfinished
        try t.restart()
        t.append("app.log", "\n4 d\n")
        #expect(t.poll() == ["3 c\n  c+"])
        try t.restart()
        t.clock.advance(seconds: 2)
        #expect(t.poll() == [])  // "4 d" was read again by the new source at this poll: not yet quiet
        t.clock.advance(seconds: 2)
        #expect(t.poll() == ["4 d"])
        #expect(t.entries.map(\.record.message) == ["1 a\n  a+", "2 b\n  b+", "3 c\n  c+", "4 d"])
    }

    @Test func aSavedPositionForAReusedInodeIsNotResumed() throws {
        let t = try Tail()
        t.append("app.log", "0123456789\nabcdefghij\n")
        let id = t.identity("app.log")
        let key = "file:\(id.device):\(id.inode)"
        let same = Array("0123456789\nabcdefghij\n".utf8)
        let matching = same.withUnsafeBytes { FilePosition.hash($0) }
        // The same first bytes: resumed at the offset.
        t.acknowledged = [key: FilePosition(offset: 11, fingerprintBytes: same.count, fingerprint: matching, path: t.path("app.log")).description]
        try t.restart()
        #expect(t.poll() == ["abcdefghij"])
        // Other first bytes (a new file that got the old one's inode): from its start.
        t.entries = []
        t.acknowledged = [key: FilePosition(offset: 11, fingerprintBytes: 10, fingerprint: 42, path: t.path("gone.log")).description]
        try t.restart()
        #expect(t.poll() == ["0123456789", "abcdefghij"])
        #expect(t.entries.allSatisfy { FilePosition($0.position!)!.path == t.path("app.log") })
        // Shorter than the saved offset: truncated while away, from its start.
        t.acknowledged = [key: FilePosition(offset: 999, fingerprintBytes: same.count, fingerprint: matching, path: t.path("app.log")).description]
        try t.restart()
        #expect(t.poll() == ["0123456789", "abcdefghij"])
    }

    @Test func aSavedInodeNowHeldByAnotherFileOutsideThePatternsIsLeftAlone() throws {
        // The model test found this: a deleted file's inode reused by a copy that no pattern matches.
        let t = try Tail()
        t.append("app.log.c1", "copied 1\ncopied 2\n")
        let id = t.identity("app.log.c1")
        t.acknowledged = ["file:\(id.device):\(id.inode)": FilePosition(offset: 4, fingerprintBytes: 4, fingerprint: 42, path: t.path("app.log")).description]
        try t.restart()
        #expect(t.poll() == [])
        #expect(t.source.status.isEmpty)
    }

    @Test func aRotationWhileTheAgentWasAwayIsFinishedThenTheNewFileRead() throws {
        let t = try Tail { $0.readExistingFromStart = false }
        t.append("app.log", "")
        t.poll()
        t.append("app.log", "a1\na2\n")
        #expect(t.poll() == ["a1", "a2"])
        t.append("app.log", "a3\n")
        t.poll()
        t.acknowledged = [t.entries[1].sourceKey: t.entries[1].position!]  // a3 not acknowledged
        t.entries = []
        // Away: the file is rotated, a new one written.
        t.append("app.log", "a4\n")
        t.rename("app.log", "app.log.1")
        t.append("app.log", "b1\nb2\n")
        try t.restart()
        #expect(t.poll() == ["a3", "a4", "b1", "b2"])
        t.clock.advance(seconds: 10)
        #expect(t.poll() == [])
        #expect(t.source.status.map(\.path) == [t.path("app.log")])
    }

    // MARK: Multi-line records

    @Test func multiLineRecordsAreJoinedAndSentOnTheNextStartOrWhenQuiet() throws {
        let t = try Tail { $0.multilineStart = #"^\d{4}-\d\d-\d\d "#; $0.maxLineBytes = 60 }
        let head = "stray continuation\n2024-05-01 boom\njava.lang.Error\n\tat A\n\tat B\n"
        t.append("app.log", head + "2024-05-01 ok\n")
        let first = t.pollEntries()
        #expect(first.map(\.record.message) == ["stray continuation", "2024-05-01 boom\njava.lang.Error\n\tat A\n\tat B"])
        #expect(FilePosition(first[1].position!)!.offset == Int64(head.utf8.count))
        t.clock.advance(seconds: 0.5)
        t.append("app.log", "more\n")
        #expect(t.poll() == [])
        t.clock.advance(seconds: 0.9)
        #expect(t.poll() == [])  // "more" was added 0.9 s ago
        t.clock.advance(seconds: 0.1)
        #expect(t.poll() == ["2024-05-01 ok\nmore"])
        // A joined record longer than the limit is cut and says so.
        t.append("app.log", "2024-05-02 long\n" + String(repeating: "x", count: 60) + "\n2024-05-03 next\n")
        let e = t.pollEntries()
        #expect(e.map(\.record.message) == ["2024-05-02 long\n" + String(repeating: "x", count: 44)])
        #expect(e[0].record.problems.first?.reason == "cut at 60 of 76 bytes (maxLineBytes 60)")
    }

    @Test func anInvalidStartPatternIsRefused() {
        #expect(throws: FileSourceError.self) {
            _ = try FileSource(configuration: .init(paths: ["/x"], multilineStart: "(unclosed"), hostname: "h", positions: [:])
        }
    }
}
