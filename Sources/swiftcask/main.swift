// The swiftcask CLI entry point (subcommands arrive with the CLI issue).
print("swiftcask: offline tools for a Swiftcask data directory (coming with the CLI)")
