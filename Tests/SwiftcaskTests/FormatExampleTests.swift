import Testing
@testable import Swiftcask

/// The worked example of docs/FORMAT.md, byte for byte: if the encoder changes, the document
/// (and the format version) must change with it.
struct FormatExampleTests {
    func hex(_ text: String) -> [UInt8] { text.split(separator: " ").map { UInt8($0, radix: 16)! } }

    func encode(_ header: RecordHeader, _ key: String, _ value: String) -> [UInt8] {
        var record = [UInt8](repeating: 0, count: header.recordLength)
        record.withUnsafeMutableBytes { destination in
            Array(key.utf8).withUnsafeBytes { key in
                Array(value.utf8).withUnsafeBytes { value in header.encode(into: destination.baseAddress!, key: key, value: value) }
            }
        }
        return record
    }

    @Test func segmentHeader() {
        var header = [UInt8](repeating: 0, count: 32)
        SegmentHeader(segmentID: 1).encode(into: &header)
        #expect(header == hex("53 57 43 41 53 4b 53 47 01 00 20 00 00 00 00 00 01 00 00 00 00 00 00 00 ab 87 7b 90 00 00 00 00"))
    }

    @Test func putRecord() {
        let record = encode(RecordHeader(flags: [], keyspace: 0, keyLength: 6, valueLength: 5, expiresAtMillis: 0), "user:1", "alice")
        #expect(record == hex("50 50 8d 3c 00 00 06 00 05 00 00 00 00 00 00 00 00 00 00 00 75 73 65 72 3a 31 61 6c 69 63 65"))
    }

    @Test func tombstoneRecord() {
        let record = encode(RecordHeader(flags: .tombstone, keyspace: 0, keyLength: 6, valueLength: 0, expiresAtMillis: 0), "user:1", "")
        #expect(record == hex("fd 29 a3 db 01 00 06 00 00 00 00 00 00 00 00 00 00 00 00 00 75 73 65 72 3a 31"))
    }
}
