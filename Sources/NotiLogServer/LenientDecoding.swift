import Synchronization

// Decoding that goes on after a wrong value, so `validate` can list every problem of a file at once, each with
// its key path. Without a `ProblemSink` in the decoder's user info, decoding throws as Codable usually does.

/// Collects the problems found while decoding.
final class ProblemSink: Sendable {
    private let list = Mutex<[ConfigurationProblem]>([])

    func add(_ problem: ConfigurationProblem) { list.withLock { $0.append(problem) } }
    var problems: [ConfigurationProblem] { list.withLock { $0 } }
}

extension CodingUserInfoKey {
    static let problemSink = CodingUserInfoKey(rawValue: "notilog.problemSink")!
}

struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        intValue = nil
    }

    init(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Anything at all; decoding it skips one element of a list.
private struct Skip: Decodable {
    init(from decoder: any Decoder) throws {}
}

/// `listeners[2].certificate` for a coding path.
func keyPath(_ path: [any CodingKey]) -> String {
    var out = ""
    for key in path {
        if let i = key.intValue {
            out += "[\(i)]"
        } else {
            if !out.isEmpty { out += "." }
            out += key.stringValue
        }
    }
    return out
}

extension Decoder {
    var problemSink: ProblemSink? { userInfo[.problemSink] as? ProblemSink }

    /// Reports keys the type does not know, suggesting the closest known one.
    func reportUnknownKeys<K: CodingKey & CaseIterable>(_ known: K.Type) throws {
        guard let sink = problemSink else { return }
        let names = K.allCases.map(\.stringValue)
        let all = try container(keyedBy: AnyCodingKey.self)
        for key in all.allKeys where !names.contains(key.stringValue) {
            var message = "unknown key"
            if let near = names.min(by: { editDistance($0, key.stringValue) < editDistance($1, key.stringValue) }),
                editDistance(near, key.stringValue) <= 2
            {
                message += " (did you mean \(near)?)"
            }
            sink.add(ConfigurationProblem(keyPath(codingPath + [key]), message))
        }
    }
}

extension KeyedDecodingContainer {
    /// The value, or nil (and a problem) when it is not of the expected type.
    func lenient<T: Decodable>(_ key: Key, _ expected: String, _ decoder: any Decoder) throws -> T? {
        do {
            return try decodeIfPresent(T.self, forKey: key)
        } catch {
            guard let sink = decoder.problemSink else { throw error }
            sink.add(ConfigurationProblem(keyPath(codingPath + [key]), "expected \(expected)\(found(key))"))
            return nil
        }
    }

    /// A list whose wrong elements are reported and left out; a single value stands for a list of one.
    func lenientList<T: Decodable>(_ key: Key, _ expected: String, _ decoder: any Decoder) throws -> [T]? {
        guard let sink = decoder.problemSink else { return try decodeIfPresent([T].self, forKey: key) }
        guard contains(key), (try? decodeNil(forKey: key)) != true else { return nil }
        guard var list = try? nestedUnkeyedContainer(forKey: key) else {
            if let one = try? decode(T.self, forKey: key) { return [one] }
            sink.add(ConfigurationProblem(keyPath(codingPath + [key]), "expected a list\(found(key))"))
            return nil
        }
        var items: [T] = []
        while !list.isAtEnd {
            let index = list.currentIndex
            do {
                items.append(try list.decode(T.self))
            } catch {
                sink.add(ConfigurationProblem(keyPath(codingPath + [key, AnyCodingKey(intValue: index)]), "expected \(expected)"))
                if (try? list.decode(Skip.self)) == nil { break }
            }
        }
        return items
    }

    private func found(_ key: Key) -> String {
        (try? decode(String.self, forKey: key)).map { ", found \"\($0)\"" } ?? ""
    }
}

/// Levenshtein distance, for "did you mean" hints on short key names.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
