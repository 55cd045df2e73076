import NotiLogCore

extension AlertNotice {
    /// The notice as an alert row's detail: what `JSONEncoder` writes with snake_case keys, sorted keys and
    /// unescaped slashes, written directly (`JSONWriter`; the service writes thousands of these per save).
    public func detailJSON() -> [UInt8] {
        var w = JSONWriter(capacity: 1024 + samples.count * 256)
        w.beginObject()
        w.key("alert_id")
        w.int(alertID)
        w.key("count")
        w.int(count)
        if let firstSeen {
            w.key("first_seen")
            w.timestamp(firstSeen)
        }
        w.key("group")
        w.beginArray()
        for g in group {
            w.beginObject()
            w.key("field")
            w.string(g.field)
            if let value = g.value {
                w.key("value")
                w.string(value)
            }
            w.endObject()
        }
        w.endArray()
        if let lastSeen {
            w.key("last_seen")
            w.timestamp(lastSeen)
        }
        w.key("reminder_number")
        w.int(reminderNumber)
        if let resolvedAt {
            w.key("resolved_at")
            w.timestamp(resolvedAt)
        }
        w.key("rule")
        w.string(rule)
        if let ruleDescription {
            w.key("rule_description")
            w.string(ruleDescription)
        }
        w.key("samples")
        w.beginArray()
        for sample in samples { sample.write(&w, snakeCase: true) }
        w.endArray()
        if let searchURL {
            w.key("search_url")
            w.string(searchURL)
        }
        if let severity {
            w.key("severity")
            w.string(severity)
        }
        w.key("started_at")
        w.timestamp(startedAt)
        w.key("state")
        w.string(state.rawValue)
        w.key("summary")
        w.string(summary)
        if let suppressed {
            w.key("suppressed")
            w.beginObject()
            w.key("count")
            w.int(suppressed.count)
            w.key("top_hosts")
            w.strings(suppressed.topHosts)
            w.endObject()
        }
        w.endObject()
        return w.bytes
    }
}

extension AlertNotice.Sample {
    /// As its synthesized `Codable` conformance writes it (keys sorted; `received_at` in snake_case).
    func write(_ w: inout JSONWriter, snakeCase: Bool) {
        w.beginObject()
        if let app {
            w.key("app")
            w.string(app)
        }
        if let hostname {
            w.key("hostname")
            w.string(hostname)
        }
        if let id {
            w.key("id")
            w.int(id)
        }
        w.key("message")
        w.string(message)
        if snakeCase { w.key("received_at") } else { w.key("receivedAt") }
        w.timestamp(receivedAt)
        if let severity {
            w.key("severity")
            w.string(severity.name)
        }
        w.endObject()
    }
}
