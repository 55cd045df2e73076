/// Something a parser or framer could not read as the protocol says; the record is kept all the same.
public struct ParseProblem: Sendable, Hashable, CustomStringConvertible {
    /// The part of the message the problem is in (its JSON name is the raw value).
    public enum Field: String, Sendable, Hashable, CaseIterable {
        case frame, encoding, pri, version, timestamp, hostname, app, procid, msgid
        case structuredData = "sd"
        case message
    }

    public var field: Field
    /// 1-based byte column in the frame where reading stopped.
    public var column: Int
    public var reason: String

    public init(field: Field, column: Int, reason: String) {
        self.field = field
        self.column = column
        self.reason = reason
    }

    public var description: String { "\(field.rawValue)@\(column): \(reason)" }
}
