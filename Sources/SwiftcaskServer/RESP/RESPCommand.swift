import NIOCore

/// One complete request, as a zero-copy slice of the read buffer in multibulk form
/// (`*n\r\n$len\r\narg\r\n…`); inline requests are rewritten to that form by the decoder.
public struct RESPCommand: Sendable, Equatable {
    /// The validated frame. Its bytes are never re-validated, only re-walked.
    public var frame: ByteBuffer
    public var argumentCount: Int

    /// Calls `body` with the offset (from the frame's reader index) and length of each argument.
    func forEachArgument(_ body: (_ offset: Int, _ length: Int) -> Void) {
        // The frame was validated by the decoder, so the walk trusts its shape: `$len\r\n`
        // headers with decimal lengths, each payload followed by two bytes.
        var offsets = (start: 0, length: 0)
        var position = frame.withUnsafeReadableBytes { bytes in
            // Like the decoder, the header ends at `\r` plus one skipped byte.
            var index = 1
            while bytes[index] != UInt8(ascii: "\r") { index += 1 }
            return index + 2
        }
        for _ in 0..<argumentCount {
            offsets = frame.withUnsafeReadableBytes { bytes in
                var index = position + 1
                var length = 0
                while bytes[index] != UInt8(ascii: "\r") {
                    length = length * 10 + Int(bytes[index] &- UInt8(ascii: "0"))
                    index += 1
                }
                return (index + 2, length)
            }
            body(offsets.start, offsets.length)
            position = offsets.start + offsets.length + 2
        }
    }

    /// The arguments as slices of `frame` (no copy).
    public var arguments: [ByteBuffer] {
        var result: [ByteBuffer] = []
        result.reserveCapacity(argumentCount)
        let base = frame.readerIndex
        forEachArgument { offset, length in result.append(frame.getSlice(at: base + offset, length: length)!) }
        return result
    }
}
