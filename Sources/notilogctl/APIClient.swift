import Foundation
import NotiLogCurl

/// NotiLog's HTTP API (v1) as the command line uses it: bearer token, JSON errors turned into `CtlError`.
struct APIClient: Sendable {
    let settings: ConnectionSettings
    var http = HTTPClient()

    init(_ settings: ConnectionSettings) {
        self.settings = settings
    }

    // MARK: Endpoints

    /// One page of `GET /api/v1/logs`, newest first; `next` is the cursor for the older page after it.
    /// `afterID`: only records with ids above it (still newest first).
    func logs(query: String, since: String?, until: String?, limit: Int, cursor: String?, afterID: Int64? = nil) throws(CtlError) -> LogsPage {
        let body = try get(
            "/api/v1/logs",
            ["q": query, "since": since, "until": until, "limit": String(limit), "cursor": cursor, "after_id": afterID.map { String($0) }])
        let document: JSONNode
        do {
            document = try JSONNode.parse(body)
        } catch {
            throw CtlError(.badResponse, "the server's search response is not JSON: \(error)", underlying: error)
        }
        guard let records = document["records"]?.array, records.allSatisfy({ $0.members != nil }) else {
            throw CtlError(.badResponse, "the server's search response has no list of record objects under \"records\"")
        }
        let next = document["next"]
        guard next == nil || next?.isNull == true || next?.string != nil else {
            throw CtlError(.badResponse, "the server's search response has a \"next\" that is not a string")
        }
        return LogsPage(document: body, records: records, next: next?.string)
    }

    func hosts() throws(CtlError) -> (body: [UInt8], hosts: [HostSummary]) {
        let body = try get("/api/v1/hosts")
        return (body, try decode(HostsResponse.self, body, what: "hosts").hosts)
    }

    func status() throws(CtlError) -> (body: [UInt8], status: ServerStatus) {
        let body = try get("/api/v1/status")
        return (body, try decode(ServerStatus.self, body, what: "status"))
    }

    func tokens() throws(CtlError) -> (body: [UInt8], tokens: [APIToken]) {
        let body = try get("/api/v1/tokens")
        return (body, try decode(TokensResponse.self, body, what: "token list").tokens)
    }

    func createToken(name: String, scope: String) throws(CtlError) -> (body: [UInt8], token: APIToken) {
        let request: [UInt8]
        do {
            request = Array(try JSONEncoder().encode(["name": name, "scope": scope]))
        } catch {
            throw CtlError(.configuration, "cannot encode the request: \(error)", underlying: error)
        }
        let body = try send(.post, "/api/v1/tokens", body: request)
        return (body, try decode(APIToken.self, body, what: "new token"))
    }

    func revokeToken(id: Int) throws(CtlError) -> (body: [UInt8], token: APIToken) {
        let body = try send(.delete, "/api/v1/tokens/\(id)")
        return (body, try decode(APIToken.self, body, what: "revoked token"))
    }

    // MARK: Requests

    func get(_ path: String, _ query: KeyValuePairs<String, String?> = [:]) throws(CtlError) -> [UInt8] {
        let pairs = query.compactMap { key, value in value.map { "\(key)=\(Self.percentEncoded($0))" } }
        return try send(.get, pairs.isEmpty ? path : path + "?" + pairs.joined(separator: "&"))
    }

    /// The body of a 2xx response; any other status becomes a `CtlError` with the server's message.
    func send(_ method: HTTPRequest.Method, _ pathAndQuery: String, body: [UInt8]? = nil) throws(CtlError) -> [UInt8] {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let token = settings.token { headers.append(("Authorization", "Bearer \(token)")) }
        if body != nil { headers.append(("Content-Type", "application/json")) }
        let response: HTTPResponse
        do throws(HTTPClientError) {
            response = try http.send(HTTPRequest(method, settings.server + pathAndQuery, headers: headers, body: body))
        } catch {
            throw CtlError(.connection, error.description, underlying: error)
        }
        guard response.isSuccess else { throw failure(response) }
        return response.body
    }

    /// `{"error":{"code":"invalid_query","message":"...","column":12}}` as a `CtlError`, with advice for 401/403.
    func failure(_ response: HTTPResponse) -> CtlError {
        let error = (try? JSONNode.parse(response.body))?["error"]
        let serverCode = error?["code"]?.string
        let message = error?["message"]?.string ?? Self.summary(of: response.body)
        let code: CtlError.Code
        var hint: String?
        switch response.status {
        case 401:
            code = .unauthorized
            if let source = settings.tokenSource {
                hint = "the token came from \(source)"
            } else {
                hint = "no token was sent: give --token, --token-file, NOTILOG_TOKEN, or token: in ctl.yaml"
                    + (settings.isLoopback ? "" : " (the default token files are only sent to a server on this machine)")
            }
        case 403:
            code = .forbidden
            hint = "the token (from \(settings.tokenSource ?? "?")) lacks the scope for this request"
        case 400 where serverCode == "invalid_query": code = .invalidQuery
        case 400..<500: code = .rejected
        default: code = .server
        }
        return CtlError(code, message, status: response.status, serverCode: serverCode ?? "error", column: error?["column"]?.int, hint: hint)
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], what: String) throws(CtlError) -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(type, from: Data(body))
        } catch {
            throw CtlError(.badResponse, "unexpected \(what) response from the server: \(error)", underlying: error)
        }
    }

    /// A non-JSON error body, shortened to one line for a message.
    static func summary(of body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return line.isEmpty ? "(no message)" : line
    }

    /// Everything but RFC 3986's unreserved characters percent-encoded (so `+`, `&`, `=`, `:` travel as data).
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}

/// One page of search results: the response bytes and the record objects in them (newest first).
struct LogsPage {
    var document: [UInt8]
    var records: [JSONNode]
    var next: String?
}

struct HostsResponse: Decodable {
    var hosts: [HostSummary]
}

/// `GET /api/v1/hosts`: one sending host.
struct HostSummary: Decodable {
    var hostname: String?
    var firstSeen: String?
    var lastSeen: String?
    var messages: Int
    var parseProblems: Int
    /// How far the host's clock is ahead of the server's (negative: behind); nil when unknown.
    var clockSkewSeconds: Double?
}

struct TokensResponse: Decodable {
    var tokens: [APIToken]
}

/// An API token as `GET /api/v1/tokens` lists it; `token` (the secret) only in the answer to its creation.
struct APIToken: Decodable {
    var id: Int
    var name: String
    var scope: String
    var createdAt: String?
    var lastUsedAt: String?
    var revokedAt: String?
    var token: String?
}

/// `GET /api/v1/status`. Optional throughout: a display command should not fail on a missing figure.
struct ServerStatus: Decodable {
    struct Listener: Decodable {
        var `protocol`: String?
        var address: String?
        var received: Int?
        var parseProblems: Int?
        var dropped: Int?
        var openConnections: Int?
    }

    struct Ingest: Decodable {
        var accepted: Int?
        var committed: Int?
        var queued: Int?
        var dropped: Int?
        var batches: Int?
    }

    struct Store: Decodable {
        var path: String?
        var bytes: Int?
        var indexedUpTo: Int?
        var newestId: Int64?
    }

    var version: String?
    var startedAt: String?
    var uptimeSeconds: Double?
    var listeners: [Listener]?
    var ingest: Ingest?
    var store: Store?
}
