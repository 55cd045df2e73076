import Hummingbird
import NotiLogCore
import NotiLogStore

/// An error the API answers with: `{"error":{"code":"invalid_query","message":"…","column":7}}`.
public struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// Stable, snake_case: unauthorized, forbidden, invalid_query, invalid_parameter, not_found, method_not_allowed,
    /// payload_too_large, unavailable, internal.
    public var code: String
    public var message: String
    /// For query errors: the 1-based column in the query text.
    public var column: Int?
    /// For an invalid rule: each problem with the key (`field`) and the line it names, so a form can show it there.
    var problems: [JSONValue]?

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, column: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.column = column
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func invalidParameter(_ name: String, _ message: String) -> APIError {
        APIError(.badRequest, "invalid_parameter", "\(name): \(message)")
    }

    static func invalidQuery(_ error: QueryError) -> APIError {
        APIError(.badRequest, "invalid_query", error.message, column: error.column)
    }

    /// A store failure: the details go to the server's log, the client hears that the store failed.
    static func store(_ error: StoreError) -> APIError {
        APIError(.internalServerError, "internal", "the store failed: \(error.message)")
    }

    var json: JSONValue {
        var members: [(String, JSONValue)] = [("code", .string(code)), ("message", .string(message))]
        if let column { members.append(("column", .int(column))) }
        if let problems { members.append(("problems", .array(problems))) }
        return .object([("error", .object(members))])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"notilog\"" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json.bytes)))
    }
}

/// Turns every error into the API's JSON error shape: HTTPError (unknown route, body too large) keeps its status.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            if error.status == .internalServerError {
                context.logger.error("API request failed", metadata: ["http.path": "\(request.uri.path)", "error.message": "\(error.message)"])
            }
            throw error
        } catch let error as HTTPResponseError {
            let code: String =
                switch error.status {
                case .notFound: "not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .contentTooLarge: "payload_too_large"
                case .unauthorized: "unauthorized"
                default: error.status.code < 500 ? "bad_request" : "internal"
                }
            let message = error.status == .notFound ? "no such endpoint: \(request.method) \(request.uri.path)" : error.status.reasonPhrase
            throw APIError(error.status, code, message)
        } catch {
            context.logger.error("API request failed", metadata: ["http.path": "\(request.uri.path)", "error.message": "\(error)"])
            throw APIError(.internalServerError, "internal", "internal error")
        }
    }
}

/// Answers HEAD as GET without the body: the route's status and headers (its Content-Length included), so
/// monitoring probes and link checkers see what a GET would. It wraps the whole router: the router's own
/// middleware runs only after a route (or none) was chosen by method.
struct HeadAsGetResponder<Inner: HTTPResponder>: HTTPResponder {
    let inner: Inner

    func respond(to request: Request, context: Inner.Context) async throws -> Response {
        guard request.method == .head else { return try await inner.respond(to: request, context: context) }
        var head = request.head
        head.method = .get
        var response = try await inner.respond(to: Request(head: head, body: request.body), context: context)
        let length = response.headers[.contentLength] ?? response.body.contentLength.map(String.init)
        response.body = ResponseBody()
        response.headers[.contentLength] = length
        return response
    }
}
