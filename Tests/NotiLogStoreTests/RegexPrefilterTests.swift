import Testing

@testable import NotiLogStore

/// The literal a regex search requires, used to skip rows before running the regex.
struct RegexPrefilterTests {
    @Test(arguments: [
        ("Failed password for .* from", "Failed password for "),
        ("error", "error"),
        ("timeouts?", "timeout"),
        ("colou?r blind", "r blind"),
        ("a+bcd", "bcd"),
        ("GET \\/health", "GET /health"),
        ("\\d+ packets dropped", " packets dropped"),
        ("^kernel: [A-Z]+ oom", "kernel: "),
        ("abcd{2,3}", "abc"),
    ])
    func literals(pattern: String, literal: String) {
        #expect(RegexPrefilter.requiredLiteral(pattern) == literal)
    }

    @Test(arguments: ["foo|bar", "(?i)error", "(disk )?error", "\\d{3}", "ab", ".*", "a\\"])
    func noLiteral(pattern: String) {
        #expect(RegexPrefilter.requiredLiteral(pattern) == nil)
    }
}
