import ArgumentParser
import Swiftcask

/// Redis database numbers to engine keyspaces, as swiftcask-server maps them: database n is
/// keyspace n until SWAPDB stores a permutation in the metadata keyspace.
struct DatabaseMap {
    /// Keyspace 255 holds server metadata, so databases are 0...254.
    static let databaseMax = Int(Keyspace.metadata.rawValue) - 1
    /// Must match `ServerState.databaseMapKey` in SwiftcaskServer: byte i is the keyspace of
    /// database i.
    static let storedMapKey = "swiftcask:databases"

    private let keyspaceOfDatabase: [UInt8]

    init(store: Store) throws {
        let stored = try store.get(Self.storedMapKey, in: .metadata) ?? []
        // Trust only a permutation of 0..<n, as the server does.
        let isPermutation = stored.count <= Self.databaseMax + 1 && Set(stored) == Set((0..<stored.count).map(UInt8.init))
        keyspaceOfDatabase = isPermutation ? stored : []
    }

    static func validate(_ database: Int) throws {
        guard (0...databaseMax).contains(database) else {
            throw ValidationError("database \(database) is out of range: databases are 0...\(databaseMax)")
        }
    }

    func keyspace(ofDatabase database: Int) -> Keyspace {
        database < keyspaceOfDatabase.count ? Keyspace(keyspaceOfDatabase[database]) : Keyspace(UInt8(database))
    }

    /// Databases holding keys, in ascending order, with their keyspaces.
    func populatedDatabases(of store: Store) -> [(database: Int, keyspace: Keyspace)] {
        (0...Self.databaseMax).map { ($0, keyspace(ofDatabase: $0)) }.filter { store.count(in: $0.keyspace) > 0 }
    }
}
