import ArgumentParser
import Swiftcask

/// `swiftcask backup --to DIR`: a consistent copy that opens as an ordinary store.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent copy of the store (a checkpoint) into a new directory.",
        discussion: "The destination must not exist or be empty. Sealed segments are hard-linked when on the same file system, so a backup is cheap; the copy opens with --dir like any store.")

    @OptionGroup var location: StoreLocation
    @Option(help: "The destination directory.") var to: String

    func run() throws {
        let keys = try location.withStore { store in
            try ProgressBar.spinning("backing up") { try store.checkpoint(to: to) }
            return store.count
        }
        print("backup of \(Formatting.grouped(keys)) keys written to \(to)")
    }
}
