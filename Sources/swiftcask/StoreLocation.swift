import ArgumentParser
import Foundation
import Logging
import Swiftcask

/// `--dir`, shared by every subcommand, and how subcommands open the store it names.
struct StoreLocation: ParsableArguments {
    @Option(help: "The data directory.")
    var dir = "./data"

    /// Fails unless `dir` is an existing directory: a mistyped --dir must not silently open
    /// (and so create) an empty store.
    func requireExisting() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) else {
            throw CLIFailure("no data directory at \(dir) (pass --dir with the directory a store or swiftcask-server uses)")
        }
        guard isDirectory.boolValue else { throw CLIFailure("\(dir) is not a directory") }
    }

    /// Opens the store, runs `body`, and closes the store (which fsyncs every write and writes
    /// the index hints), also when `body` throws.
    func withStore<Result>(
        createIfMissing: Bool = false, durability: Durability = .everysec, _ body: (Store) throws -> Result
    ) throws -> Result {
        if !createIfMissing { try requireExisting() }
        let store = try Self.open(dir, durability: durability)
        let result: Result
        do {
            result = try body(store)
        } catch {
            try? store.close()
            throw error
        }
        try store.close()
        return result
    }

    static func open(_ directory: String, durability: Durability) throws -> Store {
        var options = StoreOptions()
        options.durability = durability
        // The engine's warnings (torn tails truncated, io_uring fallback) go to standard error,
        // so they never mix into a dump written to standard output.
        options.logger = Logger(label: "swiftcask") { StreamLogHandler.standardError(label: $0) }
        options.logger.logLevel = .warning
        return try Store(directory: directory, options: options)
    }
}
