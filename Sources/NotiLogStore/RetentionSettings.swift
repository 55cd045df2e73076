import NotiLogCore

/// The retention policy set at run time (from the web UI or `PUT /api/v1/settings/retention`), kept in the store
/// and in force over the configuration file's until it is removed.
public struct RetentionOverride: Sendable, Hashable {
    public var policy: RetentionPolicy
    public var updatedAt: SyslogTimestamp
    /// Who set it: a user's or a token's name.
    public var updatedBy: String

    public init(policy: RetentionPolicy, updatedAt: SyslogTimestamp, updatedBy: String) {
        self.policy = policy
        self.updatedAt = updatedAt
        self.updatedBy = updatedBy
    }
}

/// A store that keeps settings changed at run time, and can say how old its oldest record is.
public protocol RetentionSettingsStore: Sendable {
    /// The policy set at run time, or nil when the configuration file's is in force.
    func retentionOverride() async throws(StoreError) -> RetentionOverride?
    /// Stores a policy set at run time; nil removes it (back to the configuration file's).
    func setRetentionOverride(_ value: RetentionOverride?) async throws(StoreError)
    /// The reception time of the oldest record kept, nil when the store is empty.
    func oldestReceivedAt() async throws(StoreError) -> SyslogTimestamp?
}
