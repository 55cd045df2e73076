/// RFC 3164 as real senders write it, and the vendor shapes built on it:
///
///     [<PRI>][SEQ: [SEQ: ][ORIGIN: ]][*|.]TIMESTAMP[ ZONE][:] [HOSTNAME] [TAG[\[PID\]]:] MSG
///
/// TIMESTAMP is `[yyyy ]Mmm dd[ yyyy] hh:mm:ss[.frac]` or RFC 3339; SEQ may be empty (NX-OS writes `<189>: `).
/// Vendor metadata that has an IANA-registered SD-ID is kept as structured data: Cisco sequence numbers as
/// `meta sequenceId`, Cisco's `*`/`.` unsynced-clock markers as `timeQuality isSynced="0"`.
extension ParseState {
    mutating func parseRFC3164() {
        let hadPRI = i > 0
        var ciscoContext = false
        var haveTime = false
        var timeEndedWithColon = false

        if parseCiscoSequence() { ciscoContext = true }

        var marker = -1
        if i + 1 < end, p[i] == ASCII.star || p[i] == ASCII.dot, ASCII.isAlpha(p[i + 1]) {
            marker = i
            i += 1
            ciscoContext = true
        }

        if let (t, e) = SyslogParser.parseBSDTime(p, start: i, end: end, allowZone: ciscoContext) {
            wireTime = t
            i = e
            haveTime = true
            if marker >= 0 { addDerivedSD(id: "timeQuality", param: "isSynced", value: derived("0")) }
        } else if marker >= 0 {
            i = marker  // not a time after all: the marker is message text
        } else if i + 5 <= end, ASCII.isDigit(p[i]), ASCII.isDigit(p[i + 1]), ASCII.isDigit(p[i + 2]),
            ASCII.isDigit(p[i + 3]), p[i + 4] == ASCII.dash
        {
            let tokenEnd = indexOf(ASCII.space, p, from: i, end: end)
            var lenient: [String] = []
            switch SyslogParser.parseRFC3339(p, start: i, end: tokenEnd, requireOffset: false, lenient: &lenient) {
            case .ok(let t, _):
                wireTime = t
                i = tokenEnd
                haveTime = true
            case .bad(let column, let reason):
                problem(.timestamp, at: column, reason)
            }
        }

        if haveTime, i < end {
            if p[i] == ASCII.colon {
                i += 1
                timeEndedWithColon = true
            }
            if i < end, p[i] == ASCII.space { i += 1 }
        }

        if !hadPRI, !haveTime, !ciscoContext, !startsWith("date=", at: i) {
            // No header at all: the whole frame is the message.
            format = .unparsed
            setMessage(from: 0)
            return
        }
        format = .rfc3164

        if haveTime, !timeEndedWithColon { parseHostname() }

        // Cisco ASA with a device id writes "host : %ASA-...".
        if i + 1 < end, p[i] == ASCII.colon, p[i + 1] == ASCII.space { i += 2 }

        if parseCiscoMnemonic(at: i) { return setMessage(from: i) }
        if ciscoContext, !haveTime, let after = ciscoUptimeEnd(), parseCiscoMnemonic(at: after) {
            return setMessage(from: i)
        }
        if !haveTime, startsWith("date=", at: i) {
            parseFortiGate()
            return setMessage(from: i)
        }
        parseTag()
        setMessage(from: i)
    }

    func startsWith(_ text: StaticString, at k: Int) -> Bool {
        let n = text.utf8CodeUnitCount
        guard k + n <= end else { return false }
        return text.withUTF8Buffer { $0.elementsEqual(p[k..<(k + n)]) }
    }

    // MARK: Host name and tag

    /// The word after the time is the host name when it reads as one: host-name characters or an IPv6
    /// address, followed by more text, and not a tag (`word:` or `word[pid]`).
    mutating func parseHostname() {
        let start = i
        var j = i
        var colons = 0
        var hostChars = true
        var ipv6Chars = true
        while j < end, p[j] != ASCII.space {
            let c = p[j]
            if c == ASCII.colon {
                colons += 1
            } else if !ASCII.isHostnameChar(c) {
                hostChars = false
                ipv6Chars = false
            } else if !(ASCII.isDigit(c) || (c | 0x20) &- 97 < 6 || c == ASCII.dot) {
                ipv6Chars = false
            }
            j += 1
        }
        guard j > start, j < end, j - start <= 255, p[j - 1] != ASCII.colon else { return }
        guard (hostChars && colons == 0) || (ipv6Chars && colons >= 2) else { return }
        hostname = ByteSpan(start, j)
        i = j + 1
    }

    /// `TAG:`, `TAG[PID]:` (colon optional after the PID, space after the colon optional), `TAG<TAB>` (Snare),
    /// and MikroTik's `topic,topic ` prefix.
    mutating func parseTag() {
        let start = i
        var j = i
        var allDigits = true
        var topicChars = true
        var commas = 0
        while j < end, j - start <= 48 {
            let c = p[j]
            if c == ASCII.colon || c == ASCII.lbracket || c == ASCII.space || c == ASCII.tab || c == ASCII.rbracket {
                break
            }
            if !ASCII.isPrintUSASCII(c) { return }
            if !ASCII.isDigit(c) { allDigits = false }
            if c == ASCII.comma {
                commas += 1
                if j == start || p[j - 1] == ASCII.comma { topicChars = false }
            } else if !(ASCII.isLower(c) || ASCII.isDigit(c) || c == ASCII.dash) {
                topicChars = false
            }
            j += 1
        }
        guard j > start, j < end, j - start <= 48, !allDigits else { return }
        switch p[j] {
        case ASCII.lbracket:
            var k = j + 1
            while k < end, p[k] != ASCII.rbracket, p[k] != ASCII.space, k - j <= 129 { k += 1 }
            guard k < end, p[k] == ASCII.rbracket else { return }
            app = ByteSpan(start, j)
            if k > j + 1 { procID = ByteSpan(j + 1, k) }
            k += 1
            if k < end, p[k] == ASCII.colon { k += 1 }
            if k < end, p[k] == ASCII.space { k += 1 }
            i = k
        case ASCII.colon:
            if j + 1 < end, p[j + 1] == UInt8(ascii: "/") { return }  // a URL, not a tag
            app = ByteSpan(start, j)
            i = j + 1
            if i < end, p[i] == ASCII.space { i += 1 }
        case ASCII.tab:
            app = ByteSpan(start, j)
            i = j + 1
        case ASCII.space where topicChars && commas > 0 && p[j - 1] != ASCII.comma:
            app = ByteSpan(start, j)
            i = j + 1
        default:
            return
        }
    }

    // MARK: Cisco

    /// IOS `service sequence-numbers`: `NNN: ` right after the PRI, optionally followed by an origin-id host
    /// name (`NNN: router1: *Mar  1 ...`). NX-OS writes `: ` with no number (`<189>: 2023 Oct 11 ...`).
    mutating func parseCiscoSequence() -> Bool {
        var j = i
        while j < end, j - i < 11, ASCII.isDigit(p[j]) { j += 1 }
        guard j + 1 < end, p[j] == ASCII.colon, p[j + 1] == ASCII.space else { return false }
        if j == i {
            guard i > 0 else { return false }  // only right after a PRI
            i = j + 2
            return true
        }
        addDerivedSD(id: "meta", param: "sequenceId", value: ByteSpan(i, j))
        i = j + 2
        skipSecondCiscoCounter()
        // origin-id: a host name and ": " before the time
        var k = i
        while k < end, ASCII.isHostnameChar(p[k]) { k += 1 }
        if k > i, k + 2 < end, p[k] == ASCII.colon, p[k + 1] == ASCII.space,
            !(k - i == 3 && SyslogParser.month(p, i) != nil)
        {
            let hostStart = i
            i = k + 2
            skipSecondCiscoCounter()
            let timeStart = i < end && (p[i] == ASCII.star || p[i] == ASCII.dot) ? i + 1 : i
            if SyslogParser.parseBSDTime(p, start: timeStart, end: end, allowZone: true) != nil {
                hostname = ByteSpan(hostStart, k)
            } else {
                i = hostStart
            }
        }
        return true
    }

    /// With both `logging message-counter syslog` and `service sequence-numbers` IOS writes two counters
    /// (`<190>421370: 421366: Nov 23 ...`). The first is `meta sequenceId`; the second is skipped, so that it
    /// is not read as an origin-id host name.
    mutating func skipSecondCiscoCounter() {
        var k = i
        while k < end, k - i < 11, ASCII.isDigit(p[k]) { k += 1 }
        if k > i, k + 2 < end, p[k] == ASCII.colon, p[k + 1] == ASCII.space { i = k + 2 }
    }

    /// `%FACILITY[-SUB]-SEVERITY-MNEMONIC:` (IOS, IOS-XE, NX-OS, ASA): app is FACILITY[-SUB], msgid the mnemonic.
    /// The message keeps the whole text, mnemonic included, as operators search for it.
    mutating func parseCiscoMnemonic(at k: Int) -> Bool {
        guard k < end, p[k] == ASCII.percent else { return false }
        var j = k + 1
        var dashes: (Int, Int) = (-1, -1)  // the last two dash positions
        var dashCount = 0
        while j < end, j - k < 80 {
            let c = p[j]
            if c == ASCII.dash {
                dashes = (dashes.1, j)
                dashCount += 1
            } else if !(ASCII.isAlpha(c) || ASCII.isDigit(c) || c == UInt8(ascii: "_")) {
                break
            }
            j += 1
        }
        guard j < end, p[j] == ASCII.colon, dashCount >= 2 else { return false }
        let (d1, d2) = dashes
        guard d2 - d1 == 2, p[d1 + 1] &- 48 < 8, d1 > k + 1, j > d2 + 1 else { return false }
        app = ByteSpan(k + 1, d1)
        msgID = ByteSpan(d2 + 1, j)
        return true
    }

    /// IOS `service timestamps log uptime`: `00:12:35: ` or `1w2d: ` before the mnemonic; returns where the
    /// mnemonic would start.
    func ciscoUptimeEnd() -> Int? {
        var j = i
        while j < end, p[j] != ASCII.space {
            let c = p[j]
            guard ASCII.isDigit(c) || c == ASCII.colon || c == ASCII.dot || c == UInt8(ascii: "w")
                || c == UInt8(ascii: "d") || c == UInt8(ascii: "h") || c == UInt8(ascii: "m") || c == UInt8(ascii: "y")
            else { return nil }
            j += 1
        }
        guard j > i + 1, j < end, p[j - 1] == ASCII.colon else { return nil }
        return j + 1
    }

    // MARK: FortiGate

    /// FortiOS `key=value` logs (no syslog header): time from `date=` `time=` (and `tz=` when present),
    /// host name from `devname=`. The message is the whole text.
    mutating func parseFortiGate() {
        var k = i
        var date: (Int64, Int, Int)? = nil
        var time: (Int, Int, Int)? = nil
        var tz: Int? = nil
        while k < end {
            let keyStart = k
            while k < end, p[k] != ASCII.equals, p[k] != ASCII.space { k += 1 }
            guard k < end, p[k] == ASCII.equals else {
                while k < end, p[k] == ASCII.space { k += 1 }
                if k == keyStart { k += 1 }
                continue
            }
            let key = keyStart..<k
            k += 1
            let valueStart: Int
            let valueEnd: Int
            if k < end, p[k] == ASCII.quote {
                valueStart = k + 1
                valueEnd = indexOf(ASCII.quote, p, from: valueStart, end: end)
                k = min(valueEnd + 1, end)
            } else {
                valueStart = k
                valueEnd = indexOf(ASCII.space, p, from: k, end: end)
                k = valueEnd
            }
            while k < end, p[k] == ASCII.space { k += 1 }
            let n = valueEnd - valueStart
            switch key.count {
            case 4 where startsWith("date", at: key.lowerBound) && n == 10:
                if let y = fourDigits(valueStart), p[valueStart + 4] == ASCII.dash,
                    let m = SyslogParser.twoDigits(p, valueStart + 5, end: end), p[valueStart + 7] == ASCII.dash,
                    let d = SyslogParser.twoDigits(p, valueStart + 8, end: end)
                {
                    date = (y, m, d)
                }
            case 4 where startsWith("time", at: key.lowerBound) && n == 8:
                if let h = SyslogParser.twoDigits(p, valueStart, end: end), p[valueStart + 2] == ASCII.colon,
                    let mi = SyslogParser.twoDigits(p, valueStart + 3, end: end), p[valueStart + 5] == ASCII.colon,
                    let s = SyslogParser.twoDigits(p, valueStart + 6, end: end)
                {
                    time = (h, mi, s)
                }
            case 7 where startsWith("devname", at: key.lowerBound) && n > 0:
                hostname = ByteSpan(valueStart, valueEnd)
            case 2 where startsWith("tz", at: key.lowerBound) && n == 5:
                let sign = p[valueStart] == ASCII.dash ? -1 : 1
                if p[valueStart] == ASCII.plus || p[valueStart] == ASCII.dash,
                    let h = SyslogParser.twoDigits(p, valueStart + 1, end: end),
                    let m = SyslogParser.twoDigits(p, valueStart + 3, end: end)
                {
                    tz = sign * (h * 3600 + m * 60)
                }
            default:
                break
            }
        }
        if let (y, m, d) = date, let (h, mi, s) = time,
            CivilCalendar.epochSeconds(year: y, month: m, day: d, hour: h, minute: mi, second: s) != nil
        {
            wireTime = WireTime(
                year: y, month: m, day: d, hour: h, minute: mi, second: s, nanoseconds: 0, fractionDigits: 0,
                utcOffset: tz, zoneName: nil)
        }
    }

    func fourDigits(_ k: Int) -> Int64? {
        guard k + 4 <= end else { return nil }
        var v: Int64 = 0
        for j in k..<(k + 4) {
            guard ASCII.isDigit(p[j]) else { return nil }
            v = v * 10 + Int64(p[j] &- 48)
        }
        return v
    }
}
