#if os(Linux)
import Foundation
import Glibc
import NIOCore
import NotiLogCore
import NotiLogTestSupport
import Testing

// The real `logger` from util-linux sends to sockets opened here; what it sent goes through the framer and
// the parser. Every logger run uses `-p local3.warning -t mytag`.

/// One way of running `logger` and what the parsed record must hold.
struct LoggerCase: Sendable, CustomTestStringConvertible {
    enum Transport: Sendable { case tcp, udp }
    enum Host: Sendable { case full, short, absent }

    var name: String
    var transport: Transport = .tcp
    var arguments: [String]
    var message = "hello from logger"
    var framing: SyslogFraming = .lf
    var format: WireFormat = .rfc5424
    var host: Host = .full
    var hasTimestamp = true
    /// logger adds `[timeQuality tzKnown="1" isSynced="0|1" ...]` to RFC 5424 unless told `notq` / `notime`.
    var timeQuality = true
    var procIDIsLoggerPID = false
    var msgID: String?
    /// Structured data after logger's own `timeQuality` element.
    var structuredData: [StructuredDataElement] = []

    var testDescription: String { name }
}

let loggerCases: [LoggerCase] = [
    LoggerCase(name: "rfc5424_tcp", arguments: ["--rfc5424", "-T"]),
    LoggerCase(
        name: "rfc3164_tcp", arguments: ["--rfc3164", "-T"], format: .rfc3164, host: .short, timeQuality: false),
    LoggerCase(
        name: "rfc3164_tcp_pid", arguments: ["--rfc3164", "-T", "-i"], format: .rfc3164, host: .short,
        timeQuality: false, procIDIsLoggerPID: true),
    LoggerCase(name: "rfc5424_octet_count", arguments: ["--octet-count", "--rfc5424", "-T"], framing: .octetCounting),
    LoggerCase(name: "rfc5424_udp", transport: .udp, arguments: ["-d", "--rfc5424"]),
    LoggerCase(
        name: "rfc5424_sd_msgid_pid",
        arguments: [
            "--rfc5424", "-T", "--sd-id", "zoo@123", "--sd-param", #"tiger="hungry""#, "--msgid", "ID47", "-i",
        ],
        message: "hello with structured data",
        procIDIsLoggerPID: true, msgID: "ID47",
        structuredData: [StructuredDataElement(id: "zoo@123", parameters: [StructuredDataParameter("tiger", "hungry")])]
    ),
    LoggerCase(
        name: "rfc5424_notime_nohost", arguments: ["--rfc5424=notime,nohost", "-T"], host: .absent,
        hasTimestamp: false, timeQuality: false),
    LoggerCase(name: "rfc5424_notq", arguments: ["--rfc5424=notq", "-T"], timeQuality: false),
    LoggerCase(name: "rfc5424_non_ascii", arguments: ["--rfc5424", "-T"], message: "grüße 日本 ✓ naïve"),
    LoggerCase(
        name: "rfc3164_non_ascii", arguments: ["--rfc3164", "-T"], message: "grüße 日本 ✓ naïve", format: .rfc3164,
        host: .short, timeQuality: false),
]

@Test(arguments: loggerCases)
func loggerMessageParses(_ testCase: LoggerCase) throws {
    let run = try runLogger(testCase.transport, testCase.arguments + [testCase.message])
    let raw = describe(run.datagrams.joined())
    #expect(run.exitStatus == 0, "logger failed: \(run.stderr)")

    var frames: [SyslogFrame] = []
    for datagram in run.datagrams {
        frames += SyslogFrameDecoder.frames(in: datagram, framing: .auto, maxFrameSize: 65536)
    }
    try #require(frames.count == 1, "logger sent \(raw)")
    #expect(frames[0].problem == nil, "logger sent \(raw)")
    if testCase.transport == .tcp {
        var decoder = SyslogFrameDecoder()
        var buffer = ByteBuffer(bytes: run.datagrams.joined())
        _ = try decoder.decode(buffer: &buffer)
        #expect(decoder.detectedFraming == testCase.framing, "logger sent \(raw)")
    }

    let record = parse(frames[0])
    expectRecord(record, testCase, message: testCase.message, loggerPID: run.pid, raw: raw)
}

/// `logger -f FILE` sends one message per line, an empty line as an empty message.
@Test(arguments: [["--rfc5424", "-T"], ["--octet-count", "--rfc5424", "-T"]])
func loggerFileLinesBecomeOneRecordEach(_ arguments: [String]) throws {
    let lines = ["line one", "line two", "", "line four: ünïcode"]
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("notilog-logger-\(UUID()).txt")
    try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: file) }

    let run = try runLogger(.tcp, arguments + ["-f", file.path])
    let raw = describe(run.datagrams.joined())
    #expect(run.exitStatus == 0, "logger failed: \(run.stderr)")

    let frames = SyslogFrameDecoder.frames(in: Array(run.datagrams.joined()), framing: .auto, maxFrameSize: 65536)
    #expect(frames.map(\.problem) == Array(repeating: nil, count: lines.count), "logger sent \(raw)")
    try #require(frames.count == lines.count, "logger sent \(raw)")
    let testCase = LoggerCase(
        name: "file", arguments: arguments, framing: arguments.contains("--octet-count") ? .octetCounting : .lf)
    for (frame, line) in zip(frames, lines) {
        expectRecord(parse(frame), testCase, message: line, loggerPID: run.pid, raw: describe(frame.bytes.readableBytesView))
    }
}

// MARK: - Checks

private func parse(_ frame: SyslogFrame) -> LogRecord {
    // RFC 3164 times carry no zone: logger writes local time.
    SyslogParser(timeZone: .current).parse(Array(frame.bytes.readableBytesView), receivedAt: .now(), source: "127.0.0.1")
}

private func expectRecord(_ record: LogRecord, _ testCase: LoggerCase, message: String, loggerPID: Int32, raw: String) {
    let context: Comment = "logger sent \(raw)"
    #expect(record.problems == [], context)
    #expect(record.format == testCase.format, context)
    #expect(record.facility == .local3, context)
    #expect(record.severity == .warning, context)
    switch testCase.host {
    case .full: #expect(record.hostname == machineHostname(), context)
    case .short: #expect(record.hostname == machineHostname().split(separator: ".").first.map(String.init), context)
    case .absent: #expect(record.hostname == nil, context)
    }
    #expect(record.appName == "mytag", context)
    #expect(record.procID == (testCase.procIDIsLoggerPID ? String(loggerPID) : nil), context)
    #expect(record.msgID == testCase.msgID, context)
    #expect(record.message == message, context)
    if testCase.hasTimestamp {
        let skew = record.timestamp.map { abs($0.seconds - record.receivedAt.seconds) }
        #expect(skew.map { $0 < 300 } == true, "timestamp \(String(describing: record.timestamp)); \(raw)")
    } else {
        #expect(record.timestamp == nil, context)
    }

    var elements = record.structuredData ?? []
    if testCase.timeQuality {
        let timeQuality = elements.first
        #expect(timeQuality?.id == "timeQuality", context)
        #expect(timeQuality?["tzKnown"] == "1", context)
        #expect(["0", "1"].contains(timeQuality?["isSynced"]), context)
        if !elements.isEmpty { elements.removeFirst() }
    }
    #expect(elements == testCase.structuredData, context)
    if !testCase.timeQuality, testCase.structuredData.isEmpty {
        #expect(record.structuredData == nil, context)
    }
}

/// Bytes as a Swift string literal would write them, for failure messages and the record of what logger sends.
private func describe(_ bytes: some Sequence<UInt8>) -> String {
    var out = "\""
    for b in bytes {
        switch b {
        case 0x0A: out += "\\n"
        case 0x0D: out += "\\r"
        case 0x00: out += "\\0"
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(b))
        default: out += "\\x" + (b < 16 ? "0" : "") + String(b, radix: 16)
        }
    }
    return out + "\""
}

private func machineHostname() -> String {
    var name = [CChar](repeating: 0, count: 256)
    guard gethostname(&name, name.count) == 0 else { return "" }
    return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

// MARK: - Running logger against local sockets

private struct LoggerRun {
    /// TCP: one element, every byte of the connection; UDP: one element per datagram.
    var datagrams: [[UInt8]]
    var pid: Int32
    var exitStatus: Int32
    var stderr: String
}

private struct PeerError: Error, CustomStringConvertible {
    var description: String
}

/// Seconds to wait for logger to connect, send or close before failing.
private let peerTimeout: Int32 = 10_000

private func runLogger(_ transport: LoggerCase.Transport, _ arguments: [String]) throws -> LoggerRun {
    let socket = try LocalSocket(transport)
    defer { socket.close() }

    let errorsPath = FileManager.default.temporaryDirectory.appendingPathComponent("logger-\(UUID().uuidString).err").path
    defer { try? FileManager.default.removeItem(atPath: errorsPath) }
    let pid = try Peers.spawn(
        "/usr/bin/logger", ["-n", "127.0.0.1", "-P", String(socket.port), "-p", "local3.warning", "-t", "mytag"] + arguments,
        stderrPath: errorsPath)
    var reaped = false
    var status: Int32 = 0
    defer {
        if !reaped {
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    var datagrams: [[UInt8]] = []
    switch transport {
    case .tcp:
        let connection = try socket.accept(timeoutMilliseconds: peerTimeout)
        defer { Glibc.close(connection) }
        datagrams = [try readToEOF(connection)]
    case .udp:
        datagrams.append(try receiveDatagram(socket.fd, timeoutMilliseconds: peerTimeout))
    }
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    reaped = true
    if transport == .udp {
        // logger has exited: anything else it sent is already queued on the loopback socket.
        while let more = try? receiveDatagram(socket.fd, timeoutMilliseconds: 0) { datagrams.append(more) }
    }
    let stderr = (try? String(contentsOfFile: errorsPath, encoding: .utf8)) ?? ""
    let exitStatus = Peers.exitCode(fromWaitStatus: status)
    return LoggerRun(datagrams: datagrams, pid: pid, exitStatus: exitStatus, stderr: stderr)
}

/// A TCP listening or UDP socket on 127.0.0.1 with a port the kernel picked.
private struct LocalSocket {
    let fd: Int32
    let port: UInt16

    init(_ transport: LoggerCase.Transport) throws {
        let type = transport == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let fd = Glibc.socket(AF_INET, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw PeerError(description: "socket: \(errorText())") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound, transport == .udp || listen(fd, 4) == 0 else {
            let error = errorText()
            Glibc.close(fd)
            throw PeerError(description: "bind/listen: \(error)")
        }
        self.fd = fd
        self.port = UInt16(bigEndian: address.sin_port)
    }

    func accept(timeoutMilliseconds: Int32) throws -> Int32 {
        try waitReadable(fd, timeoutMilliseconds)
        let connection = Glibc.accept(fd, nil, nil)
        guard connection >= 0 else { throw PeerError(description: "accept: \(errorText())") }
        return connection
    }

    func close() {
        Glibc.close(fd)
    }
}

private func readToEOF(_ fd: Int32) throws -> [UInt8] {
    var received: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        try waitReadable(fd, peerTimeout)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { return received }
        guard n > 0 else {
            if errno == EINTR { continue }
            throw PeerError(description: "recv: \(errorText())")
        }
        received += chunk[0..<n]
    }
}

private func receiveDatagram(_ fd: Int32, timeoutMilliseconds: Int32) throws -> [UInt8] {
    try waitReadable(fd, timeoutMilliseconds)
    var datagram = [UInt8](repeating: 0, count: 65536)
    let n = datagram.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
    guard n >= 0 else { throw PeerError(description: "recv: \(errorText())") }
    return Array(datagram[0..<n])
}

private func waitReadable(_ fd: Int32, _ timeoutMilliseconds: Int32) throws {
    var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    while true {
        let ready = poll(&poller, 1, timeoutMilliseconds)
        if ready > 0 { return }
        if ready < 0, errno == EINTR { continue }
        throw PeerError(description: ready == 0 ? "timed out waiting for logger" : "poll: \(errorText())")
    }
}

private func errorText() -> String {
    String(cString: strerror(errno))
}
#endif
