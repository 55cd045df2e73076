import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

/// `POST /api/v1/ingest` with JSON lines (`application/x-ndjson`): stored like syslog, idempotent the same way,
/// and all or nothing.
@Suite("Ingest of JSON lines", .serialized)
struct IngestJSONLinesTests {
    static let everyField =
        #"{"message": "disk full on /srv", "timestamp": "2026-12-05T11:00:00.250+01:00", "host": "db-9", "app": "backup", "#
        + #""procid": "812", "msgid": "DF", "severity": "err", "facility": "local3", "#
        + #""sd": {"origin@32473": {"unit": "backup.service", "ip": "10.0.0.1"}, "meta": {"sequenceId": "7"}}}"#

    @Test func aBatchIsStoredWithEveryFieldAndIsSearchable() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, admin, _) = try await APITests.start(dir)
        let body = [
            Self.everyField,
            "",
            #"  {"message": "unicode \u00e9 \ud83d\ude00 \"quoted\"\nsecond line", "timestamp": 1764932400.5, "host": "db-9", "severity": 4, "facility": 16}  "#,
            "\r",
            #"{"message": "defaults", "host": "db-9", "app": null, "procid": ""}"#,
        ].joined(separator: "\n") + "\n"
        let answer = try await admin.request("POST", "/api/v1/ingest", body: body, contentType: "application/x-ndjson")
        #expect(answer.status == 200 && answer.json["stored"] as? Int == 3, "\(answer.text)")

        // Answered after the commit: searchable at once.
        let stored = try await admin.records("host:db-9")
        try #require(stored.count == 3, "\(stored)")
        let r = stored[0]
        #expect(r["message"] as? String == "disk full on /srv")
        #expect(r["timestamp"] as? String == "2026-12-05T10:00:00.250Z", "\(r)")
        #expect(r["app"] as? String == "backup" && r["procid"] as? String == "812" && r["msgid"] as? String == "DF")
        #expect(r["severity"] as? Int == 3 && r["facility"] as? Int == 19, "\(r)")
        let sd = try #require(r["sd"] as? [String: [String: Any]], "\(r)")
        #expect(sd["origin@32473"]?["unit"] as? String == "backup.service" && sd["origin@32473"]?["ip"] as? String == "10.0.0.1")
        #expect(sd["meta"]?["sequenceId"] as? String == "7")
        #expect(r["format"] as? String == "rfc5424" && r["raw"] is NSNull && (r["problems"] as? [Any])?.isEmpty == true, "\(r)")
        #expect(r["source"] as? String == "127.0.0.1")

        #expect(stored[1]["message"] as? String == "unicode é 😀 \"quoted\"\nsecond line")
        #expect(stored[1]["timestamp"] as? String == "2025-12-05T11:00:00.5Z", "\(stored[1])")
        #expect(stored[1]["severity"] as? Int == 4 && stored[1]["facility"] as? Int == 16)
        // Left out: user.notice at the reception time, no app or procid.
        #expect(stored[2]["severity"] as? Int == 5 && stored[2]["facility"] as? Int == 1, "\(stored[2])")
        #expect(stored[2]["timestamp"] as? String != nil && stored[2]["timestamp"] as? String == stored[2]["received_at"] as? String, "\(stored[2])")
        #expect(stored[2]["app"] is NSNull && stored[2]["procid"] is NSNull && stored[2]["sd"] is NSNull)

        // Every field can be searched as a syslog record's can.
        #expect(try await admin.records("app:backup severity:<=err \"disk full\"").count == 1)
        #expect(try await admin.records("sd.origin@32473.unit:backup.service msgid:DF procid:812").count == 1)
        #expect(try await admin.records("host:db-9 facility:local0").count == 1)

        // The other names of the type, with parameters.
        for type in ["application/jsonl", "application/json-lines; charset=utf-8", "Application/X-NDJSON"] {
            let other = try await admin.request("POST", "/api/v1/ingest", body: #"{"message": "typed", "host": "db-8"}"#, contentType: type)
            #expect(other.status == 200 && other.json["stored"] as? Int == 1, "\(type): \(other.text)")
        }
        #expect(try await admin.records("host:db-8 typed").count == 3)
        try await APITests.stop(group, running)
    }

    @Test func aRetriedBatchIsStoredOnce() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, admin, _) = try await APITests.start(dir)
        let created = try await admin.request("POST", "/api/v1/tokens", body: #"{"name":"shipper","scope":"ingest"}"#)
        let agent = admin.with(token: try #require(created.json["token"] as? String))
        let body = (0..<50).map { #"{"message": "retried \#($0)", "host": "db-10"}"# }.joined(separator: "\n")
        let params = ["agent": "shipper-1", "batch": "7"]
        let first = try await agent.request("POST", "/api/v1/ingest", params, body: body, contentType: "application/x-ndjson")
        #expect(first.status == 200 && first.json["stored"] as? Int == 50 && first.json["duplicate"] as? Bool == false, "\(first.text)")
        let again = try await agent.request("POST", "/api/v1/ingest", params, body: body, contentType: "application/x-ndjson")
        #expect(again.status == 200 && again.json["duplicate"] as? Bool == true && again.json["stored"] as? Int == 50, "\(again.text)")
        // Two copies at once: one stores, one waits for it and is told it was a duplicate.
        let next = ["agent": "shipper-1", "batch": "8"]
        async let a = agent.request("POST", "/api/v1/ingest", next, body: #"{"message": "batch 8", "host": "db-10"}"#, contentType: "application/x-ndjson")
        async let b = agent.request("POST", "/api/v1/ingest", next, body: #"{"message": "batch 8", "host": "db-10"}"#, contentType: "application/x-ndjson")
        let (ra, rb) = try await (a, b)
        #expect(Set([ra.json["duplicate"] as? Bool, rb.json["duplicate"] as? Bool]) == [true, false], "\(ra.text) \(rb.text)")
        #expect(try await admin.records("host:db-10").count == 51)
        try await APITests.stop(group, running)
    }

    @Test func aBadLineRejectsTheWholeBatchNamingTheLine() async throws {
        let dir = TemporaryDirectory()
        let (_, group, running, admin, _) = try await APITests.start(dir)
        let good = #"{"message": "would be lost", "host": "db-11"}"#
        let bad: [(line: String, expected: String)] = [
            (#"{"message": "no end""#, "line 3, column"),
            (#"{"message": 42}"#, "\"message\": expected a string"),
            (#"{"host": "db-11"}"#, "\"message\" is required"),
            (#"{"message": "x", "severity": "loud"}"#, "\"severity\": expected a name"),
            (#"{"message": "x", "severity": 8}"#, "\"severity\": expected a name"),
            (#"{"message": "x", "sd": {"bad id": {"a": "b"}}}"#, "SD-ID is 1 to 32"),
            (#"{"message": "x", "sd": {"ok": {"a": 1}}}"#, "PARAM-VALUE is a string"),
            (#"{"message": "x", "timestamp": "yesterday"}"#, "\"timestamp\": expected an RFC 3339"),
            (#"{"message": "x", "level": "err"}"#, "unknown key \"level\""),
            (#"["message"]"#, "expected a JSON object"),
            (#"{"message": "x", "host": "two words"}"#, "\"host\" may hold only printable US-ASCII"),
        ]
        for (line, expected) in bad {
            let body = good + "\n\n" + line + "\n" + good
            let answer = try await admin.request("POST", "/api/v1/ingest", ["agent": "a", "batch": "1"], body: body, contentType: "application/x-ndjson")
            #expect(answer.status == 400 && answer.errorCode == "invalid_body", "\(line): \(answer.text)")
            let message = answer.errorMessage ?? ""
            #expect(message.hasPrefix("line 3, column ") && message.contains(expected) && message.hasSuffix("nothing was stored"), "\(line): \(message)")
        }
        #expect(try await admin.records("host:db-11").isEmpty)
        // The rejected batch was not marked: sent right, it is stored.
        let fixed = try await admin.request("POST", "/api/v1/ingest", ["agent": "a", "batch": "1"], body: good, contentType: "application/x-ndjson")
        #expect(fixed.json["duplicate"] as? Bool == false && fixed.json["stored"] as? Int == 1, "\(fixed.text)")

        // JSON that is not JSON lines is still refused, and other types are still read as syslog.
        for type in ["application/json", "application/vnd.example+json"] {
            let answer = try await admin.request("POST", "/api/v1/ingest", body: good, contentType: type)
            #expect(answer.status == 415 && answer.errorCode == "unsupported_media_type", "\(type): \(answer.text)")
        }
        let syslog = try await admin.request("POST", "/api/v1/ingest", body: APITests.frames(["<14>1 - db-12 app - - - plain"]), contentType: "text/plain")
        #expect(syslog.status == 200 && syslog.json["stored"] as? Int == 1, "\(syslog.text)")
        try await APITests.stop(group, running)
    }
}
