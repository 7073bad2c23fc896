import ArgumentParser
import Swiftcask

/// `swiftcask del KEY...`: prints how many existed, like Redis DEL.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "del",
        abstract: "Delete keys; prints how many of them existed.")

    @OptionGroup var location: StoreLocation
    @OptionGroup var database: DatabaseOption
    @Argument(help: "The keys.") var keys: [String]

    func validate() throws {
        guard !keys.isEmpty else { throw ValidationError("give at least one key") }
    }

    func run() throws {
        let deleted = try location.withStore { store in
            let keyspace = try DatabaseMap(store: store).keyspace(ofDatabase: database.db)
            return try keys.reduce(0) { count, key in try store.delete(key, in: keyspace) ? count + 1 : count }
        }
        print(deleted)
    }
}
