/// The duration syntax of NotiLog's configuration files: `200ms`, `30s`, `15m`, `24h`, `30d`, `2w`, or several
/// together (`1h30m`); a bare `0` is zero. One reader for the server's settings and the channels' timeouts.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let units: [(String, Duration)] = [
            ("ms", .milliseconds(1)), ("s", .seconds(1)), ("m", .seconds(60)), ("h", .seconds(3600)),
            ("d", .seconds(86_400)), ("w", .seconds(604_800)),
        ]
        let t = String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).lowercased()
        if t == "0" { return .zero }
        var total = Duration.zero
        var rest = Substring(t)
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 12, let n = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { $0.isASCII && $0.isLetter }
            // The whole run of letters is the unit, so `ms` is never read as `m` then `s`.
            guard let unit = units.first(where: { $0.0 == unitText }) else { return nil }
            rest = rest.dropFirst(unitText.count)
            total += unit.1 * n
        }
        return total
    }
}

/// The byte-size syntax of NotiLog's configuration files: `65536`, `64KB`, `512MB`, `20GB`, `1TB` (and `KiB`… or
/// `K`, `M`, `G`, `T`): multiples of 1024, as journald and most log tools count them. One reader for the server's
/// and the agent's settings.
public enum ByteSizeText {
    public static func parse(_ text: String) -> Int64? {
        let t = String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()).uppercased()
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 15, let n = Int64(digits) else { return nil }
        let unit = t.dropFirst(digits.count).drop { $0 == " " }
        let shift: Int64
        switch unit {
        case "", "B": shift = 0
        case "K", "KB", "KIB": shift = 10
        case "M", "MB", "MIB": shift = 20
        case "G", "GB", "GIB": shift = 30
        case "T", "TB", "TIB": shift = 40
        default: return nil
        }
        let (value, overflow) = n.multipliedReportingOverflow(by: 1 << shift)
        return overflow ? nil : value
    }
}
