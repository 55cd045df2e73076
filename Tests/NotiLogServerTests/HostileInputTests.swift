import Foundation
import Logging
import NotiLogServer
import NotiLogTestSupport
import Testing

/// Every listener of one server under hostile input at once: thousands of idle connections, garbage, oversized
/// frames, a TLS port spoken to in plain text. The well-behaved senders on each listener are still served, and
/// what they sent is read back through the API.
@Suite("Hostile input", .serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")))
struct HostileInputTests {
    @Test func everyListenerKeepsServingOthers() async throws {
        let dir = TemporaryDirectory()
        let (cert, key) = (dir.path + "/server.crt", dir.path + "/server.key")
        try makeCertificate(certificate: cert, key: key)
        let limits: (inout ServerConfiguration.Listener) -> Void = {
            $0.maxFrameSize = "1KB"
            $0.maxConnections = 5000
            $0.maxConnectionsPerAddress = 5000
        }
        let udp = ServerConfiguration.Listener(udp: "127.0.0.1:0", maxFrameSize: "1KB")
        var tcp = ServerConfiguration.Listener(tcp: "127.0.0.1:0")
        var tls = ServerConfiguration.Listener(tls: "127.0.0.1:0", certificate: cert, key: key)
        limits(&tcp)
        limits(&tls)
        let c = ServerConfiguration(
            dataDir: dir.path + "/data", listeners: [udp, tcp, tls], http: "127.0.0.1:0", ingest: .init(batchDelay: "20ms"), timeZone: "UTC")
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = try await buildServices(configuration: c, logger: logger)
        let group = services.serviceGroup(logger: logger)
        let running = Task { try await group.run() }
        let bound = await services.readiness.ready()
        func port(_ t: String) throws -> Int { try #require(bound.listeners.first { $0.transport.rawValue == t }).address.port }
        let (udpPort, tcpPort, tlsPort) = (try port("udp"), try port("tcp"), try port("tls"))
        let api = try await TestAPI(services)

        // Thousands of connections that say nothing: plain TCP, and TCP to the TLS port that never handshake.
        let idleTCP = try (0..<1500).map { _ in try TestSocket(tcpPort: tcpPort) }
        let idleTLS = try (0..<500).map { _ in try TestSocket(tcpPort: tlsPort) }

        // Garbage and oversized frames on every listener.
        let datagrams = TestSocket(udpPort: udpPort)
        try datagrams.send([0xFF, 0x00, 0xFE, 0x01, 0x80])
        try datagrams.send("<999>not a priority")
        try datagrams.send("<13>1 2026-11-25T10:00:00Z big-udp app - - - " + String(repeating: "U", count: 4000))
        let hostile = try TestSocket(tcpPort: tcpPort)
        try hostile.send("5000 " + String(repeating: "A", count: 5000))
        try hostile.send("abc <13>not a length\n")
        try hostile.send([0xFF, 0x00, 0xFE, 0x0A])
        let plaintextToTLS = try TestSocket(tcpPort: tlsPort)
        try plaintextToTLS.send("<13>1 2026-11-25T10:00:00Z plain app - - - this is not TLS\n")
        #expect(await plaintextToTLS.closed(seconds: 20), "a TLS listener must close a connection that does not speak TLS")

        // The well-behaved senders, one per listener.
        let goodUDP = TestSocket(udpPort: udpPort)
        try goodUDP.send("<14>1 2026-11-25T10:00:01Z good-udp app 1 M1 - served over udp")
        let goodTCP = try TestSocket(tcpPort: tcpPort)
        try goodTCP.send("<14>1 2026-11-25T10:00:02Z good-tcp app 2 M2 - served over tcp\n")
        #expect(goodTCP.finish())
        try sendOverTLS("<14>1 2026-11-25T10:00:03Z good-tls app 3 M3 - served over tls\n", port: tlsPort, ca: cert)

        let served = try await api.waitForRecords("served", count: 3)
        #expect(Set(served.compactMap { $0["hostname"] as? String }) == ["good-udp", "good-tcp", "good-tls"])
        #expect(served.allSatisfy { ($0["problems"] as? [Any])?.isEmpty == true && $0["app"] as? String == "app" })
        // Oversized frames are kept, cut to the limit, with a problem saying so.
        let cut = try await api.records("format:rfc5424 host:big-udp")
        #expect(cut.count == 1)
        #expect(((cut.first?["message"] as? String)?.utf8.count ?? .max) <= 1024)
        let frameProblems = try await api.records("AAAA*")
        #expect(frameProblems.count == 1)

        let status = try await api.request("GET", "/api/v1/status")
        let listeners = try #require(status.json["listeners"] as? [[String: Any]])
        #expect(listeners.first { $0["protocol"] as? String == "tcp" }?["open_connections"] as? Int == 1501)
        #expect(try await api.with(token: nil).request("GET", "/api/v1/healthz").status == 200)
        _ = (idleTCP, idleTLS, hostile)
        await group.triggerGracefulShutdown()
        try await running.value
    }
}
