import Foundation
import NotiLogServer

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A client of the server's HTTP API on loopback, for tests: every answer as status + parsed JSON.
struct TestAPI: Sendable {
    let base: String
    var token: String?

    init(port: Int, token: String?) {
        base = "http://127.0.0.1:\(port)"
        self.token = token
    }

    /// For an in-process server: its bound HTTP port and the admin token of its data directory.
    init(_ services: ServerServices) async throws {
        let bound = await services.readiness.ready()
        let token = try String(contentsOfFile: services.settings.dataDirectory + "/admin.token", encoding: .utf8)
        self.init(port: bound.http.port, token: token.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    func with(token: String?) -> TestAPI {
        var copy = self
        copy.token = token
        return copy
    }

    struct Answer: @unchecked Sendable {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
    }

    /// `path` with its query parameters, which are percent-encoded here.
    func request(
        _ method: String = "GET", _ path: String, _ parameters: [String: String] = [:], body: String? = nil,
        contentType: String = "application/json"
    ) async throws -> Answer {
        var components = URLComponents(string: base + path)!
        if !parameters.isEmpty {
            components.queryItems = parameters.sorted { $0.key < $1.key }.map { URLQueryItem(name: $0.key, value: $0.value) }
            // URLComponents leaves '+' alone, which a form decoder reads as a space.
            components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue(contentType, forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (k, v) in http.allHeaderFields { headers["\(k)".lowercased()] = "\(v)" }
        return Answer(status: http.statusCode, headers: headers, body: data)
    }

    /// Every record a query finds, oldest first, following the `next` cursors.
    func records(_ query: String, pageSize: Int = 1000) async throws -> [[String: Any]] {
        var all: [[String: Any]] = []
        var cursor: String?
        repeat {
            var p = ["q": query, "limit": "\(pageSize)"]
            if let cursor { p["cursor"] = cursor }
            let answer = try await request("GET", "/api/v1/logs", p)
            guard answer.status == 200 else { throw APIFailure(answer: answer.text, status: answer.status) }
            all += answer.json["records"] as? [[String: Any]] ?? []
            cursor = answer.json["next"] as? String
        } while cursor != nil
        return all.reversed()
    }

    /// Waits until a query finds at least `count` records (or `seconds` pass); returns them oldest first.
    func waitForRecords(_ query: String, count: Int, seconds: Double = 30) async throws -> [[String: Any]] {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let found = try await records(query)
            if found.count >= count || Date() > deadline { return found }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    struct APIFailure: Error, CustomStringConvertible {
        var answer: String
        var status: Int
        var description: String { "HTTP \(status): \(answer)" }
    }
}
