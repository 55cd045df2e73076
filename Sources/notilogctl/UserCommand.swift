import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `notilogctl user add|list|passwd|role|disable|enable|delete`: the users who sign in to the web UI (needs an admin
/// token).
struct UserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Add, list and change the users who sign in to the web UI (needs an admin token).",
        discussion: """
            Passwords are asked for on the terminal without echo, or read from standard input with --password-stdin; \
            never give them as arguments. A password has at least 12 characters.
            """,
        subcommands: [Add.self, List.self, Passwd.self, SetRole.self, Disable.self, Enable.self, Delete.self]
    )

    enum Role: String, ExpressibleByArgument, CaseIterable {
        /// Reads logs, alerts and rules.
        case viewer
        /// Also changes rules and silences, acknowledges alerts, tests channels.
        case editor
        /// Everything: tokens, users, settings.
        case admin
    }

    /// `--password-stdin`, shared by the commands that set a password.
    struct PasswordOptions: ParsableArguments {
        @Flag(help: "Read the password from standard input (its first line) instead of asking on the terminal.")
        var passwordStdin = false

        /// The new password: standard input's first line, or asked twice on the terminal without echo.
        func read(for user: String) throws(CtlError) -> String {
            if passwordStdin {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                var text = String(decoding: data, as: UTF8.self)
                if let newline = text.firstIndex(where: { $0 == "\n" || $0 == "\r\n" }) { text = String(text[..<newline]) }
                if text.hasSuffix("\r") { text.removeLast() }
                guard !text.isEmpty else { throw CtlError(.configuration, "--password-stdin: standard input holds no password") }
                return text
            }
            guard isatty(STDIN_FILENO) == 1 else {
                throw CtlError(.configuration, "no terminal to ask for the password on: give it on standard input with --password-stdin")
            }
            let first = try PasswordPrompt.ask("New password for \(Terminal.visible(user)): ")
            let second = try PasswordPrompt.ask("Repeat it: ")
            guard first == second else { throw CtlError(.configuration, "the two passwords differ; nothing was changed") }
            return first
        }
    }

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user.",
            discussion: "Exit status: 0; 2 on an error (a user of that name exists, a password too short); 64 for a usage error."
        )

        @Argument(help: "The user name: ASCII letters, digits and . _ @ - (compared ignoring case).")
        var name: String

        @Option(help: "viewer (read), editor (rules, silences, acks) or admin (everything).")
        var role: Role = .viewer

        @OptionGroup var password: PasswordOptions

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("user add") { () throws(CtlError) in
                let client = try connection.client()
                let secret = try password.read(for: name)
                let body = try client.send(.post, "/api/v1/users", body: try UserCommand.encode(["username": name, "password": secret, "role": role.rawValue]))
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                let user = try client.decode(UserInfo.self, body, what: "new user")
                Terminal.write("Added user \(Terminal.visible(user.username)) (\(Terminal.visible(user.role))).\n")
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List users with their roles and last sign-in.",
            discussion: "Exit status: 0; 2 on an error; 64 for a usage error."
        )

        @Flag(help: "Print the server's JSON answer.")
        var json = false

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("user list") { () throws(CtlError) in
                let client = try connection.client()
                let body = try client.get("/api/v1/users")
                if json { return Terminal.write(String(decoding: body, as: UTF8.self) + "\n") }
                let users = try client.decode(UsersResponse.self, body, what: "user list").users
                var table = TextTable(["NAME", "ROLE", "STATE", "CREATED", "LAST SIGN-IN"])
                for u in users {
                    table.add([u.username, u.role, u.disabled ? "disabled" : "enabled", u.createdAt ?? "-", u.lastLoginAt ?? "never"])
                }
                Terminal.write(table.render())
            }
        }
    }

    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password; the user's sessions end.",
            discussion: "Exit status: 0; 2 on an error (an unknown user, a password too short); 64 for a usage error."
        )

        @Argument(help: "The user name.")
        var name: String

        @OptionGroup var password: PasswordOptions

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("user passwd") { () throws(CtlError) in
                let client = try connection.client()
                let secret = try password.read(for: name)
                _ = try client.send(.patch, UserCommand.path(name), body: try UserCommand.encode(["password": secret]))
                Terminal.write("Changed the password of \(Terminal.visible(name)); their sessions have ended.\n")
            }
        }
    }

    struct SetRole: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "role",
            abstract: "Change a user's role.",
            discussion: "Exit status: 0; 2 on an error (an unknown user, the last admin); 64 for a usage error."
        )

        @Argument(help: "The user name.")
        var name: String

        @Argument(help: "viewer, editor or admin.")
        var role: Role

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("user role") { () throws(CtlError) in
                _ = try connection.client().send(.patch, UserCommand.path(name), body: try UserCommand.encode(["role": role.rawValue]))
                Terminal.write("\(Terminal.visible(name)) is now \(role == .admin ? "an" : "a") \(role.rawValue).\n")
            }
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a user and end their sessions.",
            discussion: "Exit status: 0; 2 on an error (an unknown user, the last admin); 64 for a usage error."
        )

        @Argument(help: "The user name.")
        var name: String

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try runReportingErrors("user delete") { () throws(CtlError) in
                _ = try connection.client().send(.delete, UserCommand.path(name))
                Terminal.write("Deleted \(Terminal.visible(name)).\n")
            }
        }
    }

    struct Disable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: they cannot sign in, and their sessions end.",
            discussion: "Exit status: 0; 2 on an error (an unknown user, the last admin); 64 for a usage error."
        )

        @Argument(help: "The user name.")
        var name: String

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try UserCommand.setDisabled(true, name, connection)
        }
    }

    /// `user disable` and `user enable`: one PATCH of the user's `disabled`.
    static func setDisabled(_ disabled: Bool, _ name: String, _ connection: ConnectionOptions) throws {
        try runReportingErrors(disabled ? "user disable" : "user enable") { () throws(CtlError) in
            _ = try connection.client().send(.patch, UserCommand.path(name), body: Array(#"{"disabled":\#(disabled)}"#.utf8))
            Terminal.write("\(disabled ? "Disabled" : "Enabled") \(Terminal.visible(name)).\n")
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled user again.",
            discussion: "Exit status: 0; 2 on an error (an unknown user); 64 for a usage error."
        )

        @Argument(help: "The user name.")
        var name: String

        @OptionGroup(title: "Connection")
        var connection: ConnectionOptions

        func run() throws {
            try UserCommand.setDisabled(false, name, connection)
        }
    }

    static func path(_ name: String) -> String { "/api/v1/users/" + APIClient.percentEncoded(name) }

    static func encode(_ fields: [String: String]) throws(CtlError) -> [UInt8] {
        do {
            return Array(try JSONEncoder().encode(fields))
        } catch {
            throw CtlError(.configuration, "cannot encode the request: \(error)", underlying: error)
        }
    }
}

struct UsersResponse: Decodable {
    var users: [UserInfo]
}

/// A user as `GET /api/v1/users` lists it.
struct UserInfo: Decodable {
    var username: String
    var role: String
    var disabled: Bool
    var createdAt: String?
    var lastLoginAt: String?
}

/// Reads a line from the terminal with echo off.
enum PasswordPrompt {
    static func ask(_ prompt: String) throws(CtlError) -> String {
        Terminal.writeError(prompt)
        var saved = termios()
        let haveTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if haveTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            quiet.c_lflag |= tcflag_t(ECHONL)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        let line = readLine(strippingNewline: true)
        if haveTerminal { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
        guard let line, !line.isEmpty else { throw CtlError(.configuration, "no password given; nothing was changed") }
        return line
    }
}
