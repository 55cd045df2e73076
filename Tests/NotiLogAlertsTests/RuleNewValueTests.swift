import NotiLogCore
import NotiLogStore
import Testing

@testable import NotiLogAlerts

/// `new_value`: a value of a field never seen before in its group, after a learning period.
struct RuleNewValueTests {
    static let newUser = """
        name: new-user
        kind: new_value
        query: app:sshd "Accepted"
        field: sd.sshd.user
        group_by: [host]
        learn_for: 1h
        resolve_after: 10m
        """

    static func login(_ at: String, _ user: String, host: String = "web-1") -> RuleStep {
        .log(loginLine(at, user, host: host))
    }

    static func loginLine(_ at: String, _ user: String, host: String = "web-1") -> RuleLine {
        line(
            at, host: host, app: "sshd", "Accepted publickey for \(user) from 10.0.0.9",
            sd: [StructuredDataElement(id: "sshd", parameters: [.init("user", user)])])
    }

    static let scenarios: [RuleScenario] = [
        RuleScenario(
            "learns_then_fires_for_each_new_value", newUser,
            [
                .tick("10:00:00"), login("10:10:00", "alice"), login("10:20:00", "bob"), login("11:00:00", "alice"),
                login("11:00:01", "carol"), login("11:00:02", "carol"), login("11:01:00", "dave"), .ticks("11:01:01", "11:12:00"),
            ],
            [
                "11:00:01 firing new-user{host=web-1, sd.sshd.user=carol} send", "11:01:00 firing new-user{host=web-1, sd.sshd.user=dave} send",
                "11:10:02 resolved new-user{host=web-1, sd.sshd.user=carol} send", "11:11:00 resolved new-user{host=web-1, sd.sshd.user=dave} send",
            ]),
        RuleScenario(
            "new_for_its_group", newUser,
            [.tick("10:00:00"), login("10:10:00", "alice", host: "web-1"), login("11:05:00", "alice", host: "web-2")],
            ["11:05:00 firing new-user{host=web-2, sd.sshd.user=alice} send"]),
        RuleScenario(
            "records_without_the_field_are_not_values", newUser,
            [.tick("10:00:00"), .log(line("11:05:00", app: "sshd", "Accepted publickey for root"))], []),
        RuleScenario(
            "a_value_that_returns_after_resolution_is_not_new", newUser,
            [.tick("10:00:00"), login("11:00:00", "carol"), .ticks("11:00:01", "11:10:00"), login("11:20:00", "carol")],
            ["11:00:00 firing new-user{host=web-1, sd.sshd.user=carol} send", "11:10:00 resolved new-user{host=web-1, sd.sshd.user=carol} send"]),
    ]

    @Test(arguments: scenarios)
    func scenario(_ s: RuleScenario) throws {
        #expect(try s.run().log == s.expected)
    }

    @Test func newHostWithoutLearning() throws {
        var h = RuleHarness(try rule("name: new-host\nkind: new_value\nfield: host\nlearn_for: 0s\n"))
        h.send(logRecord(at: "10:00:00", host: "web-1"))
        h.send(logRecord(at: "10:00:01", host: "web-1"))
        let out = h.send(logRecord(at: "10:00:02", host: "db-9"))
        #expect(h.log == ["10:00:00 firing new-host{host=web-1} send", "10:00:02 firing new-host{host=db-9} send"])
        #expect(out.first?.alert.summary == #"new host "db-9""#)
    }

    /// Throttling is per the rule's groups, not per new value: a burst of new users is one notification, and the
    /// next notification that goes out (here the first one's resolution) counts the rest.
    @Test func throttleCountsNewValuesOfAGroup() throws {
        var h = RuleHarness(try rule(Self.newUser + "\nthrottle: {max: 1, per: 1h}"))
        h.tick("10:00:00")
        for (i, user) in ["u1", "u2", "u3", "u4"].enumerated() { h.send(Self.loginLine("11:00:0\(i)", user).record) }
        h.tick("11:30:00")
        h.send(Self.loginLine("12:00:05", "u5").record)
        #expect(
            h.log == [
                "11:00:00 firing new-user{host=web-1, sd.sshd.user=u1} send", "11:00:01 firing new-user{host=web-1, sd.sshd.user=u2} throttled",
                "11:00:02 firing new-user{host=web-1, sd.sshd.user=u3} throttled", "11:00:03 firing new-user{host=web-1, sd.sshd.user=u4} throttled",
                #"11:30:00 resolved new-user{host=web-1, sd.sshd.user=u1} send +3 ["web-1"]"#,
                "11:30:00 resolved new-user{host=web-1, sd.sshd.user=u2} throttled", "11:30:00 resolved new-user{host=web-1, sd.sshd.user=u3} throttled",
                "11:30:00 resolved new-user{host=web-1, sd.sshd.user=u4} throttled", "12:00:05 firing new-user{host=web-1, sd.sshd.user=u5} send",
            ])
    }

    @Test func seenValuesForgetTheLeastRecentlySeen() {
        var seen = SeenValues()
        func isNew(_ value: String) -> Bool { seen.insert(value) }
        for i in 0..<SeenValues.capacity { #expect(isNew("v\(i)")) }
        // Many sightings later, v0 comes back (and becomes the most recent); v1 does not.
        for _ in 0..<(SeenValues.capacity / 2 + 1) { _ = isNew("v\(SeenValues.capacity - 1)") }
        #expect(!isNew("v0"))
        #expect(isNew("new-1"))
        #expect(isNew("new-2"))
        #expect(seen.count == SeenValues.capacity)
        #expect(!isNew("v0"))
        #expect(isNew("v1"))
        #expect(isNew("v2"))
        #expect(seen.count == SeenValues.capacity)
    }

    @Test func seenValuesStayBoundedUnderChurn() {
        var seen = SeenValues()
        for i in 0..<(SeenValues.capacity * 5) { _ = seen.insert("v\(i % (SeenValues.capacity * 2))") }
        #expect(seen.count == SeenValues.capacity)
        #expect(seen.valuesInOrder.count == SeenValues.capacity)
    }
}
