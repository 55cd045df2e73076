#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// How a syslog byte stream is cut into messages (RFC 6587).
public enum SyslogFraming: String, Sendable, Hashable, CaseIterable {
    /// Decided once per connection from the first non-whitespace byte: a digit 1-9 means octet counting,
    /// anything else non-transparent framing (LF, or NUL when the first delimiter seen is a NUL).
    case auto
    /// `MSG-LEN SP SYSLOG-MSG` (RFC 6587 §3.4.1).
    case octetCounting = "octet"
    /// Non-transparent framing, each message ended by LF (a CR before it is dropped).
    case lf
    /// Non-transparent framing, each message ended by NUL.
    case nul
}

/// What was wrong with the stream around a frame; the frame is delivered all the same.
public enum FrameProblem: Sendable, Hashable {
    /// The frame was longer than `limit`: its first `limit` bytes are delivered, the rest is skipped.
    /// `declaredLength` is the octet count when the sender gave one.
    case oversized(limit: Int, declaredLength: Int?)
    /// The octet-counting prefix was not `<digits> `: the bytes up to the next LF are delivered as one frame.
    case brokenLengthPrefix
    /// The stream ended inside an octet-counted frame; what arrived is delivered.
    case truncatedAtEOF(expectedLength: Int?)

    /// The problem as the parser reports problems: field `frame`, column 1.
    public var parseProblem: ParseProblem {
        ParseProblem(field: .frame, column: 1, reason: reason)
    }

    private var reason: String {
        switch self {
        case .oversized(let limit, let declared?):
            "frame longer than \(limit) bytes; \(declared - limit) bytes skipped"
        case .oversized(let limit, nil):
            "frame longer than \(limit) bytes; the rest of it skipped"
        case .brokenLengthPrefix:
            "octet-counting length prefix is not \"<length> \"; frame read up to the next LF instead"
        case .truncatedAtEOF(let expected?):
            "stream ended inside a frame of \(expected) bytes"
        case .truncatedAtEOF(nil):
            "stream ended inside a frame's length prefix"
        }
    }
}

/// One message's bytes as cut from the stream (without length prefix or delimiter).
public struct SyslogFrame: Sendable, Hashable {
    public var bytes: ByteBuffer
    public var problem: FrameProblem?

    public init(bytes: ByteBuffer, problem: FrameProblem? = nil) {
        self.bytes = bytes
        self.problem = problem
    }
}

/// Cuts a syslog TCP/TLS stream into frames: octet counting, LF or NUL delimited (RFC 6587), detected per
/// connection with `.auto`.
///
/// Broken input never ends the stream: an oversized frame is cut at `maxFrameSize` and the rest skipped without
/// being buffered, a broken length prefix is read up to the next LF, and decoding resumes after either.
/// Each such frame carries a `FrameProblem` and is counted.
///
/// Bytes are scanned once: the scan position survives between calls, so drip-fed input costs linear time.
public struct SyslogFrameDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    public typealias InboundOut = SyslogFrame

    public let framing: SyslogFraming
    public let maxFrameSize: Int
    /// The framing in use: the configured one, or what `.auto` settled on (nil until the first non-whitespace
    /// byte; `.lf` until a NUL turns out to be the first delimiter).
    public private(set) var detectedFraming: SyslogFraming?
    /// Bytes of oversized frames dropped (beyond each frame's first `maxFrameSize`).
    public private(set) var skippedBytes = 0
    /// Frames delivered with a `FrameProblem`.
    public private(set) var problemFrames = 0

    private var phase: Phase
    /// Bytes after the reader index already searched for a delimiter in `.line` (0 in every other phase).
    private var scanOffset = 0
    /// The non-transparent delimiter (LF or NUL); nil while `.auto` has not yet seen either.
    private var delimiter: UInt8?
    /// Bytes handed to `memchr` so far (tests check that drip feeding stays linear).
    internal private(set) var scannedBytes = 0

    private enum Phase: Sendable, Hashable {
        /// `.auto` before the first non-whitespace byte.
        case detecting
        /// Octet counting, between frames: whitespace, then a length prefix.
        case octetStart
        /// Octet counting, prefix read: the frame's bytes are next.
        case octetBody(declaredLength: Int)
        /// Octet counting: dropping the rest of an oversized frame.
        case octetSkip(remaining: Int)
        /// Reading up to a delimiter: a non-transparent frame, or (after a broken prefix) up to LF.
        case line(afterBrokenPrefix: Bool)
        /// Dropping the rest of an oversized delimited frame; `pendingCR` when the last byte dropped was CR.
        case lineSkip(afterBrokenPrefix: Bool, pendingCR: Bool)
    }

    public init(framing: SyslogFraming = .auto, maxFrameSize: Int = 65536) {
        precondition(maxFrameSize > 0, "maxFrameSize must be positive")
        self.framing = framing
        self.maxFrameSize = maxFrameSize
        switch framing {
        case .auto:
            phase = .detecting
        case .octetCounting:
            phase = .octetStart
            detectedFraming = .octetCounting
        case .lf:
            phase = .line(afterBrokenPrefix: false)
            delimiter = ASCII.lf
            detectedFraming = .lf
        case .nul:
            phase = .line(afterBrokenPrefix: false)
            delimiter = ASCII.nul
            detectedFraming = .nul
        }
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> SyslogFrame? {
        nextFrame(&buffer)
    }

    /// Delivers what `decode` would, then the unfinished frame the stream ended in: an octet-counted one with
    /// `.truncatedAtEOF`, a delimited one without a problem (many senders do not end their last line).
    /// Without `seenEOF` (the handler is being removed) the same happens, so nothing is dropped.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> SyslogFrame? {
        lastFrame(&buffer)
    }

    /// Every frame in a captured stream, as a connection that delivered `bytes` and closed would produce them.
    public static func frames(
        in bytes: [UInt8], framing: SyslogFraming = .auto, maxFrameSize: Int = 65536
    ) -> [SyslogFrame] {
        var decoder = SyslogFrameDecoder(framing: framing, maxFrameSize: maxFrameSize)
        var buffer = ByteBuffer(bytes: bytes)
        var frames: [SyslogFrame] = []
        while let frame = decoder.nextFrame(&buffer) { frames.append(frame) }
        while let frame = decoder.lastFrame(&buffer) { frames.append(frame) }
        return frames
    }

    /// Writes `message` octet-counted (`MSG-LEN SP MSG`). An empty message is not a syslog message (MSG-LEN is
    /// at least 1), so nothing is written for it.
    public static func octetCounted(_ message: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        let count = message.count
        guard count > 0 else { return }
        var divisor = 1
        while divisor <= count / 10 { divisor *= 10 }
        while divisor > 0 {
            buffer.writeInteger(UInt8(truncatingIfNeeded: 48 + (count / divisor) % 10))
            divisor /= 10
        }
        buffer.writeInteger(ASCII.space)
        buffer.writeBytes(message)
    }
}

// MARK: - Decoding

extension SyslogFrameDecoder {

    /// Longest MSG-LEN accepted (9 digits, as rsyslog and syslog-ng allow).
    private static let maxPrefixDigits = 9

    private mutating func nextFrame(_ buffer: inout ByteBuffer) -> SyslogFrame? {
        while true {
            switch phase {
            case .detecting:
                guard Self.skipInterFrameWhitespace(&buffer), let first = buffer.readableBytesView.first else {
                    return nil
                }
                if first > ASCII.zero, first &- ASCII.zero < 10 {
                    phase = .octetStart
                    detectedFraming = .octetCounting
                } else {
                    phase = .line(afterBrokenPrefix: false)
                    detectedFraming = .lf
                }

            case .octetStart:
                guard Self.skipInterFrameWhitespace(&buffer) else { return nil }
                switch Self.lengthPrefix(in: buffer) {
                case .needMoreBytes:
                    return nil
                case .length(let declared, let prefixLength):
                    buffer.moveReaderIndex(forwardBy: prefixLength)
                    phase = .octetBody(declaredLength: declared)
                case .broken:
                    phase = .line(afterBrokenPrefix: true)
                }

            case .octetBody(let declared):
                let deliver = min(declared, maxFrameSize)
                guard let bytes = buffer.readSlice(length: deliver) else { return nil }
                if declared > maxFrameSize {
                    phase = .octetSkip(remaining: declared - maxFrameSize)
                    return frame(bytes, .oversized(limit: maxFrameSize, declaredLength: declared))
                }
                phase = .octetStart
                return SyslogFrame(bytes: bytes)

            case .octetSkip(let remaining):
                let dropped = min(remaining, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: dropped)
                skippedBytes += dropped
                guard dropped == remaining else {
                    phase = .octetSkip(remaining: remaining - dropped)
                    return nil
                }
                phase = .octetStart

            case .line(let afterBrokenPrefix):
                switch readLine(&buffer, afterBrokenPrefix: afterBrokenPrefix) {
                case .frame(let frame): return frame
                case .emptyLine: continue
                case .needMoreBytes: return nil
                }

            case .lineSkip(let afterBrokenPrefix, let pendingCR):
                let readable = buffer.readableBytes
                guard readable > 0 else { return nil }
                let delimiter = afterBrokenPrefix ? ASCII.lf : self.delimiter
                guard let (index, found) = findDelimiter(in: buffer, from: 0, to: readable, delimiter) else {
                    let lastIsCR = buffer.getInteger(at: buffer.readerIndex + readable - 1, as: UInt8.self) == ASCII.cr
                    buffer.moveReaderIndex(forwardBy: readable)
                    skippedBytes += readable
                    phase = .lineSkip(afterBrokenPrefix: afterBrokenPrefix, pendingCR: lastIsCR)
                    return nil
                }
                settleDelimiter(found, afterBrokenPrefix: afterBrokenPrefix)
                // A CR right before the LF belongs to the line ending, not to the dropped bytes.
                var dropped = index
                if found == ASCII.lf {
                    let crBefore =
                        index > 0
                        ? buffer.getInteger(at: buffer.readerIndex + index - 1, as: UInt8.self) == ASCII.cr
                        : pendingCR
                    if crBefore { dropped -= 1 }
                }
                skippedBytes += dropped
                buffer.moveReaderIndex(forwardBy: index + 1)
                phase = afterBrokenPrefix ? .octetStart : .line(afterBrokenPrefix: false)
            }
        }
    }

    private mutating func lastFrame(_ buffer: inout ByteBuffer) -> SyslogFrame? {
        if let frame = nextFrame(&buffer) { return frame }
        // `nextFrame` took every complete frame; what is left is the frame the stream ended in.
        switch phase {
        case .detecting:
            return nil
        case .octetStart:
            // Only the digits of an unfinished length prefix can be left here.
            guard let bytes = buffer.readSlice(length: buffer.readableBytes), bytes.readableBytes > 0 else {
                return nil
            }
            return frame(bytes, .truncatedAtEOF(expectedLength: nil))
        case .octetBody(let declared):
            let bytes = buffer.readSlice(length: buffer.readableBytes)!
            phase = .octetStart
            return frame(bytes, .truncatedAtEOF(expectedLength: declared))
        case .octetSkip:
            phase = .octetStart
            return nil
        case .line(let afterBrokenPrefix):
            let readable = buffer.readableBytes
            guard readable > 0 else { return nil }
            scanOffset = 0
            phase = afterBrokenPrefix ? .octetStart : .line(afterBrokenPrefix: false)
            var length = readable
            if delimiter != ASCII.nul || afterBrokenPrefix,
                buffer.getInteger(at: buffer.readerIndex + readable - 1, as: UInt8.self) == ASCII.cr
            {
                length -= 1
            }
            let bytes = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: readable - length)
            guard length > 0 else { return nil }
            return afterBrokenPrefix ? frame(bytes, .brokenLengthPrefix) : SyslogFrame(bytes: bytes)
        case .lineSkip(let afterBrokenPrefix, _):
            phase = afterBrokenPrefix ? .octetStart : .line(afterBrokenPrefix: false)
            return nil
        }
    }

    private enum LineResult {
        case frame(SyslogFrame)
        case emptyLine
        case needMoreBytes
    }

    /// Reads a frame that ends at the delimiter (or at LF after a broken prefix).
    private mutating func readLine(_ buffer: inout ByteBuffer, afterBrokenPrefix: Bool) -> LineResult {
        let readable = buffer.readableBytes
        let delimiter = afterBrokenPrefix ? ASCII.lf : self.delimiter
        // A frame of `maxFrameSize` bytes ends by `maxFrameSize + 2` at the latest (CR LF): no need to look further.
        let window = min(readable, maxFrameSize + 2)
        guard scanOffset < window, let (index, found) = findDelimiter(in: buffer, from: scanOffset, to: window, delimiter)
        else {
            scanOffset = window
            let mayStillEndInCRLF =
                readable == maxFrameSize + 1 && delimiter != ASCII.nul
                && buffer.getInteger(at: buffer.readerIndex + maxFrameSize, as: UInt8.self) == ASCII.cr
            guard readable > maxFrameSize, !mayStillEndInCRLF else { return .needMoreBytes }
            // Longer than the limit and still no delimiter: deliver the head, drop the rest as it comes.
            scanOffset = 0
            let bytes = buffer.readSlice(length: maxFrameSize)!
            phase = .lineSkip(afterBrokenPrefix: afterBrokenPrefix, pendingCR: false)
            return .frame(frame(bytes, .oversized(limit: maxFrameSize, declaredLength: nil)))
        }
        scanOffset = 0
        settleDelimiter(found, afterBrokenPrefix: afterBrokenPrefix)
        var length = index
        if found == ASCII.lf, index > 0,
            buffer.getInteger(at: buffer.readerIndex + index - 1, as: UInt8.self) == ASCII.cr
        {
            length -= 1
        }
        phase = afterBrokenPrefix ? .octetStart : .line(afterBrokenPrefix: false)
        if length == 0 {
            buffer.moveReaderIndex(forwardBy: index + 1)
            return .emptyLine
        }
        if length > maxFrameSize {
            // Only `maxFrameSize + 1` bytes before the delimiter, the last not a CR.
            let bytes = buffer.readSlice(length: maxFrameSize)!
            buffer.moveReaderIndex(forwardBy: index + 1 - maxFrameSize)
            skippedBytes += length - maxFrameSize
            return .frame(frame(bytes, .oversized(limit: maxFrameSize, declaredLength: nil)))
        }
        let bytes = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: index + 1 - length)
        return .frame(afterBrokenPrefix ? frame(bytes, .brokenLengthPrefix) : SyslogFrame(bytes: bytes))
    }

    /// With `.auto` in non-transparent mode, the first delimiter seen decides between LF and NUL for good.
    private mutating func settleDelimiter(_ found: UInt8, afterBrokenPrefix: Bool) {
        guard delimiter == nil, !afterBrokenPrefix else { return }
        delimiter = found
        detectedFraming = found == ASCII.nul ? .nul : .lf
    }

    private mutating func frame(_ bytes: ByteBuffer, _ problem: FrameProblem) -> SyslogFrame {
        problemFrames += 1
        return SyslogFrame(bytes: bytes, problem: problem)
    }

    /// The first delimiter in readable bytes `from..<to` (offsets from the reader index): `delimiter`, or LF
    /// or NUL, whichever comes first, when it is nil.
    private mutating func findDelimiter(
        in buffer: ByteBuffer, from: Int, to: Int, _ delimiter: UInt8?
    ) -> (index: Int, byte: UInt8)? {
        scannedBytes += to - from
        return buffer.withUnsafeReadableBytes { bytes -> (index: Int, byte: UInt8)? in
            guard from < to, let base = bytes.baseAddress else { return nil }
            func find(_ byte: UInt8, _ end: Int) -> Int? {
                guard end > from, let hit = memchr(base + from, Int32(byte), end - from) else { return nil }
                return base.distance(to: UnsafeRawPointer(hit))
            }
            if let delimiter {
                return find(delimiter, to).map { ($0, delimiter) }
            }
            let lf = find(ASCII.lf, to)
            if let nul = find(ASCII.nul, lf ?? to) { return (nul, ASCII.nul) }
            return lf.map { ($0, ASCII.lf) }
        }
    }

    /// Drops LF, CR, NUL, SP and TAB before a frame; false when nothing else is readable.
    private static func skipInterFrameWhitespace(_ buffer: inout ByteBuffer) -> Bool {
        let skip = buffer.withUnsafeReadableBytes { bytes in
            var i = 0
            while i < bytes.count {
                switch bytes[i] {
                case ASCII.lf, ASCII.cr, ASCII.nul, ASCII.space, ASCII.tab: i += 1
                default: return i
                }
            }
            return i
        }
        buffer.moveReaderIndex(forwardBy: skip)
        return buffer.readableBytes > 0
    }

    private enum LengthPrefix {
        case length(Int, prefixLength: Int)
        case broken
        case needMoreBytes
    }

    /// Reads `MSG-LEN SP` (1-9 digits, no leading zero) at the reader index without consuming it.
    private static func lengthPrefix(in buffer: ByteBuffer) -> LengthPrefix {
        buffer.withUnsafeReadableBytes { bytes in
            var value = 0
            for i in 0..<min(bytes.count, maxPrefixDigits + 1) {
                let b = bytes[i]
                if b == ASCII.space, i > 0 { return .length(value, prefixLength: i + 1) }
                let digit = b &- ASCII.zero
                guard digit < 10, !(i == 0 && digit == 0), i < maxPrefixDigits else { return .broken }
                value = value * 10 + Int(digit)
            }
            return .needMoreBytes
        }
    }
}
