import ArgumentParser
import Foundation
import NotiLogCurl
import Yams

/// `--server`, `--token` and `--token-file`, shared by every command that talks to the server.
///
/// Each setting is taken from the first place that gives it: the flags, then `NOTILOG_SERVER` and `NOTILOG_TOKEN`
/// (or `NOTILOG_TOKEN_FILE`), then `$XDG_CONFIG_HOME/notilog/ctl.yaml` (default `~/.config/notilog/ctl.yaml`:
/// `server:`, and `token:` or `token_file:`), then the defaults: `http://127.0.0.1:8514` and the first readable of
/// `./data/admin.token` and `/var/lib/notilog/admin.token` (what `make run` and the systemd unit create).
struct ConnectionOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The server's URL (default: http://127.0.0.1:8514).", valueName: "url"))
    var server: String?

    @Option(help: ArgumentHelp("API token. Other users can see it in the process list: prefer --token-file or NOTILOG_TOKEN.", valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp("A file holding the API token.", valueName: "path"))
    var tokenFile: String?

    func validate() throws {
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        if let server, ConnectionSettings.checkServer(server) != nil {
            throw ValidationError("--server must be an http:// or https:// URL such as http://127.0.0.1:8514")
        }
    }

    /// The settings in effect, and a client for them.
    func client(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CtlError) -> APIClient {
        APIClient(try resolve(environment: environment))
    }

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(CtlError) -> ConnectionSettings {
        func env(_ name: String) -> String? {
            guard let v = environment[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        var server: (value: String, source: String)? = self.server.map { ($0, "--server") }
        var token: TokenSource? = self.token.map { .literal($0, source: "--token") } ?? tokenFile.map { .file($0, source: "--token-file") }
        if server == nil, let v = env("NOTILOG_SERVER") { server = (v, "NOTILOG_SERVER") }
        if token == nil {
            if let v = env("NOTILOG_TOKEN") {
                token = .literal(v, source: "NOTILOG_TOKEN")
            } else if let v = env("NOTILOG_TOKEN_FILE") {
                token = .file(v, source: "NOTILOG_TOKEN_FILE")
            }
        }
        if server == nil || token == nil, let path = CtlConfigFile.path(environment: environment),
            let file = try CtlConfigFile.load(path: path)
        {
            if server == nil, let v = file.server { server = (v, "server in \(path)") }
            if token == nil { token = file.token }
        }

        let url = server?.value ?? ConnectionSettings.defaultServer
        if let problem = ConnectionSettings.checkServer(url) {
            throw CtlError(.configuration, "\(server?.source ?? "server"): \(problem)")
        }
        var settings = ConnectionSettings(server: url, token: nil, tokenSource: nil)
        switch token {
        case .literal(let value, let source):
            settings.token = try ConnectionSettings.checkToken(value, source: source)
            settings.tokenSource = source
        case .file(let path, let source):
            settings.token = try ConnectionSettings.readTokenFile(path, source: source)
            settings.tokenSource = "\(source) (\(path))"
        case nil:
            // The default files hold the admin token of a server on this machine: never send it anywhere else.
            guard settings.isLoopback else { break }
            for path in ConnectionSettings.defaultTokenFiles where FileManager.default.isReadableFile(atPath: path) {
                guard let value = try? ConnectionSettings.readTokenFile(path, source: path) else { continue }
                settings.token = value
                settings.tokenSource = path
                break
            }
        }
        return settings
    }

    /// A token given as text or as a file to read, with where it was given (for messages).
    enum TokenSource {
        case literal(_ token: String, source: String)
        case file(_ path: String, source: String)
    }
}

/// The server to talk to and the token to send.
struct ConnectionSettings: Sendable, Equatable {
    static let defaultServer = "http://127.0.0.1:8514"
    /// Written by `make run` (`--data-dir ./data`) and by the systemd unit (`StateDirectory=notilog`).
    static let defaultTokenFiles = ["./data/admin.token", "/var/lib/notilog/admin.token"]

    /// The base URL, without a trailing slash.
    var server: String
    var token: String?
    /// Where the token came from ("--token", "NOTILOG_TOKEN", "./data/admin.token", ...); nil when there is none.
    var tokenSource: String?

    init(server: String, token: String?, tokenSource: String?) {
        var url = server
        while url.hasSuffix("/") { url.removeLast() }
        self.server = url
        self.token = token
        self.tokenSource = tokenSource
    }

    /// True when the server is on this machine (localhost, 127.0.0.0/8, ::1).
    var isLoopback: Bool {
        let origin = HTTPClient.origin(server)
        guard let schemeEnd = origin.range(of: "://") else { return false }
        let authority = origin[schemeEnd.upperBound...].lowercased()
        let host: Substring
        if authority.hasPrefix("[") {
            host = authority.dropFirst().prefix { $0 != "]" }
        } else {
            host = authority.prefix { $0 != ":" }
        }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        let isIPv4Loopback = octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
        return host == "localhost" || host == "::1" || isIPv4Loopback
    }

    /// What is wrong with a server URL, or nil.
    static func checkServer(_ url: String) -> String? {
        let lower = url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            return "'\(Terminal.visible(url))' is not an http:// or https:// URL"
        }
        let rest = url.drop { $0 != "/" }.dropFirst(2)
        if rest.isEmpty || rest.hasPrefix("/") { return "'\(Terminal.visible(url))' names no host" }
        if url.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains(where: Terminal.isControl) }) {
            return "'\(Terminal.visible(url))' contains spaces or control characters"
        }
        return nil
    }

    /// The token without surrounding whitespace; it must be one printable word.
    static func checkToken(_ text: String, source: String) throws(CtlError) -> String {
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw CtlError(.configuration, "\(source): the token is empty") }
        guard !value.contains(where: { $0.isWhitespace || $0.unicodeScalars.contains(where: Terminal.isControl) }) else {
            throw CtlError(.configuration, "\(source): the token contains spaces or control characters")
        }
        return value
    }

    /// The token in a file (one line; surrounding whitespace ignored).
    static func readTokenFile(_ path: String, source: String) throws(CtlError) -> String {
        let expanded = NSString(string: path).expandingTildeInPath
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: expanded))
        } catch {
            let reason = FileManager.default.fileExists(atPath: expanded) ? "cannot read the file" : "no such file"
            throw CtlError(.configuration, "\(source): \(reason) \(expanded)", underlying: error)
        }
        guard data.count <= 64 * 1024 else { throw CtlError(.configuration, "\(source): \(expanded) is too large for a token file") }
        return try checkToken(String(decoding: data, as: UTF8.self), source: "\(source) \(expanded)")
    }
}

/// `ctl.yaml`: `server:`, and `token:` or `token_file:` (relative to the file's directory).
struct CtlConfigFile {
    var server: String?
    var token: ConnectionOptions.TokenSource?

    static let keys = ["server", "token", "token_file"]

    /// `$XDG_CONFIG_HOME/notilog/ctl.yaml`, else `$HOME/.config/notilog/ctl.yaml`.
    static func path(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], xdg.hasPrefix("/") { return xdg + "/notilog/ctl.yaml" }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return home + "/.config/notilog/ctl.yaml"
    }

    /// The file's settings; nil when there is no file.
    static func load(path: String) throws(CtlError) -> CtlConfigFile? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CtlError(.configuration, "\(path): cannot read the file", underlying: error)
        }
        return try parse(yaml: text, file: path)
    }

    static func parse(yaml: String, file: String) throws(CtlError) -> CtlConfigFile {
        let node: Node?
        do {
            node = try Yams.compose(yaml: yaml)
        } catch {
            throw CtlError(.configuration, "\(file): not valid YAML: \(describe(error))", underlying: error)
        }
        var config = CtlConfigFile()
        guard let node else { return config }
        guard let mapping = node.mapping else {
            if let s = node.scalar, ["", "~", "null", "Null", "NULL"].contains(s.string) { return config }
            throw CtlError(.configuration, "\(file): expected settings as 'key: value' lines (\(keys.joined(separator: ", ")))")
        }
        var values: [String: String] = [:]
        for (keyNode, valueNode) in mapping {
            let key = keyNode.string ?? "\(keyNode)"
            let line = keyNode.mark.map { " (line \($0.line))" } ?? ""
            guard keys.contains(key) else {
                throw CtlError(.configuration, "\(file): unknown key '\(Terminal.visible(key))'\(line); the keys are \(keys.joined(separator: ", "))")
            }
            guard let scalar = valueNode.scalar, !scalar.string.isEmpty, valueNode.null == nil else {
                throw CtlError(.configuration, "\(file): '\(key)'\(line) must be a single text value")
            }
            values[key] = scalar.string
        }
        if values["token"] != nil && values["token_file"] != nil {
            throw CtlError(.configuration, "\(file): give 'token' or 'token_file', not both")
        }
        if let server = values["server"] {
            if let problem = ConnectionSettings.checkServer(server) {
                throw CtlError(.configuration, "\(file): 'server': \(problem)")
            }
            config.server = server
        }
        if let token = values["token"] {
            config.token = .literal(token, source: "token in \(file)")
        } else if let tokenFile = values["token_file"] {
            var path = NSString(string: tokenFile).expandingTildeInPath
            if !path.hasPrefix("/") { path = URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path }
            config.token = .file(path, source: "token_file in \(file)")
        }
        return config
    }

    /// `line 2, column 11: could not find expected ':'`.
    static func describe(_ error: any Error) -> String {
        guard let yaml = error as? YamlError else { return "\(error)" }
        switch yaml {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            var text = "line \(mark.line), column \(mark.column): \(problem)"
            if let context { text += " (\(context.text) at line \(context.mark.line), column \(context.mark.column))" }
            return text
        default:
            return String("\(yaml)".split(separator: "\n", maxSplits: 1).first ?? "")
        }
    }
}
