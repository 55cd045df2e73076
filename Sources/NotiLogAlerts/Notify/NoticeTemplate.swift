import NotiLogCore

/// A message template: plain text with `{{placeholder}}`s, for a subject, a mail body, a Telegram message or a
/// webhook's `text`.
///
/// The language is deliberately tiny: no conditionals, loops, filters or raw output. Placeholders are
/// `{{rule}}`, `{{state}}` (`FIRING`, `REMINDER`, `RESOLVED`, `TEST`), `{{group}}` (`host=web-1, user=root`),
/// `{{count}}`, `{{first_seen}}`, `{{last_seen}}` (RFC 3339, UTC), `{{samples}}` (one line per sample:
/// `TIME HOST APP: MESSAGE`), `{{summary}}`, `{{search_url}}`, `{{duration}}` (how long the alert fired, or has
/// fired so far: `1h 5m`), `{{severity}}`, `{{description}}` and `{{suppressed}}` (what throttling held back:
/// `47 more (top hosts: web-1, web-2)`). Spaces inside the braces are allowed; any other name is an error when
/// the template is read, so a typo fails `notilog-server validate` instead of a notification.
///
/// One rule keeps templates free of conditionals: a line whose placeholders all come out empty (no severity, no
/// search URL) is left out, with the line break. Runs of blank lines become one, and leading and trailing blank
/// lines go.
///
/// A template author never escapes anything: each channel escapes the whole rendered text for its output — HTML
/// for Telegram, a folded, encoded header for a mail subject, JSON for a webhook — after the values are in.
/// Values from log records are made safe to show first: `{{samples}}` and `{{description}}` keep their line
/// breaks (CR LF and CR become LF) and show other control characters as Unicode control pictures (`␛`); every
/// other value is folded onto one line.
public struct NoticeTemplate: Sendable, Hashable, CustomStringConvertible {
    public enum Placeholder: String, CaseIterable, Sendable, Hashable {
        case rule, state, group, count
        case firstSeen = "first_seen"
        case lastSeen = "last_seen"
        case samples, summary
        case searchURL = "search_url"
        case duration, severity, description, suppressed
    }

    enum Part: Sendable, Hashable {
        case literal(String)
        case placeholder(Placeholder)
    }

    /// The template as written.
    public let source: String
    /// Lines (split at line breaks), each a sequence of literal text and placeholders.
    let lines: [[Part]]

    public init(_ source: String) throws(NoticeTemplateError) {
        self.source = source
        let text = source.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var lines: [[Part]] = [[]]
        var literal = ""
        func flushLiteral() {
            if !literal.isEmpty { lines[lines.count - 1].append(.literal(literal)) }
            literal = ""
        }
        var i = text.startIndex
        var offset = 0
        while i < text.endIndex {
            if text[i...].hasPrefix("{{") {
                let nameStart = text.index(i, offsetBy: 2)
                guard let close = text[nameStart...].range(of: "}}") else {
                    throw NoticeTemplateError("\"{{\" at character \(offset + 1) is not closed with \"}}\"")
                }
                let name = text[nameStart..<close.lowerBound].trimmingCharacters(in: .whitespaces)
                guard let placeholder = Placeholder(rawValue: name) else {
                    let shown = name.count > 40 ? String(name.prefix(40)) + "…" : name
                    throw NoticeTemplateError(
                        "unknown placeholder {{\(shown)}} at character \(offset + 1); known: "
                            + Placeholder.allCases.map { "{{\($0.rawValue)}}" }.joined(separator: ", "))
                }
                flushLiteral()
                lines[lines.count - 1].append(.placeholder(placeholder))
                offset += text[i..<close.upperBound].count
                i = close.upperBound
            } else {
                if text[i] == "\n" {
                    flushLiteral()
                    lines.append([])
                } else {
                    literal.append(text[i])
                }
                offset += 1
                i = text.index(after: i)
            }
        }
        flushLiteral()
        self.lines = lines
    }

    public var description: String { source }

    /// The placeholders used, in order of first use.
    public var placeholders: [Placeholder] {
        var seen: [Placeholder] = []
        for line in lines {
            for case .placeholder(let p) in line where !seen.contains(p) { seen.append(p) }
        }
        return seen
    }

    /// The text for `notice` as plain text (line breaks `\n`), for previews and channels that escape it whole.
    public func renderPlain(_ notice: AlertNotice, now: SyslogTimestamp) -> String {
        render(NoticeValues(notice, now: now)).plain
    }

    func render(_ values: NoticeValues) -> RenderedText {
        var out: [[RenderedText.Piece]] = []
        for line in lines {
            var pieces: [RenderedText.Piece] = []
            var placeholders = 0
            var empty = 0
            for part in line {
                switch part {
                case .literal(let s):
                    pieces.append(.literal(s))
                case .placeholder(.samples):
                    placeholders += 1
                    if values.samples.isEmpty { empty += 1 } else { pieces.append(.samples(values.samples)) }
                case .placeholder(let p):
                    placeholders += 1
                    let v = values.text(p)
                    if v.isEmpty { empty += 1 } else { pieces.append(.value(v)) }
                }
            }
            if placeholders > 0 && empty == placeholders { continue }
            // Blank lines: one at most in a row, none at the start.
            let blank = pieces.allSatisfy { if case .literal(let s) = $0 { s.allSatisfy(\.isWhitespace) } else { false } }
            if blank {
                if out.isEmpty || out.last!.isEmpty { continue }
                out.append([])
            } else {
                out.append(pieces)
            }
        }
        while let last = out.last, last.isEmpty { out.removeLast() }
        return RenderedText(lines: out)
    }
}

/// A template that cannot be read; `message` says where and why.
public struct NoticeTemplateError: Error, Hashable, CustomStringConvertible {
    public var message: String

    init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// A rendered template, kept in pieces so each output escapes literal text, values and samples its own way.
struct RenderedText: Sendable, Hashable {
    enum Piece: Sendable, Hashable {
        /// The template's own text.
        case literal(String)
        /// A placeholder's value (not empty).
        case value(String)
        /// The `{{samples}}` lines (not empty), each possibly with line breaks of its own.
        case samples([String])
    }

    var lines: [[Piece]]

    var plain: String {
        lines.map { line in
            line.map { piece in
                switch piece {
                case .literal(let s), .value(let s): s
                case .samples(let lines): lines.joined(separator: "\n")
                }
            }.joined()
        }.joined(separator: "\n")
    }
}

// MARK: - Values

/// The placeholder values of one notice, made safe to show (see `NoticeTemplate`).
struct NoticeValues: Sendable {
    let notice: AlertNotice
    let now: SyslogTimestamp
    let samples: [String]

    init(_ notice: AlertNotice, now: SyslogTimestamp) {
        self.notice = notice
        self.now = now
        samples = notice.samples.map(Self.sampleLine)
    }

    func text(_ p: NoticeTemplate.Placeholder) -> String {
        switch p {
        case .rule: return NoticeText.oneLine(notice.rule)
        case .state: return notice.state.rawValue.uppercased()
        case .group:
            return notice.group.map { NoticeText.oneLine("\($0.field)=\($0.value ?? "(none)")") }.joined(separator: ", ")
        case .count: return String(notice.count)
        case .firstSeen: return notice.firstSeen.map(NoticeText.time) ?? ""
        case .lastSeen: return notice.lastSeen.map(NoticeText.time) ?? ""
        case .samples: return samples.joined(separator: "\n")
        case .summary: return NoticeText.oneLine(notice.summary)
        case .searchURL: return NoticeText.oneLine(notice.searchURL ?? "")
        case .duration:
            guard notice.state != .test else { return "" }
            let end = notice.resolvedAt ?? now
            return NoticeText.duration(seconds: max(0, end.seconds - notice.startedAt.seconds))
        case .severity: return NoticeText.oneLine(notice.severity ?? "")
        case .description: return NoticeText.multiLine(notice.ruleDescription ?? "")
        case .suppressed:
            guard let s = notice.suppressed, s.count > 0 else { return "" }
            let hosts = s.topHosts.prefix(5).map(NoticeText.oneLine).joined(separator: ", ")
            return "\(s.count) more" + (hosts.isEmpty ? "" : " (top hosts: \(hosts))")
        }
    }

    /// `2026-12-05T13:41:00Z web-1 sshd: Failed password for root from 10.0.0.5`
    static func sampleLine(_ s: AlertNotice.Sample) -> String {
        var head = NoticeText.time(s.receivedAt)
        if let host = s.hostname, !host.isEmpty { head += " " + NoticeText.oneLine(host) }
        if let app = s.app, !app.isEmpty { head += " " + NoticeText.oneLine(app) }
        return head + ": " + NoticeText.multiLine(s.message)
    }
}

/// Making values from log records safe to show, and the formats shared by every channel.
enum NoticeText {
    /// Folded onto one line: line breaks, tabs and control characters become spaces, runs of white space one
    /// space, and the ends are trimmed.
    static func oneLine(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        var pendingSpace = false
        for c in s {
            if c.isWhitespace || c.isNewline || c.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(" ") }
            pendingSpace = false
            out.append(c)
        }
        return out
    }

    /// Line breaks kept (CR LF and CR become LF); other control characters but tab shown as control pictures.
    static func multiLine(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var afterCR = false
        for u in s.unicodeScalars {
            defer { afterCR = u == "\r" }
            switch u.value {
            case 0x0D: out.append("\n")
            case 0x0A: if !afterCR { out.append("\n") }
            case 0x09: out.append(u)
            case 0x00..<0x20: out.append(Unicode.Scalar(0x2400 + u.value)!)
            case 0x7F: out.append("\u{2421}")
            default: out.append(u)
            }
        }
        return String(out)
    }

    /// RFC 3339 in UTC to the second: `2026-12-05T13:41:00Z`.
    static func time(_ t: SyslogTimestamp) -> String {
        SyslogTimestamp(seconds: t.seconds, nanoseconds: 0, fractionDigits: 0).description
    }

    /// `45s`, `12m 5s`, `3h 2m`, `2d 4h`: the largest unit and the next one (left out when 0).
    static func duration(seconds: Int64) -> String {
        let units: [(size: Int64, name: String)] = [(86_400, "d"), (3600, "h"), (60, "m"), (1, "s")]
        let first = units.firstIndex { seconds >= $0.size } ?? units.count - 1
        var text = "\(seconds / units[first].size)\(units[first].name)"
        if first + 1 < units.count {
            let next = units[first + 1]
            let n = seconds % units[first].size / next.size
            if n > 0 { text += " \(n)\(next.name)" }
        }
        return text
    }
}

// MARK: - Defaults

extension NoticeTemplate {
    /// The message a channel sends when its config has no template of its own: a title line, then what is known.
    /// `title` is the first line per state; Telegram's has a symbol, the others a `[STATE]` tag.
    static func defaultMessage(for state: AlertNotice.State, telegram: Bool) -> NoticeTemplate {
        let title: String
        switch state {
        case .firing: title = telegram ? "🔥 FIRING: {{rule}}" : "[FIRING] {{rule}}"
        case .reminder: title = telegram ? "⏰ STILL FIRING: {{rule}} (for {{duration}})" : "[STILL FIRING] {{rule}} (for {{duration}})"
        case .resolved: title = telegram ? "✅ RESOLVED: {{rule}} after {{duration}}" : "[RESOLVED] {{rule}} after {{duration}}"
        case .test: title = telegram ? "🧪 TEST: NotiLog channel test" : "[TEST] NotiLog channel test"
        }
        // What every alert notice says; firing and reminders add the rule's description and sample lines.
        let facts = """
            {{summary}}
            Severity: {{severity}}
            Group: {{group}}
            Matches: {{count}}
            First seen: {{first_seen}}
            Last seen: {{last_seen}}
            Held back: {{suppressed}}
            Search: {{search_url}}
            """
        let details: String
        switch state {
        case .firing, .reminder:
            details = facts + "\n\n{{description}}\n\n{{samples}}"
        case .resolved:
            details = facts
        case .test:
            details = """
                {{summary}}
                Rule: {{rule}}
                Group: {{group}}
                Search: {{search_url}}

                {{samples}}
                """
        }
        // Built from fixed text that is known to parse.
        return try! NoticeTemplate(title + "\n" + details)
    }

    /// A mail's subject when the channel has no `subject_template`.
    static func defaultSubject(for state: AlertNotice.State) -> NoticeTemplate {
        switch state {
        case .firing: try! NoticeTemplate("[FIRING] {{rule}}: {{summary}}")
        case .reminder: try! NoticeTemplate("[STILL FIRING] {{rule}}: {{summary}}")
        case .resolved: try! NoticeTemplate("[RESOLVED] {{rule}} after {{duration}}")
        case .test: try! NoticeTemplate("[TEST] NotiLog channel test: {{summary}}")
        }
    }
}
