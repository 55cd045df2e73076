import ArgumentParser

/// Why a client command failed: the one error type of `notilogctl`'s server commands (exit status 2).
struct CtlError: Error, CustomStringConvertible {
    enum Code: Sendable, Equatable {
        /// Connection settings (flags, environment, ctl.yaml, token files) are unusable.
        case configuration
        /// No HTTP response: cannot connect, timed out, connection broken.
        case connection
        /// 401: no token, or an unknown or revoked one.
        case unauthorized
        /// 403: the token lacks the scope.
        case forbidden
        /// 400 `invalid_query`; `column` says where.
        case invalidQuery
        /// Any other 4xx (`invalid_parameter`, `not_found`, ...).
        case rejected
        /// 5xx.
        case server
        /// A 2xx response that is not what the contract says.
        case badResponse
    }

    var code: Code
    var message: String
    /// HTTP status, when there was a response.
    var status: Int?
    /// The server's error code (`invalid_query`, `not_found`, ...).
    var serverCode: String?
    /// 1-based column in the query, for `.invalidQuery`.
    var column: Int?
    /// A line of advice printed after the message.
    var hint: String?
    var underlying: (any Error)?

    init(
        _ code: Code, _ message: String, status: Int? = nil, serverCode: String? = nil, column: Int? = nil,
        hint: String? = nil, underlying: (any Error)? = nil
    ) {
        self.code = code
        self.message = message
        self.status = status
        self.serverCode = serverCode
        self.column = column
        self.hint = hint
        self.underlying = underlying
    }

    /// `401 unauthorized: token revoked`, or the bare message when there was no response.
    var description: String {
        guard let status else { return message }
        return "\(status) \(serverCode ?? "error"): \(message)"
    }

    /// Prints the error for `command` on standard error and returns exit status 2 to throw.
    func report(command: String) -> ExitCode {
        // A server message may list several problems, a line each (rules); each line is shown escaped.
        let lines = description.split(separator: "\n", omittingEmptySubsequences: false).map { Terminal.visible(String($0)) }
        var text = "notilogctl \(command): " + lines.joined(separator: "\n") + "\n"
        if let hint { text += "  \(hint)\n" }
        Terminal.writeError(text)
        return ExitCode(2)
    }
}

/// Runs a client command's body and turns a `CtlError` into its message and exit status 2.
func runReportingErrors(_ command: String, _ body: () throws(CtlError) -> Void) throws {
    do throws(CtlError) {
        try body()
    } catch {
        throw error.report(command: command)
    }
}
