/// What names an agent to the server: 1 to 128 of `A-Z a-z 0-9 . _ : -`. One rule for the agent's configuration
/// and the server's ingest endpoint (it goes into a URL query and into the batches' idempotency key unescaped).
public enum AgentID {
    public static let rule = "1 to 128 of A-Z a-z 0-9 . _ : -"

    public static func isValid(_ text: some StringProtocol) -> Bool {
        (1...128).contains(text.utf8.count) && text.utf8.allSatisfy(isAllowed)
    }

    static func isAllowed(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
