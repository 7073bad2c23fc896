import ArgumentParser
import Foundation
import Swiftcask

/// `swiftcask set KEY VALUE [--ex SECONDS | --px MILLISECONDS]`.
struct SetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set a key to a value, optionally with a time to live.",
        discussion: "Creates the data directory when it does not exist. The write is fsynced before the command exits.")

    @OptionGroup var location: StoreLocation
    @OptionGroup var database: DatabaseOption
    @Argument(help: "The key.") var key: String
    @Argument(help: "The value.") var value: String
    @Option(name: .customLong("ex"), help: "Expire after this many seconds.") var expirySeconds: Int?
    @Option(name: .customLong("px"), help: "Expire after this many milliseconds.") var expiryMillis: Int?

    func validate() throws {
        guard expirySeconds == nil || expiryMillis == nil else { throw ValidationError("give --ex or --px, not both") }
        if let time = expirySeconds ?? expiryMillis, time <= 0 {
            throw ValidationError("the time to live must be positive, got \(time)")
        }
    }

    func run() throws {
        let ttlMillis = expirySeconds.map { $0 * 1000 } ?? expiryMillis
        let expiresAtMillis = ttlMillis.map { Int64(Date().timeIntervalSince1970 * 1000) + Int64($0) }
        try location.withStore(createIfMissing: true) { store in
            try store.put(key.utf8, value.utf8, expiresAtMillis: expiresAtMillis, in: DatabaseMap(store: store).keyspace(ofDatabase: database.db))
        }
        print("OK")
    }
}
