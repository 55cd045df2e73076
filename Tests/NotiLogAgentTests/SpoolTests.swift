import Foundation
import NotiLogTestSupport
import Testing

@testable import NotiLogAgent

@Suite("Agent spool")
struct SpoolTests {
    static func segment(_ seq: UInt64, records: Int = 2, bytes: Int = 100, position: String? = nil) -> Spool.Segment {
        Spool.Segment(
            sequence: seq, records: records, firstTime: Int64(seq) * 1_000_000_000, positions: ["journald": position ?? "cursor-\(seq)"],
            payload: Array(repeating: UInt8(ascii: "a") &+ UInt8(seq % 26), count: bytes))
    }

    @Test func segmentsComeBackInOrderAfterAReopen() throws {
        let dir = TemporaryDirectory()
        let spool = try Spool(directory: dir.path + "/spool", maxBytes: 1 << 20)
        for seq in 1...5 { try spool.append(Self.segment(UInt64(seq))) }
        #expect(spool.oldest()?.sequence == 1)
        spool.remove(1)
        let again = try Spool(directory: dir.path + "/spool", maxBytes: 1 << 20)
        #expect(again.figures.segments == 4 && again.newestSequence == 5)
        #expect(again.newestPositions == ["journald": "cursor-5"])
        var seen: [UInt64] = []
        while let s = again.oldest() {
            #expect(s == Self.segment(s.sequence))
            seen.append(s.sequence)
            again.remove(s.sequence)
        }
        #expect(seen == [2, 3, 4, 5])
        #expect(again.figures.bytes == 0)
    }

    @Test func whenFullTheOldestAreDroppedAndCounted() throws {
        let dir = TemporaryDirectory()
        let one = Spool.encode(Self.segment(1)).count
        // Room for three (the later ones are a byte longer: "cursor-10").
        let spool = try Spool(directory: dir.path, maxBytes: Int64(one * 3 + 3))
        for seq in 1...10 { try spool.append(Self.segment(UInt64(seq), records: 7)) }
        #expect(spool.figures.segments == 3 && spool.oldest()?.sequence == 8)
        let losses = spool.takeDropped()
        #expect(losses.droppedSegments == 7 && losses.droppedRecords == 49)
        #expect(losses.oldestDropped == 1_000_000_000 && losses.newestDropped == 7_000_000_000)
        #expect(spool.takeDropped().isEmpty)
    }

    @Test(arguments: ["flip", "truncate", "garbage", "empty"])
    func aCorruptSegmentIsQuarantinedNotRetried(_ damage: String) throws {
        let dir = TemporaryDirectory()
        let spool = try Spool(directory: dir.path, maxBytes: 1 << 20)
        for seq in 1...3 { try spool.append(Self.segment(UInt64(seq))) }
        let path = Spool.path(dir.path, 2)
        var bytes = Array(FileManager.default.contents(atPath: path)!)
        switch damage {
        case "flip": bytes[bytes.count / 2] ^= 0x40
        case "truncate": bytes.removeLast(10)
        case "garbage": bytes = Array("not a segment at all".utf8)
        default: bytes = []
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // Also after a restart: an unfinished temporary write is discarded.
        FileManager.default.createFile(atPath: dir.path + "/tmp-4", contents: Data([1, 2, 3]))
        let reopened = try Spool(directory: dir.path, maxBytes: 1 << 20)
        var seen: [UInt64] = []
        while let s = reopened.oldest() {
            seen.append(s.sequence)
            reopened.remove(s.sequence)
        }
        #expect(seen == [1, 3])
        #expect(reopened.takeDropped().quarantinedSegments == 1)
        #expect(FileManager.default.fileExists(atPath: dir.path + "/quarantine/" + (path as NSString).lastPathComponent))
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/tmp-4"))
    }

    @Test func crcMatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }
}
