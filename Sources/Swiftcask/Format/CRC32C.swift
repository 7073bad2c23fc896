import CShims

/// CRC32C (Castagnoli), the checksum of every record, segment header and hint file.
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `previous` (0 to start).
    @inline(__always)
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing previous: UInt32 = 0) -> UInt32 {
        sc_crc32c(previous, bytes.baseAddress, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// Whether the SSE4.2 instruction is in use (else a table-driven loop).
    public static var isHardwareAccelerated: Bool { sc_crc32c_is_hardware_accelerated() != 0 }
}
