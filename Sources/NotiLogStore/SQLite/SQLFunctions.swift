import Foundation
import GRDB
import NotiLogCore

/// SQL functions that give SQL the query language's exact semantics where SQLite has no equivalent.
enum SQLFunctions {
    /// `notilog_tokens(text, 'tok1 tok2', prefix)`: the phrase rule of message search, over `LogTokenizer` tokens.
    static let tokens = DatabaseFunction("notilog_tokens", argumentCount: 3, pure: true) { args in
        guard case .blob(let text) = args[0].storage, case .string(let phrase) = args[1].storage else { return false }
        let prefix = Int64.fromDatabaseValue(args[2]) == 1
        let wanted = phrase.split(separator: " ").map { Array($0.utf8) }
        return text.withUnsafeBytes { QuerySemantics.containsPhrase(QuerySemantics.tokens(of: $0), wanted, prefix: prefix) }
    }

    /// `notilog_regex(text, pattern)`: true when the pattern matches somewhere; NULL text never matches.
    static let regex = DatabaseFunction("notilog_regex", argumentCount: 2, pure: true) { args in
        guard case .blob(let text) = args[0].storage, case .string(let pattern) = args[1].storage else { return false }
        return text.withUnsafeBytes { RegexCache.shared.test(pattern).matches($0) }
    }

    /// `notilog_sd(sd, id, param, mode, value)`: any value of `param` in an element `id` passes the test
    /// (mode 0 equals, 1 prefix, 2 regex).
    static let structuredData = DatabaseFunction("notilog_sd", argumentCount: 5, pure: true) { args in
        guard case .blob(let sdBytes) = args[0].storage, case .string(let id) = args[1].storage,
            case .string(let param) = args[2].storage, case .string(let value) = args[4].storage,
            let elements = LogRecord.structuredData(fromText: String(decoding: sdBytes, as: UTF8.self))
        else { return false }
        let test: FieldTest
        switch Int64.fromDatabaseValue(args[3]) {
        case 0: test = FieldTest(.equals(value))
        case 1: test = FieldTest(.prefix(value))
        case 2: test = RegexCache.shared.test(value)
        default: return false
        }
        for e in elements where e.id == id {
            for p in e.parameters where p.name == param && test.matches(p.value) { return true }
        }
        return false
    }
}

/// Compiled regular expressions by pattern (a search evaluates the same pattern on many rows).
final class RegexCache: @unchecked Sendable {
    static let shared = RegexCache()
    private let lock = NSLock()
    private var tests: [String: FieldTest] = [:]

    func test(_ pattern: String) -> FieldTest {
        lock.lock()
        defer { lock.unlock() }
        if let t = tests[pattern] { return t }
        let t = FieldTest(.regex(pattern))
        if tests.count > 256 { tests.removeAll() }
        tests[pattern] = t
        return t
    }
}
