/// One thing wrong with a configuration, with the key path it is about (`listeners[2].certificate`).
public struct ConfigurationProblem: Sendable, Hashable, CustomStringConvertible {
    /// Key path in the configuration (`retention.max_age`), or the file for problems with the file as a whole.
    public var path: String
    /// Where the value came from when not from the file: `NOTILOG_RETENTION_MAX_AGE`, `--tcp`.
    public var origin: String?
    public var message: String

    public init(_ path: String, _ message: String, origin: String? = nil) {
        self.path = path
        self.message = message
        self.origin = origin
    }

    public var description: String {
        let at = origin.map { "\(path) (from \($0))" } ?? path
        return at.isEmpty ? message : "\(at): \(message)"
    }
}

/// The server module's one error type.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The configuration has problems; `problems` lists every one.
        case invalidConfiguration
        /// The store could not be opened.
        case store
    }

    public var code: Code
    public var message: String
    public var underlying: String?
    public var problems: [ConfigurationProblem]

    public init(_ code: Code, _ message: String, underlying: (any Error)? = nil, problems: [ConfigurationProblem] = []) {
        self.code = code
        self.message = message
        self.underlying = underlying.map { "\($0)" }
        self.problems = problems
    }

    public var description: String {
        var text = underlying.map { "\(message): \($0)" } ?? message
        for p in problems { text += "\n  \(p)" }
        return text
    }
}
