/// The engine's hard limits. Each is tested at the limit and one past it.
public enum Limits {
    /// Longest key, in bytes: the record's key-length field is 16 bits wide (docs/FORMAT.md).
    public static let keyBytesMax = Int(UInt16.max)
    /// Longest value, in bytes: 512 MiB, Redis's `proto-max-bulk-len` default.
    public static let valueBytesMax = 512 * 1024 * 1024
    /// Largest atomic batch, in encoded bytes: a batch must fit in one segment file, and segment
    /// offsets are 32-bit.
    public static let batchBytesMax = 1024 * 1024 * 1024
    /// Largest segment file: record offsets in the index are 32 bits.
    public static let segmentBytesMax = 1 << 32 - 1
    /// Smallest segment file that may be configured.
    public static let segmentBytesMin = 64 * 1024
    /// Keyspaces (Redis databases) a store holds; keyspace 255 is reserved for metadata.
    public static let keyspacesMax = 256

    static func checkKey(_ length: Int) throws(StoreError) {
        if length > keyBytesMax { throw .keyTooLarge(length) }
    }

    static func checkValue(_ length: Int) throws(StoreError) {
        if length > valueBytesMax { throw .valueTooLarge(length) }
    }
}
