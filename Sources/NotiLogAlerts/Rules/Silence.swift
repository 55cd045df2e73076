import Foundation
import NotiLogCore
import NotiLogStore

/// Mutes the notifications of the alerts it matches between `startsAt` and `endsAt`; the alerts themselves are
/// still recorded (their changes carry `.silenced(by: id)`).
///
/// Every matcher must hold. A silence with no matchers matches nothing: muting everything should be spelt out
/// (the API can offer it as a matcher on each rule).
public struct Silence: Sendable, Hashable {
    public enum Matcher: Sendable, Hashable, CustomStringConvertible {
        /// The alert's rule, by exact name.
        case rule(String)
        /// One of the alert's group values (`host` = `web-1`, compared case-insensitively as the query language
        /// compares text fields). The alert must have that group field.
        case group(field: String, value: String)
        /// The query matches the alert's latest record (an alert with no record, such as an absence alert of a
        /// group never seen, does not match).
        case query(Query)

        public var description: String {
            switch self {
            case .rule(let name): "rule=\(name)"
            case .group(let field, let value): "\(field)=\(value)"
            case .query(let q): "query=\(q.text)"
            }
        }
    }

    /// The store's id of the silence.
    public var id: Int64
    public var matchers: [Matcher]
    public var startsAt: SyslogTimestamp
    /// Not included: at `endsAt` the silence is over.
    public var endsAt: SyslogTimestamp
    public var comment: String
    public var createdBy: String

    public init(
        id: Int64, matchers: [Matcher], startsAt: SyslogTimestamp, endsAt: SyslogTimestamp, comment: String = "", createdBy: String = ""
    ) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.comment = comment
        self.createdBy = createdBy
    }

    public func isActive(at now: SyslogTimestamp) -> Bool { startsAt <= now && now < endsAt }

    /// A silence as the store keeps it; nil when its matchers cannot be read (see `matchersJSON`).
    public init?(row: SilenceRow) {
        guard let matchers = Self.matchers(fromJSON: row.matchers) else { return nil }
        self.init(
            id: row.id, matchers: matchers, startsAt: row.startsAt, endsAt: row.endsAt, comment: row.comment, createdBy: row.createdBy)
    }

    /// The matchers as the store keeps them: a JSON list of `{"rule": NAME}`, `{"field": F, "value": V}` and
    /// `{"query": TEXT}` objects, e.g. `[{"rule":"ssh-brute-force"},{"field":"host","value":"web-1"}]`.
    public var matchersJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(matchers)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
    }

    /// Reads `matchersJSON`; nil when it is not that form or a query does not parse.
    public static func matchers(fromJSON text: String) -> [Matcher]? {
        try? JSONDecoder().decode([Matcher].self, from: Data(text.utf8))
    }
}

extension Silence.Matcher: Codable {
    private enum CodingKeys: String, CodingKey {
        case rule, field, value, query
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let rule = try c.decodeIfPresent(String.self, forKey: .rule) {
            self = .rule(rule)
        } else if let field = try c.decodeIfPresent(String.self, forKey: .field) {
            self = .group(field: field, value: try c.decode(String.self, forKey: .value))
        } else if let text = try c.decodeIfPresent(String.self, forKey: .query) {
            do {
                self = .query(try QueryParser.parse(text))
            } catch {
                throw DecodingError.dataCorruptedError(forKey: .query, in: c, debugDescription: "query \(error)")
            }
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "expected rule, field/value or query"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .rule(let name): try c.encode(name, forKey: .rule)
        case .group(let field, let value):
            try c.encode(field, forKey: .field)
            try c.encode(value, forKey: .value)
        case .query(let q): try c.encode(q.text, forKey: .query)
        }
    }
}

/// A silence with its queries compiled once, as the engine keeps it.
struct ActiveSilence: Sendable {
    let silence: Silence
    let startsAt: Int64
    let endsAt: Int64
    private let tests: [Test]

    private enum Test: Sendable {
        case rule(String)
        case group(field: String, value: String)
        case query(QueryMatcher)
    }

    init(_ silence: Silence) {
        self.silence = silence
        startsAt = silence.startsAt.nanosecondsSinceEpoch
        endsAt = silence.endsAt.nanosecondsSinceEpoch
        tests = silence.matchers.map { m in
            switch m {
            case .rule(let name): .rule(name)
            case .group(let field, let value): .group(field: field, value: value)
            // Rules refuse since:/until:, silences are matched against past records: `now` plays no part.
            case .query(let q): .query(QueryMatcher(q, now: SyslogTimestamp(seconds: 0)))
            }
        }
    }

    func isActive(at now: Int64) -> Bool { startsAt <= now && now < endsAt }

    func matches(rule: String, group: [AlertNotice.GroupValue], latest: LogRecord?) -> Bool {
        guard !tests.isEmpty else { return false }
        for test in tests {
            switch test {
            case .rule(let name):
                if name != rule { return false }
            case .group(let field, let value):
                guard let g = group.first(where: { $0.field == field }), let v = g.value,
                    v.lowercased() == value.lowercased()
                else { return false }
            case .query(let matcher):
                guard let latest, matcher.matches(latest) else { return false }
            }
        }
        return true
    }
}
