import Foundation
import NIOCore
import NotiLogCore
import NotiLogStore
import NotiLogTestSupport
import Testing

@testable import NotiLogCollector

@Suite("Syslog listeners", .serialized)
struct SyslogListenerTests {
    @Test func udpDatagramsAreStoredWithTheirSource() async throws {
        let c = try await RunningCollector(.udp)
        let socket = TestSocket(udpPort: c.port)
        try socket.send("<34>1 2023-10-11T22:14:15.003Z web-1 su - ID47 [x@1 a=\"1\"] 'su root' failed\n")
        try socket.send("<13>Oct 11 22:14:15 web-2 sshd[12]: Failed password")
        let records = try await c.records(atLeast: 2)
        #expect(records.count == 2)
        let bySource = Set(records.map(\.source))
        #expect(bySource == ["127.0.0.1"])
        let r5424 = try #require(records.first { $0.format == .rfc5424 })
        #expect(r5424.hostname == "web-1")
        #expect(r5424.msgID == "ID47")
        #expect(r5424.structuredData == [StructuredDataElement(id: "x@1", parameters: [.init("a", "1")])])
        #expect(r5424.message == "'su root' failed")
        let r3164 = try #require(records.first { $0.format == .rfc3164 })
        #expect(r3164.appName == "sshd")
        #expect(r3164.procID == "12")
        #expect(c.listener.counters.snapshot.received == 2)
        await c.stop()
    }

    @Test func tcpOctetCountedAndLineFramedConnections() async throws {
        let c = try await RunningCollector(.tcp)
        let octet = try TestSocket(tcpPort: c.port)
        var stream = ""
        for k in 0..<100 {
            let m = "<14>1 - host-a app \(k) - - line \(k)\nwith a newline inside"
            stream += "\(m.utf8.count) \(m)"
        }
        try octet.send(stream)
        let lines = try TestSocket(tcpPort: c.port)
        try lines.send((0..<100).map { "<14>Oct 11 22:14:15 host-b app[\($0)]: plain \($0)\r\n" }.joined())
        let records = try await c.records(atLeast: 200)
        #expect(records.count == 200)
        let a = records.filter { $0.hostname == "host-a" }
        #expect(a.map(\.message) == (0..<100).map { "line \($0)\nwith a newline inside" })
        let b = records.filter { $0.hostname == "host-b" }
        #expect(b.map(\.message) == (0..<100).map { "plain \($0)" })
        #expect(records.allSatisfy { $0.problems.isEmpty })
        await c.stop()
    }

    @Test func loggerOverEveryTransport() async throws {
        let tcp = try await RunningCollector(.tcp)
        let udp = try await RunningCollector(.udp)
        try run("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(tcp.port)", "-T", "--octet-count", "--rfc5424", "-t", "octet", "-p", "local3.warning", "--msgid", "M1", "hello octet"])
        try run("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(tcp.port)", "-T", "--rfc3164", "-t", "lf", "-i", "hello lf"])
        try run("/usr/bin/logger", ["-n", "127.0.0.1", "-P", "\(udp.port)", "-d", "--rfc5424", "-t", "udp", "hello udp"])
        let t = try await tcp.records(atLeast: 2)
        let octet = try #require(t.first { $0.appName == "octet" })
        #expect(octet.facility == .local3)
        #expect(octet.severity == .warning)
        #expect(octet.msgID == "M1")
        #expect(octet.message == "hello octet")
        let lf = try #require(t.first { $0.appName == "lf" })
        #expect(lf.format == .rfc3164)
        #expect(lf.procID != nil)
        #expect(lf.message == "hello lf")
        let u = try await udp.records(atLeast: 1)
        #expect(u.first?.message == "hello udp")
        #expect(u.first?.appName == "udp")
        await tcp.stop()
        await udp.stop()
    }

    @Test func sendersOutsideTheAllowListAreRefused() async throws {
        let c = try await RunningCollector(.tcp) { $0.allow = [AddressRange("10.0.0.0/8")!] }
        let s = try TestSocket(tcpPort: c.port)
        try? s.send("<14>1 - h app - - - should not be stored\n")
        #expect(await s.closed())
        let u = try await RunningCollector(.udp) { $0.allow = [AddressRange("192.0.2.0/24")!, AddressRange("::1")!] }
        try TestSocket(udpPort: u.port).send("<14>1 - h app - - - nor this\n")
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await c.records(atLeast: 1, seconds: 0.2).isEmpty)
        #expect(try await u.records(atLeast: 1, seconds: 0.2).isEmpty)
        #expect(c.listener.counters.snapshot.rejectedNotAllowed == 1)
        #expect(u.listener.counters.snapshot.rejectedNotAllowed == 1)
        await c.stop()
        await u.stop()
    }

    /// The per-address limit, with no idle timeout in play: three connections that have each been served hold
    /// their slots, a fourth is refused, and a slot a closed connection frees serves a new one.
    @Test func connectionLimits() async throws {
        let c = try await RunningCollector(.tcp) {
            $0.maxConnectionsPerAddress = 3
        }
        // Each of the three has its record stored before the fourth connects: all three hold a slot by then.
        let open = try (0..<3).map { _ in try TestSocket(tcpPort: c.port) }
        for (i, s) in open.enumerated() { try s.send("<14>1 - h app - - - held \(i)\n") }
        #expect(try await c.records(atLeast: 3, seconds: 60).count == 3)
        let refused = try TestSocket(tcpPort: c.port)
        #expect(await refused.closed(seconds: 60))
        #expect(c.listener.counters.snapshot.rejectedLimit == 1)
        // The three are still served.
        for (i, s) in open.enumerated() { try s.send("<14>1 - h app - - - still held \(i)\n") }
        #expect(try await c.records(atLeast: 6, seconds: 60).count == 6)
        // One ends; its slot serves a new connection.
        #expect(open[0].finish())
        #expect(try await Self.sendOnAFreeSlot(c, "after one closed"))
        await c.stop()
    }

    /// Idle connections are closed, counted, and their slots are free again. Nothing here depends on how soon the
    /// timeout fires: a loaded machine only makes it later.
    @Test func idleConnectionsAreClosedAndFreeTheirSlots() async throws {
        let c = try await RunningCollector(.tcp) {
            $0.maxConnectionsPerAddress = 3
            $0.idleTimeout = .milliseconds(300)
        }
        let open = try (0..<3).map { _ in try TestSocket(tcpPort: c.port) }
        for s in open { #expect(await s.closed(seconds: 60)) }
        #expect(c.listener.counters.snapshot.closedIdle == 3)
        #expect(c.listener.counters.snapshot.rejectedLimit == 0)
        #expect(try await Self.sendOnAFreeSlot(c, "after the idle ones"))
        await c.stop()
    }

    /// Connects and sends `message` until a connection is served (the record is stored). A try is repeated when
    /// its connection is closed first: refused because the server had not yet released the slot of a connection
    /// it had just closed (the client can see the close a moment before), or closed as idle before its line came.
    static func sendOnAFreeSlot(_ c: RunningCollector, _ message: String, tries: Int = 20) async throws -> Bool {
        func stored() async throws -> Bool {
            try await c.store.search(SearchRequest(query: .all, limit: 10_000)).records.contains { $0.record.message == message }
        }
        for _ in 0..<tries {
            let s = try TestSocket(tcpPort: c.port)
            try? s.send("<14>1 - h app - - - \(message)\n")
            for _ in 0..<60 {
                if try await stored() { return true }
                if await s.closed(seconds: 1) { break }
            }
        }
        return try await stored()
    }

    @Test func hostileInputDoesNotStopOtherSenders() async throws {
        let c = try await RunningCollector(.tcp) {
            $0.maxFrameSize = 1024
            $0.maxConnectionsPerAddress = 1000
        }
        // Hundreds of idle connections, one sending garbage and an oversized frame, one well-behaved.
        let idle = try (0..<300).map { _ in try TestSocket(tcpPort: c.port) }
        let hostile = try TestSocket(tcpPort: c.port)
        try hostile.send("5000 " + String(repeating: "A", count: 5000))
        try hostile.send("abc <13>not a length\n")
        try hostile.send([0xFF, 0x00, 0xFE, 0x0A])
        try hostile.send("12 <14>1 - h x")
        let good = try TestSocket(tcpPort: c.port)
        try good.send("<14>1 - good app - - - still served\n")
        let records = try await c.records(atLeast: 4)
        #expect(records.contains { $0.hostname == "good" && $0.message == "still served" })
        let oversized = try #require(records.first { $0.problems.first?.field == .frame && $0.problems.first!.reason.contains("longer than 1024") })
        #expect(oversized.message.count <= 1024)
        #expect(records.contains { $0.problems.contains { $0.reason.contains("length prefix") } })
        #expect(c.listener.counters.snapshot.frameProblems >= 2)
        _ = idle
        await c.stop()
    }

    @Test func aSlowStoreSlowsTCPSendersAndLosesNothing() async throws {
        let dir = TemporaryDirectory()
        let gated = GatedStore(try SQLiteLogStore(directory: dir.path))
        gated.close()
        let c = try await RunningCollector(.tcp, store: gated, queueCapacity: 1000)
        let total = 20_000
        // On a thread of its own: the sends block while the listener pauses, which on the cooperative pool would
        // hold one of its few threads.
        let port = c.port
        let sender = Task {
            try await Peers.offThreadThrowing {
                let s = try TestSocket(tcpPort: port)
                var chunk = ""
                for k in 0..<total {
                    chunk += "<14>1 - h app - - - message \(k)\n"
                    if k % 500 == 499 {
                        try s.send(chunk)
                        chunk = ""
                    }
                }
            }
        }
        // While the store is closed the queue fills and the listener stops reading: wait for that pause (however
        // slow the machine), not a fixed time.
        let deadline = ContinuousClock.now + .seconds(60)
        while c.listener.counters.snapshot.backPressurePauses == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(c.listener.counters.snapshot.backPressurePauses > 0)
        #expect(c.pipeline.counters.queued <= 1000 + 2048)
        gated.open()
        try await sender.value
        let page = try await gated.waitForCount(total)
        #expect(page == total)
        #expect(c.pipeline.counters.droppedQueueFull == 0)
        await c.stop()
    }

    /// A sender that finishes and closes while its connection is paused: the server reads the rest at once (to
    /// find the end) and hands it to the pipeline, which must take it once there is room — while the connection's
    /// own wait for room ends with nothing left to offer.
    @Test func aSenderThatClosesWhileItsConnectionIsPausedLosesNothing() async throws {
        let dir = TemporaryDirectory()
        let gated = GatedStore(try SQLiteLogStore(directory: dir.path))
        gated.close()
        let c = try await RunningCollector(.tcp, store: gated, queueCapacity: 1000)
        let s = try TestSocket(tcpPort: c.port)
        func lines(_ range: Range<Int>) -> String { range.map { "<14>1 - h app - - - message \($0)\n" }.joined() }
        try s.send(lines(0..<4000))
        let deadline = ContinuousClock.now + .seconds(60)
        while c.listener.counters.snapshot.backPressurePauses == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(c.listener.counters.snapshot.backPressurePauses > 0)
        // Small enough for the socket buffers, so the send returns while the server is not reading.
        try s.send(lines(4000..<5000))
        _ = shutdown(s.fd, Int32(SHUT_WR))
        while c.listener.counters.snapshot.openConnections > 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(c.listener.counters.snapshot.openConnections == 0)
        #expect(c.listener.counters.snapshot.received == 5000)
        gated.open()
        #expect(try await gated.waitForCount(5000) == 5000)
        #expect(c.pipeline.counters.droppedShutdown == 0)
        await c.stop()
    }
}
