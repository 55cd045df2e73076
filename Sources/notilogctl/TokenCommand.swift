import ArgumentParser
import Foundation

/// `notilogctl token create|list|revoke`: API tokens (needs an admin token).
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create, list and revoke API tokens (needs an admin token).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    /// What a token may do.
    enum Scope: String, ExpressibleByArgument, CaseIterable {
        /// Search and read (the GET endpoints).
        case read
        /// Send logs over HTTP.
        case ingest
        /// Everything, tokens included.
        case admin
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token and print its secret (shown this once only).",
            discussion: """
                The secret goes to standard output alone, so TOKEN=$(notilogctl token create NAME) keeps it; the note \
                goes to standard error. Exit status: 0; 2 on an error; 64 for a usage error.
                """
        )

        @Argument(help: "A name saying who or what uses the token, e.g. grafana.")
        var name: String

        @Option(help: "read (search), ingest (send logs) or admin (everything).")
        var scope: Scope = .read

        @Flag(help: "Print the server's JSON answer (it holds the secret).")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func validate() throws {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("the token needs a name") }
        }

        func run() throws {
            try runReportingErrors("token create") { () throws(CtlError) in
                let (body, token) = try connection.client().createToken(name: name, scope: scope.rawValue)
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                guard let secret = token.token else {
                    throw CtlError(.badResponse, "the server created token \(token.id) but sent no secret")
                }
                Terminal.writeError(
                    "Created token \(token.id) '\(Terminal.visible(token.name))' with scope \(Terminal.visible(token.scope)). "
                        + "Store the secret now: it cannot be shown again.\n")
                Terminal.write(Terminal.visible(secret) + "\n")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List tokens, revoked ones included (never their secrets).",
            discussion: "Exit status: 0; 2 on an error; 64 for a usage error."
        )

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("token list") { () throws(CtlError) in
                let (body, tokens) = try connection.client().tokens()
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                var table = TextTable(["ID", "NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED"], rightAligned: [0])
                for t in tokens {
                    table.add([String(t.id), t.name, t.scope, t.createdAt ?? "-", t.lastUsedAt ?? "never", t.revokedAt ?? "-"])
                }
                Terminal.write(table.render())
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token: requests with it are refused from now on.",
            discussion: "Exit status: 0; 2 on an error (an unknown ID included); 64 for a usage error."
        )

        @Argument(help: "The token's ID (see token list).")
        var id: Int

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("token revoke") { () throws(CtlError) in
                let (body, token) = try connection.client().revokeToken(id: id)
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                Terminal.write("Revoked token \(token.id) '\(Terminal.visible(token.name))' (\(Terminal.visible(token.scope))).\n")
            }
        }
    }
}
