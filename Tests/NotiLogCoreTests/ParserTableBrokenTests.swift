import NotiLogCore
import Testing

/// Frames that break the RFCs: the record keeps what could be read, says what could not and where, and keeps
/// the frame's bytes when they are not UTF-8.
@Suite struct ParserTableBrokenTests {
    @Test(arguments: brokenRows)
    func parses(_ row: ParserRow) throws {
        try assertParses(row)
    }
}

private let pattern64KiB = String(repeating: "0123456789abcdef", count: 4096)  // 65,536 bytes
private let text200KiB = String(repeating: "Grüße, мир! ", count: 12_048)  // 17 bytes each: 204,816 bytes
private let host256 = String(repeating: "h", count: 256)
private let app49 = String(repeating: "a", count: 49)
private let sdID33 = String(repeating: "a", count: 33)

private func bytes(_ text: String, _ tail: [UInt8] = []) -> [UInt8] { Array(text.utf8) + tail }

let brokenRows: [ParserRow] = [
    // PRI
    ParserRow(
        "pri_out_of_range",
        #"<192>1 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, nil, nil, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "msg", problems: [problem(.pri, 2, "PRI 192 out of range")]),
    ParserRow(
        "pri_out_of_range_bsd",
        #"<999>Oct 11 22:14:15 web-1 app: msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, nil, nil, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "msg", problems: [problem(.pri, 2, "PRI 999 out of range")]),
    ParserRow(
        "pri_letters",
        #"<abc>1 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: #"<abc>1 2023-10-11T22:14:15Z web-1 app - - - msg"#, problems: [problem(.pri, 1, "malformed PRI")]),
    ParserRow(
        "pri_missing_rfc5424",
        #"1 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: #"1 2023-10-11T22:14:15Z web-1 app - - - msg"#, problems: [problem(.pri, 1, "missing PRI")]),
    ParserRow(
        "pri_leading_zero",
        #"<013>1 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "msg", problems: [problem(.pri, 2, "leading zero")]),
    ParserRow(
        "pri_empty",
        #"<>1 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: #"<>1 2023-10-11T22:14:15Z web-1 app - - - msg"#, problems: [problem(.pri, 1, "malformed PRI")]),
    ParserRow(
        "pri_four_digits",
        #"<1234>1 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: #"<1234>1 2023-10-11T22:14:15Z web-1 app - - - msg"#, problems: [problem(.pri, 1, "malformed PRI")]),
    ParserRow(
        "pri_unterminated",
        #"<13 hello"#,
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "<13 hello", problems: [problem(.pri, 1, "malformed PRI")]),
    // RFC 5424 cut short after each header field.
    ParserRow(
        "truncated_after_pri",
        "<13>",
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "", problems: []),
    ParserRow(
        "truncated_after_version",
        "<13>1",
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "1", problems: []),
    ParserRow(
        "truncated_after_timestamp",
        "<13>1 2023-10-11T22:14:15Z",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "", problems: [problem(.hostname, 27, "message ends before the field")]),
    ParserRow(
        "truncated_after_hostname",
        "<13>1 2023-10-11T22:14:15Z web-1",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: nil, proc: nil, msgid: nil,
        sd: nil, msg: "", problems: [problem(.app, 33, "message ends before the field")]),
    ParserRow(
        "truncated_after_app",
        "<13>1 2023-10-11T22:14:15Z web-1 app",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "", problems: [problem(.procid, 37, "message ends before the field")]),
    ParserRow(
        "truncated_after_procid",
        "<13>1 2023-10-11T22:14:15Z web-1 app 42",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: "42", msgid: nil,
        sd: nil, msg: "", problems: [problem(.msgid, 40, "message ends before the field")]),
    ParserRow(
        "truncated_after_msgid",
        "<13>1 2023-10-11T22:14:15Z web-1 app 42 ID1",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: "42", msgid: "ID1",
        sd: nil, msg: "", problems: [problem(.structuredData, 44, "message ends before STRUCTURED-DATA")]),
    ParserRow(
        "truncated_inside_structured_data",
        #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application""#,
        at: "2003-10-11T22:14:20Z",
        .rfc5424, .local4, .notice, ts: "2003-10-11T22:14:15.003Z",
        host: "mymachine.example.com", app: "evntslog", proc: nil, msgid: "ID47", sd: nil,
        msg: #"[exampleSDID@32473 iut="3" eventSource="Application""#,
        problems: [problem(.structuredData, 123, "expected ']'")]),
    // Structured data
    ParserRow(
        "sd_param_value_unterminated",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [x@32473 a="abc"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: #"[x@32473 a="abc"#, problems: [problem(.structuredData, 57, "PARAM-VALUE not closed")]),
    ParserRow(
        "sd_bad_sd_id",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [ a="1"] msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: #"[ a="1"] msg"#, problems: [problem(.structuredData, 43, "expected SD-ID")]),
    ParserRow(
        "sd_empty_param_name",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [x@32473 ="1"] msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: #"[x@32473 ="1"] msg"#, problems: [problem(.structuredData, 51, "expected PARAM-NAME")]),
    ParserRow(
        "sd_unquoted_value_keeps_earlier_elements",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [a@32473 x="1"][b@32473 y=2] msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: [element("a@32473", ("x", "1"))], msg: "[b@32473 y=2] msg",
        problems: [problem(.structuredData, 67, #"expected '="'"#)]),
    ParserRow(
        "sd_unescaped_close_bracket",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [x@32473 path="/a[0]"] msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: [element("x@32473", ("path", "/a[0]"))], msg: "msg",
        problems: [problem(.structuredData, 61, "unescaped ']'")]),
    ParserRow(
        "sd_duplicate_sd_id",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [a@32473 x="1"][a@32473 y="2"] msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: [element("a@32473", ("x", "1")), element("a@32473", ("y", "2"))], msg: "msg",
        problems: [problem(.structuredData, 58, "more than once")]),
    ParserRow(
        "sd_id_longer_than_32",
        "<13>1 2023-10-11T22:14:15Z web-1 app - - [\(sdID33) x=\"1\"] msg",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: [element(sdID33, ("x", "1"))], msg: "msg",
        problems: [problem(.structuredData, 75, "SD-ID longer than 32")]),
    ParserRow(
        "sd_no_space_before_msg",
        #"<13>1 2023-10-11T22:14:15Z web-1 app - - [x@32473 a="1"]msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: [element("x@32473", ("a", "1"))], msg: "msg",
        problems: [problem(.structuredData, 57, "expected SP after STRUCTURED-DATA")]),
    // Tasmota writes "- -" for PROCID and MSGID and then no STRUCTURED-DATA at all; its clock starts at 1970.
    ParserRow(
        "tasmota_missing_structured_data",
        #"<134>1 1970-01-01T00:00:02.096000+01:00 wemos5 tasmota - - HTP: Web server active on wemos5 with IP address 192.168.2.172"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .local0, .info, ts: "1969-12-31T23:00:02.096000Z",
        host: "wemos5", app: "tasmota", proc: nil, msgid: nil, sd: nil,
        msg: "HTP: Web server active on wemos5 with IP address 192.168.2.172",
        problems: [problem(.structuredData, 60, "expected '[' or '-'")]),
    // Header fields
    ParserRow(
        "hostname_longer_than_255",
        "<13>1 2023-10-11T22:14:15Z \(host256) app - - - msg",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: host256, app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.hostname, 283, "longer than 255")]),
    ParserRow(
        "app_name_longer_than_48",
        "<13>1 2023-10-11T22:14:15Z web-1 \(app49) - - - msg",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: app49, proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.app, 82, "longer than 48")]),
    // NXLog on a Windows host with a non-ASCII name: valid UTF-8, but not what RFC 5424 allows in HOSTNAME.
    ParserRow(
        "utf8_hostname_rfc5424",
        #"<14>1 2023-10-11T22:14:15Z BÜRO-PC Application - - - Backup abgeschlossen"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15Z", host: "BÜRO-PC", app: "Application", proc: nil,
        msgid: nil, sd: nil, msg: "Backup abgeschlossen",
        problems: [problem(.hostname, 29, "outside printable US-ASCII")]),
    ParserRow(
        "version_2",
        #"<13>2 2023-10-11T22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.version, 5, "unsupported version 2")]),
    ParserRow(
        "double_space_before_hostname",
        #"<13>1 2023-10-11T22:14:15Z  web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.hostname, 28, "more than one SP")]),
    // Timestamps
    ParserRow(
        "timestamp_lowercase_t",
        #"<13>1 2023-10-11t22:14:15Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.timestamp, 7, "lowercase 't'")]),
    ParserRow(
        "timestamp_seven_fraction_digits",
        #"<13>1 2023-10-11T22:14:15.1234567Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15.1234567Z", host: "web-1", app: "app", proc: nil,
        msgid: nil, sd: nil, msg: "msg", problems: [problem(.timestamp, 7, "more than 6 digits")]),
    // Go's time.RFC3339Nano, as hand-rolled Go senders write it.
    ParserRow(
        "go_rfc3339nano_timestamp",
        #"<14>1 2023-10-11T22:14:15.123456789Z web-1 goapp 88 - - started"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15.123456789Z", host: "web-1", app: "goapp", proc: "88",
        msgid: nil, sd: nil, msg: "started", problems: [problem(.timestamp, 7, "more than 6 digits")]),
    ParserRow(
        "timestamp_without_offset",
        #"<13>1 2023-10-11T22:14:15 web-1 app - - - msg"#,
        at: "2023-10-11T20:14:20Z", tz: "Europe/Berlin",
        .rfc5424, .user, .notice, ts: "2023-10-11T20:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.timestamp, 26, "no 'Z'")]),
    ParserRow(
        "timestamp_offset_without_colon",
        #"<13>1 2023-10-11T22:14:15+0200 web-1 app - - - msg"#,
        at: "2023-10-11T20:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T20:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.timestamp, 7, "offset without ':'")]),
    ParserRow(
        "timestamp_february_30",
        #"<13>1 2023-02-30T10:00:00Z web-1 app - - - msg"#,
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: nil, host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: [problem(.timestamp, 7, "out of range")]),
    // Encoding: invalid UTF-8 keeps the frame as raw bytes and reads as U+FFFD.
    ParserRow(
        "latin1_message",
        bytes: bytes("<13>1 2023-10-11T22:14:15Z web-1 app - - - caf", [0xE9]) + bytes(" au lait"),
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "caf\u{FFFD} au lait", problems: [problem(.encoding, 47, "invalid UTF-8")]),
    ParserRow(
        "latin1_hostname",
        bytes: bytes("<13>1 2023-10-11T22:14:15Z h", [0xF6]) + bytes("st app - - - x"),
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "h\u{FFFD}st", app: "app", proc: nil,
        msgid: nil, sd: nil, msg: "x",
        problems: [problem(.encoding, 29, "invalid UTF-8"), problem(.hostname, 29, "outside printable US-ASCII")]),
    ParserRow(
        "overlong_utf8_in_sd_value",
        bytes: bytes(#"<13>1 2023-10-11T22:14:15Z web-1 app - - [x@32473 a=""#, [0xC0, 0xAF]) + bytes(#""] x"#),
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: [element("x@32473", ("a", "\u{FFFD}\u{FFFD}"))], msg: "x",
        problems: [problem(.encoding, 54, "invalid UTF-8")]),
    ParserRow(
        "latin1_bsd_tag",
        bytes: bytes("<13>Oct 11 22:14:15 web-1 d", [0xE6]) + bytes("mon[12]: x"),
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: nil, proc: nil, msgid: nil,
        sd: nil, msg: "d\u{FFFD}mon[12]: x", problems: [problem(.encoding, 28, "invalid UTF-8")]),
    ParserRow(
        "utf8_cut_at_frame_end",
        bytes: bytes("<13>1 2023-10-11T22:14:15Z web-1 app - - - Gr", [0xC3]),
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "Gr\u{FFFD}", problems: [problem(.encoding, 46, "invalid UTF-8")]),
    ParserRow(
        "windows_1251_message",
        bytes: bytes("<14>Oct 11 22:14:15 WIN-1C 1cv8: ", [0xCE, 0xF8, 0xE8, 0xE1, 0xEA, 0xE0]),
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .info, ts: "2023-10-11T22:14:15Z", host: "WIN-1C", app: "1cv8", proc: nil, msgid: nil,
        sd: nil, msg: String(repeating: "\u{FFFD}", count: 6), problems: [problem(.encoding, 34, "invalid UTF-8")]),
    ParserRow(
        "embedded_nul",
        bytes: bytes("<13>1 2023-10-11T22:14:15Z web-1 app - - - before", [0]) + bytes("after"),
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "before\u{0}after", problems: [problem(.encoding, 50, "embedded NUL")]),
    // Not syslog at all.
    ParserRow(
        "tls_client_hello_on_plain_port",
        bytes: [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xFC, 0x03, 0x03],
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "\u{16}\u{3}\u{1}\u{2}\u{0}\u{1}\u{0}\u{1}\u{FFFD}\u{3}\u{3}",
        problems: [
            problem(.encoding, 9, "invalid UTF-8"), problem(.encoding, 5, "embedded NUL"), problem(.pri, 1, "missing PRI"),
        ]),
    ParserRow(
        "http_request_on_syslog_port",
        "GET / HTTP/1.1\r\nHost: logs.example.com:514\r\nUser-Agent: curl/8.4.0\r\n\r\n",
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "GET / HTTP/1.1\r\nHost: logs.example.com:514\r\nUser-Agent: curl/8.4.0",
        problems: [problem(.pri, 1, "missing PRI")]),
    ParserRow(
        "empty_frame",
        bytes: [],
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "", problems: [problem(.message, 1, "empty message")]),
    ParserRow(
        "only_crlf",
        "\r\n",
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "", problems: [problem(.message, 1, "empty message")]),
    // Trailing CR, LF and NUL are framing, not message.
    ParserRow(
        "trailing_crlf",
        "<13>1 2023-10-11T22:14:15Z web-1 app - - - msg\r\n",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: []),
    ParserRow(
        "trailing_nul_and_newlines",
        bytes: bytes("<13>Oct 11 22:14:15 web-1 app: msg", [0x0A, 0x00, 0x0D, 0x0A, 0x00]),
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: "msg", problems: []),
    // Sizes far beyond RFC 5424's 2 KiB: kept whole (the framer decides what is too large).
    ParserRow(
        "message_64_KiB",
        "<13>1 2023-10-11T22:14:15Z web-1 app - - - \(pattern64KiB)",
        at: "2023-10-11T22:14:20Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: pattern64KiB, problems: []),
    ParserRow(
        "message_200_KiB_utf8",
        "<13>Oct 11 22:14:15 web-1 app: \(text200KiB)",
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z", host: "web-1", app: "app", proc: nil, msgid: nil,
        sd: nil, msg: text200KiB, problems: []),
]
