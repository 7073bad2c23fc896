/// Hint files (docs/FORMAT.md, "Hint files"): for a sealed segment, the metadata of each of its
/// records in order, without values, so that opening a store rebuilds the index without
/// reading data. A hint is only a speed-up: it is used when its CRC checks, it describes a
/// data file of exactly the size found, and every entry lies inside that file; otherwise the
/// segment is scanned.
enum HintFile {
    /// "SWCASKHT".
    static let magic: UInt64 = 0x5448_4B53_4143_5753
    static let version: UInt16 = 1
    static let fileExtension = "hint"

    // Header, 32 bytes:
    //   0 magic u64 | 8 version u16 | 10 headerBytes u16 | 12 entryCount u32
    //  16 segmentID u64 | 24 segmentBytes u64 (size of the data file it describes)
    static let headerBytes = 32
    // Entry, 20 bytes + key:
    //   0 offset u32 | 4 valueLength u32 | 8 expiresAtMillis i64 | 16 keyLength u16
    //  18 flags u8 | 19 keyspace u8 | 20 key
    static let entryHeaderBytes = 20
    // Trailer: CRC32C u32 of every byte before it.
    static let trailerBytes = 4

    static func fileName(segmentID: UInt32) -> String {
        String(SegmentFormat.fileName(segmentID: segmentID).dropLast(SegmentFormat.fileExtension.count)) + fileExtension
    }

    /// One record as a hint describes it.
    struct Entry {
        var offset: Int
        var header: RecordHeader
        var key: UnsafeRawBufferPointer
    }

    /// Builds the hint of a sealed segment from its bytes; nil when they are not all valid
    /// records (damage since they were written: no hint, the next open scans and reports it).
    static func encode(segmentID: UInt32, segment bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(headerBytes + 4096)
        output.append(contentsOf: [UInt8](repeating: 0, count: headerBytes))
        var count: UInt32 = 0
        var offset = SegmentFormat.headerBytes
        while offset < bytes.count, case .record(let header) = RecordHeader.decode(bytes, at: offset) {
            appendInteger(&output, UInt32(offset))
            appendInteger(&output, UInt32(header.valueLength))
            appendInteger(&output, header.expiresAtMillis)
            appendInteger(&output, UInt16(header.keyLength))
            output.append(header.flags.rawValue)
            output.append(header.keyspace)
            output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[(offset + SegmentFormat.recordHeaderBytes)..<(offset + SegmentFormat.recordHeaderBytes + header.keyLength)]))
            count += 1
            offset += header.recordLength
        }
        guard offset == bytes.count else { return nil }
        output.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt16.self)
            raw.storeBytes(of: UInt16(headerBytes).littleEndian, toByteOffset: 10, as: UInt16.self)
            raw.storeBytes(of: count.littleEndian, toByteOffset: 12, as: UInt32.self)
            raw.storeBytes(of: UInt64(segmentID).littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: UInt64(bytes.count).littleEndian, toByteOffset: 24, as: UInt64.self)
        }
        let crc = output.withUnsafeBytes { CRC32C.checksum($0) }
        appendInteger(&output, crc)
        return output
    }

    private static func appendInteger<Integer: FixedWidthInteger>(_ output: inout [UInt8], _ value: Integer) {
        withUnsafeBytes(of: value.littleEndian) { output.append(contentsOf: $0) }
    }

    /// Why a hint cannot be used.
    struct Rejection: Error, CustomStringConvertible {
        var description: String
    }

    /// Checks a hint against the data file it claims to describe and returns its entry count.
    static func validate(_ hint: UnsafeRawBufferPointer, segmentID: UInt32, segmentBytes: Int) -> Result<Int, Rejection> {
        guard hint.count >= headerBytes + trailerBytes else { return .failure(Rejection(description: "shorter than header and trailer")) }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == magic else { return .failure(Rejection(description: "bad magic")) }
        let stored = UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: hint.count - trailerBytes, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: hint[0..<(hint.count - trailerBytes)])) == stored else {
            return .failure(Rejection(description: "CRC mismatch"))
        }
        let fileVersion = UInt16(littleEndian: hint.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard fileVersion == version else { return .failure(Rejection(description: "unsupported hint version \(fileVersion)")) }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) == UInt64(segmentID) else {
            return .failure(Rejection(description: "describes another segment"))
        }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: 24, as: UInt64.self)) == UInt64(segmentBytes) else {
            return .failure(Rejection(description: "describes a data file of another size"))
        }
        let count = Int(UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: 12, as: UInt32.self)))
        // Every entry must lie inside the data file and the entries must fill the hint exactly.
        var position = headerBytes
        let end = hint.count - trailerBytes
        for _ in 0..<count {
            guard position + entryHeaderBytes <= end else { return .failure(Rejection(description: "entries run past the trailer")) }
            let entry = decodeEntry(hint, at: position)
            guard entry.offset >= SegmentFormat.headerBytes, entry.offset + entry.header.recordLength <= segmentBytes,
                  entry.header.valueLength <= Limits.valueBytesMax, entry.header.flags.isDisjoint(with: .reserved) else {
                return .failure(Rejection(description: "entry at hint offset \(position) points outside the data file"))
            }
            position += entryHeaderBytes + entry.header.keyLength
            guard position <= end else { return .failure(Rejection(description: "a key runs past the trailer")) }
        }
        guard position == end else { return .failure(Rejection(description: "\(end - position) bytes after the last entry")) }
        return .success(count)
    }

    /// Visits the entries of a validated hint in order.
    static func forEachEntry(_ hint: UnsafeRawBufferPointer, _ visit: (Entry) -> Void) {
        var position = headerBytes
        let end = hint.count - trailerBytes
        while position < end {
            let entry = decodeEntry(hint, at: position)
            visit(entry)
            position += entryHeaderBytes + entry.header.keyLength
        }
    }

    @inline(__always)
    private static func decodeEntry(_ hint: UnsafeRawBufferPointer, at position: Int) -> Entry {
        let keyLength = Int(UInt16(littleEndian: hint.loadUnaligned(fromByteOffset: position + 16, as: UInt16.self)))
        let header = RecordHeader(
            flags: RecordFlags(rawValue: hint[position + 18]),
            keyspace: hint[position + 19],
            keyLength: keyLength,
            valueLength: Int(UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self))),
            expiresAtMillis: Int64(littleEndian: hint.loadUnaligned(fromByteOffset: position + 8, as: Int64.self)))
        let keyStart = min(position + entryHeaderBytes, hint.count)
        let keyEnd = min(keyStart + keyLength, hint.count)
        return Entry(
            offset: Int(UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: position, as: UInt32.self))),
            header: header,
            key: UnsafeRawBufferPointer(rebasing: hint[keyStart..<keyEnd]))
    }
}
