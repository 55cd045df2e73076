/// The release every NotiLog program reports (`--version`, the API's status, the agent's records).
public enum NotiLogVersion {
    public static let current = "0.3.0-dev"
}
