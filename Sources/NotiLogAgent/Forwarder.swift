import Foundation
import NotiLogCurl

/// Where batches go. `send` blocks until the receiver has the batch (or it is clear it does not).
public protocol Forwarder: Sendable {
    func send(_ segment: Spool.Segment) -> ForwardOutcome
    /// For logs and status: `https://collector:8514`.
    var destination: String { get }
}

public enum ForwardOutcome: Sendable, Equatable {
    /// The receiver has committed the batch (or had it already).
    case acknowledged
    /// Not now (unreachable, 5xx, 429, timed out): try again later.
    case retry(String)
    /// Never (the receiver says the batch itself is bad): set it aside.
    case rejected(String)
}

/// The server's acknowledged ingest: `POST /api/v1/ingest?agent=ID&batch=SEQ` with an `ingest` token; answered
/// only after the batch is committed, and idempotent per (agent, batch), so a batch sent again after a lost
/// answer is not stored twice.
public struct HTTPIngestForwarder: Forwarder {
    public let base: String
    public let agentID: String
    public let token: String?
    public let client: HTTPClient

    public init(
        url: String, agentID: String, token: String?, caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
        timeout: Duration = .seconds(30)
    ) {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
        self.agentID = agentID
        self.token = token
        var client = HTTPClient()
        client.timeout = timeout
        client.connectTimeout = .seconds(10)
        client.caFile = caFile
        client.clientCertificateFile = certificateFile
        client.clientKeyFile = keyFile
        client.userAgent = "notilog-agent"
        client.maxResponseBytes = 1 << 20
        self.client = client
    }

    public var destination: String { base }

    public func send(_ segment: Spool.Segment) -> ForwardOutcome {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/syslog")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let url = base + "/api/v1/ingest?agent=\(agentID)&batch=\(segment.sequence)"
        let response: HTTPResponse
        do throws(HTTPClientError) {
            response = try client.send(HTTPRequest(.post, url, headers: headers, body: segment.payload))
        } catch {
            return .retry(error.description)
        }
        let message = Self.message(response)
        switch response.status {
        case 200..<300: return .acknowledged
        // A token problem is the operator's to fix; the batch waits in the spool meanwhile.
        case 401, 403, 404, 408, 429: return .retry("HTTP \(response.status): \(message)")
        case 400..<500: return .rejected("HTTP \(response.status): \(message)")
        default: return .retry("HTTP \(response.status): \(message)")
        }
    }

    static func message(_ response: HTTPResponse) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
            let error = object["error"] as? [String: Any], let message = error["message"] as? String
        {
            return message
        }
        return String(decoding: response.body.prefix(200), as: UTF8.self)
    }
}
