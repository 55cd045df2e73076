import Foundation
import NotiLogCore
import Testing

/// One row of the parser tables: a frame as a real sender writes it and every field NotiLog must read from it.
struct ParserRow: Sendable, CustomTestStringConvertible {
    /// The sender that produces this shape (`rsyslog_forward_format`, `cisco_ios_seq_timestamp`, ...).
    var name: String
    /// The frame exactly as it arrives (after framing).
    var wire: [UInt8]
    /// The collector's clock when the frame arrived (RFC 3339, whole seconds).
    var receivedAt: String
    /// Zone for times without an offset.
    var timeZone: String
    /// Per-host zones given to the parser.
    var zoneByHostname: [String: String]

    var format: WireFormat
    var facility: Facility?
    var severity: Severity?
    /// The RFC 3339 UTC string the JSON prints, or nil.
    var timestamp: String?
    var hostname: String?
    var app: String?
    var procID: String?
    var msgID: String?
    var structuredData: [StructuredDataElement]?
    var message: String
    var problems: [ExpectedProblem]

    var testDescription: String { name }

    init(
        _ name: String, _ wire: String, at receivedAt: String, tz timeZone: String = "UTC",
        zones: [String: String] = [:],
        _ format: WireFormat, _ facility: Facility?, _ severity: Severity?, ts timestamp: String?,
        host hostname: String?, app: String?, proc procID: String?, msgid msgID: String?,
        sd structuredData: [StructuredDataElement]?, msg message: String, problems: [ExpectedProblem]
    ) {
        self.init(
            name, bytes: Array(wire.utf8), at: receivedAt, tz: timeZone, zones: zones, format, facility, severity,
            ts: timestamp, host: hostname, app: app, proc: procID, msgid: msgID, sd: structuredData, msg: message,
            problems: problems)
    }

    init(
        _ name: String, bytes wire: [UInt8], at receivedAt: String, tz timeZone: String = "UTC",
        zones: [String: String] = [:],
        _ format: WireFormat, _ facility: Facility?, _ severity: Severity?, ts timestamp: String?,
        host hostname: String?, app: String?, proc procID: String?, msgid msgID: String?,
        sd structuredData: [StructuredDataElement]?, msg message: String, problems: [ExpectedProblem]
    ) {
        self.name = name
        self.wire = wire
        self.receivedAt = receivedAt
        self.timeZone = timeZone
        self.zoneByHostname = zones
        self.format = format
        self.facility = facility
        self.severity = severity
        self.timestamp = timestamp
        self.hostname = hostname
        self.app = app
        self.procID = procID
        self.msgID = msgID
        self.structuredData = structuredData
        self.message = message
        self.problems = problems
    }
}

/// A problem the parser must report: its field, its 1-based column and a part of its reason.
struct ExpectedProblem: Sendable, CustomStringConvertible {
    var field: ParseProblem.Field
    var column: Int
    var reasonContains: String

    var description: String { "\(field.rawValue)@\(column): …\(reasonContains)…" }

    func matches(_ p: ParseProblem) -> Bool {
        p.field == field && p.column == column && p.reason.contains(reasonContains)
    }
}

/// `problem(.sd, 57, "unescaped")`.
func problem(_ field: ParseProblem.Field, _ column: Int, _ reasonContains: String) -> ExpectedProblem {
    ExpectedProblem(field: field, column: column, reasonContains: reasonContains)
}

/// `element("meta", ("sequenceId", "12"))`.
func element(_ id: String, _ params: (String, String)...) -> StructuredDataElement {
    StructuredDataElement(id: id, parameters: params.map { StructuredDataParameter($0.0, $0.1) })
}

/// Whole-second RFC 3339 UTC text (`2023-10-11T22:14:16Z`) as a timestamp, read without the code under test.
func instant(_ text: String) -> SyslogTimestamp {
    let formatter = ISO8601DateFormatter()
    guard let date = formatter.date(from: text) else { fatalError("bad test instant \(text)") }
    return SyslogTimestamp(seconds: Int64(date.timeIntervalSince1970.rounded(.down)))
}

/// The source address every table row is parsed with.
let tableSource = "192.0.2.7"

/// Parses a row's frame and checks every field the row states, the raw frame and the JSON shape.
func assertParses(_ row: ParserRow, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let zones = try row.zoneByHostname.mapValues { try #require(TimeZone(identifier: $0)) }
    let parser = SyslogParser(timeZone: try #require(TimeZone(identifier: row.timeZone)), zoneByHostname: zones)
    let received = instant(row.receivedAt)
    let record = parser.parse(row.wire, receivedAt: received, source: tableSource)

    #expect(record.format == row.format, "format", sourceLocation: sourceLocation)
    #expect(record.facility == row.facility, "facility", sourceLocation: sourceLocation)
    #expect(record.severity == row.severity, "severity", sourceLocation: sourceLocation)
    #expect(record.timestamp?.description == row.timestamp, "timestamp", sourceLocation: sourceLocation)
    #expect(record.hostname == row.hostname, "hostname", sourceLocation: sourceLocation)
    #expect(record.appName == row.app, "app", sourceLocation: sourceLocation)
    #expect(record.procID == row.procID, "procid", sourceLocation: sourceLocation)
    #expect(record.msgID == row.msgID, "msgid", sourceLocation: sourceLocation)
    #expect(record.structuredData == row.structuredData, "structured data", sourceLocation: sourceLocation)
    #expect(record.message == row.message, "message", sourceLocation: sourceLocation)
    #expect(record.receivedAt == received, sourceLocation: sourceLocation)
    #expect(record.source == tableSource, sourceLocation: sourceLocation)

    // The raw frame is kept exactly when the frame is not UTF-8.
    let frameIsUTF8 = String(validating: row.wire, as: UTF8.self) != nil
    #expect(record.rawFrame == (frameIsUTF8 ? nil : row.wire), "raw frame", sourceLocation: sourceLocation)

    let problemsMatch =
        record.problems.count == row.problems.count
        && zip(record.problems, row.problems).allSatisfy { $1.matches($0) }
    #expect(problemsMatch, "problems: got \(record.problems), expected \(row.problems)", sourceLocation: sourceLocation)
    for p in record.problems {
        #expect((1...(row.wire.count + 1)).contains(p.column), "column inside the frame: \(p)", sourceLocation: sourceLocation)
    }

    // Whatever was read, the JSON is valid and says the same.
    let json = try #require(
        try JSONSerialization.jsonObject(with: Data(record.jsonBytes())) as? [String: Any], sourceLocation: sourceLocation)
    #expect(json["message"] as? String == row.message, "JSON message", sourceLocation: sourceLocation)
    #expect(json["timestamp"] as? String == row.timestamp, "JSON timestamp", sourceLocation: sourceLocation)
    #expect(json["format"] as? String == row.format.rawValue, "JSON format", sourceLocation: sourceLocation)
}
