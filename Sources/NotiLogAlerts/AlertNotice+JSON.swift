import NotiLogCore

extension AlertNotice {
    /// The notice as an alert row's detail: what `JSONEncoder` writes with snake_case keys, sorted keys and
    /// unescaped slashes, written directly (`JSONWriter`; the service writes thousands of these per save).
    public func detailJSON() -> [UInt8] {
        var w = JSONWriter(capacity: 1024 + samples.count * 256)
        w.beginObject()
        w.field("alert_id", alertID)
        w.field("count", count)
        w.field("first_seen", firstSeen)
        w.key("group")
        AlertNotice.GroupValue.write(group, &w)
        w.field("last_seen", lastSeen)
        w.field("reminder_number", reminderNumber)
        w.field("resolved_at", resolvedAt)
        w.field("rule", rule)
        w.field("rule_description", ruleDescription)
        w.key("samples")
        w.beginArray()
        for sample in samples { sample.write(&w, snakeCase: true) }
        w.endArray()
        w.field("search_url", searchURL)
        w.field("severity", severity)
        w.field("started_at", startedAt)
        w.field("state", state.rawValue)
        w.field("summary", summary)
        if let suppressed {
            w.key("suppressed")
            w.beginObject()
            w.field("count", suppressed.count)
            w.key("top_hosts")
            w.strings(suppressed.topHosts)
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }
}

extension AlertNotice.GroupValue {
    /// Group values as their synthesized `Codable` conformance writes them (the same in both key styles).
    static func write(_ values: [AlertNotice.GroupValue], _ w: inout JSONWriter) {
        w.beginArray()
        for v in values {
            w.beginObject()
            w.field("field", v.field)
            w.field("value", v.value)
            w.endObject()
        }
        w.endArray()
    }
}

extension AlertNotice.Sample {
    /// As its synthesized `Codable` conformance writes it (keys sorted; `received_at` in snake_case).
    func write(_ w: inout JSONWriter, snakeCase: Bool) {
        w.beginObject()
        w.field("app", app)
        w.field("hostname", hostname)
        w.field("id", id)
        w.field("message", message)
        if snakeCase { w.key("received_at") } else { w.key("receivedAt") }
        w.timestamp(receivedAt)
        w.field("severity", severity?.name)
        w.endObject()
    }
}
