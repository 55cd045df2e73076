/// RFC 5424: `VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`.
extension ParseState {
    mutating func parseRFC5424() {
        // VERSION (looksLikeRFC5424Version checked its shape)
        let versionStart = i
        var version = 0
        while ASCII.isDigit(p[i]) {
            version = version * 10 + Int(p[i] &- 48)
            i += 1
        }
        if version != 1 { problem(.version, at: versionStart, "unsupported version \(version); read as version 1") }
        i += 1

        // TIMESTAMP
        guard let ts = nextHeaderToken(.timestamp) else { return finishTruncated() }
        if !(ts.count == 1 && p[ts.lowerBound] == ASCII.dash) {
            var lenient: [String] = []
            switch SyslogParser.parseRFC3339(p, start: ts.lowerBound, end: ts.upperBound, requireOffset: false, lenient: &lenient) {
            case .ok(let t, _):
                wireTime = t
                if t.utcOffset == nil {
                    problem(.timestamp, at: ts.upperBound, "no 'Z' or ±hh:mm offset; read in the source's time zone")
                }
            case .bad(let column, let reason): problem(.timestamp, at: column, reason)
            }
            for reason in lenient { problem(.timestamp, at: ts.lowerBound, reason) }
        }

        guard let host = nextHeaderToken(.hostname) else { return finishTruncated() }
        hostname = headerField(host, .hostname, maxLength: 255)
        guard let appName = nextHeaderToken(.app) else { return finishTruncated() }
        app = headerField(appName, .app, maxLength: 48)
        guard let proc = nextHeaderToken(.procid) else { return finishTruncated() }
        procID = headerField(proc, .procid, maxLength: 128)
        guard let mid = nextHeaderToken(.msgid) else { return finishTruncated() }
        msgID = headerField(mid, .msgid, maxLength: 32)

        // STRUCTURED-DATA
        if i >= end {
            problem(.structuredData, at: i, "message ends before STRUCTURED-DATA")
            return finishTruncated()
        }
        if p[i] == ASCII.dash {
            i += 1
        } else if p[i] == ASCII.lbracket {
            guard parseStructuredData() else { return }
        } else {
            problem(.structuredData, at: i, "expected '[' or '-' for STRUCTURED-DATA")
            setMessage(from: i)
            return
        }

        // MSG
        if i >= end {
            message = ByteSpan(end, end)
        } else if p[i] == ASCII.space {
            setMessage(from: i + 1)
        } else {
            problem(.structuredData, at: i, "expected SP after STRUCTURED-DATA")
            setMessage(from: i)
        }
    }

    /// The next SP-terminated header token; extra spaces before it are a problem but are skipped.
    mutating func nextHeaderToken(_ field: ParseProblem.Field) -> Range<Int>? {
        if i < end, p[i] == ASCII.space {
            problem(field, at: i, "more than one SP before the field")
            while i < end, p[i] == ASCII.space { i += 1 }
        }
        guard i < end else {
            problem(field, at: i, "message ends before the field")
            return nil
        }
        let start = i
        let stop = indexOf(ASCII.space, p, from: i, end: end)
        i = stop < end ? stop + 1 : end
        return start..<stop
    }

    /// A header field: `-` is NILVALUE; otherwise PRINTUSASCII up to `maxLength`, kept even when it breaks that.
    mutating func headerField(_ r: Range<Int>, _ field: ParseProblem.Field, maxLength: Int) -> ByteSpan {
        if r.count == 1, p[r.lowerBound] == ASCII.dash { return .absent }
        if r.count > maxLength { problem(field, at: r.lowerBound + maxLength, "longer than \(maxLength) characters") }
        for k in r where !ASCII.isPrintUSASCII(p[k]) {
            problem(field, at: k, "character outside printable US-ASCII")
            break
        }
        return ByteSpan(r.lowerBound, r.upperBound)
    }

    /// A header cut short: there is no message.
    mutating func finishTruncated() {
        message = ByteSpan(end, end)
    }

    /// One or more SD-ELEMENTs at `i`. On a malformed element, keeps the complete ones, records the problem
    /// and makes the rest (from the broken element on) the message. Returns false when it set the message.
    mutating func parseStructuredData() -> Bool {
        var entries: [SDEntry] = []
        entries.reserveCapacity(8)
        var sawUnescapedBracket = false
        while i < end, p[i] == ASCII.lbracket {
            let elementStart = i
            let elementEntryCount = entries.count
            i += 1
            let idStart = i
            while i < end, ASCII.isSDNameChar(p[i]) { i += 1 }
            if i == idStart {
                return brokenSD(&entries, elementStart, elementEntryCount, at: i, "expected SD-ID")
            }
            if i - idStart > 32 { problem(.structuredData, at: idStart + 32, "SD-ID longer than 32 characters") }
            let idSpan = ByteSpan(idStart, i)
            if hasElement(entries, named: idSpan) {
                problem(.structuredData, at: idStart, "SD-ID appears more than once")
            }
            entries.append(.element(idSpan))
            while i < end, p[i] == ASCII.space {
                i += 1
                let nameStart = i
                while i < end, ASCII.isSDNameChar(p[i]) { i += 1 }
                if i == nameStart {
                    return brokenSD(&entries, elementStart, elementEntryCount, at: i, "expected PARAM-NAME")
                }
                if i - nameStart > 32 { problem(.structuredData, at: nameStart + 32, "PARAM-NAME longer than 32 characters") }
                let nameEnd = i
                guard i + 1 < end, p[i] == ASCII.equals, p[i + 1] == ASCII.quote else {
                    return brokenSD(&entries, elementStart, elementEntryCount, at: i, "expected '=\"' after PARAM-NAME")
                }
                i += 2
                let valueStart = i
                var escaped = false
                while i < end, p[i] != ASCII.quote {
                    let c = p[i]
                    if c == ASCII.backslash, i + 1 < end {
                        let n = p[i + 1]
                        if n == ASCII.quote || n == ASCII.backslash || n == ASCII.rbracket {
                            escaped = true
                            i += 2
                            continue
                        }
                    } else if c == ASCII.rbracket, !sawUnescapedBracket {
                        sawUnescapedBracket = true
                        problem(.structuredData, at: i, "unescaped ']' in PARAM-VALUE")
                    }
                    i += 1
                }
                if i >= end {
                    return brokenSD(&entries, elementStart, elementEntryCount, at: i, "PARAM-VALUE not closed by '\"'")
                }
                entries.append(.param(ByteSpan(nameStart, nameEnd), ByteSpan(valueStart, i), escaped: escaped))
                i += 1
            }
            guard i < end, p[i] == ASCII.rbracket else {
                return brokenSD(&entries, elementStart, elementEntryCount, at: i, "expected ']' or SP and a parameter")
            }
            i += 1
        }
        sd = entries
        return true
    }

    private func hasElement(_ entries: [SDEntry], named span: ByteSpan) -> Bool {
        for e in entries where e.isElement && e.name.count == span.count {
            if p[e.name.range].elementsEqual(p[span.range]) { return true }
        }
        return false
    }

    private mutating func brokenSD(
        _ entries: inout [SDEntry], _ elementStart: Int, _ keep: Int, at index: Int, _ reason: String
    ) -> Bool {
        problem(.structuredData, at: index, reason + "; the rest is kept as the message")
        entries.removeSubrange(keep...)
        sd = entries.isEmpty ? nil : entries
        setMessage(from: elementStart)
        return false
    }
}
