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
    }

    var entries: [Key: Entry] = [:]
    var batch = WriteBatch()
}
