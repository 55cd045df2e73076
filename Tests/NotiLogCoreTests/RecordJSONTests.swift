import Foundation
import NotiLogCore
import Testing

/// The JSON contract of `LogRecord.jsonBytes()` (see LogRecord+JSON.swift): shared by `notilogctl parse --json`
/// and the HTTP API, so clients rely on every key, its type and its order.
@Suite struct RecordJSONTests {
    static let receivedAt = SyslogTimestamp(seconds: 1_697_062_460, nanoseconds: 123_456_000, fractionDigits: 6)
    static let keysInOrder = [
        "facility", "severity", "timestamp", "received_at", "hostname", "app", "procid", "msgid", "sd", "message",
        "raw", "format", "source", "problems",
    ]

    func object(_ record: LogRecord, id: Int64? = nil) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(record.jsonBytes(id: id)))
        return try #require(json as? [String: Any])
    }

    func parse(_ text: String, source: String? = "192.0.2.7") -> LogRecord {
        SyslogParser().parse(text, receivedAt: Self.receivedAt, source: source)
    }

    @Test func everyKeyHasItsDocumentedType() throws {
        let record = parse(
            #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 8710 ID47 [exampleSDID@32473 iut="3" eventSource="Application"] An application event"#)
        let json = try object(record)
        #expect(Set(json.keys) == Set(Self.keysInOrder))
        #expect(json["facility"] as? Int == 20)
        #expect(json["severity"] as? Int == 5)
        #expect(json["timestamp"] as? String == "2003-10-11T22:14:15.003Z")
        #expect(json["received_at"] as? String == "2023-10-11T22:14:20.123456Z")
        #expect(json["hostname"] as? String == "mymachine.example.com")
        #expect(json["app"] as? String == "evntslog")
        #expect(json["procid"] as? String == "8710")
        #expect(json["msgid"] as? String == "ID47")
        let sd = try #require(json["sd"] as? [String: Any])
        let element = try #require(sd["exampleSDID@32473"] as? [String: Any])
        #expect(element["iut"] as? String == "3")
        #expect(element["eventSource"] as? String == "Application")
        #expect(json["message"] as? String == "An application event")
        #expect(json["raw"] is NSNull)
        #expect(json["format"] as? String == "rfc5424")
        #expect(json["source"] as? String == "192.0.2.7")
        #expect((json["problems"] as? [Any])?.isEmpty == true)
    }

    @Test func keysComeInTheDocumentedOrder() throws {
        let text = String(decoding: parse("<13>1 - - - - - - m").jsonBytes(), as: UTF8.self)
        let offsets = try Self.keysInOrder.map { key in try #require(text.range(of: "\"\(key)\":")).lowerBound }
        #expect(offsets == offsets.sorted())
        #expect(text.hasPrefix(#"{"facility":"#))
    }

    @Test func absentValuesAreNullAndEveryKeyIsPresent() throws {
        let nil5424 = try object(parse("<13>1 - - - - - -", source: nil))
        #expect(Set(nil5424.keys) == Set(Self.keysInOrder))
        for key in ["timestamp", "hostname", "app", "procid", "msgid", "sd", "raw", "source"] {
            #expect(nil5424[key] is NSNull, "\(key)")
        }
        #expect(nil5424["message"] as? String == "", "an absent message is an empty string, not null")

        let headerless = try object(parse("Use the BFG!"))
        #expect(headerless["facility"] is NSNull)
        #expect(headerless["severity"] is NSNull)
        #expect(headerless["format"] as? String == "unparsed")
    }

    @Test func problemsAreObjectsWithFieldColumnReason() throws {
        let json = try object(parse(#"<192>1 2023-10-11T22:14:15Z web-1 app - - [x@1 a="b]c"] msg"#))
        let problems = try #require(json["problems"] as? [[String: Any]])
        #expect(problems.count == 2)
        #expect(problems[0]["field"] as? String == "pri")
        #expect(problems[0]["column"] as? Int == 2)
        #expect((problems[0]["reason"] as? String)?.contains("out of range") == true)
        #expect(problems[1]["field"] as? String == "sd")
        #expect(problems[1]["column"] as? Int == 52)
        for p in problems { #expect(Set(p.keys) == ["field", "column", "reason"]) }
    }

    @Test func repeatedParameterBecomesAListInWireOrder() throws {
        let json = try object(parse(#"<14>1 - host app - - [origin ip="192.0.2.1" software="x" ip="192.0.2.129"] m"#))
        let origin = try #require((json["sd"] as? [String: Any])?["origin"] as? [String: Any])
        #expect(origin["ip"] as? [String] == ["192.0.2.1", "192.0.2.129"])
        #expect(origin["software"] as? String == "x")
    }

    @Test func duplicateSDIDsAreMergedInFirstSeenOrder() throws {
        let record = parse(#"<14>1 - host app - - [b@1 x="1"][a@1 k="v"][b@1 x="2" y="3"] m"#)
        let json = try object(record)
        let sd = try #require(json["sd"] as? [String: Any])
        #expect(Set(sd.keys) == ["a@1", "b@1"])
        let b = try #require(sd["b@1"] as? [String: Any])
        #expect(b["x"] as? [String] == ["1", "2"])
        #expect(b["y"] as? String == "3")
        let text = String(decoding: record.jsonBytes(), as: UTF8.self)
        #expect(text.contains(#""sd":{"b@1":{"x":["1","2"],"y":"3"},"a@1":{"k":"v"}}"#))
    }

    @Test func escapedValuesAreUnescaped() throws {
        let json = try object(parse(#"<14>1 - host app - - [x@1 q="say \"hi\" \\ \] \n"] m"#))
        let x = try #require((json["sd"] as? [String: Any])?["x@1"] as? [String: Any])
        #expect(x["q"] as? String == #"say "hi" \ ] \n"#)
    }

    @Test func rawIsBase64OfTheFrameOnlyWhenItIsNotUTF8() throws {
        let valid = try object(parse("<13>1 - - - - - - caf\u{E9}\n"))
        #expect(valid["raw"] is NSNull)
        #expect(valid["message"] as? String == "café")

        let frame = Array("<13>1 - - - - - - caf".utf8) + [0xE9, 0x0A]
        let record = SyslogParser().parse(frame, receivedAt: Self.receivedAt)
        let invalid = try object(record)
        let raw = try #require(invalid["raw"] as? String)
        #expect(Data(base64Encoded: raw).map(Array.init) == frame, "raw is the whole frame, trailing LF included")
        #expect(invalid["message"] as? String == "caf\u{FFFD}")
    }

    @Test func controlCharactersQuotesAndBackslashesAreEscaped() throws {
        let message = "a\u{0}b\u{1}c\td\ne\rf\"g\\h\u{1F}i\u{7F}j ü 🚀"
        let record = LogRecord(
            receivedAt: Self.receivedAt, hostname: "h\u{7}st",
            structuredData: [StructuredDataElement(id: "x@1", parameters: [StructuredDataParameter("v", "line1\nline2")])],
            message: message, problems: [ParseProblem(field: .message, column: 3, reason: "tab\there")])
        let bytes = record.jsonBytes()
        #expect(!bytes.contains(where: { $0 < 0x20 }), "no raw control byte in the output")
        let text = String(decoding: bytes, as: UTF8.self)
        for escape in [#"\u0000"#, #"\u0001"#, #"\t"#, #"\n"#, #"\r"#, #"\""#, #"\\"#, #"\u001f"#, #"\u0007"#] {
            #expect(text.contains(escape), "\(escape)")
        }
        #expect(text.contains("ü 🚀"), "non-ASCII text stays UTF-8")
        let json = try object(record)
        #expect(json["message"] as? String == message)
        #expect(json["hostname"] as? String == "h\u{7}st")
        #expect(((json["sd"] as? [String: Any])?["x@1"] as? [String: Any])?["v"] as? String == "line1\nline2")
        #expect(((json["problems"] as? [[String: Any]])?.first?["reason"] as? String) == "tab\there")
    }

    @Test func idComesFirstWhenGiven() throws {
        let record = parse("<13>1 - - - - - - m")
        #expect(String(decoding: record.jsonBytes(id: 42), as: UTF8.self).hasPrefix(#"{"id":42,"facility":1,"#))
        #expect(String(decoding: record.jsonBytes(id: Int64.max), as: UTF8.self).hasPrefix(#"{"id":9223372036854775807,"#))
        #expect(String(decoding: record.jsonBytes(), as: UTF8.self).hasPrefix(#"{"facility":1,"#))
        let json = try object(record, id: 42)
        #expect(json["id"] as? Int == 42)
        #expect(Set(json.keys) == Set(Self.keysInOrder + ["id"]))
        #expect(try object(record)["id"] == nil)
    }

    @Test(arguments: [
        ("2023-10-11T22:14:15Z", "2023-10-11T22:14:15Z"),
        ("2023-10-11T22:14:15.1Z", "2023-10-11T22:14:15.1Z"),
        ("2023-10-11T22:14:15.003Z", "2023-10-11T22:14:15.003Z"),
        ("2023-10-11T22:14:15.000000Z", "2023-10-11T22:14:15.000000Z"),
        ("2023-10-11T23:14:15.120+01:00", "2023-10-11T22:14:15.120Z"),
        ("2023-10-11T22:14:15.123456789Z", "2023-10-11T22:14:15.123456789Z"),
    ])
    func fractionDigitsArePreserved(wire: String, printed: String) throws {
        let json = try object(parse("<13>1 \(wire) - - - - -"))
        #expect(json["timestamp"] as? String == printed)
    }

    @Test func jsonStringAndDescriptionAreTheBytes() {
        let record = parse(#"<14>1 - host app - - [x@1 a="1"] m"#)
        let bytes = record.jsonBytes(id: 7)
        #expect(record.jsonString(id: 7) == String(decoding: bytes, as: UTF8.self))
        #expect(record.description == record.jsonString())
        var appended: [UInt8] = [UInt8(ascii: "[")]
        record.appendJSON(to: &appended, id: 7)
        #expect(Array(appended.dropFirst()) == bytes)
    }
}
