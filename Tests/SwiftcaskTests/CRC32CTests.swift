import CShims
import Testing
@testable import Swiftcask

/// CRC32C against published vectors (RFC 3720 appendix B.4 and the iSCSI check value), on
/// both the hardware and the software path.
struct CRC32CTests {
    static let vectors: [(name: String, bytes: [UInt8], crc: UInt32)] = [
        ("check value \"123456789\"", Array("123456789".utf8), 0xE306_9283),
        ("32 zero bytes", [UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ("32 0xFF bytes", [UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ("32 incrementing bytes", (0..<32).map { UInt8($0) }, 0x46DD_794E),
        ("32 decrementing bytes", (0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        ("empty", [], 0),
    ]

    @Test(arguments: vectors.indices)
    func publishedVectors(index: Int) {
        let vector = Self.vectors[index]
        let software = vector.bytes.withUnsafeBytes { sc_crc32c_software(0, $0.baseAddress, $0.count) }
        #expect(software == vector.crc, "software: \(vector.name)")
        #expect(CRC32C.checksum(vector.bytes) == vector.crc, "dispatching: \(vector.name)")
    }

    @Test func continuingEqualsOneShot() {
        let bytes = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let whole = CRC32C.checksum(bytes)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let first = bytes[..<split].withUnsafeBytes { CRC32C.checksum($0) }
            let both = bytes[split...].withUnsafeBytes { CRC32C.checksum($0, continuing: first) }
            #expect(both == whole, "split at \(split)")
        }
    }

    /// Every length through a few 32-byte blocks (the hardware loop's unit), each tail of 8-,
    /// 4- and 1-byte steps, at every misalignment of the start within a word.
    @Test func hardwareAndSoftwareAgreeOnOddLengths() {
        let buffer = (0..<208).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }
        buffer.withUnsafeBytes { all in
            for start in 0..<8 {
                for length in 0...(200 - start) {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    let software = sc_crc32c_software(0, bytes.baseAddress, bytes.count)
                    #expect(CRC32C.checksum(bytes) == software, "start \(start), length \(length)")
                }
            }
        }
    }
}
