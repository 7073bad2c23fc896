/// The 32-byte header at the start of every segment file (docs/FORMAT.md, "Segment files").
struct SegmentHeader: Equatable {
    var segmentID: UInt32
    var version: UInt16 = SegmentFormat.version
    /// 0 for segments that received writes. A merge output replays right after this segment id
    /// (before the next written segment), whatever its own id.
    var replayAfter: UInt32 = 0

    /// Replay order: written segments by id; merge outputs right after their anchor, by id.
    var replayOrder: (UInt32, UInt32, UInt32) {
        replayAfter == 0 ? (segmentID, 0, segmentID) : (replayAfter, 1, segmentID)
    }

    func encode(into bytes: inout [UInt8]) {
        precondition(bytes.count >= SegmentFormat.headerBytes)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: SegmentFormat.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: version.littleEndian, toByteOffset: SegmentFormat.headerVersionOffset, as: UInt16.self)
            raw.storeBytes(of: UInt16(SegmentFormat.headerBytes).littleEndian, toByteOffset: SegmentFormat.headerLengthOffset, as: UInt16.self)
            raw.storeBytes(of: UInt64(segmentID).littleEndian, toByteOffset: SegmentFormat.headerSegmentIDOffset, as: UInt64.self)
            raw.storeBytes(of: replayAfter.littleEndian, toByteOffset: SegmentFormat.headerReplayAfterOffset, as: UInt32.self)
            let crc = Self.checksum(UnsafeRawBufferPointer(raw))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: SegmentFormat.headerCRCOffset, as: UInt32.self)
        }
    }

    enum DecodeError: Error, Equatable {
        case notASegment(String)
        case unsupportedVersion(UInt16)
    }

    /// Checks magic, CRC and version. The version is checked after the CRC so that a damaged
    /// header is reported as damage, not as a newer format.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> Result<SegmentHeader, DecodeError> {
        guard bytes.count >= SegmentFormat.headerBytes else { return .failure(.notASegment("shorter than the 32-byte header")) }
        guard UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) == SegmentFormat.magic else {
            return .failure(.notASegment("bad magic (not a Swiftcask segment)"))
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: SegmentFormat.headerCRCOffset, as: UInt32.self))
        guard checksum(bytes) == stored else {
            return .failure(.notASegment("header CRC mismatch"))
        }
        let version = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: SegmentFormat.headerVersionOffset, as: UInt16.self))
        guard version == SegmentFormat.version else { return .failure(.unsupportedVersion(version)) }
        let id = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: SegmentFormat.headerSegmentIDOffset, as: UInt64.self))
        guard id > 0 && id < UInt64(UInt32.max) else { return .failure(.notASegment("segment id \(id) out of range")) }
        let replayAfter = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: SegmentFormat.headerReplayAfterOffset, as: UInt32.self))
        return .success(SegmentHeader(segmentID: UInt32(id), version: version, replayAfter: replayAfter))
    }

    /// CRC32C of the header without its CRC field.
    private static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        let first = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<SegmentFormat.headerCRCCoveredBytes]))
        let tail = SegmentFormat.headerReplayAfterOffset..<SegmentFormat.headerBytes
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[tail]), continuing: first)
    }
}
