import ArgumentParser
import Foundation
import NIOCore
import NotiLogCore

/// `notilogctl parse`: shows how NotiLog reads wire messages.
struct ParseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse syslog messages and show the fields NotiLog reads from them.",
        discussion: """
            Reads one wire message per line from each FILE (standard input when none), or a captured TCP stream \
            with --framing octet|auto. Prints a table, or JSON lines with --json (the same record shape as the \
            HTTP API). Exit status: 0; 1 with --strict when any message had a parse problem; 2 when a file \
            cannot be read; 64 for a usage error.
            """
    )

    @Argument(help: "Files to read ('-' or none: standard input).")
    var files: [String] = []

    @Flag(help: "Print one JSON object per record.")
    var json = false

    @Option(help: "How the input is framed: lf (one message per line), nul, octet (RFC 6587 octet counting) or auto.")
    var framing: SyslogFraming = .lf

    @Option(help: "Time zone for timestamps without an offset (RFC 3164), e.g. Europe/Berlin.")
    var timezone: String = "UTC"

    @Option(help: "Source address to record for each message.")
    var source: String?

    @Option(help: "Reception time to assume (RFC 3339), which also settles the year of RFC 3164 timestamps. Default: now.")
    var receivedAt: String?

    @Option(help: "Largest frame in bytes; longer frames are cut and marked.")
    var maxFrameSize: Int = 65536

    @Flag(help: "Exit with status 1 when any message has a parse problem.")
    var strict = false

    func validate() throws {
        guard TimeZone(identifier: timezone) != nil else { throw ValidationError("unknown time zone '\(timezone)'") }
        guard maxFrameSize >= 480 else { throw ValidationError("--max-frame-size must be at least 480 (RFC 5424 minimum)") }
        if let receivedAt, SyslogTimestamp(rfc3339: receivedAt) == nil {
            throw ValidationError("--received-at must be an RFC 3339 time such as 2026-11-25T13:00:00Z")
        }
    }

    func run() throws {
        let parser = SyslogParser(timeZone: TimeZone(identifier: timezone)!)
        let received = receivedAt.flatMap(SyslogTimestamp.init(rfc3339:)) ?? .now()
        let output = RecordPrinter(json: json, colour: !json && Terminal.wantsColour())
        var sawProblem = false
        for path in files.isEmpty ? ["-"] : files {
            let bytes: [UInt8]
            do {
                bytes = try Self.read(path)
            } catch {
                output.finish()
                FileHandle.standardError.write(Data("notilogctl parse: cannot read \(path): \(error.localizedDescription)\n".utf8))
                throw ExitCode(2)
            }
            for frame in SyslogFrameDecoder.frames(in: bytes, framing: framing, maxFrameSize: maxFrameSize) {
                var record = parser.parse(Array(frame.bytes.readableBytesView), receivedAt: received, source: source)
                if let problem = frame.problem { record.problems.insert(problem.parseProblem, at: 0) }
                sawProblem = sawProblem || !record.problems.isEmpty
                output.add(record)
            }
        }
        output.finish()
        if strict && sawProblem { throw ExitCode(1) }
    }

    static func read(_ path: String) throws -> [UInt8] {
        if path == "-" { return Array(FileHandle.standardInput.readDataToEndOfFile()) }
        return Array(try Data(contentsOf: URL(fileURLWithPath: path)))
    }

}

extension SyslogFraming: ExpressibleByArgument {}
