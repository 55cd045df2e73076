import NotiLogCore
import Testing

/// Vendor shapes built on (or instead of) RFC 3164: network gear, firewalls, hypervisors, Windows agents.
@Suite struct ParserTableNonStandardTests {
    @Test(arguments: nonStandardRows)
    func parses(_ row: ParserRow) throws {
        try assertParses(row)
    }
}

let nonStandardRows: [ParserRow] = [
    // Cisco IOS: "logging host" counter → meta sequenceId; "*" (clock not authoritative) → timeQuality isSynced="0";
    // app and msgid are FACILITY and MNEMONIC, and the message keeps the whole %FAC-SEV-MNEMONIC: text.
    ParserRow(
        "cisco_ios_seq_timestamp",
        #"<189>52: *Mar  1 00:05:11.123 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)"#,
        at: "2024-03-01T00:05:12Z",
        .rfc3164, .local7, .notice, ts: "2024-03-01T00:05:11.123Z",
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "52")), element("timeQuality", ("isSynced", "0"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)", problems: []),
    ParserRow(
        "cisco_ios_seq_synced_clock",
        #"<189>53: Oct 11 22:14:15.456 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to up"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T22:14:15.456Z",
        host: nil, app: "LINEPROTO", proc: nil, msgid: "UPDOWN",
        sd: [element("meta", ("sequenceId", "53"))],
        msg: "%LINEPROTO-5-UPDOWN: Line protocol on Interface GigabitEthernet0/1, changed state to up", problems: []),
    // "." = the clock was synced once but is not now; no msec, no zone.
    ParserRow(
        "cisco_ios_dot_marker_no_msec",
        #"<187>54: .Oct 11 22:14:15: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .err, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "LINK", proc: nil, msgid: "UPDOWN",
        sd: [element("meta", ("sequenceId", "54")), element("timeQuality", ("isSynced", "0"))],
        msg: "%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down", problems: []),
    // IOS-XE with `logging origin-id hostname` and `service timestamps log datetime msec year show-timezone`.
    ParserRow(
        "cisco_ios_xe_origin_id_year_msec",
        #"<190>1550: routerhostname: Oct 20 2021 09:27:14.712 UTC: %FMANFP-6-IPACCESSLOGP: R0/0: fman_fp_image: list acl_233_in denied udp 1.2.3.4(138) -> 2.1.3.4(138), 8 packets"#,
        at: "2021-10-20T09:27:20Z",
        .rfc3164, .local7, .info, ts: "2021-10-20T09:27:14.712Z",
        host: "routerhostname", app: "FMANFP", proc: nil, msgid: "IPACCESSLOGP",
        sd: [element("meta", ("sequenceId", "1550"))],
        msg: "%FMANFP-6-IPACCESSLOGP: R0/0: fman_fp_image: list acl_233_in denied udp 1.2.3.4(138) -> 2.1.3.4(138), 8 packets",
        problems: []),
    // `clock timezone NewYork -5`: a zone name Foundation does not know is read in the source's zone.
    ParserRow(
        "cisco_ios_origin_id_custom_zone_name",
        #"<188>179767: fakhost: Nov 23 22:23:27.833 NewYork: %SW_MATM-4-MACFLAP_NOTIF: Host bd60.0443.0344 in vlan 50 is flapping between port Po1 and port Po3"#,
        at: "2022-11-24T03:23:30Z", tz: "America/New_York",
        .rfc3164, .local7, .warning, ts: "2022-11-24T03:23:27.833Z",
        host: "fakhost", app: "SW_MATM", proc: nil, msgid: "MACFLAP_NOTIF",
        sd: [element("meta", ("sequenceId", "179767"))],
        msg: "%SW_MATM-4-MACFLAP_NOTIF: Host bd60.0443.0344 in vlan 50 is flapping between port Po1 and port Po3",
        problems: []),
    ParserRow(
        "cisco_ios_custom_zone_name_no_origin_id",
        #"<189>7662: Nov 23 22:23:27.921 NewYork: %SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: domain\user] [Source: 10.17.8.3] [localport: 22] at 01:54:13 NewYork Wed Nov 23 2022"#,
        at: "2022-11-24T03:23:30Z", tz: "America/New_York",
        .rfc3164, .local7, .notice, ts: "2022-11-24T03:23:27.921Z",
        host: nil, app: "SEC_LOGIN", proc: nil, msgid: "LOGIN_SUCCESS",
        sd: [element("meta", ("sequenceId", "7662"))],
        msg: #"%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success [user: domain\user] [Source: 10.17.8.3] [localport: 22] at 01:54:13 NewYork Wed Nov 23 2022"#,
        problems: []),
    // `logging message-counter syslog` plus `service sequence-numbers`: two counters, the first is kept.
    ParserRow(
        "cisco_ios_message_counter_and_sequence_number",
        #"<190>421370: 421366: Nov 23 22:23:27: %SEC-6-IPACCESSLOGP: list ACL-SSH permitted tcp 172.2.3.4(51234) -> 10.0.0.1(22), 1 packet"#,
        at: "2022-11-23T22:23:30Z",
        .rfc3164, .local7, .info, ts: "2022-11-23T22:23:27Z",
        host: nil, app: "SEC", proc: nil, msgid: "IPACCESSLOGP",
        sd: [element("meta", ("sequenceId", "421370"))],
        msg: "%SEC-6-IPACCESSLOGP: list ACL-SSH permitted tcp 172.2.3.4(51234) -> 10.0.0.1(22), 1 packet", problems: []),
    ParserRow(
        "cisco_ios_two_counters_marker",
        #"<189>35: 000035: *Mar  1 00:05:11.123: %SYS-5-CONFIG_I: Configured from console by console"#,
        at: "2024-03-01T00:05:12Z",
        .rfc3164, .local7, .notice, ts: "2024-03-01T00:05:11.123Z",
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "35")), element("timeQuality", ("isSynced", "0"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by console", problems: []),
    ParserRow(
        "cisco_ios_two_counters_origin_id",
        #"<189>64: router1: 000064: *Oct 11 22:14:15.123 UTC: %SYS-5-CONFIG_I: Configured from console by console"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T22:14:15.123Z",
        host: "router1", app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "64")), element("timeQuality", ("isSynced", "0"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by console", problems: []),
    // `service timestamps log uptime`: no wall-clock time; the uptime stays in the message.
    ParserRow(
        "cisco_ios_uptime_short",
        #"<187>17: 00:12:35: %LINK-3-UPDOWN: Interface FastEthernet0/1, changed state to up"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .err, ts: nil,
        host: nil, app: "LINK", proc: nil, msgid: "UPDOWN",
        sd: [element("meta", ("sequenceId", "17"))],
        msg: "00:12:35: %LINK-3-UPDOWN: Interface FastEthernet0/1, changed state to up", problems: []),
    ParserRow(
        "cisco_ios_uptime_weeks_days",
        #"<189>18: 1w2d: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.5)"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: nil,
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "18"))],
        msg: "1w2d: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.5)", problems: []),
    ParserRow(
        "cisco_ios_no_timestamp",
        #"<189>19: %SYS-5-CONFIG_I: Configured from console by console"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: nil,
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "19"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by console", problems: []),
    // A zone abbreviation names one offset: EST is -05:00 and CET +01:00 even in October (no summer time set).
    ParserRow(
        "cisco_ios_zone_est_without_summer_time",
        #"<189>60: Oct 11 2023 17:14:15.123 EST: %SYS-5-CONFIG_I: Configured from console by console"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T22:14:15.123Z",
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "60"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by console", problems: []),
    ParserRow(
        "cisco_ios_zone_cet_without_summer_time",
        #"<189>61: Oct 11 2023 23:14:15.123 CET: %SYS-5-CONFIG_I: Configured from console by console"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T22:14:15.123Z",
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "61"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by console", problems: []),
    ParserRow(
        "cisco_ios_zone_cest_summer_time",
        #"<189>62: Oct 12 2023 00:14:15.123 CEST: %SYS-5-CONFIG_I: Configured from console by console"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T22:14:15.123Z",
        host: nil, app: "SYS", proc: nil, msgid: "CONFIG_I",
        sd: [element("meta", ("sequenceId", "62"))],
        msg: "%SYS-5-CONFIG_I: Configured from console by console", problems: []),
    // Cisco ASA: `logging timestamp` (with year, then ':'), with and without `logging device-id`.
    ParserRow(
        "cisco_asa_timestamp_no_device_id",
        #"<166>Oct 11 2023 22:14:15: %ASA-6-302013: Built inbound TCP connection 1234 for outside:203.0.113.5/51234 (203.0.113.5/51234) to inside:10.0.0.5/443 (198.51.100.7/443)"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local4, .info, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "ASA", proc: nil, msgid: "302013", sd: nil,
        msg: "%ASA-6-302013: Built inbound TCP connection 1234 for outside:203.0.113.5/51234 (203.0.113.5/51234) to inside:10.0.0.5/443 (198.51.100.7/443)",
        problems: []),
    ParserRow(
        "cisco_asa_timestamp_device_id",
        #"<166>Oct 11 2023 22:14:15 fw01 : %ASA-6-302014: Teardown TCP connection 1234 for outside:203.0.113.5/51234 to inside:10.0.0.5/443 duration 0:00:30 bytes 5412 TCP FINs"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local4, .info, ts: "2023-10-11T22:14:15Z",
        host: "fw01", app: "ASA", proc: nil, msgid: "302014", sd: nil,
        msg: "%ASA-6-302014: Teardown TCP connection 1234 for outside:203.0.113.5/51234 to inside:10.0.0.5/443 duration 0:00:30 bytes 5412 TCP FINs",
        problems: []),
    ParserRow(
        "cisco_asa_no_timestamp",
        #"<164>%ASA-4-106023: Deny tcp src outside:203.0.113.5/4444 dst inside:10.0.0.5/22 by access-group "outside_in" [0x0, 0x0]"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local4, .warning, ts: nil,
        host: nil, app: "ASA", proc: nil, msgid: "106023", sd: nil,
        msg: #"%ASA-4-106023: Deny tcp src outside:203.0.113.5/4444 dst inside:10.0.0.5/22 by access-group "outside_in" [0x0, 0x0]"#,
        problems: []),
    ParserRow(
        "cisco_asa_timestamp_rfc5424_device_id",
        #"<166>2023-10-11T22:14:15Z fw01 : %ASA-6-113004: AAA user authentication Successful : server = 10.0.0.9 : user = admin"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local4, .info, ts: "2023-10-11T22:14:15Z",
        host: "fw01", app: "ASA", proc: nil, msgid: "113004", sd: nil,
        msg: "%ASA-6-113004: AAA user authentication Successful : server = 10.0.0.9 : user = admin", problems: []),
    // NX-OS: ": " instead of a counter, the year first.
    ParserRow(
        "cisco_nxos_year_first_utc",
        #"<189>: 2023 Oct 11 22:14:15 UTC: %ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "ETHPORT", proc: nil, msgid: "IF_DOWN_LINK_FAILURE", sd: nil,
        msg: "%ETHPORT-5-IF_DOWN_LINK_FAILURE: Interface Ethernet1/1 is down (Link failure)", problems: []),
    ParserRow(
        "cisco_nxos_msec",
        #"<187>: 2023 Oct 11 22:14:15.123 UTC: %AUTHPRIV-3-SYSTEM_MSG: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.5 - sshd[28224]"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local7, .err, ts: "2023-10-11T22:14:15.123Z",
        host: nil, app: "AUTHPRIV", proc: nil, msgid: "SYSTEM_MSG", sd: nil,
        msg: "%AUTHPRIV-3-SYSTEM_MSG: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.0.0.5 - sshd[28224]",
        problems: []),
    // Junos in its default BSD format: the event tag stays in the message.
    ParserRow(
        "juniper_junos_bsd_mib2d",
        #"<28>Oct 11 22:14:15 mx480-re0 mib2d[1853]: SNMP_TRAP_LINK_DOWN: ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/0"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .warning, ts: "2023-10-11T22:14:15Z",
        host: "mx480-re0", app: "mib2d", proc: "1853", msgid: nil, sd: nil,
        msg: "SNMP_TRAP_LINK_DOWN: ifIndex 526, ifAdminStatus up(1), ifOperStatus down(2), ifName ge-0/0/0", problems: []),
    ParserRow(
        "juniper_junos_bsd_mgd_login",
        #"<29>Oct 11 22:14:15 mx480-re0 mgd[4567]: UI_LOGIN_EVENT: User 'admin' login, class 'j-super-user' [4567], ssh-connection '10.0.0.5 51234 10.0.0.1 22', client-mode 'cli'"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .notice, ts: "2023-10-11T22:14:15Z",
        host: "mx480-re0", app: "mgd", proc: "4567", msgid: nil, sd: nil,
        msg: "UI_LOGIN_EVENT: User 'admin' login, class 'j-super-user' [4567], ssh-connection '10.0.0.5 51234 10.0.0.1 22', client-mode 'cli'",
        problems: []),
    // FortiGate: no syslog header, key=value; time from date= time= (and tz= on FortiOS 6.2+), host from devname=.
    ParserRow(
        "fortigate_kv_with_tz",
        #"<189>date=2023-10-11 time=22:14:15 devname="FGT60E-HQ" devid="FGT60ETK18000000" eventtime=1697055255123456789 tz="+0200" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.5 srcport=51234 srcintf="internal" dstip=198.51.100.7 dstport=443 action="close""#,
        at: "2023-10-11T20:14:20Z",
        .rfc3164, .local7, .notice, ts: "2023-10-11T20:14:15Z",
        host: "FGT60E-HQ", app: nil, proc: nil, msgid: nil, sd: nil,
        msg: #"date=2023-10-11 time=22:14:15 devname="FGT60E-HQ" devid="FGT60ETK18000000" eventtime=1697055255123456789 tz="+0200" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.5 srcport=51234 srcintf="internal" dstip=198.51.100.7 dstport=443 action="close""#,
        problems: []),
    ParserRow(
        "fortigate_kv_without_tz_source_zone",
        #"<189>date=2023-10-11 time=22:14:15 devname=FGT60E devid=FGT60ETK18000000 logid=0100032001 type=event subtype=system level=information vd="root" logdesc="Admin login successful" user="admin" ui=https(10.0.0.5) action=login status=success msg="Administrator admin logged in successfully from https(10.0.0.5)""#,
        at: "2023-10-11T20:14:20Z", tz: "Europe/Berlin",
        .rfc3164, .local7, .notice, ts: "2023-10-11T20:14:15Z",
        host: "FGT60E", app: nil, proc: nil, msgid: nil, sd: nil,
        msg: #"date=2023-10-11 time=22:14:15 devname=FGT60E devid=FGT60ETK18000000 logid=0100032001 type=event subtype=system level=information vd="root" logdesc="Admin login successful" user="admin" ui=https(10.0.0.5) action=login status=success msg="Administrator admin logged in successfully from https(10.0.0.5)""#,
        problems: []),
    // Palo Alto PAN-OS BSD format: the CSV is the message, with and without the host name.
    ParserRow(
        "paloalto_csv_traffic_with_hostname",
        #"<14>Oct 11 22:14:15 PA-VM 1,2023/10/11 22:14:15,007200001056,TRAFFIC,end,2560,2023/10/11 22:14:15,10.0.0.5,198.51.100.7,203.0.113.5,198.51.100.7,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,Forward-Syslog,2023/10/11 22:14:15,12345,1,51234,443,31234,443,0x400053,tcp,allow,5412"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "PA-VM", app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "1,2023/10/11 22:14:15,007200001056,TRAFFIC,end,2560,2023/10/11 22:14:15,10.0.0.5,198.51.100.7,203.0.113.5,198.51.100.7,allow-web,,,ssl,vsys1,trust,untrust,ethernet1/2,ethernet1/1,Forward-Syslog,2023/10/11 22:14:15,12345,1,51234,443,31234,443,0x400053,tcp,allow,5412",
        problems: []),
    ParserRow(
        "paloalto_csv_threat_without_hostname",
        #"<12>Oct 11 22:14:15 1,2023/10/11 22:14:15,007200001056,THREAT,url,2560,2023/10/11 22:14:15,10.0.0.5,198.51.100.7,203.0.113.5,198.51.100.7,allow-web,,,web-browsing,vsys1,trust,untrust"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .warning, ts: "2023-10-11T22:14:15Z",
        host: nil, app: nil, proc: nil, msgid: nil, sd: nil,
        msg: "1,2023/10/11 22:14:15,007200001056,THREAT,url,2560,2023/10/11 22:14:15,10.0.0.5,198.51.100.7,203.0.113.5,198.51.100.7,allow-web,,,web-browsing,vsys1,trust,untrust",
        problems: []),
    // MikroTik RouterOS: topics as the tag, with and without `bsd-syslog=yes`.
    ParserRow(
        "mikrotik_no_bsd_header",
        #"<30>system,info,account user admin logged in from 10.0.0.5 via winbox"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .info, ts: nil,
        host: nil, app: "system,info,account", proc: nil, msgid: nil, sd: nil,
        msg: "user admin logged in from 10.0.0.5 via winbox", problems: []),
    ParserRow(
        "mikrotik_bsd_header",
        #"<30>Oct 11 22:14:15 MikroTik system,info,account user admin logged in from 10.0.0.5 via winbox"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .info, ts: "2023-10-11T22:14:15Z",
        host: "MikroTik", app: "system,info,account", proc: nil, msgid: nil, sd: nil,
        msg: "user admin logged in from 10.0.0.5 via winbox", problems: []),
    ParserRow(
        "mikrotik_firewall_no_bsd_header",
        #"<134>firewall,info input: in:ether1 out:(unknown 0), src-mac 00:21:29:6d:82:07, proto UDP, 10.1.101.1:520->10.1.101.255:520, len 452"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local0, .info, ts: nil,
        host: nil, app: "firewall,info", proc: nil, msgid: nil, sd: nil,
        msg: "input: in:ether1 out:(unknown 0), src-mac 00:21:29:6d:82:07, proto UDP, 10.1.101.1:520->10.1.101.255:520, len 452",
        problems: []),
    // pfSense remote logging in BSD format: no host name.
    ParserRow(
        "pfsense_filterlog_bsd",
        #"<134>Oct 11 22:14:15 filterlog[12345]: 5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,203.0.113.5,198.51.100.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local0, .info, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "filterlog", proc: "12345", msgid: nil, sd: nil,
        msg: "5,,,1000000103,igb1,match,block,in,4,0x0,,64,0,0,DF,6,tcp,60,203.0.113.5,198.51.100.10,51234,22,0,S,1234567890,,64240,,mss;sackOK;TS;nop;wscale",
        problems: []),
    // VMware ESXi 6.x: BSD header with an RFC 3339 time and no version.
    ParserRow(
        "vmware_esxi6_bsd_iso_rhttpproxy",
        #"<167>2020-11-23T19:01:51.316Z esxi-dev-0 Rhttpproxy: verbose rhttpproxy[2475368] [Originator@6876 sub=Proxy Req 81133] Resolved endpoint : [N7Vmacore4Http16LocalServiceSpecE:0x000000126c573950] _serverNamespace = /vpxa action = Allow _port = 8089"#,
        at: "2020-11-23T19:01:52Z",
        .rfc3164, .local4, .debug, ts: "2020-11-23T19:01:51.316Z",
        host: "esxi-dev-0", app: "Rhttpproxy", proc: nil, msgid: nil, sd: nil,
        msg: "verbose rhttpproxy[2475368] [Originator@6876 sub=Proxy Req 81133] Resolved endpoint : [N7Vmacore4Http16LocalServiceSpecE:0x000000126c573950] _serverNamespace = /vpxa action = Allow _port = 8089",
        problems: []),
    ParserRow(
        "vmware_esxi6_vmkernel",
        #"<166>2023-10-11T22:14:15.123Z esx01.lab.local vmkernel: cpu2:2097657)ScsiDeviceIO: 4325: Cmd(0x45b8c1b2c3c0) 0x1a, CmdSN 0x2d4 from world 0 to dev "mpx.vmhba0:C0:T0:L0" failed H:0x0 D:0x2 P:0x0"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .local4, .info, ts: "2023-10-11T22:14:15.123Z",
        host: "esx01.lab.local", app: "vmkernel", proc: nil, msgid: nil, sd: nil,
        msg: #"cpu2:2097657)ScsiDeviceIO: 4325: Cmd(0x45b8c1b2c3c0) 0x1a, CmdSN 0x2d4 from world 0 to dev "mpx.vmhba0:C0:T0:L0" failed H:0x0 D:0x2 P:0x0"#,
        problems: []),
    // Windows: NXLog to_syslog_bsd() and Snare's tab-separated records.
    ParserRow(
        "windows_nxlog_to_syslog_bsd",
        #"<14>Oct 11 22:14:15 WIN-SRV01 Microsoft-Windows-Security-Auditing[700]: An account was successfully logged on."#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "WIN-SRV01", app: "Microsoft-Windows-Security-Auditing", proc: "700", msgid: nil, sd: nil,
        msg: "An account was successfully logged on.", problems: []),
    ParserRow(
        "windows_snare_tab_separated",
        "<14>Oct 11 22:14:15 WIN-SRV01 MSWinEventLog\t1\tSecurity\t2301\tWed Oct 11 22:14:15 2023\t4624\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tWIN-SRV01.corp.example.com\tLogon\t\tAn account was successfully logged on.\t2285",
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .user, .info, ts: "2023-10-11T22:14:15Z",
        host: "WIN-SRV01", app: "MSWinEventLog", proc: nil, msgid: nil, sd: nil,
        msg: "1\tSecurity\t2301\tWed Oct 11 22:14:15 2023\t4624\tMicrosoft-Windows-Security-Auditing\tN/A\tN/A\tSuccess Audit\tWIN-SRV01.corp.example.com\tLogon\t\tAn account was successfully logged on.\t2285",
        problems: []),
    // Docker's syslog driver: the default (Unix) format has no host name; rfc3164 has one.
    ParserRow(
        "docker_syslog_default_no_hostname",
        #"<30>Oct 11 22:14:15 7d6e2c7a4bc0[1234]: GET /healthz HTTP/1.1 200"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .info, ts: "2023-10-11T22:14:15Z",
        host: nil, app: "7d6e2c7a4bc0", proc: "1234", msgid: nil, sd: nil,
        msg: "GET /healthz HTTP/1.1 200", problems: []),
    ParserRow(
        "docker_syslog_rfc3164",
        #"<30>Oct 11 22:14:15 dockerhost 7d6e2c7a4bc0[1234]: GET /healthz HTTP/1.1 200"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .info, ts: "2023-10-11T22:14:15Z",
        host: "dockerhost", app: "7d6e2c7a4bc0", proc: "1234", msgid: nil, sd: nil,
        msg: "GET /healthz HTTP/1.1 200", problems: []),
    // journald entries forwarded by rsyslog's imjournal with the traditional template.
    ParserRow(
        "journald_forwarded_by_rsyslog_imjournal",
        #"<30>Oct 11 22:14:15 web-1 systemd[1]: Starting Daily apt upgrade and clean activities..."#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .daemon, .info, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "systemd", proc: "1", msgid: nil, sd: nil,
        msg: "Starting Daily apt upgrade and clean activities...", problems: []),
    // rsyslogd's own start message: the [origin ...] text is not RFC 5424 SD here, just message.
    ParserRow(
        "rsyslogd_start_origin_text",
        #"<46>Oct 11 22:14:15 web-1 rsyslogd: [origin software="rsyslogd" swVersion="8.2302.0" x-pid="812" x-info="https://www.rsyslog.com"] start"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .syslog, .info, ts: "2023-10-11T22:14:15Z",
        host: "web-1", app: "rsyslogd", proc: nil, msgid: nil, sd: nil,
        msg: #"[origin software="rsyslogd" swVersion="8.2302.0" x-pid="812" x-info="https://www.rsyslog.com"] start"#,
        problems: []),
    // macOS launchd via ASL/syslogd forwarding: "tag[pid]" without a colon.
    ParserRow(
        "macos_launchd_asl",
        #"<5>Oct 11 22:14:15 MacBook-Pro com.apple.xpc.launchd[1] (com.apple.mdworker.shared.0C000000-0000-0000-0000-000000000000[12345]): Service exited due to SIGKILL"#,
        at: "2023-10-11T22:14:20Z",
        .rfc3164, .kern, .notice, ts: "2023-10-11T22:14:15Z",
        host: "MacBook-Pro", app: "com.apple.xpc.launchd", proc: "1", msgid: nil, sd: nil,
        msg: "(com.apple.mdworker.shared.0C000000-0000-0000-0000-000000000000[12345]): Service exited due to SIGKILL",
        problems: []),
]
