// Entry point: parse flags and the config file, then serve until shutdown.
// (Parsed and run explicitly: `main()` picks the synchronous overload on Linux.)
do {
    let command = try ServerCommand.parse()
    try await command.run()
} catch {
    ServerCommand.exit(withError: error)
}
