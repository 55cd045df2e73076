import Foundation
import NotiLogCore
import NotiLogTestSupport
import Testing

@testable import NotiLogAlerts

/// The webhook notifier against `Tests/peers/webhook_receiver.py`, which checks the HMAC-SHA256 signature.
@Suite struct NotifWebhookTests {
    static func notifier(port: Int, secret: String? = "hook-secret", headers: [String: String] = [:]) -> WebhookNotifier {
        WebhookNotifier(
            channel: "ops-hook",
            settings: WebhookSettings(
                url: "http://127.0.0.1:\(port)/hooks/notilog?team=ops", secret: secret.map { .value(ChannelSecret($0)) },
                headers: headers.sorted { $0.key < $1.key }.map { WebhookHeader(name: $0.key, value: ChannelSecret($0.value)) }),
            secret: secret.map(ChannelSecret.init), clock: NotifFixtures.clock)
    }

    static func send(_ notifier: WebhookNotifier, _ notice: AlertNotice) async -> DeliveryOutcome {
        await Peers.offThread { notifier.send(notice, idempotencyKey: notice.idempotencyKey(channel: notifier.channel)) }
    }

    @Test func aSignedPayloadArrivesAndVerifies() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.webhook(in: dir, ["--secret", "hook-secret"])
        defer { peer.stop() }
        let hostile = NotifFixtures.hostile.map(\.text) + [NotifFixtures.tenKilobyteLine]
        let notice = NotifFixtures.notice(samples: hostile.map { NotifFixtures.sample($0) })
        let outcome = await Self.send(Self.notifier(port: peer.port, headers: ["X-Team": "ops", "Authorization": "Bearer abc"]), notice)
        #expect(outcome == .delivered(detail: "HTTP 200"))
        let record = try #require(try await peer.records(atLeast: 1).first)
        #expect(record["signature_verified"] as? Bool == true)
        #expect(record["path"] as? String == "/hooks/notilog")
        #expect(record["query"] as? String == "team=ops")
        let headers = try #require(record["headers"] as? [String: String])
        #expect(headers["content-type"] == "application/json")
        #expect(headers["idempotency-key"] == "42:ops-hook:firing")
        #expect(headers["x-team"] == "ops")
        #expect(headers["authorization"] == "Bearer abc")
        let body = try #require(record["body"] as? String)
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(payload["version"] as? Int == 1)
        #expect(payload["channel"] as? String == "ops-hook")
        #expect(payload["idempotency_key"] as? String == "42:ops-hook:firing")
        #expect(payload["sent_at"] as? String == "2026-01-01T00:01:30Z")
        #expect((payload["text"] as? String)?.hasPrefix("[FIRING] ssh-brute-force\n12 matches in 60 s\n") == true)
        let n = try #require(payload["notice"] as? [String: Any])
        #expect(n["alert_id"] as? Int == 42)
        #expect(n["rule"] as? String == "ssh-brute-force")
        #expect(n["state"] as? String == "firing")
        #expect(n["count"] as? Int == 12)
        #expect(n["started_at"] as? String == "2026-01-01T00:00:00Z")
        #expect(n["search_url"] as? String == "https://notilog.example.org/search?q=app%3Asshd&from=1")
        #expect(n["rule_description"] as? String == "Many failed SSH logins from one address")
        #expect((n["group"] as? [[String: Any]])?.first?["value"] as? String == "10.0.0.5")
        // Log text goes into JSON exactly as it was: the receiver decodes every byte back.
        let messages = (n["samples"] as? [[String: Any]] ?? []).map { $0["message"] as? String }
        #expect(messages == hostile)
        #expect((n["samples"] as? [[String: Any]])?.first?["received_at"] as? String == "2026-01-01T00:00:05Z")
    }

    @Test func aWrongSecretIsSeenByTheReceiver() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.webhook(in: dir, ["--secret", "the-real-secret"])
        defer { peer.stop() }
        #expect(await Self.send(Self.notifier(port: peer.port, secret: "another"), NotifFixtures.notice()).isDelivered)
        #expect(await Self.send(Self.notifier(port: peer.port, secret: nil), NotifFixtures.notice()).isDelivered)
        let records = try await peer.records(atLeast: 2)
        #expect(records.map { $0["signature_verified"] as? Bool } == [false, false])
    }

    @Test func serviceUnavailableIsRetried() async throws {
        let dir = TemporaryDirectory()
        let peer = try await Peers.webhook(in: dir, ["--fail-5xx", "1", "--fail-status", "503"])
        defer { peer.stop() }
        let notifier = Self.notifier(port: peer.port)
        #expect(await Self.send(notifier, NotifFixtures.notice()) == .retry(after: nil, reason: "the webhook answered HTTP 503"))
        #expect(await Self.send(notifier, NotifFixtures.notice()) == .delivered(detail: "HTTP 200"))
        let records = try await peer.records(atLeast: 2)
        // The retry carries the same key and the same body.
        #expect(Set(records.compactMap { ($0["headers"] as? [String: String])?["idempotency-key"] }) == ["42:ops-hook:firing"])
        #expect(Set(records.compactMap { $0["body"] as? String }).count == 1)
    }

    @Test func noAnswerIsRetried() async {
        let outcome = await Self.send(Self.notifier(port: Peers.closedPort()), NotifFixtures.notice())
        guard case .retry(nil, let reason) = outcome else {
            Issue.record("expected a retry, got \(outcome)")
            return
        }
        #expect(reason.hasPrefix("cannot connect to http://127.0.0.1:"))
    }

    @Test(arguments: [
        (200, nil, DeliveryOutcome.delivered(detail: "HTTP 200")),
        (204, nil, .delivered(detail: "HTTP 204")),
        (429, "30", .retry(after: .seconds(30), reason: "the webhook answered HTTP 429")),
        (503, " 5 ", .retry(after: .seconds(5), reason: "the webhook answered HTTP 503")),
        (503, "Wed, 21 Oct 2015 07:28:00 GMT", .retry(after: nil, reason: "the webhook answered HTTP 503")),
        (408, nil, .retry(after: nil, reason: "the webhook answered HTTP 408")),
        (301, nil, .failed(reason: "the webhook answered HTTP 301 (a redirect, not followed): configure the final URL")),
        (400, nil, .failed(reason: "the webhook answered HTTP 400")),
        (404, nil, .failed(reason: "the webhook answered HTTP 404")),
    ] as [(Int, String?, DeliveryOutcome)])
    func answersMeanOutcomes(status: Int, retryAfter: String?, outcome: DeliveryOutcome) {
        #expect(WebhookNotifier.outcome(status: status, retryAfter: retryAfter) == outcome)
    }

    @Test func theSignatureIsHMACSHA256() {
        // RFC 4231, test case 2.
        #expect(
            WebhookNotifier.signature(secret: "Jefe", body: Array("what do ya want for nothing?".utf8))
                == "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(WebhookNotifier.signature(secret: "k", body: []) == "sha256=" + HMACSHA256.hex(key: Array("k".utf8), message: []))
    }
}
