/// A piece of text that every match of a regular expression must contain, so that SQL can skip rows with a cheap
/// `instr()` before running the regex (`Failed password for .* from` → `Failed password for `).
///
/// Deliberately simple: patterns with alternation, groups (which may be optional, or set `(?i)`) or anything this
/// reader does not know give no literal, and the query then runs the regex on every row, as before.
enum RegexPrefilter {
    static func requiredLiteral(_ pattern: String) -> String? {
        let chars = Array(pattern)
        var runs: [String] = []
        var run = ""
        func endRun() {
            if !run.isEmpty { runs.append(run) }
            run = ""
        }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "|", "(", ")":
                return nil
            case ".", "^", "$":
                endRun()
            case "*", "?", "{":
                // The quantified atom may be absent: drop it from the run.
                if !run.isEmpty { run.removeLast() }
                endRun()
                if c == "{" {
                    while i < chars.count, chars[i] != "}" { i += 1 }
                }
            case "+":
                // At least once: the atom stays; what follows may repeat it.
                endRun()
            case "[":
                endRun()
                i += 1
                if i < chars.count, chars[i] == "]" { i += 1 }
                while i < chars.count, chars[i] != "]" {
                    if chars[i] == "\\" { i += 1 }
                    i += 1
                }
            case "\\":
                guard i + 1 < chars.count else { return nil }
                let next = chars[i + 1]
                if next.isLetter || next.isNumber {
                    // \d \w \s \b \1 \u{…}: a class, an anchor or a reference, not a literal.
                    endRun()
                } else {
                    run.append(next)
                }
                i += 1
            default:
                run.append(c)
            }
            i += 1
        }
        endRun()
        // A quantifier after the last run's final character was handled when it came; the longest run is the
        // most selective.
        guard let best = runs.max(by: { $0.utf8.count < $1.utf8.count }), best.utf8.count >= 3 else { return nil }
        return best
    }
}
