import NIOCore

/// The reply encoders the server writes with, opened to the package-benchmark suite only
/// (`@_spi(Benchmarks)`) so their cost and allocations can be gated on their own.
@_spi(Benchmarks)
public enum RESPReplyProbe {
    /// The replies of SET, INCR and GET: `+OK`, an integer and a bulk string.
    public static func writeCommonReplies(into buffer: inout ByteBuffer, integer: Int, bulk: UnsafeRawBufferPointer) {
        buffer.writeOK()
        buffer.writeInteger(integer)
        buffer.writeBulk(bulk)
    }
}
