/// The labelled inputs of the parser benchmarks, shared with `write-bench-inputs` so the `grep -c` / `wc -l`
/// baseline in bench/run.sh scans exactly the same messages.
public enum BenchInputs {
    /// One labelled message.
    public struct Message: Sendable {
        /// The benchmark's name, also the baseline's row label.
        public let label: String
        /// The frame as the framer hands it to the parser (no trailing LF).
        public let bytes: [UInt8]
        /// A fixed string `grep -c -F` looks for in the baseline (present in every line).
        public let grepToken: String
    }

    /// The typical lines first: the 1,000,000 messages/s target applies to those marked `[ok]`.
    public static let messages: [Message] = [
        Message(
            label: "[ok] RFC 5424 with structured data",
            bytes: Array(
                ("<165>1 2023-10-11T22:14:15.003Z web-1.example.com nginx 1234 access "
                    + "[origin@32473 ip=\"10.0.0.5\" env=\"prod\"] GET /index.html 200 5123 \"-\" "
                    + "\"Mozilla/5.0 (X11; Linux x86_64)\"").utf8),
            grepToken: "nginx"),
        Message(
            label: "[ok] RFC 3164 typical",
            bytes: Array(
                ("<38>Oct 11 22:14:15 bastion-2 sshd[4721]: Failed password for invalid user admin "
                    + "from 203.0.113.54 port 52144 ssh2").utf8),
            grepToken: "sshd"),
        Message(
            label: "[ok] Cisco IOS",
            bytes: Array(
                ("<189>1523: core-sw1: Oct 11 22:14:15.123 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface "
                    + "GigabitEthernet0/1, changed state to up").utf8),
            grepToken: "LINEPROTO"),
        Message(
            label: "[bad] broken structured data",
            bytes: Array(
                ("<165>1 2023-10-11T22:14:15.003Z web-1.example.com nginx 1234 access "
                    + "[origin@32473 ip=\"10.0.0.5\" env=prod] GET /index.html 200 5123 \"-\" "
                    + "\"Mozilla/5.0 (X11; Linux x86_64)\"").utf8),
            grepToken: "nginx"),
        Message(label: "[bad] binary garbage", bytes: garbage(count: 180), grepToken: "\u{7F}"),
    ]

    /// `count` bytes from a fixed-seed generator: mostly invalid UTF-8 and control bytes, no LF (so a file
    /// of them is one message a line), and one DEL byte for the baseline's grep to find.
    public static func garbage(count: Int) -> [UInt8] {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var out: [UInt8] = []
        out.reserveCapacity(count)
        while out.count < count - 1 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let b = UInt8(truncatingIfNeeded: state >> 56)
            if b != 0x0A && b != 0x7F { out.append(b) }
        }
        out.insert(0x7F, at: count / 2)
        return out
    }

    /// An RFC 6587 octet-counted stream of at least `bytes` bytes cycling through the `[ok]` messages; returns
    /// the stream and its number of frames.
    public static func octetCountedStream(bytes: Int) -> (stream: [UInt8], frames: Int) {
        let ok = messages.filter { $0.label.hasPrefix("[ok]") }
        var out: [UInt8] = []
        out.reserveCapacity(bytes + 200)
        var n = 0
        while out.count < bytes {
            let m = ok[n % ok.count].bytes
            out.append(contentsOf: String(m.count).utf8)
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: m)
            n += 1
        }
        return (out, n)
    }
}
