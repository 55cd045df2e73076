import ArgumentParser

@main
struct NotiLogCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notilogctl",
        abstract: "The NotiLog command line.",
        subcommands: [ParseCommand.self]
    )
}
