import BenchInputs
import Benchmark
import NIOCore
import NotiLogCore

/// Every benchmark handles 1,000 messages (or frames) per iteration, `scalingFactor: .kilo`: the scaled (`*`)
/// columns and the throughput then read per message — time and mallocs per message, messages per second.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        timeUnits: .nanoseconds,
        warmupIterations: 10,
        scalingFactor: .kilo,
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    // Parse one frame as the collector will: the frame arrives as a ByteBuffer slice from the framer and the
    // parser copies it into the record (`parse(UnsafeRawBufferPointer, ...)`), one core, one record at a time.
    let parser = SyslogParser()
    for message in BenchInputs.messages {
        let frame = ByteBuffer(bytes: message.bytes)
        Benchmark("parse \(message.label) (\(message.bytes.count) B)") { benchmark in
            let receivedAt = SyslogTimestamp.now()
            for _ in benchmark.scaledIterations {
                let record = frame.withUnsafeReadableBytes { parser.parse($0, receivedAt: receivedAt) }
                blackHole(record)
            }
        }
    }

    // The framer alone: RFC 6587 octet-counted frames out of a 1 MB stream of the [ok] messages, through the
    // NIO decoder exactly as a TCP connection's pipeline drives it (frames are slices: no copy).
    let (streamBytes, streamFrames) = BenchInputs.octetCountedStream(bytes: 1_000_000)
    let stream = ByteBuffer(bytes: streamBytes)
    Benchmark("framer octet-counted stream (1 MB, \(streamFrames) frames)") { benchmark in
        var decoder = SyslogFrameDecoder(framing: .auto, maxFrameSize: 65536)
        var buffer = stream
        for _ in benchmark.scaledIterations {
            if buffer.readableBytes == 0 { buffer.moveReaderIndex(to: 0) }
            blackHole(try decoder.decode(buffer: &buffer))
        }
    }

    // Framer and parser together: what one connection's bytes cost from the socket buffer to records.
    Benchmark("framer + parse octet-counted stream (mixed [ok])") { benchmark in
        var decoder = SyslogFrameDecoder(framing: .auto, maxFrameSize: 65536)
        var buffer = stream
        let receivedAt = SyslogTimestamp.now()
        for _ in benchmark.scaledIterations {
            if buffer.readableBytes == 0 { buffer.moveReaderIndex(to: 0) }
            guard let frame = try decoder.decode(buffer: &buffer) else { continue }
            blackHole(frame.bytes.withUnsafeReadableBytes { parser.parse($0, receivedAt: receivedAt) })
        }
    }

    // The formatter, on the parsed typical RFC 5424 record (what the agent does for every message it forwards).
    let formatter = RFC5424Formatter()
    let record = parser.parse(BenchInputs.messages[0].bytes, receivedAt: .now())
    Benchmark("format RFC 5424 (\(formatter.format(record).count) B)") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(formatter.format(record))
        }
    }
}
