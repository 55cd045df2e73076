import NotiLogCore
import Testing

/// JSON lines make the records the same RFC 5424 messages make; bad lines are named by line and column.
@Suite("JSON lines reader")
struct JSONLinesReaderTests {
    static let receivedAt = SyslogTimestamp(seconds: 1_764_932_400, nanoseconds: 123_000, fractionDigits: 6)

    static func read(_ text: String, maxMessageBytes: Int = 256 * 1024) throws(JSONLinesReader.LineError) -> [LogRecord] {
        let bytes = Array(text.utf8)
        var result: Result<[LogRecord], JSONLinesReader.LineError> = .success([])
        bytes.withUnsafeBytes { buffer in
            do throws(JSONLinesReader.LineError) {
                result = .success(
                    try JSONLinesReader.records(buffer, receivedAt: receivedAt, source: "192.0.2.7", maxMessageBytes: maxMessageBytes))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    @Test(arguments: [
        (
            #"{"message": "disk full", "timestamp": "2026-12-05T11:00:00.250+01:00", "host": "db-1", "app": "backup", "procid": "812", "msgid": "DF", "severity": "err", "facility": "local3", "sd": {"origin@32473": {"unit": "backup.service", "ip": "10.0.0.1"}, "meta": {"sequenceId": "7"}}}"#,
            #"<155>1 2026-12-05T11:00:00.250+01:00 db-1 backup 812 DF [origin@32473 unit="backup.service" ip="10.0.0.1"][meta sequenceId="7"] disk full"#
        ),
        (#"{"message": "defaults"}"#, "<13>1 - - - - - - defaults"),
        (#"{"message": "", "host": null, "app": "", "severity": 0, "facility": 23}"#, "<184>1 - - - - - -"),
        (#"{"message": "escapes \" \\ ] \u00e9", "sd": {"x@1": {"v": "a\"b]c\\d"}}}"#, #"<13>1 - - - - - [x@1 v="a\"b\]c\\d"] escapes " \ ] é"#),
        (#"{"sd": {"empty@1": {}}, "message": "element without params", "severity": "warn"}"#, "<12>1 - - - - - [empty@1] element without params"),
        (#"{"message": "nine digits", "timestamp": "2026-12-05T10:00:00.123456789Z"}"#, "<13>1 2026-12-05T10:00:00.123456789Z - - - - - nine digits"),
    ])
    func aLineMakesTheRecordItsSyslogTwinMakes(_ json: String, _ syslog: String) throws {
        let records = try Self.read(json)
        var expected = SyslogParser().parse(syslog, receivedAt: Self.receivedAt, source: "192.0.2.7")
        expected.problems.removeAll { $0.field == .timestamp }  // RFC 5424 allows 6 fraction digits; JSON lines 9
        if expected.timestamp == nil { expected.timestamp = Self.receivedAt }  // no timestamp: the reception time
        #expect(records == [expected], "\(records) vs \(expected)")
    }

    @Test func unixSecondsAndBlankLines() throws {
        let records = try Self.read("\n  \r\n{\"message\": \"a\", \"timestamp\": 1764932400}\n\n{\"message\": \"b\", \"timestamp\": 1764932400.000250}\r\n")
        #expect(records.count == 2)
        #expect(records[0].timestamp == SyslogTimestamp(seconds: 1_764_932_400))
        #expect(records[1].timestamp == SyslogTimestamp(seconds: 1_764_932_400, nanoseconds: 250_000, fractionDigits: 6))
        #expect(records[1].timestamp?.description == "2025-12-05T11:00:00.000250Z")
        // Without one (or null, or ""): the reception time.
        for line in [#"{"message": "x"}"#, #"{"message": "x", "timestamp": null}"#, #"{"message": "x", "timestamp": ""}"#] {
            #expect(try Self.read(line).first?.timestamp == Self.receivedAt, "\(line)")
        }
    }

    @Test func anOversizedMessageIsCutAtACharacterAndNoted() throws {
        let records = try Self.read(#"{"message": "ééééé"}"#, maxMessageBytes: 5)
        #expect(records.first?.message == "éé")
        #expect(records.first?.problems.first?.field == .message)
    }

    @Test(arguments: [
        (#"{"message": "a"} x"#, 1, 18, "unexpected text after the object"),
        ("{\"message\": \"a\"}\n{\"message\": \"b\"", 2, 16, "the object is not closed"),
        ("{\"message\": \"tab\tinside\"}", 1, 17, "control character"),
        (#"{"message": "\x"}"#, 1, 14, "unknown escape"),
        (#"{"message": "\ud800"}"#, 1, 20, "lone surrogate"),
        (#"{"message": "a", "message": "b"}"#, 1, 18, "\"message\" appears twice"),
        (#"{"message": "a", "severity": 1.5}"#, 1, 30, "\"severity\": expected a name"),
        (#"{"message": "a", "facility": "local9"}"#, 1, 30, "\"facility\": expected a name"),
        (#"{"message": "a", "timestamp": 1764932400123}"#, 1, 31, "milliseconds are not seconds"),
        (#"{"message": "a", "timestamp": "2026-12-05T10:00:00"}"#, 1, 31, "expected an RFC 3339 time"),
        (#"{"message": "a", "app": "\#(String(repeating: "a", count: 49))"}"#, 1, 25, "\"app\" is longer than 48 bytes"),
        (#"{"message": "a", "sd": {"id": {"a=b": "c"}}}"#, 1, 32, "PARAM-NAME is 1 to 32"),
        (#"{"message": "a", "sd": {"id": {"a": "b", "a": "c"}}}"#, 1, 42, "PARAM-NAME appears twice"),
        (#"{"message": "a", "sd": ["id"]}"#, 1, 24, "\"sd\": expected an object"),
        (#"{"message": true}"#, 1, 13, "\"message\": expected a string"),
        (#"{}"#, 1, 1, "\"message\" is required"),
        (#"{"message": "a", "Message": "b"}"#, 1, 18, "unknown key \"Message\""),
    ])
    func aBadLineIsNamed(_ text: String, _ line: Int, _ column: Int, _ reason: String) {
        do {
            let records = try Self.read(text)
            Issue.record("no error for \(text): \(records)")
        } catch {
            #expect(error.line == line && error.column == column && error.reason.contains(reason), "\(text): \(error)")
        }
    }
}
