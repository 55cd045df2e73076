/// Writes records as RFC 5424 messages (what the agent forwards).
///
/// Header fields are made valid: characters outside printable US-ASCII become `_`, over-long fields are cut to
/// the RFC's limits, an empty field is NILVALUE. A record whose fields are already valid reads back equal:
/// `parse(format(r)) == r`.
public struct RFC5424Formatter: Sendable {
    /// Prefix non-ASCII messages with a UTF-8 BOM, as RFC 5424 asks. Off by default: rsyslog and syslog-ng
    /// store the BOM as part of the text.
    public var includeBOM: Bool

    public init(includeBOM: Bool = false) {
        self.includeBOM = includeBOM
    }

    public func format(_ record: LogRecord) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Int(record.storage.count) + 64)
        append(record, to: &out)
        return out
    }

    public func append(_ r: LogRecord, to out: inout [UInt8]) {
        let pri = Int(r.facility?.rawValue ?? Facility.user.rawValue) * 8 + Int(r.severity?.rawValue ?? Severity.notice.rawValue)
        out.append(ASCII.lt)
        out.append(contentsOf: String(pri).utf8)
        out.append(contentsOf: [ASCII.gt, UInt8(ascii: "1"), ASCII.space])
        if let t = r.timestamp {
            t.appendRFC3339(to: &out, maxFractionDigits: 6)
        } else {
            out.append(ASCII.dash)
        }
        r.storage.withUnsafeBufferPointer { s in
            appendHeader(s, r.hostnameSpan, max: 255, &out)
            appendHeader(s, r.appSpan, max: 48, &out)
            appendHeader(s, r.procIDSpan, max: 128, &out)
            appendHeader(s, r.msgIDSpan, max: 32, &out)
            out.append(ASCII.space)
            if let entries = r.sdEntries, !entries.isEmpty, entries[0].isElement {
                Self.appendStructuredData(entries, storage: s, to: &out)
            } else {
                out.append(ASCII.dash)
            }
            let m = r.messageSpan
            if !m.isAbsent, m.count > 0 {
                out.append(ASCII.space)
                let bytes = UnsafeBufferPointer(rebasing: s[m.range])
                if includeBOM, bytes.contains(where: { $0 >= 0x80 }) { out.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
                out.append(contentsOf: bytes)
            }
        }
    }

    /// SD-ELEMENTs with names made valid and values escaped.
    static func appendStructuredData(_ entries: [SDEntry], storage: [UInt8], to out: inout [UInt8]) {
        storage.withUnsafeBufferPointer { appendStructuredData(entries, storage: $0, to: &out) }
    }

    static func appendStructuredData(_ entries: [SDEntry], storage s: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        var open = false
        for e in entries {
            if e.isElement {
                if open { out.append(ASCII.rbracket) }
                out.append(ASCII.lbracket)
                appendName(s, e.name, &out)
                open = true
            } else if open {
                out.append(ASCII.space)
                appendName(s, e.name, &out)
                out.append(contentsOf: [ASCII.equals, ASCII.quote])
                appendValue(s, e, &out)
                out.append(ASCII.quote)
            }
        }
        if open { out.append(ASCII.rbracket) }
    }

    private func appendHeader(_ s: UnsafeBufferPointer<UInt8>, _ span: ByteSpan, max: Int, _ out: inout [UInt8]) {
        out.append(ASCII.space)
        if span.isAbsent || span.count == 0 { return out.append(ASCII.dash) }
        for b in s[span.range].prefix(max) {
            out.append(ASCII.isPrintUSASCII(b) ? b : UInt8(ascii: "_"))
        }
    }

    private static func appendName(_ s: UnsafeBufferPointer<UInt8>, _ span: ByteSpan, _ out: inout [UInt8]) {
        if span.isAbsent || span.count == 0 { return out.append(UInt8(ascii: "_")) }
        for b in s[span.range].prefix(32) {
            out.append(ASCII.isSDNameChar(b) ? b : UInt8(ascii: "_"))
        }
    }

    /// PARAM-VALUE with `"`, `\` and `]` escaped; a value stored still escaped (as parsed) is first un-escaped.
    private static func appendValue(_ s: UnsafeBufferPointer<UInt8>, _ e: SDEntry, _ out: inout [UInt8]) {
        guard !e.value.isAbsent else { return }
        func put(_ b: UInt8) {
            if b == ASCII.quote || b == ASCII.backslash || b == ASCII.rbracket { out.append(ASCII.backslash) }
            out.append(b)
        }
        if e.isEscaped {
            for b in unescapeSDValue(s[e.value.range]) { put(b) }
        } else {
            for b in s[e.value.range] { put(b) }
        }
    }
}
