import NIOCore

/// Decodes RESP requests (multibulk and inline) into `RESPCommand` frames.
///
/// It hands out `readSlice`s of the input (no copies), leaves the reader index alone on a partial
/// frame and remembers how far it already validated, so a large pipelined read is scanned once.
/// Every length is checked against `limits` before the bytes it announces are awaited.
public struct RESPCommandDecoder: ByteToMessageDecoder {
    public typealias InboundOut = RESPCommand

    public var limits: RESPLimits
    private var progress = Progress.idle

    private enum Progress {
        case idle
        /// Searching an inline line for its newline; `searched` bytes hold none.
        case inline(searched: Int)
        /// Inside `*n…`: `offset` bytes from the reader index are validated; `bulkLength` is
        /// the announced length of the argument whose payload starts at `offset`.
        case multibulk(count: Int, parsed: Int, offset: Int, bulkLength: Int?)
    }

    public init(limits: RESPLimits = RESPLimits()) {
        self.limits = limits
    }

    /// What one pass over the readable bytes found.
    private enum Step {
        case needMoreData
        /// Bytes to drop without a command (`*0`, `*-1`).
        case skip(Int)
        /// A complete multibulk frame of this many bytes and arguments.
        case frame(length: Int, count: Int)
        /// An inline line of `lineLength` bytes, ending (newline included) after `consumed`.
        case inline(lineLength: Int, consumed: Int)
    }

    /// Returns the next complete command, or nil when more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPCommand? {
        // Bounded by the input: every pass either returns or consumes at least one byte.
        while buffer.readableBytes > 0 {
            // One pointer walk per pass: indexing a ByteBufferView pays a bounds and
            // exclusivity check per byte.
            let result = buffer.withUnsafeReadableBytes { bytes in
                Result { () throws(RESPProtocolError) -> Step in try self.step(bytes) }
            }
            switch try result.get() {
            case .needMoreData:
                return nil
            case .skip(let length):
                buffer.moveReaderIndex(forwardBy: length)
            case .frame(let length, let count):
                return RESPCommand(frame: buffer.readSlice(length: length)!, argumentCount: count)
            case .inline(let lineLength, let consumed):
                let line = buffer.readSlice(length: consumed)!
                if let command = try inlineCommand(line.readableBytesView.prefix(lineLength)) { return command }
            }
        }
        return nil
    }

    private mutating func step(_ bytes: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Step {
        switch progress {
        case .idle:
            if bytes[0] == UInt8(ascii: "*") { return try startMultibulk(bytes) }
            return try scanInline(bytes, searched: 0)
        case .inline(let searched):
            return try scanInline(bytes, searched: searched)
        case .multibulk(let count, let parsed, let offset, let bulkLength):
            return try continueMultibulk(bytes, count: count, parsed: parsed, offset: offset, bulkLength: bulkLength)
        }
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(command))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    // MARK: multibulk

    /// Parses `*n\r\n`, then as many arguments as are present.
    private mutating func startMultibulk(_ bytes: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Step {
        guard let lineEnd = Self.lineEnd(in: bytes, from: 1) else {
            if bytes.count > RESPLimits.inlineBytesMax { throw .tooBigMultibulkCount }
            return .needMoreData
        }
        guard let count = RESPInteger.parse(UnsafeRawBufferPointer(rebasing: bytes[1..<lineEnd])),
              count <= RESPLimits.multibulkCountMax else {
            throw .invalidMultibulkLength
        }
        if !limits.isAuthenticated && count > RESPLimits.unauthenticatedMultibulkCountMax {
            throw .unauthenticatedMultibulkLength
        }
        // Redis skips `*0` and `*-1` requests silently.
        if count <= 0 { return .skip(lineEnd + 2) }
        return try continueMultibulk(bytes, count: count, parsed: 0, offset: lineEnd + 2, bulkLength: nil)
    }

    private mutating func continueMultibulk(
        _ bytes: UnsafeRawBufferPointer, count: Int, parsed: Int, offset: Int, bulkLength: Int?
    ) throws(RESPProtocolError) -> Step {
        var parsed = parsed
        var offset = offset
        var bulkLength = bulkLength
        while parsed < count {
            if bulkLength == nil {
                guard offset < bytes.count else { break }
                let marker = bytes[offset]
                guard marker == UInt8(ascii: "$") else { throw .expectedDollar(got: marker) }
                guard let lineEnd = Self.lineEnd(in: bytes, from: offset + 1) else {
                    if bytes.count - offset > RESPLimits.inlineBytesMax { throw .tooBigBulkCount }
                    break
                }
                guard let length = RESPInteger.parse(UnsafeRawBufferPointer(rebasing: bytes[(offset + 1)..<lineEnd])),
                      length >= 0, length <= limits.bulkBytesMax else {
                    throw .invalidBulkLength
                }
                if !limits.isAuthenticated && length > RESPLimits.unauthenticatedBulkBytesMax {
                    throw .unauthenticatedBulkLength
                }
                offset = lineEnd + 2
                if offset + length + 2 > limits.queryBufferBytesMax { throw .queryBufferLimit }
                bulkLength = length
            }
            guard bytes.count >= offset + bulkLength! + 2 else { break }
            // Like Redis, the two bytes after the payload are skipped, not checked.
            offset += bulkLength! + 2
            parsed += 1
            bulkLength = nil
        }
        guard parsed == count else {
            progress = .multibulk(count: count, parsed: parsed, offset: offset, bulkLength: bulkLength)
            return .needMoreData
        }
        progress = .idle
        return .frame(length: offset, count: count)
    }

    // MARK: inline

    private mutating func scanInline(_ bytes: UnsafeRawBufferPointer, searched: Int) throws(RESPProtocolError) -> Step {
        guard let newline = bytes[searched...].firstIndex(of: UInt8(ascii: "\n")) else {
            if bytes.count > RESPLimits.inlineBytesMax { throw .tooBigInlineRequest }
            progress = .inline(searched: bytes.count)
            return .needMoreData
        }
        if newline > RESPLimits.inlineBytesMax { throw .tooBigInlineRequest }
        progress = .idle
        let lineLength = newline > 0 && bytes[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
        return .inline(lineLength: lineLength, consumed: newline + 1)
    }

    /// The command of an inline line, or nil for an empty line (which Redis skips).
    private func inlineCommand(_ line: ByteBufferView) throws(RESPProtocolError) -> RESPCommand? {
        let frame: ByteBuffer
        let count: Int
        if line.contains(UInt8(ascii: "\"")) || line.contains(UInt8(ascii: "'")) {
            let arguments = try InlineSplitter.split(line)
            frame = Self.multibulkFrame(arguments.map { $0[...] }, byteCount: line.count)
            count = arguments.count
        } else {
            // No quotes (redis-benchmark's PING_INLINE, telnet): split on whitespace in place.
            let words = line.split(whereSeparator: InlineSplitter.isSpace)
            frame = Self.multibulkFrame(words, byteCount: line.count)
            count = words.count
        }
        guard count > 0 else { return nil }
        if !limits.isAuthenticated && count > RESPLimits.unauthenticatedMultibulkCountMax {
            throw .unauthenticatedMultibulkLength
        }
        return RESPCommand(frame: frame, argumentCount: count)
    }

    /// Inline arguments rewritten as a multibulk frame, so commands see one request shape.
    private static func multibulkFrame<Word: Collection<UInt8>>(_ words: [Word], byteCount: Int) -> ByteBuffer {
        var frame = ByteBufferAllocator().buffer(capacity: byteCount + 16 * (words.count + 1))
        frame.writeStaticString("*")
        frame.writeDecimal(words.count)
        frame.writeStaticString("\r\n")
        for word in words {
            frame.writeBulkHeader(word.count)
            frame.writeBytes(word)
            frame.writeStaticString("\r\n")
        }
        return frame
    }

    // MARK: helpers

    /// Index of the `\r` that ends the line starting at `start`, if the byte after it is
    /// present too (Redis looks for `\r` and skips one more byte).
    private static func lineEnd(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\r") { return index + 1 < bytes.count ? index : nil }
            index += 1
        }
        return nil
    }
}
