import NIOCore

/// Reply encoding straight into a client's output buffer.
extension ByteBuffer {
    @inlinable mutating func writeOK() { writeStaticString("+OK\r\n") }
    @inlinable mutating func writeQueued() { writeStaticString("+QUEUED\r\n") }

    mutating func writeSimpleString(_ text: String) {
        writeStaticString("+")
        writeString(text)
        writeStaticString("\r\n")
    }

    /// `text` must carry its own code prefix ("ERR …", "WRONGTYPE …").
    mutating func writeError(_ text: String) {
        writeStaticString("-")
        writeString(text)
        writeStaticString("\r\n")
    }

    mutating func writeInteger(_ value: Int) {
        if value >= 0 && value < SharedReplies.integerCountMax {
            writeBytes(SharedReplies.integers[value])
        } else {
            writeStaticString(":")
            writeDecimal(value)
            writeStaticString("\r\n")
        }
    }

    mutating func writeDecimal(_ value: Int) {
        // Digits are produced into a fixed stack buffer: no String allocation.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: ClientSession.decimalDigitsMax) { digits in
            let length = ClientSession.formatDecimal(value, into: digits)
            writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[(digits.count - length)...]))
        }
    }

    mutating func writeBulkHeader(_ length: Int) {
        if length < SharedReplies.headerLengthMax {
            writeBytes(SharedReplies.bulkHeaders[length])
        } else {
            writeStaticString("$")
            writeDecimal(length)
            writeStaticString("\r\n")
        }
    }

    mutating func writeBulk<Bytes: Sequence<UInt8>>(_ bytes: Bytes, length: Int) {
        writeBulkHeader(length)
        writeBytes(bytes)
        writeStaticString("\r\n")
    }

    mutating func writeBulk(_ bytes: UnsafeRawBufferPointer) {
        writeBulkHeader(bytes.count)
        writeBytes(bytes)
        writeStaticString("\r\n")
    }

    mutating func writeBulk(_ bytes: [UInt8]) { writeBulk(bytes, length: bytes.count) }

    mutating func writeBulk(_ slice: ByteBuffer) {
        writeBulkHeader(slice.readableBytes)
        writeImmutableBuffer(slice)
        writeStaticString("\r\n")
    }

    mutating func writeBulkString(_ text: String) {
        writeBulkHeader(text.utf8.count)
        writeString(text)
        writeStaticString("\r\n")
    }

    /// `$-1` in RESP2, `_` in RESP3.
    mutating func writeNull(_ version: RESPVersion) {
        if version == .resp3 { writeStaticString("_\r\n") } else { writeStaticString("$-1\r\n") }
    }

    /// `*-1` in RESP2 (EXEC aborted, BLPOP timeouts), `_` in RESP3.
    mutating func writeNullArray(_ version: RESPVersion) {
        if version == .resp3 { writeStaticString("_\r\n") } else { writeStaticString("*-1\r\n") }
    }

    mutating func writeArrayHeader(_ count: Int) {
        if count < SharedReplies.headerLengthMax {
            writeBytes(SharedReplies.arrayHeaders[count])
        } else {
            writeStaticString("*")
            writeDecimal(count)
            writeStaticString("\r\n")
        }
    }

    /// A map in RESP3 (`%n`), a flat array of 2n elements in RESP2.
    mutating func writeMapHeader(_ pairs: Int, _ version: RESPVersion) {
        if version == .resp3 {
            writeStaticString("%")
            writeDecimal(pairs)
            writeStaticString("\r\n")
        } else {
            writeArrayHeader(pairs * 2)
        }
    }

    /// A set in RESP3 (`~n`), an array in RESP2.
    mutating func writeSetHeader(_ count: Int, _ version: RESPVersion) {
        if version == .resp3 {
            writeStaticString("~")
            writeDecimal(count)
            writeStaticString("\r\n")
        } else {
            writeArrayHeader(count)
        }
    }

    /// A verbatim string in RESP3 (`=n\r\ntxt:…`), a bulk string in RESP2.
    mutating func writeVerbatim(_ text: String, _ version: RESPVersion) {
        if version == .resp3 {
            writeStaticString("=")
            writeDecimal(text.utf8.count + 4)
            writeStaticString("\r\ntxt:")
            writeString(text)
            writeStaticString("\r\n")
        } else {
            writeBulkString(text)
        }
    }
}
