/// The fixed part of a record (docs/FORMAT.md, "Records"). Encoding and decoding are the only
/// places that know the byte layout; both check lengths and the CRC (paired assertions).
struct RecordHeader: Equatable {
    var flags: RecordFlags
    var keyspace: UInt8
    var keyLength: Int
    var valueLength: Int
    /// Unix milliseconds after which the key reads as absent; 0 = never.
    var expiresAtMillis: Int64

    var recordLength: Int { SegmentFormat.recordHeaderBytes + keyLength + valueLength }

    static func recordLength(keyLength: Int, valueLength: Int) -> Int {
        SegmentFormat.recordHeaderBytes + keyLength + valueLength
    }

    /// Writes header, key and value at `destination` (which must have `recordLength` bytes) and
    /// seals them with the CRC.
    @inline(__always)
    func encode(into destination: UnsafeMutableRawPointer, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        assert(key.count == keyLength && value.count == valueLength)
        assert(keyLength <= Limits.keyBytesMax && valueLength <= Limits.valueBytesMax)
        destination.storeBytes(of: flags.rawValue, toByteOffset: SegmentFormat.recordFlagsOffset, as: UInt8.self)
        destination.storeBytes(of: keyspace, toByteOffset: SegmentFormat.recordKeyspaceOffset, as: UInt8.self)
        destination.storeBytes(of: UInt16(keyLength).littleEndian, toByteOffset: SegmentFormat.recordKeyLengthOffset, as: UInt16.self)
        destination.storeBytes(of: UInt32(valueLength).littleEndian, toByteOffset: SegmentFormat.recordValueLengthOffset, as: UInt32.self)
        destination.storeBytes(of: expiresAtMillis.littleEndian, toByteOffset: SegmentFormat.recordExpiryOffset, as: Int64.self)
        let keyStart = destination + SegmentFormat.recordHeaderBytes
        if keyLength > 0 { keyStart.copyMemory(from: key.baseAddress!, byteCount: keyLength) }
        if valueLength > 0 { (keyStart + keyLength).copyMemory(from: value.baseAddress!, byteCount: valueLength) }
        let covered = UnsafeRawBufferPointer(start: destination + SegmentFormat.recordCRCStart, count: recordLength - SegmentFormat.recordCRCStart)
        destination.storeBytes(of: CRC32C.checksum(covered).littleEndian, as: UInt32.self)
    }

    /// What lies at a position of a segment.
    enum Decoded: Equatable {
        case record(RecordHeader)
        /// 20 zero bytes: the preallocated, never-written tail of a segment.
        case endOfData
        /// Not a valid record: a torn write or damage. The reason names what failed.
        case invalid(String)
    }

    /// Reads and fully verifies the record at `bytes[offset...]`.
    static func decode(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        let available = bytes.count - offset
        guard available >= SegmentFormat.recordHeaderBytes else {
            return isZero(bytes, from: offset, count: available) ? .endOfData : .invalid("a record header is cut off by the end of the file")
        }
        let start = bytes.baseAddress! + offset
        if isZero(bytes, from: offset, count: SegmentFormat.recordHeaderBytes) { return .endOfData }
        let header = decodeHeaderUnchecked(start)
        guard header.flags.isDisjoint(with: .reserved) else {
            return .invalid("reserved flag bits set (0x\(String(header.flags.rawValue, radix: 16)))")
        }
        guard header.valueLength <= Limits.valueBytesMax else { return .invalid("value length \(header.valueLength) exceeds the limit") }
        guard header.recordLength <= available else {
            return .invalid("record of \(header.recordLength) bytes runs past the end of the file")
        }
        let stored = UInt32(littleEndian: start.loadUnaligned(as: UInt32.self))
        let covered = UnsafeRawBufferPointer(start: start + SegmentFormat.recordCRCStart, count: header.recordLength - SegmentFormat.recordCRCStart)
        guard CRC32C.checksum(covered) == stored else { return .invalid("CRC mismatch") }
        return .record(header)
    }

    /// Reads the header fields without checking anything: for records already verified
    /// (the index only points at verified or freshly encoded records).
    @inline(__always)
    static func decodeHeaderUnchecked(_ start: UnsafeRawPointer) -> RecordHeader {
        RecordHeader(
            flags: RecordFlags(rawValue: start.load(fromByteOffset: SegmentFormat.recordFlagsOffset, as: UInt8.self)),
            keyspace: start.load(fromByteOffset: SegmentFormat.recordKeyspaceOffset, as: UInt8.self),
            keyLength: Int(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: SegmentFormat.recordKeyLengthOffset, as: UInt16.self))),
            valueLength: Int(UInt32(littleEndian: start.loadUnaligned(fromByteOffset: SegmentFormat.recordValueLengthOffset, as: UInt32.self))),
            expiresAtMillis: Int64(littleEndian: start.loadUnaligned(fromByteOffset: SegmentFormat.recordExpiryOffset, as: Int64.self))
        )
    }

    static func isZero(_ bytes: UnsafeRawBufferPointer, from offset: Int, count: Int) -> Bool {
        var index = offset
        let end = offset + count
        while index < end {
            if bytes[index] != 0 { return false }
            index += 1
        }
        return true
    }
}
