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
    /// The multibulk frame of the last unquoted inline command, rewritten in place for the
    /// next one when nothing holds it any more; while one still does (the session keeps the
    /// frame of the command it ran last until the next arrives, MULTI keeps its queue),
    /// `clear` starts a fresh buffer instead.
    private var inlineFrame = ByteBuffer()

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
                if let command = try inlineCommand(line, lineLength: lineLength) { return command }
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
    private mutating func inlineCommand(_ line: ByteBuffer, lineLength: Int) throws(RESPProtocolError) -> RESPCommand? {
        let text = line.readableBytesView.prefix(lineLength)
        if text.contains(UInt8(ascii: "\"")) || text.contains(UInt8(ascii: "'")) {
            let arguments = try InlineSplitter.split(text)
            guard !arguments.isEmpty else { return nil }
            try checkInlineCount(arguments.count)
            // Unquoting only shortens the words: they fit in the line's length.
            return rewrittenInline(count: arguments.count, textBytes: lineLength) { visit in
                for argument in arguments { argument.withUnsafeBytes(visit) }
            }
        }
        // No quotes (redis-benchmark's PING_INLINE, telnet): the words are the runs between
        // spaces, read where they are, without an array of them.
        return try line.withUnsafeReadableBytes { bytes throws(RESPProtocolError) -> RESPCommand? in
            let words = UnsafeRawBufferPointer(rebasing: bytes[0..<lineLength])
            var count = 0
            Self.forEachWord(in: words) { _ in count += 1 }
            guard count > 0 else { return nil }
            try checkInlineCount(count)
            return rewrittenInline(count: count, textBytes: lineLength) { visit in Self.forEachWord(in: words, visit) }
        }
    }

    /// Inline arguments rewritten as a multibulk frame, so commands see one request shape: the
    /// `count` words that `forEachWord` visits (at most `textBytes` bytes in all), written into
    /// the reused `inlineFrame` in one write.
    private mutating func rewrittenInline(
        count: Int, textBytes: Int, _ forEachWord: ((UnsafeRawBufferPointer) -> Void) -> Void
    ) -> RESPCommand {
        let frameBytesMax = textBytes + (count + 1) * Self.lengthLineBytesMax
        inlineFrame.clear(minimumCapacity: frameBytesMax)
        inlineFrame.writeWithUnsafeMutableBytes(minimumWritableBytes: frameBytesMax) { frame in
            var position = Self.writeLengthLine(UInt8(ascii: "*"), count, into: frame, at: 0)
            forEachWord { word in
                position = Self.writeLengthLine(UInt8(ascii: "$"), word.count, into: frame, at: position)
                UnsafeMutableRawBufferPointer(rebasing: frame[position..<(position + word.count)]).copyMemory(from: word)
                position += word.count
                frame[position] = UInt8(ascii: "\r")
                frame[position + 1] = UInt8(ascii: "\n")
                position += 2
            }
            return position
        }
        let command = RESPCommand(frame: inlineFrame, argumentCount: count)
        // A frame this large goes with its command instead of staying with the connection.
        if inlineFrame.capacity > Self.inlineFrameBytesKept { inlineFrame = ByteBuffer() }
        return command
    }

    /// The largest reused inline frame a connection keeps between commands (a 64 KiB line of
    /// one-letter words needs about 800 KB).
    private static let inlineFrameBytesKept = 16 * 1024

    /// `*<n>\r\n` or `$<n>\r\n` at most: a marker, 20 digits, CR LF.
    private static let lengthLineBytesMax = 1 + 20 + 2

    /// Writes `marker`, the decimal `value` (not negative) and CR LF at `position`; returns the
    /// position after them.
    private static func writeLengthLine(_ marker: UInt8, _ value: Int, into frame: UnsafeMutableRawBufferPointer, at position: Int) -> Int {
        frame[position] = marker
        var digits = 1
        var rest = value / 10
        while rest > 0 { digits += 1; rest /= 10 }
        var remaining = value
        for index in stride(from: position + digits, to: position, by: -1) {
            frame[index] = UInt8(ascii: "0") + UInt8(remaining % 10)
            remaining /= 10
        }
        frame[position + digits + 1] = UInt8(ascii: "\r")
        frame[position + digits + 2] = UInt8(ascii: "\n")
        return position + digits + 3
    }

    private func checkInlineCount(_ count: Int) throws(RESPProtocolError) {
        if !limits.isAuthenticated && count > RESPLimits.unauthenticatedMultibulkCountMax {
            throw .unauthenticatedMultibulkLength
        }
    }

    /// Calls `visit` with each run of non-space bytes of `line`, in order.
    private static func forEachWord(in line: UnsafeRawBufferPointer, _ visit: (UnsafeRawBufferPointer) -> Void) {
        var index = 0
        while index < line.count {
            while index < line.count && InlineSplitter.isSpace(line[index]) { index += 1 }
            let start = index
            while index < line.count && !InlineSplitter.isSpace(line[index]) { index += 1 }
            if index > start { visit(UnsafeRawBufferPointer(rebasing: line[start..<index])) }
        }
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
