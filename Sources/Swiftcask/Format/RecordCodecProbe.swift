/// The record codec, opened to the package-benchmark suite only (`@_spi(Benchmarks)`) so its
/// per-record cost and allocations can be gated on their own; the engine uses `RecordHeader`.
@_spi(Benchmarks)
public enum RecordCodecProbe {
    /// Bytes a record of these lengths takes in a segment.
    public static func recordLength(keyLength: Int, valueLength: Int) -> Int {
        RecordHeader.recordLength(keyLength: keyLength, valueLength: valueLength)
    }

    /// Encodes a put record (header, key, value, CRC) at `destination`, which must have
    /// `recordLength(keyLength:valueLength:)` bytes.
    public static func encodePut(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, into destination: UnsafeMutableRawPointer) {
        RecordHeader(flags: [], keyspace: 0, keyLength: key.count, valueLength: value.count, expiresAtMillis: 0)
            .encode(into: destination, key: key, value: value)
    }

    /// Decodes and verifies (lengths, flags, CRC) the record at `bytes[offset...]`: its length,
    /// or nil when it is not a valid record.
    public static func decodedLength(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> Int? {
        guard case .record(let header) = RecordHeader.decode(bytes, at: offset) else { return nil }
        return header.recordLength
    }
}
