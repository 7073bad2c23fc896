/// One 16-byte index slot: where the newest record of a key lives. The key itself is not kept
/// in memory; lookups compare against the key stored in the record (memory map or write
/// buffer), which is what keeps the index at 16 bytes per slot.
struct KeydirEntry: Equatable {
    /// 32-bit hash of (keyspace, key); its top bits choose the bucket.
    var hash: UInt32
    /// Segment holding the record; `emptySegmentID` marks a free slot.
    var segmentID: UInt32
    /// Byte offset of the record in its segment.
    var offset: UInt32
    /// Value length in bits 0-29, `expiryBit` when the record carries an expiry time.
    var meta: UInt32

    static let emptySegmentID: UInt32 = 0
    /// Marks a slot of the draining table whose entry moved to the new table or was deleted.
    static let movedSegmentID: UInt32 = .max
    static let expiryBit: UInt32 = 1 << 31
    static let valueLengthMask: UInt32 = (1 << 30) - 1

    init(hash: UInt32, segmentID: UInt32, offset: UInt32, valueLength: Int, hasExpiry: Bool) {
        assert(valueLength <= Int(Self.valueLengthMask))
        self.hash = hash
        self.segmentID = segmentID
        self.offset = offset
        self.meta = UInt32(valueLength) | (hasExpiry ? Self.expiryBit : 0)
    }

    var isEmpty: Bool { segmentID == Self.emptySegmentID }
    var isLive: Bool { segmentID != Self.emptySegmentID && segmentID != Self.movedSegmentID }
    var valueLength: Int { Int(meta & Self.valueLengthMask) }
    var hasExpiry: Bool { meta & Self.expiryBit != 0 }
}
