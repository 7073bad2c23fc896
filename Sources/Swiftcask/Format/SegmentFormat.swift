/// The constants of docs/FORMAT.md (format version 1). Change them only together with that
/// document and a version bump.
enum SegmentFormat {
    /// "SWCASKSG": first 8 bytes of every segment file.
    static let magic: UInt64 = 0x4753_4B53_4143_5753  // little-endian bytes "SWCASKSG"
    static let version: UInt16 = 1

    // Segment header, 32 bytes:
    //   0 magic u64 | 8 version u16 | 10 headerBytes u16 | 12 reserved u32
    //  16 segmentID u64 | 24 headerCRC u32 (CRC32C of bytes 0..<24 and 28..<32)
    //  28 replayAfter u32 (0 for a written segment; for a merge output, the segment it replays
    //     right after)
    static let headerBytes = 32
    static let headerVersionOffset = 8
    static let headerLengthOffset = 10
    static let headerSegmentIDOffset = 16
    static let headerCRCOffset = 24
    static let headerCRCCoveredBytes = 24
    static let headerReplayAfterOffset = 28

    // Record header, 20 bytes, then key, then value:
    //   0 crc u32 (CRC32C of bytes 4..<end of value) | 4 flags u8 | 5 keyspace u8
    //   6 keyLength u16 | 8 valueLength u32 | 12 expiresAtMillis i64 (0 = never)
    static let recordHeaderBytes = 20
    static let recordFlagsOffset = 4
    static let recordKeyspaceOffset = 5
    static let recordKeyLengthOffset = 6
    static let recordValueLengthOffset = 8
    static let recordExpiryOffset = 12
    /// The CRC covers everything after its own 4 bytes.
    static let recordCRCStart = 4

    static let fileExtension = "seg"
    static let lockFileName = "LOCK"

    /// "0000000042.seg": ten decimal digits sort in id order.
    static func fileName(segmentID: UInt32) -> String {
        let digits = String(segmentID)
        return String(repeating: "0", count: max(0, 10 - digits.count)) + digits + "." + fileExtension
    }

    static func segmentID(fromFileName name: String) -> UInt32? {
        guard name.hasSuffix("." + fileExtension) else { return nil }
        let stem = name.dropLast(fileExtension.count + 1)
        guard stem.count == 10, stem.allSatisfy(\.isNumber) else { return nil }
        return UInt32(stem)
    }
}

/// Per-record flag bits (byte 4 of the record header). Bits 4-7 are reserved and must be zero.
struct RecordFlags: OptionSet, Sendable {
    let rawValue: UInt8
    /// The key was deleted; the record has no value.
    static let tombstone = RecordFlags(rawValue: 0x01)
    /// The record belongs to an atomic batch of more than one record.
    static let batchMember = RecordFlags(rawValue: 0x02)
    /// The last record of an atomic batch: the batch counts only if this record is intact.
    static let batchEnd = RecordFlags(rawValue: 0x04)
    /// Every key of the record's keyspace written before this record is gone (FLUSHDB).
    static let keyspaceCleared = RecordFlags(rawValue: 0x08)
    static let reserved = RecordFlags(rawValue: 0xF0)
}
