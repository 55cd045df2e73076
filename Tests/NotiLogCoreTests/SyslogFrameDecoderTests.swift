import NIOCore
import NIOTestUtils
import Testing

@testable import NotiLogCore

// MARK: - Helpers

/// A frame as tests expect it: bytes given as text.
private func frame(_ text: String, _ problem: FrameProblem? = nil) -> SyslogFrame {
    SyslogFrame(bytes: ByteBuffer(string: text), problem: problem)
}

private func frame(_ bytes: [UInt8], _ problem: FrameProblem? = nil) -> SyslogFrame {
    SyslogFrame(bytes: ByteBuffer(bytes: bytes), problem: problem)
}

/// `MSG-LEN SP MSG` for `message`.
private func octet(_ message: String) -> String {
    "\(message.utf8.count) \(message)"
}

private func text(_ frame: SyslogFrame) -> String {
    String(buffer: frame.bytes)
}

/// Feeds `input` in `chunk`-byte reads as `ByteToMessageHandler` does (one cumulation buffer, `decode` until it
/// returns nil), then ends the stream with `decodeLast`.
private func decodeInChunks(
    _ input: [UInt8], framing: SyslogFraming, maxFrameSize: Int, chunk: Int
) throws -> (frames: [SyslogFrame], decoder: SyslogFrameDecoder) {
    var decoder = SyslogFrameDecoder(framing: framing, maxFrameSize: maxFrameSize)
    var buffer = ByteBuffer()
    var frames: [SyslogFrame] = []
    var start = 0
    while start < input.count {
        let end = start + min(chunk, input.count - start)
        buffer.writeBytes(input[start..<end])
        start = end
        while buffer.readableBytes > 0, let frame = try decoder.decode(buffer: &buffer) {
            frames.append(frame)
        }
        if buffer.readerIndex > 1024 { buffer.discardReadBytes() }
    }
    while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) {
        frames.append(frame)
    }
    #expect(buffer.readableBytes == 0, "decodeLast left bytes behind")
    return (frames, decoder)
}

/// Read sizes every table case is fed in: drip (1), small odd batches, and the whole input at once.
private let chunkSizes = [1, 2, 7, 100, Int.max]

// MARK: - ByteToMessageDecoderVerifier

/// One `ByteToMessageDecoderVerifier` run: each input holds whole frames (the verifier checks output after
/// each input, shuffles inputs, and reuses one decoder for all of them).
struct VerifierCase: Sendable, CustomTestStringConvertible {
    var name: String
    var framing: SyslogFraming
    var maxFrameSize = 65536
    var pairs: [(String, [SyslogFrame])]

    var testDescription: String { name }
}

/// An RFC 5424 message of exactly `size` bytes (at least 5).
private func sized(_ size: Int) -> String {
    let head = "<13>1 - host app - - - "
    guard size > head.utf8.count else { return String("<13>xxxxxxxxxxxxxxxxxxxxxxxx".prefix(size)) }
    return head + String(repeating: "x", count: size - head.utf8.count)
}

let verifierCases: [VerifierCase] = [
    VerifierCase(
        name: "octet",
        framing: .octetCounting,
        pairs: [
            (octet("<13>1 - - - - - - hello"), [frame("<13>1 - - - - - - hello")]),
            (octet("<14>a") + octet("<15>line\nwith LF"), [frame("<14>a"), frame("<15>line\nwith LF")]),
            (octet("<13>trailing LF") + "\n", [frame("<13>trailing LF")]),
            (octet("<13>trailing CRLF NUL") + "\r\n\0", [frame("<13>trailing CRLF NUL")]),
            (octet("<13>grüße"), [frame("<13>grüße")]),
            ("\n", []),
        ]
    ),
    VerifierCase(
        name: "lf",
        framing: .lf,
        pairs: [
            ("<13>hello\n", [frame("<13>hello")]),
            ("<13>a\n<13>b\n", [frame("<13>a"), frame("<13>b")]),
            ("\n", []),
            ("<13>embedded\0NUL\n", [frame("<13>embedded\0NUL")]),
            ("<13>   spaces  \n", [frame("<13>   spaces  ")]),
        ]
    ),
    VerifierCase(
        name: "crlf",
        framing: .lf,
        pairs: [
            ("<13>hello\r\n", [frame("<13>hello")]),
            ("<13>a\r\n<13>b\n", [frame("<13>a"), frame("<13>b")]),
            ("\r\n", []),
            ("<13>cr\rinside\r\n", [frame("<13>cr\rinside")]),
        ]
    ),
    VerifierCase(
        name: "nul",
        framing: .nul,
        pairs: [
            ("<13>hello\0", [frame("<13>hello")]),
            ("<13>a\nb\0", [frame("<13>a\nb")]),
            ("\0", []),
            ("<13>x\0<13>y\0", [frame("<13>x"), frame("<13>y")]),
        ]
    ),
    VerifierCase(
        name: "auto_octet",
        framing: .auto,
        pairs: [
            (octet("<13>1 - - - - - - hello"), [frame("<13>1 - - - - - - hello")]),
            (octet("<14>a") + "\n" + octet("<15>b"), [frame("<14>a"), frame("<15>b")]),
            (octet("<13>" + String(repeating: "y", count: 200)), [frame("<13>" + String(repeating: "y", count: 200))]),
        ]
    ),
    VerifierCase(
        name: "auto_lf",
        framing: .auto,
        pairs: [
            ("<13>hello\n", [frame("<13>hello")]),
            ("<13>a\r\n\n<13>b\n", [frame("<13>a"), frame("<13>b")]),
            ("<13>1 2024-01-01T00:00:00Z h a - - - 12 apples\n", [frame("<13>1 2024-01-01T00:00:00Z h a - - - 12 apples")]),
        ]
    ),
    VerifierCase(
        name: "auto_nul",
        framing: .auto,
        pairs: [
            ("<13>hello\0", [frame("<13>hello")]),
            ("<13>a\0<13>b\0", [frame("<13>a"), frame("<13>b")]),
        ]
    ),
    // Sizes around the limit. The limit is 1 KiB here because the verifier drip-feeds each input ten times
    // through an EmbeddedChannel (about 30 s per 64 KiB input in a debug build); 64 KiB frames are fed byte by
    // byte in `decodesStream` and `dripFeedScansEachByteOnce`.
    VerifierCase(
        name: "mixed_sizes_octet",
        framing: .octetCounting,
        maxFrameSize: 1024,
        pairs: [1, 9, 10, 99, 100, 999, 1000, 1023, 1024].map { size in
            let message = sized(size)
            return (octet(message), [frame(message)])
        } + [
            (octet(sized(1025)), [frame(sized(1024), .oversized(limit: 1024, declaredLength: 1025))]),
            (octet(sized(3000)), [frame(sized(1024), .oversized(limit: 1024, declaredLength: 3000))]),
        ]
    ),
    VerifierCase(
        name: "mixed_sizes_lf",
        framing: .lf,
        maxFrameSize: 1024,
        pairs: [1, 2, 100, 1000, 1023, 1024].map { size in
            let message = sized(size)
            return (message + "\n", [frame(message)])
        } + [
            (sized(1024) + "\r\n", [frame(sized(1024))]),
            (sized(1025) + "\n", [frame(sized(1024), .oversized(limit: 1024, declaredLength: nil))]),
            (sized(3000) + "\r\n", [frame(sized(1024), .oversized(limit: 1024, declaredLength: nil))]),
        ]
    ),
    VerifierCase(
        name: "oversized_octet",
        framing: .octetCounting,
        maxFrameSize: 8,
        pairs: [
            (octet("<13>0123456789abcdef"), [frame("<13>0123", .oversized(limit: 8, declaredLength: 20))]),
            (octet("<13>ok"), [frame("<13>ok")]),
            (octet("<13>4567"), [frame("<13>4567")]),
        ]
    ),
    VerifierCase(
        name: "oversized_lf",
        framing: .lf,
        maxFrameSize: 8,
        pairs: [
            ("<13>0123456789abcdef\n", [frame("<13>0123", .oversized(limit: 8, declaredLength: nil))]),
            ("<13>4567\r\n", [frame("<13>4567")]),
            ("<13>45678\r\n", [frame("<13>4567", .oversized(limit: 8, declaredLength: nil))]),
            ("<13>ok\n", [frame("<13>ok")]),
        ]
    ),
    VerifierCase(
        name: "broken_prefix",
        framing: .octetCounting,
        pairs: [
            ("abc <13>x\n", [frame("abc <13>x", .brokenLengthPrefix)]),
            ("0 <13>x\n", [frame("0 <13>x", .brokenLengthPrefix)]),
            ("12x<13>x\r\n", [frame("12x<13>x", .brokenLengthPrefix)]),
            ("1234567890 <13>x\n", [frame("1234567890 <13>x", .brokenLengthPrefix)]),
            (octet("<13>good"), [frame("<13>good")]),
        ]
    ),
]

@Test(arguments: verifierCases)
func verifierAcceptsDecoder(_ testCase: VerifierCase) throws {
    let allocator = ByteBufferAllocator()
    let pairs = testCase.pairs.map { (allocator.buffer(string: $0.0), $0.1) }
    // The verifier wraps the decoder in `ByteToMessageHandler` itself.
    try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
        SyslogFrameDecoder(framing: testCase.framing, maxFrameSize: testCase.maxFrameSize)
    }
}

// MARK: - Table: streams in, frames and counters out

struct StreamCase: Sendable, CustomTestStringConvertible {
    var name: String
    var framing: SyslogFraming
    var maxFrameSize = 65536
    var input: [UInt8]
    var frames: [SyslogFrame]
    var skippedBytes = 0
    var detected: SyslogFraming?

    init(
        _ name: String, _ framing: SyslogFraming, maxFrameSize: Int = 65536, _ input: String,
        _ frames: [SyslogFrame], skippedBytes: Int = 0, detected: SyslogFraming? = nil
    ) {
        self.init(
            name, framing, maxFrameSize: maxFrameSize, bytes: Array(input.utf8), frames, skippedBytes: skippedBytes,
            detected: detected)
    }

    init(
        _ name: String, _ framing: SyslogFraming, maxFrameSize: Int = 65536, bytes: [UInt8],
        _ frames: [SyslogFrame], skippedBytes: Int = 0, detected: SyslogFraming? = nil
    ) {
        self.name = name
        self.framing = framing
        self.maxFrameSize = maxFrameSize
        self.input = bytes
        self.frames = frames
        self.skippedBytes = skippedBytes
        self.detected = detected ?? (framing == .auto ? nil : framing)
    }

    var testDescription: String { name }
}

private let atLimit = [UInt8](repeating: UInt8(ascii: "a"), count: 65536)
private let overLimit = [UInt8](repeating: UInt8(ascii: "b"), count: 65537)

let brokenPrefixCases: [StreamCase] = [
    StreamCase(
        "broken_letters", .octetCounting, "abc <13>x\n" + octet("<13>good") + octet("<13>also good"),
        [frame("abc <13>x", .brokenLengthPrefix), frame("<13>good"), frame("<13>also good")]),
    StreamCase(
        "broken_leading_zero", .octetCounting, "0 <13>x\n" + octet("<13>good"),
        [frame("0 <13>x", .brokenLengthPrefix), frame("<13>good")]),
    StreamCase(
        "broken_leading_zero_digits", .octetCounting, "05 <13>x\n" + octet("<13>good"),
        [frame("05 <13>x", .brokenLengthPrefix), frame("<13>good")]),
    StreamCase(
        "broken_no_space", .octetCounting, "12x<13>hello\n" + octet("<13>good"),
        [frame("12x<13>hello", .brokenLengthPrefix), frame("<13>good")]),
    StreamCase(
        "broken_ten_digits", .octetCounting, "1234567890 <13>x\n" + octet("<13>good"),
        [frame("1234567890 <13>x", .brokenLengthPrefix), frame("<13>good")]),
    StreamCase(
        "broken_crlf", .octetCounting, "abc\r\n" + octet("<13>good"),
        [frame("abc", .brokenLengthPrefix), frame("<13>good")]),
    StreamCase(
        "broken_between_good", .auto, octet("<13>one") + "<13>lf line\n" + octet("<13>two"),
        [frame("<13>one"), frame("<13>lf line", .brokenLengthPrefix), frame("<13>two")], detected: .octetCounting),
    StreamCase(
        "broken_at_eof", .octetCounting, octet("<13>good") + "garbage",
        [frame("<13>good"), frame("garbage", .brokenLengthPrefix)]),
    StreamCase(
        "broken_oversized", .octetCounting, maxFrameSize: 8, "abcdefghijkl\n" + octet("<13>ok"),
        [frame("abcdefgh", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 4),
    StreamCase(
        "nine_digit_length_cut_short", .octetCounting, maxFrameSize: 8, "999999999 <13>abcdefgh",
        [frame("<13>abcd", .oversized(limit: 8, declaredLength: 999_999_999))], skippedBytes: 4),
]

let oversizedCases: [StreamCase] = [
    StreamCase(
        "octet_oversized", .octetCounting, maxFrameSize: 16, "20 <13>0123456789abcdef" + octet("<13>next"),
        [frame("<13>0123456789ab", .oversized(limit: 16, declaredLength: 20)), frame("<13>next")], skippedBytes: 4),
    StreamCase(
        "octet_declared_far_over_limit", .octetCounting, maxFrameSize: 16,
        "1000 <13>" + String(repeating: "z", count: 996) + octet("<13>next"),
        [frame("<13>zzzzzzzzzzzz", .oversized(limit: 16, declaredLength: 1000)), frame("<13>next")],
        skippedBytes: 984),
    StreamCase(
        "octet_oversized_then_lf", .auto, maxFrameSize: 4, octet("<13>abc") + "\n" + octet("ok"),
        [frame("<13>", .oversized(limit: 4, declaredLength: 7)), frame("ok")], skippedBytes: 3,
        detected: .octetCounting),
    StreamCase(
        "lf_oversized", .lf, maxFrameSize: 8, "0123456789abcdef\n<13>ok\n",
        [frame("01234567", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 8),
    StreamCase(
        "lf_oversized_crlf", .lf, maxFrameSize: 8, "0123456789\r\n<13>ok\r\n",
        [frame("01234567", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 2),
    StreamCase(
        "lf_one_over", .lf, maxFrameSize: 8, "012345678\n<13>ok\n",
        [frame("01234567", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 1),
    StreamCase(
        "lf_one_over_crlf", .lf, maxFrameSize: 8, "012345678\r\n<13>ok\n",
        [frame("01234567", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 1),
    StreamCase("lf_at_limit", .lf, maxFrameSize: 8, "01234567\n", [frame("01234567")]),
    StreamCase("lf_at_limit_crlf", .lf, maxFrameSize: 8, "01234567\r\n<13>ok\n", [frame("01234567"), frame("<13>ok")]),
    StreamCase(
        "lf_at_limit_cr_then_more", .lf, maxFrameSize: 8, "01234567\rX\n<13>ok\n",
        [frame("01234567", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 2),
    StreamCase(
        "lf_oversized_at_eof", .lf, maxFrameSize: 8, "<13>ok\n0123456789abc",
        [frame("<13>ok"), frame("01234567", .oversized(limit: 8, declaredLength: nil))], skippedBytes: 5),
    StreamCase(
        "nul_oversized", .nul, maxFrameSize: 8, "0123456789\0<13>ok\0",
        [frame("01234567", .oversized(limit: 8, declaredLength: nil)), frame("<13>ok")], skippedBytes: 2),
    StreamCase(
        "nul_at_limit_ending_in_cr", .nul, maxFrameSize: 8, "0123456\r\0",
        [frame("0123456\r")]),
    StreamCase(
        "auto_oversized_first_line_then_nul", .auto, maxFrameSize: 4, "<13>abcdef\0ok\0",
        [frame("<13>", .oversized(limit: 4, declaredLength: nil)), frame("ok")], skippedBytes: 6,
        detected: .nul),
    StreamCase("octet_64k_at_limit", .octetCounting, bytes: Array("65536 ".utf8) + atLimit, [frame(atLimit)]),
    StreamCase(
        "octet_64k_one_over", .octetCounting, bytes: Array("65537 ".utf8) + overLimit + Array("5 <13>x".utf8),
        [frame(Array(overLimit.prefix(65536)), .oversized(limit: 65536, declaredLength: 65537)), frame("<13>x")],
        skippedBytes: 1),
    StreamCase("lf_64k_at_limit", .lf, bytes: atLimit + [0x0A], [frame(atLimit)]),
    StreamCase("lf_64k_at_limit_crlf", .auto, bytes: atLimit + [0x0D, 0x0A], [frame(atLimit)], detected: .lf),
    StreamCase("lf_64k_at_limit_unterminated", .lf, bytes: atLimit, [frame(atLimit)]),
    StreamCase(
        "lf_64k_one_over", .lf, bytes: overLimit + Array("\n<13>x\n".utf8),
        [frame(Array(overLimit.prefix(65536)), .oversized(limit: 65536, declaredLength: nil)), frame("<13>x")],
        skippedBytes: 1),
]

let endOfStreamCases: [StreamCase] = [
    StreamCase(
        "octet_cut_in_body", .octetCounting, octet("<13>a") + "10 <13>ab",
        [frame("<13>a"), frame("<13>ab", .truncatedAtEOF(expectedLength: 10))]),
    StreamCase(
        "octet_cut_in_prefix", .octetCounting, octet("<13>a") + "12",
        [frame("<13>a"), frame("12", .truncatedAtEOF(expectedLength: nil))]),
    StreamCase(
        "octet_cut_after_prefix", .octetCounting, octet("<13>a") + "\n5 ",
        [frame("<13>a"), frame("", .truncatedAtEOF(expectedLength: 5))]),
    StreamCase(
        "octet_oversized_cut_in_head", .octetCounting, maxFrameSize: 8, "20 <13>ab",
        [frame("<13>ab", .truncatedAtEOF(expectedLength: 20))]),
    StreamCase(
        "octet_oversized_cut_in_skip", .octetCounting, maxFrameSize: 8, "20 <13>456789ab",
        [frame("<13>4567", .oversized(limit: 8, declaredLength: 20))], skippedBytes: 4),
    StreamCase("octet_trailing_whitespace", .octetCounting, octet("<13>a") + "\n\r\n \0", [frame("<13>a")]),
    StreamCase("lf_unterminated_last_line", .lf, "<13>a\n<13>b", [frame("<13>a"), frame("<13>b")]),
    StreamCase("lf_unterminated_cr", .lf, "<13>a\r", [frame("<13>a")]),
    StreamCase("nul_unterminated", .nul, "<13>a\0<13>b\n", [frame("<13>a"), frame("<13>b\n")]),
    StreamCase("auto_single_unterminated_line", .auto, "<13>only", [frame("<13>only")], detected: .lf),
    StreamCase("empty_stream", .auto, "", []),
    StreamCase("only_whitespace", .auto, "\n\r\n \0", []),
]

let delimiterCases: [StreamCase] = [
    StreamCase("lf_empty_lines", .lf, "\n\n<13>a\n\r\n\n<13>b\n\n", [frame("<13>a"), frame("<13>b")]),
    StreamCase("lf_embedded_nul", .lf, "<13>a\0b\n", [frame("<13>a\0b")]),
    StreamCase("lf_crlf", .lf, "<13>a\r\n<13>b\r\n", [frame("<13>a"), frame("<13>b")]),
    StreamCase("nul_empty_frames", .nul, "\0\0<13>a\0\0", [frame("<13>a")]),
    StreamCase(
        "auto_detects_nul", .auto, "<13>a\0<13>b\n\0", [frame("<13>a"), frame("<13>b\n")], detected: .nul),
    StreamCase(
        "auto_lf_keeps_later_nul", .auto, "<13>a\n<13>b\0c\n", [frame("<13>a"), frame("<13>b\0c")], detected: .lf),
    StreamCase(
        "auto_skips_leading_whitespace", .auto, "\r\n \0" + octet("<13>a"), [frame("<13>a")],
        detected: .octetCounting),
    StreamCase(
        "auto_zero_is_not_octet", .auto, "0 <13>a\n", [frame("0 <13>a")], detected: .lf),
    StreamCase(
        "auto_letter_is_lf", .auto, "hello\nworld\n", [frame("hello"), frame("world")], detected: .lf),
    StreamCase(
        "octet_trailing_lf", .auto, octet("<13>a") + "\n" + octet("<13>b") + "\r\n\0 " + octet("<13>c") + "\n",
        [frame("<13>a"), frame("<13>b"), frame("<13>c")], detected: .octetCounting),
    StreamCase(
        "octet_message_with_lf_inside", .octetCounting, octet("<13>a\nb\n"), [frame("<13>a\nb\n")]),
]

@Test(arguments: brokenPrefixCases + oversizedCases + endOfStreamCases + delimiterCases)
func decodesStream(_ testCase: StreamCase) throws {
    let expectedProblems = testCase.frames.count(where: { $0.problem != nil })
    for chunk in chunkSizes {
        let (frames, decoder) = try decodeInChunks(
            testCase.input, framing: testCase.framing, maxFrameSize: testCase.maxFrameSize, chunk: chunk)
        #expect(frames == testCase.frames, "read \(chunk) bytes at a time")
        #expect(decoder.skippedBytes == testCase.skippedBytes, "read \(chunk) bytes at a time")
        #expect(decoder.problemFrames == expectedProblems, "read \(chunk) bytes at a time")
        #expect(decoder.detectedFraming == testCase.detected, "read \(chunk) bytes at a time")
    }
    let captured = SyslogFrameDecoder.frames(
        in: testCase.input, framing: testCase.framing, maxFrameSize: testCase.maxFrameSize)
    #expect(captured == testCase.frames)
}

// MARK: - Single behaviours

@Test func detectedFramingIsNilUntilFirstByte() throws {
    var decoder = SyslogFrameDecoder()
    #expect(decoder.detectedFraming == nil)
    var buffer = ByteBuffer(string: "\n\r ")
    #expect(try decoder.decode(buffer: &buffer) == nil)
    #expect(decoder.detectedFraming == nil)
    buffer.writeString("7")
    #expect(try decoder.decode(buffer: &buffer) == nil)
    #expect(decoder.detectedFraming == .octetCounting)

    #expect(SyslogFrameDecoder(framing: .lf).detectedFraming == .lf)
    #expect(SyslogFrameDecoder(framing: .nul).detectedFraming == .nul)
    #expect(SyslogFrameDecoder(framing: .octetCounting).detectedFraming == .octetCounting)
}

@Test func octetSkipDoesNotBuffer() throws {
    // Declared length far over the limit, sent in many reads: after the head, nothing stays in the buffer.
    var decoder = SyslogFrameDecoder(framing: .octetCounting, maxFrameSize: 16)
    var buffer = ByteBuffer(string: "100000 <13>")
    buffer.writeBytes([UInt8](repeating: 0x41, count: 20))
    let head = try decoder.decode(buffer: &buffer)
    #expect(head?.problem == .oversized(limit: 16, declaredLength: 100_000))
    #expect(head.map(text) == "<13>AAAAAAAAAAAA")
    var remaining = 100_000 - 24
    while remaining > 0 {
        let n = min(remaining, 4096)
        buffer.writeBytes([UInt8](repeating: 0x42, count: n))
        remaining -= n
        #expect(try decoder.decode(buffer: &buffer) == nil)
        #expect(buffer.readableBytes == 0)
    }
    #expect(decoder.skippedBytes == 100_000 - 16)
    buffer.writeString(octet("<13>after"))
    #expect(try decoder.decode(buffer: &buffer).map(text) == "<13>after")
}

@Test func lfSkipDoesNotBuffer() throws {
    var decoder = SyslogFrameDecoder(framing: .lf, maxFrameSize: 16)
    var buffer = ByteBuffer()
    for _ in 0..<100 {
        buffer.writeBytes([UInt8](repeating: 0x41, count: 1000))
        while buffer.readableBytes > 0, try decoder.decode(buffer: &buffer) != nil {}
        #expect(buffer.readableBytes == 0)
    }
    buffer.writeString("\r\n<13>after\n")
    #expect(try decoder.decode(buffer: &buffer).map(text) == "<13>after")
    #expect(decoder.skippedBytes == 100_000 - 16)
    #expect(decoder.problemFrames == 1)
}

@Test(arguments: [SyslogFraming.lf, .nul, .auto])
func dripFeedScansEachByteOnce(_ framing: SyslogFraming) throws {
    // A 64 KiB frame fed one byte at a time: scanning must stay linear, not restart on every byte.
    var decoder = SyslogFrameDecoder(framing: framing)
    var buffer = ByteBuffer()
    var frames: [SyslogFrame] = []
    let delimiter: UInt8 = framing == .nul ? 0 : 0x0A
    for byte in Array("<13>".utf8) + [UInt8](repeating: 0x61, count: 65532) + [delimiter] {
        buffer.writeInteger(byte)
        if let frame = try decoder.decode(buffer: &buffer) { frames.append(frame) }
    }
    #expect(frames.count == 1)
    #expect(frames.first?.bytes.readableBytes == 65536)
    #expect(decoder.scannedBytes <= 65537)
}

@Test func allFramingNamesRoundTrip() {
    #expect(SyslogFraming.allCases.map(\.rawValue) == ["auto", "octet", "lf", "nul"])
    #expect(SyslogFraming(rawValue: "octet") == .octetCounting)
}

@Test(arguments: [
    (FrameProblem.oversized(limit: 65536, declaredLength: 66736), "frame longer than 65536 bytes; 1200 bytes skipped"),
    (.oversized(limit: 1024, declaredLength: nil), "frame longer than 1024 bytes; the rest of it skipped"),
    (.brokenLengthPrefix, "octet-counting length prefix is not \"<length> \"; frame read up to the next LF instead"),
    (.truncatedAtEOF(expectedLength: 120), "stream ended inside a frame of 120 bytes"),
    (.truncatedAtEOF(expectedLength: nil), "stream ended inside a frame's length prefix"),
])
func problemReadsAsParseProblem(_ problem: FrameProblem, _ reason: String) {
    let parseProblem = problem.parseProblem
    #expect(parseProblem.field == .frame)
    #expect(parseProblem.column == 1)
    #expect(parseProblem.reason == reason)
}

@Test(arguments: ["<13>a", "<13>grüße 日本", String(repeating: "q", count: 12345)])
func octetCountedRoundTrips(_ message: String) throws {
    var buffer = ByteBuffer()
    SyslogFrameDecoder.octetCounted(message.utf8, into: &buffer)
    SyslogFrameDecoder.octetCounted(Array("<14>second".utf8), into: &buffer)
    #expect(String(buffer: buffer).hasPrefix("\(message.utf8.count) "))
    let frames = SyslogFrameDecoder.frames(in: Array(buffer.readableBytesView), framing: .auto, maxFrameSize: 65536)
    #expect(frames == [frame(message), frame("<14>second")])
}

@Test func octetCountedWritesNothingForEmptyMessage() {
    var buffer = ByteBuffer()
    SyslogFrameDecoder.octetCounted([UInt8](), into: &buffer)
    #expect(buffer.readableBytes == 0)
}

// MARK: - Random streams

/// A seeded generator, so a failing stream can be reproduced.
private struct FramingTestRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random streams over the bytes framing cares about: how the stream is cut into reads never changes the
/// frames, no frame exceeds the limit, only a frame with a problem may be empty, and no byte is invented.
@Test(arguments: SyslogFraming.allCases)
func readSizesDoNotChangeFrames(_ framing: SyslogFraming) throws {
    var random = FramingTestRandom(state: 0x5EED)
    let alphabet = Array("1290 \n\r\0a<".utf8)
    for _ in 0..<400 {
        let input = (0..<Int.random(in: 0...48, using: &random)).map { _ in alphabet.randomElement(using: &random)! }
        let whole = SyslogFrameDecoder.frames(in: input, framing: framing, maxFrameSize: 6)
        for chunk in [1, 2, 5] {
            let (frames, _) = try decodeInChunks(input, framing: framing, maxFrameSize: 6, chunk: chunk)
            #expect(frames == whole, "input \(input), read \(chunk) bytes at a time")
        }
        #expect(whole.allSatisfy { $0.bytes.readableBytes <= 6 }, "input \(input)")
        #expect(whole.allSatisfy { $0.bytes.readableBytes > 0 || $0.problem != nil }, "input \(input)")
        #expect(whole.reduce(0) { $0 + $1.bytes.readableBytes } <= input.count, "input \(input)")
    }
}
