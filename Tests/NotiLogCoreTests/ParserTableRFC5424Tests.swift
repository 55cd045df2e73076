import NotiLogCore
import Testing

/// RFC 5424 messages as real senders write them.
@Suite struct ParserTableRFC5424Tests {
    @Test(arguments: rfc5424Rows)
    func parses(_ row: ParserRow) throws {
        try assertParses(row)
    }
}

private let host255 = String(repeating: "h", count: 63) + "." + String(repeating: "o", count: 63) + "."
    + String(repeating: "s", count: 63) + "." + String(repeating: "t", count: 63)  // 255
private let app48 = "app-" + String(repeating: "x", count: 44)
private let proc128 = String(repeating: "9", count: 128)
private let msgid32 = "MSG" + String(repeating: "_", count: 29)

let rfc5424Rows: [ParserRow] = [
    // RFC 5424 §6.5, example 1 (with the BOM the example shows).
    ParserRow(
        "rfc5424_example1_su_bom",
        #"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \#u{FEFF}'su root' failed for lonvick on /dev/pts/8"#,
        at: "2003-10-11T22:14:16Z",
        .rfc5424, .auth, .crit, ts: "2003-10-11T22:14:15.003Z",
        host: "mymachine.example.com", app: "su", proc: nil, msgid: "ID47", sd: nil,
        msg: "'su root' failed for lonvick on /dev/pts/8", problems: []),
    // Example 2: microseconds and a negative offset.
    ParserRow(
        "rfc5424_example2_offset_micro",
        #"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."#,
        at: "2003-08-24T12:14:16Z",
        .rfc5424, .local4, .notice, ts: "2003-08-24T12:14:15.000003Z",
        host: "192.0.2.1", app: "myproc", proc: "8710", msgid: nil, sd: nil,
        msg: "%% It's time to make the do-nuts.", problems: []),
    // Example 3: structured data, then a BOM-prefixed message.
    ParserRow(
        "rfc5424_example3_sd_bom",
        #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] \#u{FEFF}An application event log entry..."#,
        at: "2003-10-11T22:14:16Z",
        .rfc5424, .local4, .notice, ts: "2003-10-11T22:14:15.003Z",
        host: "mymachine.example.com", app: "evntslog", proc: nil, msgid: "ID47",
        sd: [element("exampleSDID@32473", ("iut", "3"), ("eventSource", "Application"), ("eventID", "1011"))],
        msg: "An application event log entry...", problems: []),
    // Example 4: two elements and no MSG.
    ParserRow(
        "rfc5424_example4_sd_only",
        #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#,
        at: "2003-10-11T22:14:16Z",
        .rfc5424, .local4, .notice, ts: "2003-10-11T22:14:15.003Z",
        host: "mymachine.example.com", app: "evntslog", proc: nil, msgid: "ID47",
        sd: [
            element("exampleSDID@32473", ("iut", "3"), ("eventSource", "Application"), ("eventID", "1011")),
            element("examplePriority@32473", ("class", "high")),
        ],
        msg: "", problems: []),
    // RFC 5424 §6.3.5: an element with two values for one name.
    ParserRow(
        "rfc5424_origin_multihomed",
        #"<14>1 2023-10-11T22:14:15Z gw.example.net netd 77 - [origin ip="192.0.2.1" ip="192.0.2.129" software="netd" swVersion="2.1"] uplink failover"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "gw.example.net", app: "netd", proc: "77", msgid: nil,
        sd: [element("origin", ("ip", "192.0.2.1"), ("ip", "192.0.2.129"), ("software", "netd"), ("swVersion", "2.1"))],
        msg: "uplink failover", problems: []),
    ParserRow(
        "rfc5424_nilvalue_everywhere",
        #"<13>1 - - - - - -"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .notice, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "", problems: []),
    ParserRow(
        "rfc5424_nilvalue_everywhere_with_msg",
        #"<13>1 - - - - - - heartbeat"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .notice, ts: nil, host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "heartbeat", problems: []),
    // nginx `syslog:...,rfc=rfc5424` (milliseconds, local offset).
    ParserRow(
        "nginx_rfc5424_access",
        #"<190>1 2003-10-11T22:14:15.003+05:30 myhost nginx 1234 ACCESS - 10.0.0.5 - - "GET / HTTP/1.1" 200 612"#,
        at: "2003-10-11T16:44:16Z",
        .rfc5424, .local7, .info, ts: "2003-10-11T16:44:15.003Z",
        host: "myhost", app: "nginx", proc: "1234", msgid: "ACCESS", sd: nil,
        msg: #"10.0.0.5 - - "GET / HTTP/1.1" 200 612"#, problems: []),
    ParserRow(
        "rfc5424_fraction_1_digit_plus14_offset",
        #"<14>1 2024-01-01T05:00:00.5+14:00 kiribati-gw ntpd 611 - - clock stepped"#,
        at: "2023-12-31T15:00:01Z",
        .rfc5424, .user, .info, ts: "2023-12-31T15:00:00.5Z",
        host: "kiribati-gw", app: "ntpd", proc: "611", msgid: nil, sd: nil,
        msg: "clock stepped", problems: []),
    ParserRow(
        "rfc5424_fraction_2_digits_minus12_offset",
        #"<14>1 2023-12-31T20:00:00.25-12:00 baker-island app - - - new year in UTC"#,
        at: "2024-01-01T08:00:01Z",
        .rfc5424, .user, .info, ts: "2024-01-01T08:00:00.25Z",
        host: "baker-island", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "new year in UTC", problems: []),
    ParserRow(
        "rfc5424_fraction_4_digits_minus_zero_offset",
        #"<14>1 2023-10-11T22:14:15.1234-00:00 web-1 app - - - unknown local offset"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15.1234Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "unknown local offset", problems: []),
    ParserRow(
        "rfc5424_fraction_5_digits_leap_day",
        #"<14>1 2024-02-29T23:30:00.12345-01:00 azores-1 app - - - leap day"#,
        at: "2024-03-01T00:30:01Z",
        .rfc5424, .user, .info, ts: "2024-03-01T00:30:00.12345Z",
        host: "azores-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "leap day", problems: []),
    ParserRow(
        "rfc5424_no_fraction_nepal_offset",
        #"<14>1 2023-10-12T04:00:15+05:45 ktm-fw app - - - odd offset"#,
        at: "2023-10-11T22:15:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:15:15Z",
        host: "ktm-fw", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "odd offset", problems: []),
    // Python rfc5424-logging-handler: microseconds, BOM before a UTF-8 message.
    ParserRow(
        "python_rfc5424_handler_bom_utf8",
        #"<14>1 2023-10-11T22:14:15.123456+00:00 web-1 billing 4242 - - \#u{FEFF}Счёт №42 оплачен"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15.123456Z",
        host: "web-1", app: "billing", proc: "4242", msgid: nil, sd: nil,
        msg: "Счёт №42 оплачен", problems: []),
    ParserRow(
        "rfc5424_utf8_without_bom",
        #"<14>1 2023-10-11T22:14:15.123Z web-1 app 77 - - Пользователь вошёл 日本語のログ ✓ 🚀"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15.123Z",
        host: "web-1", app: "app", proc: "77", msgid: nil, sd: nil,
        msg: "Пользователь вошёл 日本語のログ ✓ 🚀", problems: []),
    // PARAM-VALUE escapes: \" \\ \] become the character; a backslash before anything else stays.
    ParserRow(
        "rfc5424_sd_escapes",
        #"<14>1 2023-10-11T22:14:15Z app01 myapp 42 - [x@32473 q="say \"hi\"" path="C:\\temp\\" br="[a\]" o="keep \n as is"] escapes"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "app01", app: "myapp", proc: "42", msgid: nil,
        sd: [element("x@32473", ("q", #"say "hi""#), ("path", #"C:\temp\"#), ("br", "[a]"), ("o", #"keep \n as is"#))],
        msg: "escapes", problems: []),
    ParserRow(
        "rfc5424_sd_utf8_and_empty_values",
        #"<14>1 2023-10-11T22:14:15Z hr-app portal 9 LOGIN [auth@32473 user="José Müller" realm="" city="Zürich"] login ok"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "hr-app", app: "portal", proc: "9", msgid: "LOGIN",
        sd: [element("auth@32473", ("user", "José Müller"), ("realm", ""), ("city", "Zürich"))],
        msg: "login ok", problems: []),
    ParserRow(
        "rfc5424_three_elements_repeated_params",
        #"<14>1 2023-10-11T22:14:15.003Z host app 12 ID1 [a@32473 x="1"][b@32473][c@32473 y="2" y="3" z="4"] msg"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15.003Z",
        host: "host", app: "app", proc: "12", msgid: "ID1",
        sd: [element("a@32473", ("x", "1")), element("b@32473"), element("c@32473", ("y", "2"), ("y", "3"), ("z", "4"))],
        msg: "msg", problems: []),
    ParserRow(
        "rfc5424_max_length_fields",
        "<14>1 2023-10-11T22:14:15Z \(host255) \(app48) \(proc128) \(msgid32) - at the limits",
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: host255, app: app48, proc: proc128, msgid: msgid32, sd: nil,
        msg: "at the limits", problems: []),
    ParserRow(
        "rfc5424_ipv6_hostname",
        #"<30>1 2023-10-11T22:14:15Z 2001:db8::5 dhcpd 412 - - DHCPACK on 2001:db8::100"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .daemon, .info, ts: "2023-10-11T22:14:15Z",
        host: "2001:db8::5", app: "dhcpd", proc: "412", msgid: nil, sd: nil,
        msg: "DHCPACK on 2001:db8::100", problems: []),
    // An octet-counted Java stack trace: inner line breaks are message, the trailing LF is not.
    ParserRow(
        "java_logback_multiline_octet_counted",
        "<11>1 2023-10-11T22:14:15.000Z app1 java 4711 - - Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat com.example.Main.main(Main.java:12)\n",
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .err, ts: "2023-10-11T22:14:15.000Z",
        host: "app1", app: "java", proc: "4711", msgid: nil, sd: nil,
        msg: "Exception in thread \"main\" java.lang.IllegalStateException: boom\n\tat com.example.Main.main(Main.java:12)",
        problems: []),
    // Junos structured-syslog (Juniper's own example).
    ParserRow(
        "junos_structured_mgd",
        #"<165>1 2007-02-15T09:17:15.719Z router1 mgd 3046 UI_DBASE_LOGOUT_EVENT [junos@2636.1.1.1.2.18 username="user"] User 'user' exiting configuration mode"#,
        at: "2007-02-15T09:17:16Z",
        .rfc5424, .local4, .notice, ts: "2007-02-15T09:17:15.719Z",
        host: "router1", app: "mgd", proc: "3046", msgid: "UI_DBASE_LOGOUT_EVENT",
        sd: [element("junos@2636.1.1.1.2.18", ("username", "user"))],
        msg: "User 'user' exiting configuration mode", problems: []),
    ParserRow(
        "junos_srx_rt_flow_session_create",
        #"<14>1 2023-10-11T15:14:15.480-07:00 srx-1 RT_FLOW - RT_FLOW_SESSION_CREATE [junos@2636.1.1.1.2.40 source-address="192.168.1.10" source-port="49152" destination-address="8.8.8.8" destination-port="53" service-name="junos-dns-udp" nat-source-address="203.0.113.5" nat-source-port="21000" protocol-id="17" policy-name="trust-to-untrust" session-id-32="12345" packet-incoming-interface="ge-0/0/1.0"] session created 192.168.1.10/49152->8.8.8.8/53 junos-dns-udp 203.0.113.5/21000->8.8.8.8/53 None None 17 trust-to-untrust trust untrust 12345 N/A(N/A) ge-0/0/1.0"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T22:14:15.480Z",
        host: "srx-1", app: "RT_FLOW", proc: nil, msgid: "RT_FLOW_SESSION_CREATE",
        sd: [
            element(
                "junos@2636.1.1.1.2.40", ("source-address", "192.168.1.10"), ("source-port", "49152"),
                ("destination-address", "8.8.8.8"), ("destination-port", "53"), ("service-name", "junos-dns-udp"),
                ("nat-source-address", "203.0.113.5"), ("nat-source-port", "21000"), ("protocol-id", "17"),
                ("policy-name", "trust-to-untrust"), ("session-id-32", "12345"),
                ("packet-incoming-interface", "ge-0/0/1.0"))
        ],
        msg: "session created 192.168.1.10/49152->8.8.8.8/53 junos-dns-udp 203.0.113.5/21000->8.8.8.8/53 None None 17 trust-to-untrust trust untrust 12345 N/A(N/A) ge-0/0/1.0",
        problems: []),
    // NXLog `to_syslog_ietf()` on Windows (im_msvistalog fields as NXLOG SD).
    ParserRow(
        "nxlog_to_syslog_ietf_windows_eventlog",
        #"<14>1 2023-10-11T22:14:15.000000+02:00 WIN-SRV01.corp.example.com Microsoft-Windows-Security-Auditing 700 - [NXLOG@14506 Keywords="-9214364837600034816" EventType="AUDIT_SUCCESS" EventID="4624" ProviderGuid="{54849625-5478-4994-A5BA-3E3B0328C30D}" Channel="Security" Category="Logon" EventReceivedTime="2023-10-11 22:14:16" SourceModuleName="in_eventlog" SourceModuleType="im_msvistalog"] An account was successfully logged on."#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .user, .info, ts: "2023-10-11T20:14:15.000000Z",
        host: "WIN-SRV01.corp.example.com", app: "Microsoft-Windows-Security-Auditing", proc: "700", msgid: nil,
        sd: [
            element(
                "NXLOG@14506", ("Keywords", "-9214364837600034816"), ("EventType", "AUDIT_SUCCESS"), ("EventID", "4624"),
                ("ProviderGuid", "{54849625-5478-4994-A5BA-3E3B0328C30D}"), ("Channel", "Security"),
                ("Category", "Logon"), ("EventReceivedTime", "2023-10-11 22:14:16"),
                ("SourceModuleName", "in_eventlog"), ("SourceModuleType", "im_msvistalog"))
        ],
        msg: "An account was successfully logged on.", problems: []),
    ParserRow(
        "nxlog_to_syslog_ietf_file",
        #"<13>1 2023-10-11T22:14:15.123456+02:00 app-server payments - - [NXLOG@14506 EventReceivedTime="2023-10-11 22:14:15" SourceModuleName="in_file" SourceModuleType="im_file"] Payment service started"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T20:14:15.123456Z",
        host: "app-server", app: "payments", proc: nil, msgid: nil,
        sd: [
            element(
                "NXLOG@14506", ("EventReceivedTime", "2023-10-11 22:14:15"), ("SourceModuleName", "in_file"),
                ("SourceModuleType", "im_file"))
        ],
        msg: "Payment service started", problems: []),
    // ESXi 7 with the RFC 5424 formatter: Originator stays in the message text.
    ParserRow(
        "vmware_esxi7_rfc5424_hostd",
        #"<166>1 2022-05-12T08:12:17.104Z esx01.lab.local Hostd 2099451 - - info hostd[2099451] [Originator@6876 sub=Vimsvc.TaskManager opID=lro-123-abc user=vpxuser] Task Created : haTask--vim.SearchIndex.findByUuid-91"#,
        at: "2022-05-12T08:12:18Z",
        .rfc5424, .local4, .info, ts: "2022-05-12T08:12:17.104Z",
        host: "esx01.lab.local", app: "Hostd", proc: "2099451", msgid: nil, sd: nil,
        msg: "info hostd[2099451] [Originator@6876 sub=Vimsvc.TaskManager opID=lro-123-abc user=vpxuser] Task Created : haTask--vim.SearchIndex.findByUuid-91",
        problems: []),
    // docker --log-opt syslog-format=rfc5424 (time.RFC3339, tag = short container id, procid = dockerd pid).
    ParserRow(
        "docker_syslog_rfc5424",
        #"<30>1 2023-10-11T22:14:15+02:00 dockerhost 7d6e2c7a4bc0 1234 7d6e2c7a4bc0 - 10.0.0.5 - - [11/Oct/2023:20:14:15 +0000] "GET /healthz HTTP/1.1" 200 2"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .daemon, .info, ts: "2023-10-11T20:14:15Z",
        host: "dockerhost", app: "7d6e2c7a4bc0", proc: "1234", msgid: "7d6e2c7a4bc0", sd: nil,
        msg: #"10.0.0.5 - - [11/Oct/2023:20:14:15 +0000] "GET /healthz HTTP/1.1" 200 2"#, problems: []),
    ParserRow(
        "docker_syslog_rfc5424micro",
        #"<27>1 2023-10-11T20:14:15.123456Z dockerhost web.1.x7k2 1234 web.1.x7k2 - Error: connect ECONNREFUSED 10.0.0.9:5432"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .daemon, .err, ts: "2023-10-11T20:14:15.123456Z",
        host: "dockerhost", app: "web.1.x7k2", proc: "1234", msgid: "web.1.x7k2", sd: nil,
        msg: "Error: connect ECONNREFUSED 10.0.0.9:5432", problems: []),
    // syslog-ng `syslog()` destination: its own messages carry [meta sequenceId].
    ParserRow(
        "syslog_ng_syslog_driver_meta_sequence",
        #"<46>1 2023-10-11T22:14:15+02:00 logsrv syslog-ng 1342 - [meta sequenceId="1"] syslog-ng starting up; version='3.38.1'"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .syslog, .info, ts: "2023-10-11T20:14:15Z",
        host: "logsrv", app: "syslog-ng", proc: "1342", msgid: nil,
        sd: [element("meta", ("sequenceId", "1"))],
        msg: "syslog-ng starting up; version='3.38.1'", problems: []),
    ParserRow(
        "syslog_ng_syslog_driver_forwarded_bsd",
        #"<38>1 2023-10-11T22:14:15+02:00 web-1 sshd 812 - - Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .auth, .info, ts: "2023-10-11T20:14:15Z",
        host: "web-1", app: "sshd", proc: "812", msgid: nil, sd: nil,
        msg: "Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2", problems: []),
    // rsyslog RSYSLOG_SyslogProtocol23Format: "%STRUCTURED-DATA% %msg%\n" — a 3164 source's msg starts with a space.
    ParserRow(
        "rsyslog_syslogprotocol23_from_bsd_source",
        "<38>1 2023-10-11T22:14:15.003427+02:00 web-1 sshd 812 - -  Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2\n",
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .auth, .info, ts: "2023-10-11T20:14:15.003427Z",
        host: "web-1", app: "sshd", proc: "812", msgid: nil, sd: nil,
        msg: " Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2", problems: []),
    ParserRow(
        "rsyslog_syslogprotocol23_sudo_padding",
        "<86>1 2023-10-11T22:14:15.003427+02:00 web-1 sudo - - -     root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id\n",
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .authpriv, .info, ts: "2023-10-11T20:14:15.003427Z",
        host: "web-1", app: "sudo", proc: nil, msgid: nil, sd: nil,
        msg: "    root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id", problems: []),
    ParserRow(
        "rsyslog_syslogprotocol23_kernel",
        "<4>1 2023-10-11T22:14:15.000000+02:00 web-1 kernel - - -  [12345.678901] Out of memory: Killed process 4321 (java)\n",
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .kern, .warning, ts: "2023-10-11T20:14:15.000000Z",
        host: "web-1", app: "kernel", proc: nil, msgid: nil, sd: nil,
        msg: " [12345.678901] Out of memory: Killed process 4321 (java)", problems: []),
    ParserRow(
        "rsyslog_syslogprotocol23_from_5424_source",
        "<134>1 2023-10-11T22:14:15.000000+00:00 app1 myapp 77 ID1 [ex@32473 k=\"v\"] hi\n",
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .local0, .info, ts: "2023-10-11T22:14:15.000000Z",
        host: "app1", app: "myapp", proc: "77", msgid: "ID1", sd: [element("ex@32473", ("k", "v"))],
        msg: "hi", problems: []),
    // util-linux logger --rfc5424 (the default timeQuality element).
    ParserRow(
        "logger_rfc5424_timequality_synced",
        #"<13>1 2023-10-11T22:14:15.123456+02:00 web-1 deploy - - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="214000"] deploy finished"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T20:14:15.123456Z",
        host: "web-1", app: "deploy", proc: nil, msgid: nil,
        sd: [element("timeQuality", ("tzKnown", "1"), ("isSynced", "1"), ("syncAccuracy", "214000"))],
        msg: "deploy finished", problems: []),
    ParserRow(
        "logger_rfc5424_timequality_unsynced",
        #"<13>1 2023-10-11T22:14:15.654321+00:00 pi-sensor pi - - [timeQuality tzKnown="1" isSynced="0"] temperature 21.5"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T22:14:15.654321Z",
        host: "pi-sensor", app: "pi", proc: nil, msgid: nil,
        sd: [element("timeQuality", ("tzKnown", "1"), ("isSynced", "0"))],
        msg: "temperature 21.5", problems: []),
    // logger --rfc5424 -p local3.err --id=4242 --msgid=NIGHTLY --sd-id backup@32473 --sd-param ...
    ParserRow(
        "logger_rfc5424_sd",
        #"<155>1 2023-10-11T22:14:15.100000+02:00 web-1 backup 4242 NIGHTLY [timeQuality tzKnown="1" isSynced="1" syncAccuracy="12000"][backup@32473 target="s3://bucket/db" bytes="1048576"] backup done"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .local3, .err, ts: "2023-10-11T20:14:15.100000Z",
        host: "web-1", app: "backup", proc: "4242", msgid: "NIGHTLY",
        sd: [
            element("timeQuality", ("tzKnown", "1"), ("isSynced", "1"), ("syncAccuracy", "12000")),
            element("backup@32473", ("target", "s3://bucket/db"), ("bytes", "1048576")),
        ],
        msg: "backup done", problems: []),
    ParserRow(
        "logger_rfc5424_notq",
        #"<13>1 2023-10-11T22:14:15.000001+02:00 web-1 root - - - plain text"#,
        at: "2023-10-11T20:14:16Z",
        .rfc5424, .user, .notice, ts: "2023-10-11T20:14:15.000001Z",
        host: "web-1", app: "root", proc: nil, msgid: nil, sd: nil,
        msg: "plain text", problems: []),
    ParserRow(
        "pfsense_filterlog_rfc5424",
        #"<134>1 2023-10-11T22:14:15.123456+00:00 pfsense.home.arpa filterlog 12345 - - 5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,203.0.113.5,198.51.100.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .local0, .info, ts: "2023-10-11T22:14:15.123456Z",
        host: "pfsense.home.arpa", app: "filterlog", proc: "12345", msgid: nil, sd: nil,
        msg: "5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,203.0.113.5,198.51.100.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale",
        problems: []),
    // HAProxy `log ... format rfc5424`: the access line starts with the client address.
    ParserRow(
        "haproxy_rfc5424_http_log",
        #"<134>1 2023-10-11T22:14:15.123456+00:00 lb1 haproxy 1234 - - 10.0.0.5:51234 [11/Oct/2023:22:14:15.120] fe_https~ be_app/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 "GET /api/health HTTP/1.1""#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .local0, .info, ts: "2023-10-11T22:14:15.123456Z",
        host: "lb1", app: "haproxy", proc: "1234", msgid: nil, sd: nil,
        msg: #"10.0.0.5:51234 [11/Oct/2023:22:14:15.120] fe_https~ be_app/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 "GET /api/health HTTP/1.1""#,
        problems: []),
    ParserRow(
        "rfc5424_message_with_tab_and_trailing_spaces",
        "<15>1 2023-10-11T22:14:15Z web-1 app 1 - - col1\tcol2  ",
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .user, .debug, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: "1", msgid: nil, sd: nil,
        msg: "col1\tcol2  ", problems: []),
    ParserRow(
        "rfc5424_kern_emerg_pri_zero",
        #"<0>1 2023-10-11T22:14:15Z web-1 kernel - - - Kernel panic - not syncing: Fatal exception"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .kern, .emerg, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "kernel", proc: nil, msgid: nil, sd: nil,
        msg: "Kernel panic - not syncing: Fatal exception", problems: []),
    ParserRow(
        "rfc5424_local7_debug_pri_max",
        #"<191>1 2023-10-11T22:14:15Z web-1 app - - - debug line"#,
        at: "2023-10-11T22:14:16Z",
        .rfc5424, .local7, .debug, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "debug line", problems: []),
]
