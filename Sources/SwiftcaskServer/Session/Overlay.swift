import Swiftcask

/// EXEC's view of its own staged writes: reads inside the transaction see them before the
/// whole transaction is written to the log as one batch.
struct Overlay {
    struct Key: Hashable {
        let keyspace: UInt8
        let bytes: [UInt8]
    }

    enum Entry {
        case value([UInt8], expiresAtMillis: Int64?)
        case deleted

        /// Whether the key exists at `nowMillis` after this staged write.
        func isLive(at nowMillis: Int64) -> Bool {
            guard case .value(_, let expiry) = self else { return false }
            return expiry.map { $0 > nowMillis } ?? true
        }
    }

    var entries: [Key: Entry] = [:]
    var batch = WriteBatch()

    /// The keys of one keyspace that this transaction wrote, in byte order (so replies that
    /// list them are deterministic), with whether each exists now.
    func stagedKeys(in keyspace: Keyspace, nowMillis: Int64) -> [(key: [UInt8], isLive: Bool)] {
        entries.compactMap { key, entry in
            key.keyspace == keyspace.rawValue ? (key.bytes, entry.isLive(at: nowMillis)) : nil
        }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// What the transaction staged for a key, or nil when it did not write it.
    func entry(_ key: [UInt8], in keyspace: Keyspace) -> Entry? {
        entries[Key(keyspace: keyspace.rawValue, bytes: key)]
    }
}
