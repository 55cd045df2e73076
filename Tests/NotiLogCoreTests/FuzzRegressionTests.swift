// The invariants the libFuzzer target in fuzz/ checks, and the tests that replay its seed corpus
// (fuzz/seeds/) and every crash it found (Fixtures/fuzz/) through them.
//
// This one file is compiled twice: here, in the test target, and into the fuzz target, where
// fuzz/Sources/SyslogFuzzer/SyslogFuzzInvariants.swift is a symlink to it and NOTILOG_FUZZER is defined.
// So the fuzzer and the tests cannot drift apart. It uses NotiLogCore's public API only.

import Foundation
import NIOCore
import NotiLogCore

#if !NOTILOG_FUZZER
import Testing

@Suite("Fuzz corpus replay")
struct FuzzRegressionTests {
    /// Every committed seed holds every invariant (no fuzzer needed).
    @Test(arguments: FuzzCorpus.files(in: FuzzCorpus.seedDirectory))
    func seedHoldsInvariants(_ name: String) throws {
        let input = try FuzzCorpus.read(name, in: FuzzCorpus.seedDirectory)
        #expect(SyslogFuzzInvariants.violations(in: input) == [], "input: \(FuzzCorpus.hex(input))")
    }

    /// Every input the fuzzer ever crashed on, saved as a fixture: it must no longer break an invariant.
    @Test(.enabled(if: !FuzzCorpus.files(in: FuzzCorpus.crashDirectory).isEmpty),
          arguments: FuzzCorpus.files(in: FuzzCorpus.crashDirectory))
    func crashFixtureHoldsInvariants(_ name: String) throws {
        let input = try FuzzCorpus.read(name, in: FuzzCorpus.crashDirectory)
        #expect(SyslogFuzzInvariants.violations(in: input) == [], "input: \(FuzzCorpus.hex(input))")
    }

    /// The checker itself notices a broken record (so an empty result above means something).
    @Test func checkerReportsAFormatMismatch() {
        let parser = SyslogParser()
        let record = parser.parse(
            "<13>1 2024-01-01T00:00:00Z host app - - - hello", receivedAt: SyslogFuzzInvariants.receivedAt)
        var other = record
        other.message = "something else"
        #expect(SyslogFuzzInvariants.roundTripViolations(of: record) == [])
        #expect(!SyslogFuzzInvariants.compareRoundTrip(original: record, reparsed: parser.parse(
            RFC5424Formatter().format(other), receivedAt: SyslogFuzzInvariants.receivedAt)).isEmpty)
    }
}

/// The corpus directories, found from this file's place in the source tree (no bundle resources needed).
enum FuzzCorpus {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let seedDirectory = packageRoot.appendingPathComponent("fuzz/seeds")
    static let crashDirectory = packageRoot.appendingPathComponent("Tests/NotiLogCoreTests/Fixtures/fuzz")

    static func files(in directory: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted()
    }

    static func read(_ name: String, in directory: URL) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(name)))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}
#endif

/// What must hold for any input bytes: framing then parsing never crashes, every record's JSON is valid, and
/// a record written by `RFC5424Formatter` reads back as RFC 5424 with the fields the formatter wrote.
enum SyslogFuzzInvariants {
    static let parser = SyslogParser()
    static let formatter = RFC5424Formatter()
    static let receivedAt = SyslogTimestamp(seconds: 1_700_000_000, nanoseconds: 123_456_000, fractionDigits: 6)
    /// Small, so that inputs of fuzzing size reach the oversize paths.
    static let maxFrameSize = 512
    static let tinyMaxFrameSize = 16
    /// JSONSerialization is the slow part of a run: check at most this many frames' records per input.
    static let jsonChecksPerInput = 4

    /// Every invariant `input` breaks, described; empty when all hold.
    static func violations(in input: [UInt8]) -> [String] {
        var out: [String] = []
        var jsonBudget = jsonChecksPerInput

        // (a) The framer in auto mode, then the parser on each frame, the way the collector reads a stream.
        let frames = SyslogFrameDecoder.frames(in: input, framing: .auto, maxFrameSize: maxFrameSize)
        out += framingViolations(input, frames, maxFrameSize: maxFrameSize)
        // Framing alone once more with a tiny limit, where nearly every frame takes the oversize paths.
        let tinyFrames = SyslogFrameDecoder.frames(in: input, framing: .auto, maxFrameSize: tinyMaxFrameSize)
        out += framingViolations(input, tinyFrames, maxFrameSize: tinyMaxFrameSize)
            .map { "limit \(tinyMaxFrameSize): \($0)" }
        for (n, frame) in frames.enumerated() {
            let record = frame.bytes.withUnsafeReadableBytes { parser.parse($0, receivedAt: receivedAt) }
            out += recordViolations(record, checkJSON: jsonBudget > 0).map { "frame \(n): \($0)" }
            jsonBudget -= 1
        }

        // (b) The parser on the whole input as one frame (what a UDP datagram is).
        let whole = parser.parse(input, receivedAt: receivedAt)
        out += recordViolations(whole, checkJSON: true).map { "whole input: \($0)" }

        // (c) The same bytes as a JSON-lines ingest body: a clear error or records, never a crash; every record
        // it accepts keeps the parser's promises.
        if let records = try? input.withUnsafeBytes({ try JSONLinesReader.records($0, receivedAt: receivedAt, source: nil, maxMessageBytes: maxFrameSize) }) {
            for (n, record) in records.prefix(4).enumerated() {
                out += recordViolations(record, checkJSON: false).map { "JSON line record \(n): \($0)" }
            }
        }
        return out
    }

    /// The framer's promises: frames fit `maxFrameSize`, only a frame with a problem may be empty, no bytes
    /// appear that were not sent, chunking the stream differently changes nothing, and its own octet-counted
    /// output frames back into the same frames.
    static func framingViolations(_ input: [UInt8], _ frames: [SyslogFrame], maxFrameSize: Int) -> [String] {
        var out: [String] = []
        var framedBytes = 0
        for (n, frame) in frames.enumerated() {
            let count = frame.bytes.readableBytes
            framedBytes += count
            if count > maxFrameSize {
                out.append("frame \(n): \(count) bytes > maxFrameSize \(maxFrameSize)")
            }
            if count == 0, frame.problem == nil {
                out.append("frame \(n): empty without a problem")
            }
        }
        if framedBytes > input.count {
            out.append("frames hold \(framedBytes) bytes, more than the \(input.count) of the input")
        }

        // The same stream arriving in reads of varying size (1 byte up to hundreds) through NIO's processor.
        let processor = NIOSingleStepByteToMessageProcessor(
            SyslogFrameDecoder(framing: .auto, maxFrameSize: maxFrameSize))
        var chunked: [SyslogFrame] = []
        var offset = 0
        var state = UInt32(truncatingIfNeeded: input.count) &* 2_654_435_761 | 1
        let sizes = [1, 1, 2, 3, 5, 8, 64, maxFrameSize + 1, 700]
        do {
            while offset < input.count {
                state = state &* 1_103_515_245 &+ 12_345
                let size = min(sizes[Int(state >> 16) % sizes.count], input.count - offset)
                try processor.process(buffer: ByteBuffer(bytes: input[offset..<(offset + size)])) { chunked.append($0) }
                offset += size
            }
            try processor.finishProcessing(seenEOF: true) { chunked.append($0) }
        } catch {
            out.append("the decoder threw \(error)")
        }
        if chunked != frames {
            out.append("chunked reads gave \(describe(chunked)), one read gave \(describe(frames))")
        }

        // Framing its own octet-counted output again gives the same frames (non-empty ones), without problems.
        var reencoded = ByteBuffer()
        let nonEmpty = frames.filter { $0.bytes.readableBytes > 0 }
        for frame in nonEmpty { SyslogFrameDecoder.octetCounted(frame.bytes.readableBytesView, into: &reencoded) }
        let again = SyslogFrameDecoder.frames(
            in: Array(reencoded.readableBytesView), framing: .auto, maxFrameSize: maxFrameSize)
        if again.map(\.bytes) != nonEmpty.map(\.bytes) || again.contains(where: { $0.problem != nil }) {
            out.append("re-framing octet-counted frames gave \(describe(again)), not \(describe(nonEmpty))")
        }
        return out
    }

    static func describe(_ frames: [SyslogFrame]) -> String {
        "\(frames.count) frames " + frames.prefix(8).map {
            let problem = $0.problem.map { " \($0)" } ?? ""
            return "[\($0.bytes.readableBytes) B \(show(Array($0.bytes.readableBytesView)))\(problem)]"
        }.joined(separator: " ")
    }

    /// (c) JSON validity and the formatter round trip for one parsed record.
    static func recordViolations(_ record: LogRecord, checkJSON: Bool) -> [String] {
        var out: [String] = []
        if checkJSON { out += jsonViolations(of: record) }
        out += roundTripViolations(of: record)
        return out
    }

    static func jsonViolations(of record: LogRecord) -> [String] {
        let json = record.jsonBytes()
        guard String(validating: json, as: UTF8.self) != nil else {
            return ["jsonBytes() is not valid UTF-8"]
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json))
        } catch {
            return ["jsonBytes() does not parse as JSON: \(error)"]
        }
        guard let dict = object as? [String: Any] else { return ["jsonBytes() is not a JSON object"] }
        var out: [String] = []
        let fields: [(String, String?)] = [
            ("hostname", record.hostname), ("app", record.appName), ("procid", record.procID),
            ("msgid", record.msgID), ("message", record.message),
        ]
        for (key, expected) in fields {
            let value = dict[key]
            let actual = value is NSNull ? nil : value as? String
            // Foundation's JSON reader drops a U+FEFF at the start of a string value and after each escape
            // sequence (the JSON text keeps it): compare without them.
            if actual != expected, actual.map(withoutBOMs) != expected.map(withoutBOMs) {
                out.append("JSON \(key) \(String(describing: actual)) != record's \(String(describing: expected))")
            }
        }
        return out
    }

    static func withoutBOMs(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: text.unicodeScalars.lazy.filter { $0 != "\u{FEFF}" })
        return String(scalars)
    }

    static func roundTripViolations(of record: LogRecord) -> [String] {
        let wire = formatter.format(record)
        let reparsed = parser.parse(wire, receivedAt: receivedAt)
        return compareRoundTrip(original: record, reparsed: reparsed)
            .map { "\($0) (formatted: \(String(decoding: wire.prefix(300), as: UTF8.self).debugDescription))" }
    }

    /// What the formatter promises: valid header fields read back as it wrote them.
    static func compareRoundTrip(original r: LogRecord, reparsed r2: LogRecord) -> [String] {
        var out: [String] = []
        if r2.format != .rfc5424 {
            out.append("reparsed format is \(r2.format), not rfc5424")
        }
        if r2.facility != (r.facility ?? .user) || r2.severity != (r.severity ?? .notice) {
            let pri = { (r: LogRecord) in "\(String(describing: r.facility))/\(String(describing: r.severity))" }
            out.append("reparsed PRI \(pri(r2)) != \(pri(r))")
        }
        let headers: [(LogRecord.TextField, Int)] = [(.hostname, 255), (.appName, 48), (.procID, 128), (.msgID, 32)]
        for (field, maxLength) in headers {
            let expected = sanitizedHeader(bytes(of: field, in: r), maxLength: maxLength)
            let actual = bytes(of: field, in: r2)
            if actual != expected {
                out.append("reparsed \(field) \(show(actual)) != formatter's \(show(expected))")
            }
        }
        // The message as written; a leading BOM reads as the encoding mark, not as text.
        var message = bytes(of: .message, in: r) ?? []
        if message.starts(with: [0xEF, 0xBB, 0xBF]) { message.removeFirst(3) }
        let reparsedMessage = bytes(of: .message, in: r2) ?? []
        if reparsedMessage != message {
            out.append("reparsed message \(show(reparsedMessage)) != \(show(message))")
        }
        out += structuredDataViolations(r.structuredData, r2.structuredData)
        if let t = r.timestamp, t.seconds >= -62_135_596_800, t.seconds <= 253_402_300_799 {  // years 1...9999
            let digits = min(Int(t.fractionDigits), 6)
            var unit: Int32 = 1
            for _ in digits..<9 { unit *= 10 }
            let nanos = t.nanoseconds / unit * unit
            if r2.timestamp?.seconds != t.seconds || r2.timestamp?.nanoseconds != nanos {
                out.append("reparsed timestamp \(String(describing: r2.timestamp)) != \(t) (to \(digits) digits)")
            }
        }
        return out
    }

    static func structuredDataViolations(_ a: [StructuredDataElement]?, _ b: [StructuredDataElement]?) -> [String] {
        guard let a, !a.isEmpty else {
            return b == nil ? [] : ["reparsed structured data \(String(describing: b)) where there was none"]
        }
        let expected = a.map { element in
            StructuredDataElement(
                id: sanitizedName(element.id),
                parameters: element.parameters.map { StructuredDataParameter(sanitizedName($0.name), $0.value) })
        }
        return b == expected ? [] : ["reparsed structured data \(String(describing: b)) != \(expected)"]
    }

    // MARK: The formatter's rules, restated

    /// PRINTUSASCII, else `_`, cut to the RFC limit; empty (or a lone `-`) reads back as NILVALUE.
    static func sanitizedHeader(_ bytes: [UInt8]?, maxLength: Int) -> [UInt8]? {
        guard let bytes, !bytes.isEmpty else { return nil }
        let out = bytes.prefix(maxLength).map { $0 >= 33 && $0 <= 126 ? $0 : UInt8(ascii: "_") }
        return out == [UInt8(ascii: "-")] ? nil : out
    }

    /// SD-NAME: PRINTUSASCII except `=`, SP, `]`, `"`, else `_`; at most 32; empty becomes `_`.
    static func sanitizedName(_ name: String) -> String {
        let bytes = Array(name.utf8)
        if bytes.isEmpty { return "_" }
        let out = bytes.prefix(32).map { b -> UInt8 in
            let ok = b >= 33 && b <= 126 && b != UInt8(ascii: "=") && b != UInt8(ascii: "]") && b != UInt8(ascii: "\"")
            return ok ? b : UInt8(ascii: "_")
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(of field: LogRecord.TextField, in r: LogRecord) -> [UInt8]? {
        r.withBytes(of: field) { $0.map { Array($0) } }
    }

    static func show(_ bytes: [UInt8]?) -> String {
        guard let bytes else { return "nil" }
        return String(decoding: bytes.prefix(200), as: UTF8.self).debugDescription + " (\(bytes.count) bytes)"
    }
}
