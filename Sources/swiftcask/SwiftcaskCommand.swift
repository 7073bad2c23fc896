import ArgumentParser
import Swiftcask

/// `swiftcask`: offline tools for a Swiftcask data directory. Each subcommand opens the
/// directory itself (taking its lock), so none of them runs against a directory that a
/// swiftcask-server holds; talk to a running server with redis-cli instead.
@main
struct SwiftcaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftcask",
        abstract: "Offline tools for a Swiftcask data directory.",
        discussion: """
            Every subcommand works on the directory named by --dir (default ./data) and refuses one \
            that a running swiftcask-server holds (use redis-cli against the server instead).

            Exit status: 0 success; 1 a negative answer (get: no such key; verify: damage found); \
            2 an error (the message says why); 64 a usage error.
            """,
        subcommands: [
            GetCommand.self, SetCommand.self, DeleteCommand.self, ScanCommand.self, StatsCommand.self,
            VerifyCommand.self, CompactCommand.self, DumpCommand.self, LoadCommand.self,
            BackupCommand.self, BenchCommand.self,
        ])

    /// ArgumentParser's own `main`, except that our failures print as `swiftcask: message`
    /// with their exit status rather than as "Error: …" with status 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let failure as CLIFailure {
            failure.exit()
        } catch let error as StoreError {
            CLIFailure(error).exit()
        } catch {
            exit(withError: error)
        }
    }
}
