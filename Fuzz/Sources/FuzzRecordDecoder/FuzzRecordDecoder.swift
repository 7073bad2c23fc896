// libFuzzer target: segment headers and records (RecordHeader.decode), walked the way recovery
// scans a segment. Paired check: every record the decoder accepts re-encodes to the same bytes.
//
// Input: byte 0 selects a mode, the rest is segment data. Mode bit 0 set: before decoding,
// each record-shaped prefix gets a correct CRC, so the fuzzer explores what lies past the CRC
// check (lengths, flags, batches) instead of stopping there.
@testable import Swiftcask

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let mode = data[0]
    var bytes = [UInt8](UnsafeBufferPointer(start: data + 1, count: size - 1))
    if mode & 1 == 1 { sealRecords(&bytes) }
    bytes.withUnsafeBytes { segment in
        _ = SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: segment[0..<min(segment.count, SegmentFormat.headerBytes)]))
        var offset = 0
        var records = 0
        // Bounded: every accepted record is at least a header long.
        while offset < segment.count {
            switch RecordHeader.decode(segment, at: offset) {
            case .endOfData, .invalid:
                return
            case .record(let header):
                let length = header.recordLength
                precondition(length >= SegmentFormat.recordHeaderBytes && offset + length <= segment.count, "accepted record runs past the input")
                precondition(header.valueLength <= Limits.valueBytesMax && header.flags.isDisjoint(with: .reserved))
                let keyStart = offset + SegmentFormat.recordHeaderBytes
                let key = UnsafeRawBufferPointer(rebasing: segment[keyStart..<keyStart + header.keyLength])
                let value = UnsafeRawBufferPointer(rebasing: segment[keyStart + header.keyLength..<offset + length])
                var copy = [UInt8](repeating: 0, count: length)
                copy.withUnsafeMutableBytes { header.encode(into: $0.baseAddress!, key: key, value: value) }
                precondition(copy.elementsEqual(segment[offset..<offset + length]), "record at \(offset) does not re-encode to its bytes")
                precondition(RecordHeader.decode(segment, at: offset) == .record(header))
                offset += length
                records += 1
            }
        }
    }
    return 0
}

/// Gives each record-shaped prefix a valid CRC (as long as its declared length fits).
private func sealRecords(_ bytes: inout [UInt8]) {
    var offset = 0
    var steps = 0
    while offset + SegmentFormat.recordHeaderBytes <= bytes.count && steps < 1024 {
        steps += 1
        let length = bytes.withUnsafeBytes { raw in
            RecordHeader.decodeHeaderUnchecked(raw.baseAddress! + offset).recordLength
        }
        guard offset + length <= bytes.count else { return }
        bytes.withUnsafeMutableBytes { raw in
            let covered = UnsafeRawBufferPointer(rebasing: raw[(offset + SegmentFormat.recordCRCStart)..<(offset + length)])
            raw.storeBytes(of: CRC32C.checksum(covered).littleEndian, toByteOffset: offset, as: UInt32.self)
        }
        offset += length
    }
}
