/// The 32-byte header at the start of every segment file (docs/FORMAT.md, "Segment files").
struct SegmentHeader: Equatable {
    var segmentID: UInt32
    var version: UInt16 = SegmentFormat.version

    func encode(into bytes: inout [UInt8]) {
        precondition(bytes.count >= SegmentFormat.headerBytes)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: SegmentFormat.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: version.littleEndian, toByteOffset: SegmentFormat.headerVersionOffset, as: UInt16.self)
            raw.storeBytes(of: UInt16(SegmentFormat.headerBytes).littleEndian, toByteOffset: SegmentFormat.headerLengthOffset, as: UInt16.self)
            raw.storeBytes(of: UInt64(segmentID).littleEndian, toByteOffset: SegmentFormat.headerSegmentIDOffset, as: UInt64.self)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<SegmentFormat.headerCRCCoveredBytes]))
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
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<SegmentFormat.headerCRCCoveredBytes])) == stored else {
            return .failure(.notASegment("header CRC mismatch"))
        }
        let version = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: SegmentFormat.headerVersionOffset, as: UInt16.self))
        guard version == SegmentFormat.version else { return .failure(.unsupportedVersion(version)) }
        let id = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: SegmentFormat.headerSegmentIDOffset, as: UInt64.self))
        guard id > 0 && id < UInt64(UInt32.max) else { return .failure(.notASegment("segment id \(id) out of range")) }
        return .success(SegmentHeader(segmentID: UInt32(id), version: version))
    }
}
