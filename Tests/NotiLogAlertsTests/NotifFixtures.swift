import NotiLogAlerts
import NotiLogCore

/// Notices and hostile log text for the notifier tests.
enum NotifFixtures {
    /// 2026-01-01T00:00:00Z: when the fixture alerts start firing.
    static let started = SyslogTimestamp(seconds: 1_767_225_600)
    /// 90 s later: the clock the notifiers are given.
    static let now = SyslogTimestamp(seconds: 1_767_225_690)
    static let clock: @Sendable () -> SyslogTimestamp = { NotifFixtures.now }

    static func sample(_ message: String, host: String? = "web-1", app: String? = "sshd", offset: Int64 = 5) -> AlertNotice.Sample {
        AlertNotice.Sample(
            id: 1000 + offset, receivedAt: SyslogTimestamp(seconds: started.seconds + offset), hostname: host, app: app,
            severity: .warning, message: message)
    }

    static func notice(
        _ state: AlertNotice.State = .firing, alertID: Int64 = 42, rule: String = "ssh-brute-force",
        group: [AlertNotice.GroupValue] = [.init(field: "source_ip", value: "10.0.0.5")],
        samples: [AlertNotice.Sample] = [sample("Failed password for root from 10.0.0.5 port 52144 ssh2")],
        summary: String = "12 matches in 60 s", severity: String? = "warning", searchURL: String? = "https://notilog.example.org/search?q=app%3Asshd&from=1",
        reminderNumber: Int = 0
    ) -> AlertNotice {
        AlertNotice(
            alertID: alertID, rule: rule, ruleDescription: "Many failed SSH logins from one address", severity: severity, state: state,
            group: group, count: 12, firstSeen: SyslogTimestamp(seconds: started.seconds - 60),
            lastSeen: SyslogTimestamp(seconds: started.seconds + 5), startedAt: started,
            resolvedAt: state == .resolved ? SyslogTimestamp(seconds: started.seconds + 3723) : nil, samples: samples,
            suppressed: nil, reminderNumber: reminderNumber, searchURL: searchURL, summary: summary)
    }

    /// A 10 KB line of printable text that ends in a recognisable way.
    static let tenKilobyteLine: String = {
        var s = ""
        var n = 0
        while s.utf8.count < 10_240 {
            s += "segment-\(n) lorem=ipsum;dolor=sit amet. "
            n += 1
        }
        return s + "END-OF-10KB"
    }()

    /// Log text that breaks naive renderers: HTML, entities, markdown, header injection, controls, emoji.
    static let hostile: [(name: String, text: String)] = [
        ("html", "<script>alert(\"x\")</script><b>bold</b> <a href=\"http://evil\">click</a>"),
        ("entities", "&amp; &lt;tag&gt; & &#60; &nbsp; AT&T"),
        ("markdown", "*bold* _italic_ `code` [link](http://evil.example) ~strike~ ||spoiler||"),
        ("crlf", "x\r\nBcc: evil@x\r\n\r\nbody? <i>"),
        ("emoji", "disk 😀 full 👨‍👩‍👧‍👦 on 🇩🇪 web-1 — naïve café"),
        ("controls", "nul\u{0}bell\u{7}esc\u{1B}[31mred\u{1B}[0m del\u{7F} tab\there"),
    ]
}
