import NIOCore
import NotiLogCore
import NotiLogStore

/// Parses a connection's frames on its event loop and hands them to the ingest pipeline once per read burst.
/// When the pipeline is full the connection stops reading until there is room: TCP back-pressure, not loss.
final class SyslogStreamHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = SyslogFrame

    private let pipeline: IngestPipeline
    private let parser: SyslogParser
    private let source: String?
    private let counters: ListenerCounters
    private let connections: OpenConnections
    private var pending: [LogRecord] = []
    private var paused = false
    private var received: Int64 = 0
    private var parseProblems: Int64 = 0
    private var frameProblems: Int64 = 0

    init(
        pipeline: IngestPipeline, parser: SyslogParser, source: String?, counters: ListenerCounters,
        connections: OpenConnections
    ) {
        self.pipeline = pipeline
        self.parser = parser
        self.source = source
        self.counters = counters
        self.connections = connections
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var record = frame.bytes.withUnsafeReadableBytes { parser.parse($0, receivedAt: .now(), source: source) }
        if let problem = frame.problem {
            record.problems.insert(problem.parseProblem, at: 0)
            frameProblems += 1
        }
        if !record.problems.isEmpty { parseProblems += 1 }
        received += 1
        pending.append(record)
        if pending.count >= 2048 { flush(context) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context)
        context.fireChannelReadComplete()
    }

    private func publishCounts() {
        guard received > 0 else { return }
        let (r, p, f) = (received, parseProblems, frameProblems)
        counters.update {
            $0.received += r
            $0.parseProblems += p
            $0.frameProblems += f
        }
        received = 0
        parseProblems = 0
        frameProblems = 0
    }

    private func flush(_ context: ChannelHandlerContext) {
        publishCounts()
        guard !pending.isEmpty, !paused else { return }
        switch pipeline.offer(pending) {
        case .accepted:
            pending.removeAll(keepingCapacity: true)
        case .full, .closed:
            paused = true
            counters.update { $0.backPressurePauses += 1 }
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let pipeline = self.pipeline
            let count = pending.count
            Task {
                await pipeline.waitForCapacity(for: count)
                bound.eventLoop.execute {
                    let (handler, context) = bound.value
                    handler.resume(context)
                }
            }
        }
    }

    private func resume(_ context: ChannelHandlerContext) {
        paused = false
        flush(context)
        if !paused, context.channel.isActive {
            context.channel.setOption(ChannelOptions.autoRead, value: true).whenComplete { _ in }
            context.read()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        publishCounts()
        counters.update { $0.openConnections -= 1 }
        if !pending.isEmpty {
            // What the connection delivered before closing is kept, waiting for room if need be; the listener
            // waits for these hand-overs before it stops, so a shutdown does not race them.
            let records = pending
            pending.removeAll()
            let pipeline = self.pipeline
            let counters = self.counters
            connections.handOver {
                if await !pipeline.submit(records) {
                    counters.update { $0.droppedShutdown += Int64(records.count) }
                }
            }
        }
        context.fireChannelInactive()
    }

    func channelActive(context: ChannelHandlerContext) {
        counters.update { $0.openConnections += 1 }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            counters.update { $0.closedIdle += 1 }
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // One bad client never stops the listener: count it and close that connection only.
        counters.update { $0.connectionErrors += 1 }
        context.close(promise: nil)
    }
}

/// Parses datagrams (one message each) and offers them once per read burst; a full pipeline drops and counts.
final class SyslogDatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let pipeline: IngestPipeline
    private let parsers: SourceParsers
    private let allow: [AddressRange]
    private let counters: ListenerCounters
    private let maxFrameSize: Int
    private var pending: [LogRecord] = []
    private var lastAddress: SocketAddress?
    private var lastSource: String?
    private var lastParser: SyslogParser
    private var lastAllowed = true
    private var received: Int64 = 0
    private var parseProblems: Int64 = 0
    private var rejected: Int64 = 0

    init(pipeline: IngestPipeline, parsers: SourceParsers, allow: [AddressRange], maxFrameSize: Int, counters: ListenerCounters) {
        self.pipeline = pipeline
        self.parsers = parsers
        self.allow = allow
        self.maxFrameSize = maxFrameSize
        self.counters = counters
        self.lastParser = parsers.defaultParser
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if envelope.remoteAddress != lastAddress {
            lastAddress = envelope.remoteAddress
            lastSource = envelope.remoteAddress.ipAddress
            lastParser = parsers.parser(for: envelope.remoteAddress)
            lastAllowed = allow.isEmpty || allow.contains { $0.contains(envelope.remoteAddress) }
        }
        guard lastAllowed else {
            rejected += 1
            return
        }
        var bytes = envelope.data
        var truncated = 0
        if bytes.readableBytes > maxFrameSize {
            truncated = bytes.readableBytes - maxFrameSize
            bytes = bytes.getSlice(at: bytes.readerIndex, length: maxFrameSize)!
        }
        var record = bytes.withUnsafeReadableBytes { lastParser.parse($0, receivedAt: .now(), source: lastSource) }
        if truncated > 0 {
            record.problems.insert(FrameProblem.oversized(limit: maxFrameSize, declaredLength: maxFrameSize + truncated).parseProblem, at: 0)
        }
        if !record.problems.isEmpty { parseProblems += 1 }
        received += 1
        pending.append(record)
        if pending.count >= 2048 { flush() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush()
        context.fireChannelReadComplete()
    }

    private func flush() {
        let (r, p, x) = (received, parseProblems, rejected)
        var dropped: Int64 = 0
        if !pending.isEmpty {
            if !pipeline.offerOrDrop(pending) { dropped = Int64(pending.count) }
            pending.removeAll(keepingCapacity: true)
        }
        guard r > 0 || x > 0 else { return }
        counters.update {
            $0.received += r
            $0.parseProblems += p
            $0.rejectedNotAllowed += x
            $0.droppedQueueFull += dropped
        }
        received = 0
        parseProblems = 0
        rejected = 0
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A datagram socket error (e.g. ICMP unreachable reported on Linux) is not fatal to the listener.
        counters.update { $0.connectionErrors += 1 }
    }
}
