import ArgumentParser

@main
struct NotiLogCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notilogctl",
        abstract: "The NotiLog command line.",
        discussion: """
            parse works offline; the other commands talk to a NotiLog server, found with --server or NOTILOG_SERVER \
            or server: in ~/.config/notilog/ctl.yaml (default http://127.0.0.1:8514), with the token from --token, \
            --token-file, NOTILOG_TOKEN, NOTILOG_TOKEN_FILE, token: or token_file: in ctl.yaml, or (for a server on \
            this machine) ./data/admin.token or /var/lib/notilog/admin.token.
            """,
        subcommands: [
            ParseCommand.self, SearchCommand.self, TailCommand.self, HostsCommand.self, StatusCommand.self, TokenCommand.self, AlertsCommand.self,
            RulesCommand.self, SilenceCommand.self, UserCommand.self,
        ]
    )
}
