import NotiLogCore
import Testing

@testable import NotiLogAlerts

@Suite struct NotifTemplateTests {
    @Test func placeholdersWithSpacesAreFilledIn() throws {
        let t = try NoticeTemplate("{{ rule }} is {{state}} with {{count}} ({{group}}) {{severity}}")
        #expect(t.renderPlain(NotifFixtures.notice(), now: NotifFixtures.now) == "ssh-brute-force is FIRING with 12 (source_ip=10.0.0.5) warning")
        #expect(t.placeholders == [.rule, .state, .count, .group, .severity])
    }

    @Test(arguments: [
        ("{{hostname}}", "unknown placeholder {{hostname}} at character 1"),
        ("Alert: {{rule}} {{ Rule }}", "unknown placeholder {{Rule}} at character 17"),
        ("{{rule}} {{count", "\"{{\" at character 10 is not closed"),
        ("{{}}", "unknown placeholder {{}}"),
    ] as [(String, String)])
    func badTemplatesAreRefusedSayingWhere(source: String, message: String) {
        #expect {
            _ = try NoticeTemplate(source)
        } throws: { error in
            (error as? NoticeTemplateError)?.message.contains(message) == true
        }
    }

    @Test func aLineWhosePlaceholdersAreAllEmptyIsLeftOut() throws {
        let t = try NoticeTemplate("Alert {{rule}}\nSeverity: {{severity}}\nSearch: {{search_url}} ({{severity}})\n\n\nSummary: {{summary}}\nLiteral line\n\n")
        let notice = NotifFixtures.notice(severity: nil, searchURL: nil)
        #expect(t.renderPlain(notice, now: NotifFixtures.now) == "Alert ssh-brute-force\n\nSummary: 12 matches in 60 s\nLiteral line")
    }

    @Test func logTextIsFoldedOrKeptAsLinesAndControlsAreShown() throws {
        let notice = NotifFixtures.notice(
            group: [.init(field: "user", value: "root\r\nBcc: evil@x"), .init(field: "tty", value: nil)],
            samples: [NotifFixtures.sample("first\r\nsecond\rthird\nfourth\u{1B}[0m\u{0}\u{7F}\tend")], summary: "a\n\n b\tc")
        let t = try NoticeTemplate("{{group}}|{{summary}}|{{samples}}")
        #expect(
            t.renderPlain(notice, now: NotifFixtures.now)
                == "user=root Bcc: evil@x, tty=(none)|a b c|2026-01-01T00:00:05Z web-1 sshd: first\nsecond\nthird\nfourth␛[0m␀␡\tend")
    }

    @Test(arguments: [
        (Int64(0), "0s"), (45, "45s"), (60, "1m"), (90, "1m 30s"), (3600, "1h"), (3723, "1h 2m"), (86_400 + 7200, "1d 2h"),
        (86_400 * 3 + 59, "3d"),
    ] as [(Int64, String)])
    func durationsReadShort(seconds: Int64, text: String) {
        #expect(NoticeText.duration(seconds: seconds) == text)
    }

    @Test(arguments: [AlertNotice.State.firing, .reminder, .resolved, .test])
    func defaultMessagesSayWhatIsKnown(state: AlertNotice.State) {
        let notice = NotifFixtures.notice(state, reminderNumber: 2)
        let text = NoticeTemplate.defaultMessage(for: state, telegram: false).renderPlain(notice, now: NotifFixtures.now)
        let title = text.split(separator: "\n").first.map(String.init) ?? ""
        switch state {
        case .firing:
            #expect(title == "[FIRING] ssh-brute-force")
            #expect(text.contains("Failed password for root"))
        case .reminder:
            #expect(title == "[STILL FIRING] ssh-brute-force (for 1m 30s)")
        case .resolved:
            #expect(title == "[RESOLVED] ssh-brute-force after 1h 2m")
            #expect(!text.contains("Failed password"))
        case .test:
            #expect(title == "[TEST] NotiLog channel test")
        }
        if state != .test {
            for expected in ["12 matches in 60 s", "Group: source_ip=10.0.0.5", "Matches: 12", "First seen: 2025-12-31T23:59:00Z",
                "Search: https://notilog.example.org/search?q=app%3Asshd&from=1", "Severity: warning"] {
                #expect(text.contains(expected), "\(expected) in \(text)")
            }
        }
        #expect(!text.contains("\n\n\n"))
        #expect(text == text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func suppressedNoticesAreSummarised() throws {
        var notice = NotifFixtures.notice()
        notice.suppressed = .init(count: 47, topHosts: ["web-1", "web-2\nx"])
        #expect(try NoticeTemplate("{{suppressed}}").renderPlain(notice, now: NotifFixtures.now) == "47 more (top hosts: web-1, web-2 x)")
    }
}
