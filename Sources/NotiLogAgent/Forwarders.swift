import Foundation
import NotiLogCurl

/// The forwarder for an output URL: `http://` and `https://` go to the server's acknowledged ingest;
/// `syslog+tcp://`, `syslog+udp://` and `syslog+tls://` to any syslog receiver (`SyslogForwarder`).
public enum Forwarders {
    public static func make(_ output: AgentConfiguration.Output, agentID: String, token: String?) throws -> any Forwarder {
        switch output.scheme {
        case "syslog+tcp", "syslog+udp", "syslog+tls":
            guard let url = URL(string: output.url), let host = url.host, let port = url.port else {
                throw ForwardError("\(output.url) needs a host and a port")
            }
            let transport: SyslogForwarder.Transport = output.scheme == "syslog+tcp" ? .tcp : output.scheme == "syslog+udp" ? .udp : .tls
            let tls = TLSConnection.Options(caFile: output.caFile, certificateFile: output.clientCertificateFile, keyFile: output.clientKeyFile)
            return SyslogForwarder(transport: transport, host: Self.unbracketed(host), port: port, timeout: output.timeout, tls: tls)
        default:
            return HTTPIngestForwarder(
                url: output.url, agentID: agentID, token: token, caFile: output.caFile, certificateFile: output.clientCertificateFile,
                keyFile: output.clientKeyFile, timeout: output.timeout)
        }
    }

    /// `::1` for `[::1]` (URL hosts keep the brackets of an IPv6 address on some platforms).
    static func unbracketed(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
