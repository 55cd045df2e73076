import NotiLogCore
import Testing

/// RFC 3164 (BSD) messages as real senders write them: no year, no zone, optional host name and tag.
@Suite struct ParserTableRFC3164Tests {
    @Test(arguments: rfc3164Rows)
    func parses(_ row: ParserRow) throws {
        try assertParses(row)
    }
}

let rfc3164Rows: [ParserRow] = [
    // RFC 3164 §5.4, example 1.
    ParserRow(
        "rfc3164_example_su",
        #"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .auth, .crit, ts: "2023-10-11T22:14:15Z",
        host: "mymachine", app: "su", proc: nil, msgid: nil, sd: nil,
        msg: "'su root' failed for lonvick on /dev/pts/8", problems: []),
    // RFC 3164 §5.4, example 2 (as relayed): an IPv4 host and no tag.
    ParserRow(
        "rfc3164_example_ip_host_no_tag",
        #"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"#,
        at: "2023-02-05T17:32:20Z",
        .rfc3164, .user, .notice, ts: "2023-02-05T17:32:18Z",
        host: "10.0.0.99", app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "Use the BFG!", problems: []),
    // RFC 3164 §5.4, example 2 as first sent: no PRI, no header at all.
    ParserRow(
        "rfc3164_example_no_pri_no_header",
        #"Use the BFG!"#,
        at: "2023-10-11T22:14:20Z",
        .unparsed, nil, nil, ts: nil,
        host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "Use the BFG!", problems: [problem(.pri, 1, "missing PRI")]),
    // A relay that strips the PRI but keeps the header (e.g. a file replayed with `nc`).
    ParserRow(
        "bsd_header_without_pri",
        #"Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, nil, nil, ts: "2023-10-11T22:14:15Z",
        host: "mymachine", app: "su", proc: nil, msgid: nil, sd: nil,
        msg: "'su root' failed for lonvick on /dev/pts/8", problems: [problem(.pri, 1, "missing PRI")]),
    // An upper-case tag after a year-bearing time is a tag, not a Cisco zone name: nothing may vanish.
    ParserRow(
        "uppercase_tag_after_year_time",
        #"<13>Oct 11 2023 22:14:15 WEB: upstream timed out"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "WEB", proc: nil, msgid: nil, sd: nil,
        msg: "upstream timed out", problems: []),
    ParserRow(
        "uppercase_tag_after_fractional_time",
        #"<13>Oct 11 22:14:15.250 APP: started"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15.250Z",
        host: nil, app: "APP", proc: nil, msgid: nil, sd: nil,
        msg: "started", problems: []),
    // glibc syslog(3) over /dev/log, and journald's ForwardToSyslog= (same shape: no host name).
    ParserRow(
        "glibc_syslog_dev_log_systemd",
        #"<30>Nov 25 13:17:52 systemd[1]: Started Session 3 of user root."#,
        at: "2023-11-25T13:17:53Z",
        .rfc3164, .daemon, .info, ts: "2023-11-25T13:17:52Z",
        host: nil, app: "systemd", proc: "1", msgid: nil, sd: nil,
        msg: "Started Session 3 of user root.", problems: []),
    ParserRow(
        "journald_forward_to_syslog_sshd",
        #"<38>Nov 25 13:17:52 sshd[2011]: Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:Qm9vYmFy"#,
        at: "2023-11-25T13:17:53Z",
        .rfc3164, .auth, .info, ts: "2023-11-25T13:17:52Z",
        host: nil, app: "sshd", proc: "2011", msgid: nil, sd: nil,
        msg: "Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2: ED25519 SHA256:Qm9vYmFy", problems: []),
    ParserRow(
        "glibc_syslog_sudo_tag_without_pid",
        #"<85>Nov 25 13:17:52 sudo:     root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id"#,
        at: "2023-11-25T13:17:53Z",
        .rfc3164, .authpriv, .notice, ts: "2023-11-25T13:17:52Z",
        host: nil, app: "sudo", proc: nil, msgid: nil, sd: nil,
        msg: "    root : TTY=pts/0 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/id", problems: []),
    ParserRow(
        "journald_forward_to_syslog_kernel",
        #"<6>Nov 25 13:17:52 kernel: e1000e 0000:00:1f.6 eth0: NIC Link is Up 1000 Mbps Full Duplex"#,
        at: "2023-11-25T13:17:53Z",
        .rfc3164, .kern, .info, ts: "2023-11-25T13:17:52Z",
        host: nil, app: "kernel", proc: nil, msgid: nil, sd: nil,
        msg: "e1000e 0000:00:1f.6 eth0: NIC Link is Up 1000 Mbps Full Duplex", problems: []),
    // util-linux logger --rfc3164 (with and without --id).
    ParserRow(
        "logger_rfc3164",
        #"<13>Oct 11 22:14:15 web-1 deploy: hello from logger"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "deploy", proc: nil, msgid: nil, sd: nil,
        msg: "hello from logger", problems: []),
    ParserRow(
        "logger_rfc3164_id",
        #"<13>Oct 11 22:14:15 web-1 deploy[4242]: hello from logger"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "deploy", proc: "4242", msgid: nil, sd: nil,
        msg: "hello from logger", problems: []),
    // rsyslog RSYSLOG_TraditionalForwardFormat.
    ParserRow(
        "rsyslog_traditional_forward_format",
        #"<38>Oct 11 22:14:15 web-1 sshd[812]: Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .auth, .info, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "sshd", proc: "812", msgid: nil, sd: nil,
        msg: "Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2", problems: []),
    // rsyslog RSYSLOG_ForwardFormat: BSD header with an RFC 3339 time.
    ParserRow(
        "rsyslog_forward_format",
        #"<38>2023-10-11T22:14:15.003427+02:00 web-1 sshd[812]: Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2"#,
        at: "2023-10-11T20:14:16Z",
        .rfc3164, .auth, .info, ts: "2023-10-11T20:14:15.003427Z",
        host: "web-1", app: "sshd", proc: "812", msgid: nil, sd: nil,
        msg: "Accepted publickey for deploy from 10.0.0.5 port 51234 ssh2", problems: []),
    ParserRow(
        "rsyslog_forward_format_utc",
        #"<30>2023-10-11T22:14:15.003Z web-1 systemd[1]: Started Daily apt upgrade and clean activities."#,
        at: "2023-10-11T22:14:16Z",
        .rfc3164, .daemon, .info, ts: "2023-10-11T22:14:15.003Z",
        host: "web-1", app: "systemd", proc: "1", msgid: nil, sd: nil,
        msg: "Started Daily apt upgrade and clean activities.", problems: []),
    // An RFC 3339 time without an offset is read in the source's zone.
    ParserRow(
        "rsyslog_forward_format_no_offset_source_zone",
        #"<13>2023-10-11T22:14:15 web-1 app: local wall clock"#,
        at: "2023-10-11T20:14:16Z", tz: "Europe/Berlin",
        .rfc3164, .user, .notice, ts: "2023-10-11T20:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "local wall clock", problems: []),
    // syslog-ng network() destination (legacy BSD).
    ParserRow(
        "syslog_ng_network_bsd_nginx",
        #"<27>Oct 11 22:14:15 web-1 nginx[1201]: 2023/10/11 22:14:15 [error] 1201#1201: *5 connect() failed (111: Connection refused) while connecting to upstream"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .err, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "nginx", proc: "1201", msgid: nil, sd: nil,
        msg: "2023/10/11 22:14:15 [error] 1201#1201: *5 connect() failed (111: Connection refused) while connecting to upstream",
        problems: []),
    ParserRow(
        "rsyslog_cron_space_padded_day",
        #"<78>Oct  1 02:03:04 web-1 CRON[4012]: (root) CMD (run-parts /etc/cron.hourly)"#,
        at: "2023-10-01T02:03:05Z",
        .rfc3164, .cron, .info, ts: "2023-10-01T02:03:04Z",
        host: "web-1", app: "CRON", proc: "4012", msgid: nil, sd: nil,
        msg: "(root) CMD (run-parts /etc/cron.hourly)", problems: []),
    ParserRow(
        "embedded_unpadded_single_digit_day",
        #"<13>Oct 1 02:03:04 nas01 backup: snapshot done"#,
        at: "2023-10-01T02:03:05Z",
        .rfc3164, .user, .notice, ts: "2023-10-01T02:03:04Z",
        host: "nas01", app: "backup", proc: nil, msgid: nil, sd: nil,
        msg: "snapshot done", problems: []),
    // A year in the header wins over the inferred one.
    ParserRow(
        "bsd_year_before_time",
        #"<13>Oct 11 2022 22:14:15 web-1 app: clock one year behind"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2022-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "clock one year behind", problems: []),
    ParserRow(
        "bsd_milliseconds",
        #"<13>Oct 11 22:14:15.123 web-1 app[77]: ms precision"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15.123Z",
        host: "web-1", app: "app", proc: "77", msgid: nil, sd: nil,
        msg: "ms precision", problems: []),
    ParserRow(
        "bsd_tag_colon_without_space",
        #"<13>Oct 11 22:14:15 web-1 myapp:started worker 3"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "myapp", proc: nil, msgid: nil, sd: nil,
        msg: "started worker 3", problems: []),
    ParserRow(
        "bsd_no_tag",
        #"<13>Oct 11 22:14:15 web-1 just some text"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "just some text", problems: []),
    ParserRow(
        "bsd_url_is_not_a_tag",
        #"<13>Oct 11 22:14:15 web-1 https://status.example.com/ reports degraded"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "https://status.example.com/ reports degraded", problems: []),
    ParserRow(
        "bsd_message_with_colons",
        #"<13>Oct 11 22:14:15 web-1 app: key: value: more"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "key: value: more", problems: []),
    ParserRow(
        "isc_dhcpd_ipv4_host",
        #"<134>Oct 11 22:14:15 192.0.2.10 dhcpd[412]: DHCPACK on 192.0.2.55 to 00:11:22:33:44:55 via eth0"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local0, .info, ts: "2023-10-11T22:14:15Z",
        host: "192.0.2.10", app: "dhcpd", proc: "412", msgid: nil, sd: nil,
        msg: "DHCPACK on 192.0.2.55 to 00:11:22:33:44:55 via eth0", problems: []),
    ParserRow(
        "ntpd_ipv6_host",
        #"<134>Oct 11 22:14:15 2001:db8::10 ntpd[612]: kernel reports TIME_ERROR: 0x41: Clock Unsynchronized"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local0, .info, ts: "2023-10-11T22:14:15Z",
        host: "2001:db8::10", app: "ntpd", proc: "612", msgid: nil, sd: nil,
        msg: "kernel reports TIME_ERROR: 0x41: Clock Unsynchronized", problems: []),
    ParserRow(
        "rsyslog_kernel_ring_buffer",
        #"<4>Oct 11 22:14:15 web-1 kernel: [12345.678901] usb 1-1: new high-speed USB device number 2 using xhci_hcd"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .kern, .warning, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "kernel", proc: nil, msgid: nil, sd: nil,
        msg: "[12345.678901] usb 1-1: new high-speed USB device number 2 using xhci_hcd", problems: []),
    ParserRow(
        "postfix_slash_in_tag",
        #"<22>Oct 11 22:14:15 mail postfix/smtpd[1234]: connect from unknown[203.0.113.9]"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .mail, .info, ts: "2023-10-11T22:14:15Z",
        host: "mail", app: "postfix/smtpd", proc: "1234", msgid: nil, sd: nil,
        msg: "connect from unknown[203.0.113.9]", problems: []),
    ParserRow(
        "busybox_syslogd_remote_no_host",
        #"<29>Oct 11 22:14:15 udhcpc: lease of 192.168.1.50 obtained, lease time 86400"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .notice, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "udhcpc", proc: nil, msgid: nil, sd: nil,
        msg: "lease of 192.168.1.50 obtained, lease time 86400", problems: []),
    ParserRow(
        "java_dotted_tag_fqdn_host",
        #"<14>Oct 11 22:14:15 APP-01.Corp.Example.COM com.example.Service[2222]: started in 3.2s"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "APP-01.Corp.Example.COM", app: "com.example.Service", proc: "2222", msgid: nil, sd: nil,
        msg: "started in 3.2s", problems: []),
    ParserRow(
        "bsd_trailing_lf",
        "<13>Oct 11 22:14:15 web-1 app: line framed\n",
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "line framed", problems: []),
    // Headers without a time: the tag is still read. Python's SysLogHandler sends no time and ends with a NUL.
    ParserRow(
        "python_logging_sysloghandler",
        bytes: Array("<14>myapp: worker 3 started".utf8) + [0],
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .info, ts: nil,
        host: nil, app: "myapp", proc: nil, msgid: nil, sd: nil,
        msg: "worker 3 started", problems: []),
    ParserRow(
        "pri_then_text_no_timestamp_no_tag",
        #"<13>hello world"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .notice, ts: nil,
        host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "hello world", problems: []),
    // Year inference: the year that puts the time closest to received-at, in both directions.
    ParserRow(
        "year_inference_last_second_of_old_year",
        #"<13>Dec 31 23:59:58 web-1 app: last second"#,
        at: "2024-01-01T00:00:03Z",
        .rfc3164, .user, .notice, ts: "2023-12-31T23:59:58Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "last second", problems: []),
    ParserRow(
        "year_inference_sender_clock_ahead_into_new_year",
        #"<13>Jan  1 00:00:02 web-1 app: first second"#,
        at: "2023-12-31T23:59:59Z",
        .rfc3164, .user, .notice, ts: "2024-01-01T00:00:02Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "first second", problems: []),
    ParserRow(
        "year_inference_closest_even_when_ahead",
        #"<13>Jun  1 00:00:00 web-1 app: five months ahead"#,
        at: "2024-01-02T00:00:00Z",
        .rfc3164, .user, .notice, ts: "2024-06-01T00:00:00Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "five months ahead", problems: []),
    ParserRow(
        "year_inference_leap_day_from_last_leap_year",
        #"<13>Feb 29 12:00:00 web-1 app: leap day"#,
        at: "2025-01-10T00:00:00Z",
        .rfc3164, .user, .notice, ts: "2024-02-29T12:00:00Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "leap day", problems: []),
    // A named zone, with daylight saving.
    ParserRow(
        "europe_berlin_summer",
        #"<13>Jul 15 12:00:00 web-1 app: CEST"#,
        at: "2023-07-15T10:00:05Z", tz: "Europe/Berlin",
        .rfc3164, .user, .notice, ts: "2023-07-15T10:00:00Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "CEST", problems: []),
    ParserRow(
        "europe_berlin_winter",
        #"<13>Jan 15 12:00:00 web-1 app: CET"#,
        at: "2024-01-15T11:00:05Z", tz: "Europe/Berlin",
        .rfc3164, .user, .notice, ts: "2024-01-15T11:00:00Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "CET", problems: []),
    ParserRow(
        "europe_berlin_new_year_local",
        #"<13>Jan  1 00:30:00 web-1 app: Prosit Neujahr"#,
        at: "2023-12-31T23:30:05Z", tz: "Europe/Berlin",
        .rfc3164, .user, .notice, ts: "2023-12-31T23:30:00Z",
        host: "web-1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "Prosit Neujahr", problems: []),
    // zoneByHostname: the host's own zone (matched case-insensitively), else the parser's zone.
    ParserRow(
        "zone_by_hostname_new_york",
        #"<13>Oct 11 18:14:15 nyc-fw1 app: local to New York"#,
        at: "2023-10-11T22:14:20Z", tz: "UTC", zones: ["NYC-FW1": "America/New_York"],
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "nyc-fw1", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "local to New York", problems: []),
    ParserRow(
        "zone_by_hostname_other_host_uses_source_zone",
        #"<13>Oct 12 07:14:15 tokyo-web app: local to Tokyo"#,
        at: "2023-10-11T22:14:20Z", tz: "Asia/Tokyo", zones: ["NYC-FW1": "America/New_York"],
        .rfc3164, .user, .notice, ts: "2023-10-11T22:14:15Z",
        host: "tokyo-web", app: "app", proc: nil, msgid: nil, sd: nil,
        msg: "local to Tokyo", problems: []),
]
