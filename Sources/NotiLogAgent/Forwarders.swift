import Foundation

/// The forwarder for an output URL: `http://` and `https://` go to the server's acknowledged ingest;
/// `syslog+tcp://` and `syslog+udp://` to any syslog receiver (`SyslogForwarder`).
public enum Forwarders {
    public static func make(_ output: AgentConfiguration.Output, agentID: String, token: String?) throws -> any Forwarder {
        switch output.scheme {
        case "syslog+tcp", "syslog+udp":
            guard let url = URL(string: output.url), let host = url.host, let port = url.port else {
                throw ForwardError("\(output.url) needs a host and a port")
            }
            return SyslogForwarder(transport: output.scheme == "syslog+tcp" ? .tcp : .udp, host: host, port: port, timeout: output.timeout)
        default:
            return HTTPIngestForwarder(url: output.url, agentID: agentID, token: token, caFile: output.caFile, timeout: output.timeout)
        }
    }
}
