import Foundation
import Hummingbird
import NIOCore
import NotiLogCollector
import NotiLogCore
import NotiLogStore
import Synchronization

/// `POST /api/v1/ingest`: the acknowledged way in, for agents.
///
/// The body is a batch of RFC 6587 octet-counted syslog messages (`LEN SP MSG`, RFC 5424 or 3164 — parsed as the
/// listeners parse them, with the time zone configured for the sender's address). The answer comes only after
/// the whole batch is committed, so an agent may forget a batch once it has a 200.
///
/// With `?agent=ID&batch=SEQ` the batch is idempotent: its mark is stored in the transaction that stores its
/// records, and the same (agent, batch) sent again — a retry after a lost answer, a timeout, a server killed
/// right after committing — is answered `"duplicate": true` and not stored twice. One copy of a batch is let in
/// at a time; a second copy that arrives while the first is being committed waits for it.
///
/// Framing errors (a length that is not a number, a frame that runs past the end) reject the whole batch with 400
/// and store nothing: they mean a broken sender, which must not have half its batch stored and then retry it. An
/// oversized message is cut at the listeners' frame limit and stored with the problem noted, as listeners do.
///
/// With `Content-Type: application/x-ndjson` (or `application/jsonl`, `application/json-lines`) the body is JSON
/// lines instead, one object per record (`JSONLinesReader`); a bad line rejects the batch the same way, naming
/// the line. Any other JSON type is 415; every other type (or none) is read as syslog frames.
struct IngestRoutes: Sendable {
    let api: APIRoutes

    static let maxBodyBytes = 32 * 1024 * 1024
    static let maxMessageBytes = 256 * 1024

    func register(on v1: RouterGroup<APIRequestContext>) {
        v1.post("ingest") { request, context in try await self.ingest(request, context) }
    }

    /// A batch being committed: its second copy waits for it.
    struct BatchKey: Hashable, Sendable {
        var agent: String
        var sequence: Int64
    }

    func ingest(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        try await api.authorize(request, .ingest)
        let p = APIRoutes.parameters(request)
        let key = try Self.batchKey(p)
        let format = try Self.bodyFormat(request.headers[.contentType])
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        if let key {
            // Already stored, or being stored by another request: answer from the mark.
            if let mark = try await waitForMark(key) { return Self.answer(key, records: mark.records, duplicate: true) }
        }
        let parser = api.server.sources.parsers.parser(for: context.remoteAddress)
        let source = context.remoteAddress?.ipAddress
        let receivedAt = SyslogTimestamp.now()
        let records: [LogRecord]
        do {
            records = try body.withUnsafeReadableBytes { bytes throws(APIError) -> [LogRecord] in
                switch format {
                case .syslog: return try Self.records(bytes, parser: parser, receivedAt: receivedAt, source: source)
                case .jsonLines: return try Self.jsonLineRecords(bytes, receivedAt: receivedAt, source: source)
                }
            }
        } catch {
            if let key { api.server.ingestInFlight.withLock { _ = $0.remove(key) } }
            throw error
        }
        defer { if let key { api.server.ingestInFlight.withLock { _ = $0.remove(key) } } }
        let mark = key.map { IngestMark(agent: $0.agent, sequence: $0.sequence, records: records.count, storedAt: receivedAt) }
        switch await api.server.sources.pipeline.submitAndWait(records, mark: mark) {
        case .committed:
            return Self.answer(key, records: records.count, duplicate: false)
        case .closed, .full:
            throw APIError(.serviceUnavailable, "unavailable", "the server is shutting down; nothing was stored, send the batch again")
        case .lost:
            throw APIError(.serviceUnavailable, "unavailable", "the store failed while the server shut down; send the batch again")
        }
    }

    enum BodyFormat { case syslog, jsonLines }

    static let jsonLinesTypes: Set<String> = ["application/x-ndjson", "application/jsonl", "application/json-lines"]

    /// Any type is read as syslog frames (curl sends form-urlencoded unless told) except JSON: JSON lines under
    /// their types, any other JSON refused.
    static func bodyFormat(_ contentType: String?) throws(APIError) -> BodyFormat {
        guard let contentType else { return .syslog }
        let type = contentType.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces).lowercased()
        if jsonLinesTypes.contains(type) { return .jsonLines }
        if type.contains("json") {
            throw APIError(
                .unsupportedMediaType, "unsupported_media_type",
                "send octet-counted syslog messages (Content-Type: application/syslog) or JSON lines, one object per line "
                    + "(Content-Type: application/x-ndjson); \(type.prefix(100)) is not accepted here")
        }
        return .syslog
    }

    /// The records of a JSON-lines body; a bad line names its number and what is wrong with it.
    static func jsonLineRecords(_ bytes: UnsafeRawBufferPointer, receivedAt: SyslogTimestamp, source: String?) throws(APIError) -> [LogRecord] {
        do {
            return try JSONLinesReader.records(bytes, receivedAt: receivedAt, source: source, maxMessageBytes: maxMessageBytes)
        } catch {
            throw APIError(.badRequest, "invalid_body", "\(error.description); nothing was stored")
        }
    }

    /// `agent` and `batch` together, or neither.
    static func batchKey(_ p: [String: String]) throws(APIError) -> BatchKey? {
        switch (p["agent"], p["batch"]) {
        case (nil, nil):
            return nil
        case (let agent?, let batch?):
            guard AgentID.isValid(agent) else { throw APIError.invalidParameter("agent", AgentID.rule) }
            guard let sequence = Int64(batch), sequence >= 0 else { throw APIError.invalidParameter("batch", "a whole number ≥ 0") }
            return BatchKey(agent: agent, sequence: sequence)
        default:
            throw APIError.invalidParameter(p["agent"] == nil ? "agent" : "batch", "agent and batch go together (both or neither)")
        }
    }

    /// The stored mark of a batch; nil after claiming it for this request (it is not stored and no one else is
    /// storing it).
    private func waitForMark(_ key: BatchKey) async throws -> IngestMark? {
        while true {
            do {
                if let mark = try await api.store.ingestMark(agent: key.agent, sequence: key.sequence) { return mark }
            } catch {
                throw APIError.store(error)
            }
            if api.server.ingestInFlight.withLock({ $0.insert(key).inserted }) {
                // Claimed; a copy that committed between the lookup and the claim has left its mark.
                if let mark = try? await api.store.ingestMark(agent: key.agent, sequence: key.sequence) {
                    api.server.ingestInFlight.withLock { _ = $0.remove(key) }
                    return mark
                }
                return nil
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func answer(_ key: BatchKey?, records: Int, duplicate: Bool) -> Response {
        var members: [(String, JSONValue)] = [("stored", .int(records)), ("duplicate", .bool(duplicate))]
        if let key { members += [("agent", .string(key.agent)), ("batch", .int(key.sequence))] }
        return APIRoutes.json(.object(members))
    }

    /// The messages of an octet-counted body, parsed; a framing error names the byte offset.
    static func records(
        _ bytes: UnsafeRawBufferPointer, parser: SyslogParser, receivedAt: SyslogTimestamp, source: String?
    ) throws(APIError) -> [LogRecord] {
        var records: [LogRecord] = []
        var i = 0
        let n = bytes.count
        while i < n {
            // A final line break (a file sent with curl --data-binary) is not a frame.
            if bytes[i] == UInt8(ascii: "\n"), i == n - 1 { break }
            var length = 0
            var digits = 0
            let start = i
            while i < n, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9"), digits < 10 {
                length = length * 10 + Int(bytes[i] - UInt8(ascii: "0"))
                digits += 1
                i += 1
            }
            guard digits > 0, digits < 10, bytes[start] != UInt8(ascii: "0"), i < n, bytes[i] == UInt8(ascii: " ") else {
                throw APIError(
                    .badRequest, "invalid_body",
                    "byte \(start): expected an octet-counted frame \"LENGTH SP MESSAGE\" (RFC 6587); nothing was stored")
            }
            i += 1
            guard length <= n - i else {
                throw APIError(
                    .badRequest, "invalid_body", "byte \(start): the frame says \(length) bytes, only \(n - i) follow; nothing was stored")
            }
            let kept = min(length, maxMessageBytes)
            var record = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[i..<(i + kept)]), receivedAt: receivedAt, source: source)
            if kept < length {
                record.problems.insert(FrameProblem.oversized(limit: maxMessageBytes, declaredLength: length).parseProblem, at: 0)
            }
            records.append(record)
            i += length
        }
        return records
    }
}
