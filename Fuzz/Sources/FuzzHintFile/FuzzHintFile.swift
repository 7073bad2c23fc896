// libFuzzer target: hint files (HintFile.validate, then HintFile.forEachEntry on the ones it
// accepts). Checked: an accepted hint yields exactly the announced number of entries, each
// inside the data file, and never reads past the hint.
//
// Input: byte 0 selects a mode, bytes 1...4 the data file size (little-endian u32), the rest
// is the hint. Mode bit 0 set: magic, version, header size, segment id and size, hash seed and
// the CRC trailer are made right first, so the fuzzer spends its time on the entries.
@testable import Swiftcask

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHintFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 5 else { return 0 }
    let mode = data[0]
    let segmentBytes = Int(UInt32(data[1]) | UInt32(data[2]) << 8 | UInt32(data[3]) << 16 | UInt32(data[4]) << 24)
    let segmentID: UInt32 = 7
    let hashSeed: UInt64 = 0x5eed
    var hint = [UInt8](UnsafeBufferPointer(start: data + 5, count: size - 5))
    if mode & 1 == 1 && hint.count >= HintFile.headerBytes + HintFile.trailerBytes {
        hint.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: HintFile.magic.littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.storeBytes(of: HintFile.version.littleEndian, toByteOffset: 8, as: UInt16.self)
            raw.storeBytes(of: UInt16(HintFile.headerBytes).littleEndian, toByteOffset: 10, as: UInt16.self)
            raw.storeBytes(of: hashSeed.littleEndian, toByteOffset: HintFile.hashSeedOffset, as: UInt64.self)
            raw.storeBytes(of: UInt64(segmentID).littleEndian, toByteOffset: 16, as: UInt64.self)
            raw.storeBytes(of: UInt64(segmentBytes).littleEndian, toByteOffset: 24, as: UInt64.self)
            let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(raw.count - HintFile.trailerBytes)]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: raw.count - HintFile.trailerBytes, as: UInt32.self)
        }
    }
    hint.withUnsafeBytes { raw in
        guard case .success(let count) = HintFile.validate(raw, segmentID: segmentID, segmentBytes: segmentBytes, hashSeed: hashSeed) else { return }
        var visited = 0
        HintFile.forEachEntry(raw) { entry in
            visited += 1
            precondition(entry.offset >= SegmentFormat.headerBytes && entry.offset + entry.header.recordLength <= segmentBytes, "entry outside the data file")
        }
        precondition(visited == count, "validate counted \(count) entries, forEachEntry visited \(visited)")
    }
    return 0
}
