import ArgumentParser
import Swiftcask

/// `swiftcask get KEY`: the value's raw bytes and a newline, like `redis-cli --raw GET`.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Print a key's value (its raw bytes, then a newline).",
        discussion: "Exit status 1, with nothing printed, when the key does not exist (or has expired).")

    @OptionGroup var location: StoreLocation
    @OptionGroup var database: DatabaseOption
    @Argument(help: "The key.") var key: String

    func run() throws {
        let value = try location.withStore { store in
            try store.get(key, in: DatabaseMap(store: store).keyspace(ofDatabase: database.db))
        }
        guard let value else { throw CLIFailure(nil, status: .negativeAnswer) }
        let output = FileOutput.standardOutput()
        try output.write(value)
        try output.write("\n")
        try output.close()
    }
}
