/// Hint files (docs/FORMAT.md, "Hint files"): for a sealed segment, the metadata of each of its
/// records in order, without keys or values, so that opening a store rebuilds the index without
/// reading data. Each entry carries the record's index hash (under the seed in the header), so
/// loading a hint neither reads nor hashes keys. Unless the segment clears a keyspace (an
/// order-dependent record), entries are sorted by hash, so a loader can fill the index bucket
/// range by bucket range instead of at random. A hint is only a speed-up: it is used when its
/// CRC checks, it describes a data file of exactly the size found, every entry lies inside
/// that file, and a hint that says it is sorted is; otherwise the segment is scanned.
enum HintFile {
    /// "SWCASKHT".
    static let magic: UInt64 = 0x5448_4B53_4143_5753
    /// 2: fixed-size entries with the index hash, sorted by hash; the hash seed in the header;
    /// no keys.
    static let version: UInt16 = 2
    static let fileExtension = "hint"

    // Header, 48 bytes:
    //   0 magic u64 | 8 version u16 | 10 headerBytes u16 | 12 entryCount u32
    //  16 segmentID u64 | 24 segmentBytes u64 (size of the data file it describes)
    //  32 hashSeed u64 (the `KeyHasher` seed the entries' hashes were computed with)
    //  40 flags u64 (bit 0: `sortedByHash`; other bits zero)
    static let headerBytes = 48
    static let entryCountOffset = 12
    static let hashSeedOffset = 32
    static let flagsOffset = 40
    /// Entries are in (hash, offset) order: for each key, still in record order.
    static let sortedByHash: UInt64 = 1
    // Entry, 24 bytes:
    //   0 hash u32 | 4 offset u32 | 8 valueLength u32 | 12 keyLength u16 | 14 flags u8
    //  15 keyspace u8 | 16 expiresAtMillis i64
    static let entryBytes = 24
    // Trailer: CRC32C u32 of every byte before it.
    static let trailerBytes = 4

    static func fileName(segmentID: UInt32) -> String {
        String(SegmentFormat.fileName(segmentID: segmentID).dropLast(SegmentFormat.fileExtension.count)) + fileExtension
    }

    /// One record as a hint describes it.
    struct Entry {
        var hash: UInt32
        var offset: Int
        var header: RecordHeader
    }

    /// Builds the hint of a sealed segment from its bytes, hashing keys with `hasher`; nil when
    /// the bytes are not all valid records (damage since they were written: no hint, the next
    /// open scans and reports it).
    static func encode(segmentID: UInt32, segment bytes: UnsafeRawBufferPointer, hasher: KeyHasher) -> [UInt8]? {
        var entries: [StoredEntry] = []
        var clearsKeyspace = false
        var offset = SegmentFormat.headerBytes
        while offset < bytes.count, case .record(let header) = RecordHeader.decode(bytes, at: offset) {
            let key = UnsafeRawBufferPointer(rebasing: bytes[(offset + SegmentFormat.recordHeaderBytes)..<(offset + SegmentFormat.recordHeaderBytes + header.keyLength)])
            entries.append(StoredEntry(
                hash: hasher.hash(key, keyspace: header.keyspace), offset: UInt32(offset), valueLength: UInt32(header.valueLength),
                keyLength: UInt16(header.keyLength), flags: header.flags.rawValue, keyspace: header.keyspace,
                expiresAtMillis: header.expiresAtMillis))
            clearsKeyspace = clearsKeyspace || header.flags.contains(.keyspaceCleared)
            offset += header.recordLength
        }
        guard offset == bytes.count else { return nil }
        // A keyspace clear applies to every key written before it: such a segment keeps record
        // order. Otherwise records of different keys commute, and a stable sort by hash of
        // entries in record order leaves them in (hash, offset) order.
        if !clearsKeyspace { StableRadixSort.sort(&entries, byKey: \.hash) }
        let fileBytes = headerBytes + entries.count * entryBytes + trailerBytes
        return [UInt8](unsafeUninitializedCapacity: fileBytes) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            raw.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: headerBytes)
            raw.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt16.self)
            raw.storeBytes(of: UInt16(headerBytes).littleEndian, toByteOffset: 10, as: UInt16.self)
            raw.storeBytes(of: UInt32(entries.count).littleEndian, toByteOffset: entryCountOffset, as: UInt32.self)
            raw.storeBytes(of: UInt64(segmentID).littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: UInt64(bytes.count).littleEndian, toByteOffset: 24, as: UInt64.self)
            raw.storeBytes(of: hasher.seed.littleEndian, toByteOffset: hashSeedOffset, as: UInt64.self)
            raw.storeBytes(of: (clearsKeyspace ? 0 : sortedByHash).littleEndian, toByteOffset: flagsOffset, as: UInt64.self)
            var position = headerBytes
            for entry in entries {
                raw.storeBytes(of: entry.hash.littleEndian, toByteOffset: position, as: UInt32.self)
                raw.storeBytes(of: entry.offset.littleEndian, toByteOffset: position + 4, as: UInt32.self)
                raw.storeBytes(of: entry.valueLength.littleEndian, toByteOffset: position + 8, as: UInt32.self)
                raw.storeBytes(of: entry.keyLength.littleEndian, toByteOffset: position + 12, as: UInt16.self)
                raw.storeBytes(of: entry.flags, toByteOffset: position + 14, as: UInt8.self)
                raw.storeBytes(of: entry.keyspace, toByteOffset: position + 15, as: UInt8.self)
                raw.storeBytes(of: entry.expiresAtMillis.littleEndian, toByteOffset: position + 16, as: Int64.self)
                position += entryBytes
            }
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<position]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: position, as: UInt32.self)
            initialized = fileBytes
        }
    }

    /// An entry with the field widths of the file, while `encode` collects and sorts them.
    private struct StoredEntry {
        var hash: UInt32
        var offset: UInt32
        var valueLength: UInt32
        var keyLength: UInt16
        var flags: UInt8
        var keyspace: UInt8
        var expiresAtMillis: Int64
    }

    /// What an unverified header announces (for sizing the index and choosing the hash seed
    /// before any hint is validated); nil when it is not a header of this version.
    struct Announcement: Equatable {
        var entryCount: Int
        var hashSeed: UInt64
    }

    static func announcement(ofHeader header: UnsafeRawBufferPointer) -> Announcement? {
        guard header.count >= headerBytes,
              UInt64(littleEndian: header.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == magic,
              UInt16(littleEndian: header.loadUnaligned(fromByteOffset: 8, as: UInt16.self)) == version else { return nil }
        return Announcement(
            entryCount: Int(UInt32(littleEndian: header.loadUnaligned(fromByteOffset: entryCountOffset, as: UInt32.self))),
            hashSeed: UInt64(littleEndian: header.loadUnaligned(fromByteOffset: hashSeedOffset, as: UInt64.self)))
    }

    /// Why a hint cannot be used.
    struct Rejection: Error, CustomStringConvertible {
        var description: String
    }

    /// Checks a hint against the data file it claims to describe and the hash seed the index
    /// uses, and returns its entry count.
    static func validate(_ hint: UnsafeRawBufferPointer, segmentID: UInt32, segmentBytes: Int, hashSeed: UInt64) -> Result<Int, Rejection> {
        guard hint.count >= 10 else { return .failure(Rejection(description: "shorter than a header")) }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == magic else { return .failure(Rejection(description: "bad magic")) }
        // The version first: an older hint is rejected as such, whatever its layout.
        let fileVersion = UInt16(littleEndian: hint.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
        guard fileVersion == version else { return .failure(Rejection(description: "hint version \(fileVersion), this build reads version \(version)")) }
        guard hint.count >= headerBytes + trailerBytes else { return .failure(Rejection(description: "shorter than header and trailer")) }
        let stored = UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: hint.count - trailerBytes, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: hint[0..<(hint.count - trailerBytes)])) == stored else {
            return .failure(Rejection(description: "CRC mismatch"))
        }
        guard UInt16(littleEndian: hint.loadUnaligned(fromByteOffset: 10, as: UInt16.self)) == headerBytes else {
            return .failure(Rejection(description: "unexpected header size"))
        }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: 16, as: UInt64.self)) == UInt64(segmentID) else {
            return .failure(Rejection(description: "describes another segment"))
        }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: 24, as: UInt64.self)) == UInt64(segmentBytes) else {
            return .failure(Rejection(description: "describes a data file of another size"))
        }
        guard UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: hashSeedOffset, as: UInt64.self)) == hashSeed else {
            return .failure(Rejection(description: "hashes computed with another seed"))
        }
        let flags = UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: flagsOffset, as: UInt64.self))
        guard flags & ~sortedByHash == 0 else { return .failure(Rejection(description: "unknown flags 0x\(String(flags, radix: 16))")) }
        let count = Int(UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: entryCountOffset, as: UInt32.self)))
        guard hint.count == headerBytes + count * entryBytes + trailerBytes else {
            return .failure(Rejection(description: "\(count) entries do not fill the \(hint.count)-byte file"))
        }
        // Every entry must lie inside the data file, and a sorted hint must be sorted: loading
        // it out of record order is only right if each key's entries keep their order.
        let sorted = flags & sortedByHash != 0
        var previous: (hash: UInt32, offset: Int) = (0, 0)
        for index in 0..<count {
            let entry = self.entry(hint, at: index)
            guard entry.offset >= SegmentFormat.headerBytes, entry.offset + entry.header.recordLength <= segmentBytes,
                  entry.header.valueLength <= Limits.valueBytesMax, entry.header.flags.isDisjoint(with: .reserved) else {
                return .failure(Rejection(description: "entry \(index) points outside the data file"))
            }
            if sorted {
                guard previous < (entry.hash, entry.offset) else { return .failure(Rejection(description: "entry \(index) is out of hash order")) }
                guard !entry.header.flags.contains(.keyspaceCleared) else {
                    return .failure(Rejection(description: "a keyspace clear in a hint sorted by hash"))
                }
                previous = (entry.hash, entry.offset)
            }
        }
        return .success(count)
    }

    /// Whether a validated hint's entries are in hash order.
    static func isSortedByHash(_ hint: UnsafeRawBufferPointer) -> Bool {
        UInt64(littleEndian: hint.loadUnaligned(fromByteOffset: flagsOffset, as: UInt64.self)) & sortedByHash != 0
    }

    /// The seed a hint's entries were hashed with (for a hint of this version).
    static func hashSeed(of hint: UnsafeRawBufferPointer) -> UInt64? {
        announcement(ofHeader: hint)?.hashSeed
    }

    /// Visits the entries of a validated hint in file order.
    static func forEachEntry(_ hint: UnsafeRawBufferPointer, _ visit: (Entry) -> Void) {
        for index in 0..<entryCount(hint) { visit(entry(hint, at: index)) }
    }

    /// Entries in a validated hint (from its size).
    @inline(__always)
    static func entryCount(_ hint: UnsafeRawBufferPointer) -> Int {
        (hint.count - headerBytes - trailerBytes) / entryBytes
    }

    /// The hash of entry `index`, alone (for prefetching ahead of the entry being applied).
    @inline(__always)
    static func hash(_ hint: UnsafeRawBufferPointer, at index: Int) -> UInt32 {
        UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: headerBytes + index * entryBytes, as: UInt32.self))
    }

    @inline(__always)
    static func entry(_ hint: UnsafeRawBufferPointer, at index: Int) -> Entry {
        let position = headerBytes + index * entryBytes
        let header = RecordHeader(
            flags: RecordFlags(rawValue: hint[position + 14]),
            keyspace: hint[position + 15],
            keyLength: Int(UInt16(littleEndian: hint.loadUnaligned(fromByteOffset: position + 12, as: UInt16.self))),
            valueLength: Int(UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: position + 8, as: UInt32.self))),
            expiresAtMillis: Int64(littleEndian: hint.loadUnaligned(fromByteOffset: position + 16, as: Int64.self)))
        return Entry(
            hash: UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: position, as: UInt32.self)),
            offset: Int(UInt32(littleEndian: hint.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self))),
            header: header)
    }
}
