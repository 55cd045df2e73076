import Foundation
import ArgumentParser
import NotiLogServer

/// `notilog-server validate`: checks a configuration without starting (the unit's `ExecStartPre=`).
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check the configuration (file, NOTILOG_* variables and flags) without starting.",
        discussion: "Prints \"configuration OK\" and exits 0, or lists every problem with its key path and exits 1."
    )

    @OptionGroup var options: ServerOptions

    func run() throws {
        let configuration = options.load()
        let settings: ServerSettings
        do {
            settings = try configuration.resolved()
        } catch {
            var stderr = StandardError()
            print("\(configuration.file ?? "configuration"): \(error.message):", to: &stderr)
            for problem in error.problems { print("  \(problem)", to: &stderr) }
            throw ExitCode(1)
        }
        print("configuration OK")
        print("  file: \(configuration.file ?? "(none: defaults)")")
        print("  data: \(settings.dataDirectory)")
        for l in settings.listeners {
            let allow = l.allow.isEmpty ? "" : " (allow \(l.allow.map(\.description).joined(separator: ", ")))"
            print("  syslog: \(l.transport.rawValue) \(HostPort(host: l.host, port: l.port))\(allow)")
        }
        let scheme = settings.httpSettings.tls == nil ? "http" : "https, certificate \(settings.httpSettings.certFile ?? "?")"
        print("  http: \(settings.http) (\(scheme); API under /api/v1, metrics at /metrics)")
        let r = settings.maintenance.retention
        let age = r.maxAgeSeconds.map { ConfigurationValues.text(.seconds($0)) } ?? "off"
        let size = r.maxBytes.map { "\($0) bytes" } ?? "off"
        print("  retention: max_age \(age), max_size \(size)")
        print("  time zone: \(settings.timeZone.identifier)")
        let channels = settings.alerting.channels.sorted { $0.key < $1.key }.map { "\($0.key) (\($0.value.type))" }
        print("  channels: \(channels.isEmpty ? "none" : channels.joined(separator: ", "))")
        let rules = settings.alerting.rules
        print("  rules: \(rules.count)\(rules.isEmpty ? "" : " (" + rules.map(\.name).joined(separator: ", ") + ")")")
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
