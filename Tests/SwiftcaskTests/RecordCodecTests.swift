import Testing
@testable import Swiftcask

struct RecordCodecTests {
    func encoded(_ header: RecordHeader, key: [UInt8], value: [UInt8]) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: header.recordLength)
        record.withUnsafeMutableBytes { destination in
            key.withUnsafeBytes { key in
                value.withUnsafeBytes { value in header.encode(into: destination.baseAddress!, key: key, value: value) }
            }
        }
        return record
    }

    @Test(arguments: [(0, 0), (1, 0), (3, 100), (16, 100), (Limits.keyBytesMax, 7)])
    func roundTrip(keyLength: Int, valueLength: Int) {
        let key = (0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let value = (0..<valueLength).map { UInt8(truncatingIfNeeded: $0 &* 13) }
        let header = RecordHeader(flags: [.batchMember], keyspace: 3, keyLength: keyLength, valueLength: valueLength, expiresAtMillis: 1_700_000_000_123)
        let record = encoded(header, key: key, value: value)
        record.withUnsafeBytes { bytes in
            #expect(RecordHeader.decode(bytes, at: 0) == .record(header))
            #expect(Array(bytes[20..<20 + keyLength]) == key)
            #expect(Array(bytes[(20 + keyLength)...]) == value)
        }
    }

    @Test func everySingleBitFlipIsDetected() {
        let header = RecordHeader(flags: [], keyspace: 0, keyLength: 5, valueLength: 9, expiresAtMillis: 0)
        let record = encoded(header, key: bytes("hello"), value: bytes("123456789"))
        for index in record.indices {
            for bit in 0..<8 {
                var damaged = record
                damaged[index] ^= 1 << bit
                let decoded = damaged.withUnsafeBytes { RecordHeader.decode($0, at: 0) }
                guard case .invalid = decoded else {
                    Issue.record("flip of bit \(bit) in byte \(index) decoded as \(decoded)")
                    return
                }
            }
        }
    }

    @Test func zeroHeaderIsEndOfData() {
        let zeros = [UInt8](repeating: 0, count: 64)
        zeros.withUnsafeBytes { #expect(RecordHeader.decode($0, at: 0) == .endOfData) }
        zeros.withUnsafeBytes { #expect(RecordHeader.decode($0, at: 50) == .endOfData) }
    }

    @Test func everyTruncationIsInvalidNotARecord() {
        let header = RecordHeader(flags: [], keyspace: 0, keyLength: 4, valueLength: 30, expiresAtMillis: 0)
        let record = encoded(header, key: bytes("abcd"), value: [UInt8](repeating: 0x41, count: 30))
        for length in 1..<record.count {
            let prefix = Array(record[..<length])
            let decoded = prefix.withUnsafeBytes { RecordHeader.decode($0, at: 0) }
            guard case .invalid = decoded else {
                Issue.record("a \(length)-byte prefix decoded as \(decoded)")
                return
            }
        }
    }

    @Test func reservedFlagBitsAreRejected() {
        var record = encoded(RecordHeader(flags: [], keyspace: 0, keyLength: 1, valueLength: 1, expiresAtMillis: 0), key: [1], value: [2])
        record[4] = 0x80
        // Reseal the CRC so only the flag check can reject it.
        let crc = record[4...].withUnsafeBytes { CRC32C.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { for index in 0..<4 { record[index] = $0[index] } }
        let decoded = record.withUnsafeBytes { RecordHeader.decode($0, at: 0) }
        #expect(decoded == .invalid("reserved flag bits set (0x80)"))
    }

    @Test func segmentHeaderRoundTripAndVersionCheck() {
        var header = [UInt8](repeating: 0, count: SegmentFormat.headerBytes)
        SegmentHeader(segmentID: 42).encode(into: &header)
        #expect(Array(header[0..<8]) == bytes("SWCASKSG"))
        header.withUnsafeBytes { #expect((try? SegmentHeader.decode($0).get()) == SegmentHeader(segmentID: 42)) }
        var future = [UInt8](repeating: 0, count: SegmentFormat.headerBytes)
        SegmentHeader(segmentID: 42, version: 9).encode(into: &future)
        future.withUnsafeBytes {
            guard case .failure(.unsupportedVersion(9)) = SegmentHeader.decode($0) else {
                Issue.record("version 9 was not rejected as unsupported")
                return
            }
        }
    }
}
