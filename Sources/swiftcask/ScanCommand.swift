import ArgumentParser
import Swiftcask

/// `swiftcask scan [--prefix P] [--limit N] [--db N]`: keys, one a line, in index order.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List keys, one a line (in no particular order).",
        discussion: "Printable keys appear as they are; keys with control bytes or invalid UTF-8 are quoted with escapes, as redis-cli shows them.")

    /// Keys asked of the engine per SCAN step.
    static let keysPerStep = 1024

    @OptionGroup var location: StoreLocation
    @OptionGroup var database: DatabaseOption
    @Option(help: "Only keys that start with this prefix.") var prefix = ""
    @Option(help: "Stop after this many keys.") var limit: Int?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must not be negative") }
    }

    func run() throws {
        let output = FileOutput.standardOutput()
        let prefixBytes = Array(prefix.utf8)
        try location.withStore { store in
            let keyspace = try DatabaseMap(store: store).keyspace(ofDatabase: database.db)
            var printed = 0
            var cursor: UInt64 = 0
            // Bounded: each step advances the cursor through a finite index; 0 means done.
            scanning: repeat {
                let step = store.scan(in: keyspace, cursor: cursor, count: Self.keysPerStep)
                for key in step.keys where key.starts(with: prefixBytes) {
                    if let limit, printed >= limit { break scanning }
                    try output.write(Formatting.printable(key) + "\n")
                    printed += 1
                }
                cursor = step.nextCursor
            } while cursor != 0
        }
        try output.close()
    }
}
