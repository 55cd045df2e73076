import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import NotiLogCore
import NotiLogStore

/// The request context of WebSocket upgrade requests, which a router of their own sees (`GET /api/v1/tail` is
/// its one route): Hummingbird's core storage and the handler reference the upgrade needs.
struct TailUpgradeContext: RequestContext, WebSocketRequestContext {
    var coreContext: CoreRequestContextStorage
    let webSocket: WebSocketHandlerReference<TailUpgradeContext>

    init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
    }
}

/// `GET /api/v1/tail`, the live tail: a WebSocket that sends the records matching a query as they are committed.
///
/// The upgrade is refused (HTTP 400, connection closed, as hummingbird-websocket answers a refused upgrade)
/// without a `read` credential — a bearer token, or a session cookie with an `Origin` of this server (a browser
/// always sends `Origin` on a WebSocket handshake; a page of another site is refused, so its script cannot read
/// a signed-in user's logs). Without `Upgrade: websocket` the same checks answer as the API does (401, 403, 400
/// with the JSON error) or, when they pass, 426.
///
/// Messages, all JSON text frames:
/// * `{"type":"records","records":[…]}` — records, oldest first, each as the search API returns it;
/// * `{"type":"gap","missed":N,"from_id":A,"to_id":B,"from":T,"to":T,"reason":"…"}` — records the client did not
///   get (N of them; null when not counted), in place in the stream;
/// * `{"type":"live","position":P,"stored":N}` — once, after the stored records (`after_id`, `last`);
/// * `{"type":"stats","position":P,"sent":N,"missed":N,"rate":R,"queued":Q}` — every second;
/// * `{"type":"error","error":{"code":"…","message":"…","column":C}}` — then the server closes (4400 for a bad
///   query or parameter, 4401/4403 when the credential stops being valid, 1011 when the store fails).
///
/// `position`: every record with an id up to it was sent or reported in a gap; reconnecting with
/// `after_id=position` (or the id of the last record received) resumes without a gap or a repeat.
struct TailRoutes: Sendable {
    let api: APIRoutes
    var hub: TailHub { api.server.tail }

    /// The query parameters: `q`, `after_id` (resume after this id), `last` (start with the newest N stored
    /// matches; ignored with `after_id`).
    struct Parameters: Sendable {
        var query: Query
        var afterID: Int64?
        var last: Int
    }

    static let closeInvalid = WebSocketErrorCode(codeNumber: 4400)
    static let closeUnauthorized = WebSocketErrorCode(codeNumber: 4401)
    static let closeForbidden = WebSocketErrorCode(codeNumber: 4403)
    /// RFC 6455's "Try Again Later" (IANA-registered code 1013): too many tails are open.
    static let closeTryAgainLater = WebSocketErrorCode(codeNumber: 1013)
    /// Records per `records` message at most.
    static let recordsPerMessage = 1_000
    /// Bytes per `records` message at most (about; a message holds at least one record).
    static let bytesPerMessage = 512 * 1024
    /// Frames of a longer message are sent as fragments of this size (clients' default frame limit is 16 KiB).
    static let fragmentSize = 1 << 14

    static func parameters(_ request: Request) throws(APIError) -> Parameters {
        let p = APIRoutes.parameters(request)
        let query: Query
        do {
            query = try QueryParser.parse(p["q"] ?? "")
        } catch {
            throw APIError.invalidQuery(error)
        }
        var afterID: Int64?
        if let text = p["after_id"], !text.isEmpty {
            guard let id = Int64(text), id >= 0 else {
                throw APIError.invalidParameter("after_id", "expected a record id (a whole number, 0 or more), got '\(text.prefix(40))'")
            }
            afterID = id
        }
        let last = try APIRoutes.integer(p, "last", default: 0, in: 0...10_000)
        return Parameters(query: query, afterID: afterID, last: last)
    }

    /// Who may open a tail: `read`, and for a session an `Origin` of this server (any credential sending an
    /// `Origin` must send this server's).
    @discardableResult
    func admit(_ request: Request) async throws(APIError) -> Principal {
        let principal = try await api.authorize(request, for: .read)
        if principal.session != nil && request.headers[.origin] == nil {
            throw APIError(.forbidden, "forbidden_origin", "a session opens the live tail from this server's pages only (no Origin header)")
        }
        try api.checkOrigin(request)
        return principal
    }

    // MARK: Routes

    /// The plain HTTP route: the same checks, then 426 (this is a WebSocket endpoint).
    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.get("tail") { request, _ in
            try await self.admit(request)
            _ = try Self.parameters(request)
            let error = APIError(
                HTTPResponse.Status(code: 426, reasonPhrase: "Upgrade Required"), "upgrade_required",
                "the live tail is a WebSocket: connect with 'Upgrade: websocket' (ws:// or wss://)")
            var headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"]
            headers[.upgrade] = "websocket"
            headers[.connection] = "Upgrade"
            return Response(status: error.status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: error.json.bytes)))
        }
    }

    func registerUpgrade(on router: Router<TailUpgradeContext>, logger: Logger) {
        router.ws(
            "api/v1/tail",
            shouldUpgrade: { request, _ in
                do throws(APIError) {
                    try await self.admit(request)
                } catch {
                    logger.debug(
                        "live tail refused", metadata: ["error.code": "\(error.code)", "error.message": "\(error.message)"])
                    return .dontUpgrade
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                try await self.serve(inbound, outbound, request: context.request, logger: logger)
            })
    }

    // MARK: A connection

    /// Runs one tail: the stored records asked for, then live ones, until the client leaves or the server stops.
    func serve(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, request: Request, logger: Logger) async throws {
        let parameters: Parameters
        do {
            parameters = try Self.parameters(request)
        } catch {
            try await Self.send(Self.errorMessage(error), outbound)
            try await outbound.close(Self.closeInvalid, reason: error.code)
            return
        }
        guard let client = hub.register(QueryMatcher(parameters.query)) else {
            let error = APIError(
                .serviceUnavailable, "too_many_tails",
                "\(hub.limits.connections) live tails are open already; try again later")
            try await Self.send(Self.errorMessage(error), outbound)
            try await outbound.close(Self.closeTryAgainLater, reason: error.code)
            return
        }
        defer { hub.unregister(client) }
        await withThrowingTaskGroup(of: Void.self) { group in
            // Client messages are not used; reading answers pings and sees the client's close.
            group.addTask {
                for try await _ in inbound {}
            }
            // A clock for the statistics, and the credential checked again now and then.
            let recheck = api.server.configuration.tailCredentialRecheck
            group.addTask {
                var checked = ContinuousClock.now
                while !Task.isCancelled {
                    try await Task.sleep(for: min(.seconds(1), recheck))
                    if ContinuousClock.now - checked >= recheck {
                        checked = ContinuousClock.now
                        do throws(APIError) {
                            try await self.admit(request)
                        } catch where error.status == .unauthorized || error.status == .forbidden {
                            client.end(error)
                        } catch {
                            // The store could not say (busy, failing): the credential is checked again next time.
                            logger.warning("live tail: credential not checked", metadata: ["error.message": "\(error.message)"])
                        }
                    }
                    client.poke()
                }
            }
            group.addTask {
                let sender = TailSender(hub: hub, client: client, outbound: outbound, parameters: parameters, logger: logger)
                try await sender.run()
            }
            // The first to end ends the connection: the client left (or its socket failed), or the sender is done.
            do {
                _ = try await group.next()
            } catch {
                logger.debug("live tail ended", metadata: ["error.message": "\(error)"])
            }
            group.cancelAll()
        }
    }

    static func errorMessage(_ error: APIError) -> [UInt8] {
        var members: [(String, JSONValue)] = [("code", .string(error.code)), ("message", .string(error.message))]
        if let column = error.column { members.append(("column", .int(column))) }
        return JSONValue.object([("type", .string("error")), ("error", .object(members))]).bytes
    }

    /// One text message, in fragments when long.
    static func send(_ bytes: [UInt8], _ outbound: WebSocketOutboundWriter) async throws {
        if bytes.count <= fragmentSize {
            try await outbound.write(.custom(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: bytes))))
            return
        }
        try await outbound.withTextMessageWriter { writer in
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + fragmentSize)
                try await writer(ByteBuffer(bytes: bytes[offset..<end]))
                offset = end
            }
        }
    }
}

/// The sending half of one tail connection: catch-up from the store, then the client's queue, statistics each
/// second. The only writer of the connection's frames.
struct TailSender {
    let hub: TailHub
    let client: TailClient
    let outbound: WebSocketOutboundWriter
    let parameters: TailRoutes.Parameters
    let logger: Logger

    func run() async throws {
        var sent: Int64 = 0
        // Records up to `floor` were sent from the store: the same ones in the queue are not sent again.
        var floor: Int64 = 0
        var stored = 0
        do {
            (floor, stored) = try await catchUp()
        } catch let error as APIError {
            try await TailRoutes.send(TailRoutes.errorMessage(error), outbound)
            try await outbound.close(.unexpectedServerError, reason: error.code)
            return
        }
        sent += Int64(stored)
        var position = max(floor, client.startPosition)
        try await TailRoutes.send(
            JSONValue.object([("type", .string("live")), ("position", .int(position)), ("stored", .int(stored))]).bytes, outbound)

        var lastStats = ContinuousClock.now
        var sentSinceStats: Int64 = 0
        var batch = RecordsMessage()
        while true {
            let taken = await client.take()
            if taken.closed { return }
            for item in taken.items {
                switch item {
                case .records(let records):
                    for r in records where r.id > floor {
                        batch.add(r)
                        if batch.full {
                            sentSinceStats += Int64(batch.count)
                            try await TailRoutes.send(batch.finish(), outbound)
                        }
                    }
                case .gap(var gap):
                    if gap.toID <= floor { continue }
                    if gap.fromID <= floor {
                        // Partly sent from the store: how many of the rest matched is not known.
                        gap.fromID = floor + 1
                        gap.missed = nil
                    }
                    if batch.count > 0 {
                        sentSinceStats += Int64(batch.count)
                        try await TailRoutes.send(batch.finish(), outbound)
                    }
                    try await TailRoutes.send(Self.gapMessage(gap), outbound)
                }
            }
            if batch.count > 0 {
                sentSinceStats += Int64(batch.count)
                try await TailRoutes.send(batch.finish(), outbound)
            }
            if let p = taken.position { position = max(position, p) }
            if let error = client.ended {
                try await TailRoutes.send(TailRoutes.errorMessage(error), outbound)
                try await outbound.close(error.status == .forbidden ? TailRoutes.closeForbidden : TailRoutes.closeUnauthorized, reason: error.code)
                return
            }
            let now = ContinuousClock.now
            let elapsed = now - lastStats
            if elapsed >= .milliseconds(950) {
                sent += sentSinceStats
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = (Double(sentSinceStats) / seconds * 10).rounded() / 10
                try await TailRoutes.send(
                    JSONValue.object([
                        ("type", .string("stats")), ("position", .int(position)), ("sent", .int(sent)), ("missed", .int(client.missed)),
                        ("rate", .double(rate)), ("queued", .int(client.queued)),
                    ]).bytes, outbound)
                sentSinceStats = 0
                lastStats = now
            }
        }
    }

    /// Sends the stored records asked for (`after_id`: every match after it, at most `catchUp` of the newest;
    /// `last`: the newest N); returns the newest id they cover and how many were sent.
    func catchUp() async throws -> (floor: Int64, sent: Int) {
        let store = hub.store
        let limit: Int
        let after = parameters.afterID
        if after != nil {
            limit = hub.limits.catchUp + 1
        } else if parameters.last > 0 {
            limit = parameters.last
        } else {
            return (0, 0)
        }
        var records: [StoredRecord]
        do {
            records = try await store.search(SearchRequest(query: parameters.query, now: .now(), limit: limit, after: after)).records
        } catch {
            throw APIError.store(error)
        }
        // Newest first: more than the limit leaves out the oldest, reported as a gap before the rest.
        if let after, records.count > hub.limits.catchUp {
            records.removeLast(records.count - hub.limits.catchUp)
            let oldest = records.last!
            let start = try? await store.records(after: after, limit: 1).first
            let gap = TailGap(
                missed: nil, fromID: after + 1, toID: oldest.id - 1, from: start?.record.receivedAt, to: oldest.record.receivedAt,
                reason: .catchUpLimit)
            try await TailRoutes.send(Self.gapMessage(gap), outbound)
        }
        var message = RecordsMessage()
        for r in records.reversed() {
            message.add(r)
            if message.full { try await TailRoutes.send(message.finish(), outbound) }
        }
        if message.count > 0 { try await TailRoutes.send(message.finish(), outbound) }
        return (max(after ?? 0, records.first?.id ?? 0), records.count)
    }

    static func gapMessage(_ gap: TailGap) -> [UInt8] {
        JSONValue.object([
            ("type", .string("gap")), ("missed", .int(gap.missed)), ("from_id", .int(gap.fromID)), ("to_id", .int(gap.toID)),
            ("from", .time(gap.from)), ("to", .time(gap.to)), ("reason", .string(gap.reason.rawValue)),
        ]).bytes
    }
}

/// A `records` message being filled.
struct RecordsMessage {
    private var out: [UInt8] = []
    private(set) var count = 0

    mutating func add(_ r: StoredRecord) {
        if count == 0 {
            out.removeAll(keepingCapacity: true)
            out.append(contentsOf: #"{"type":"records","records":["#.utf8)
        } else {
            out.append(UInt8(ascii: ","))
        }
        r.record.appendJSON(to: &out, id: r.id)
        count += 1
    }

    var full: Bool { count >= TailRoutes.recordsPerMessage || out.count >= TailRoutes.bytesPerMessage }

    /// The message's bytes; empties it.
    mutating func finish() -> [UInt8] {
        out.append(contentsOf: "]}".utf8)
        count = 0
        let bytes = out
        out.removeAll(keepingCapacity: true)
        return bytes
    }
}
