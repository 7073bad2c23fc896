import NIOCore

/// The arguments of the command being run: its frame plus where each argument lies in it.
/// Taking a command apart costs no reference counting; one `ByteBuffer` slice per argument
/// cost a retain and a release each (4-5 % of a pipelined GET's CPU). An element is a slice
/// made when asked for; hot paths read an argument's bytes in place with `withBytes(at:)`.
/// The span storage is reused from command to command. `slice(at:)` is the way to take one
/// argument; the collection conformance serves cold paths (`dropFirst().map`).
struct CommandArguments: RandomAccessCollection {
    private var frame = ByteBuffer()
    /// Offset from the frame's reader index, and length, of each argument: the first `count`
    /// entries. Overwritten in place, as `removeAll(keepingCapacity:)` went through a generic
    /// `replaceSubrange` (1.2 % of a pipelined GET).
    private var spans: [(offset: Int, length: Int)] = []
    private(set) var count = 0

    init(reservingCapacity capacity: Int) {
        spans.reserveCapacity(capacity)
    }

    /// Makes these the arguments of `command`, whose frame is swapped with the previous one.
    mutating func load(_ command: inout RESPCommand) {
        count = 0
        command.forEachArgument { offset, length in
            if count < spans.count { spans[count] = (offset, length) } else { spans.append((offset, length)) }
            count += 1
        }
        swap(&frame, &command.frame)
    }

    /// The command these arguments came from (for MULTI's queue).
    var command: RESPCommand {
        RESPCommand(frame: frame, argumentCount: count)
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(index: Int) -> ByteBuffer {
        precondition(index < count, "argument index out of range")
        let span = spans[index]
        return frame.getSlice(at: frame.readerIndex + span.offset, length: span.length)!
    }

    /// Argument `index` as a slice of the frame. Handlers call this, not the subscript: called
    /// on a class's property (the session's `argv`), the subscript first copied the whole
    /// struct out (two retains and two releases, 6 % of a pipelined SET's CPU); a mutating
    /// method works in place.
    @inline(__always)
    mutating func slice(at index: Int) -> ByteBuffer {
        self[index]
    }

    /// `withBytes(at:)` for two arguments at once (a key and its value): nesting two calls
    /// would be two overlapping mutating accesses.
    @inline(__always)
    mutating func withBytes<Result>(at first: Int, and second: Int, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Result) -> Result {
        precondition(first < count && second < count, "argument index out of range")
        let (firstSpan, secondSpan) = (spans[first], spans[second])
        return frame.withUnsafeReadableBytes { bytes in
            body(Self.bytes(of: firstSpan, in: bytes), Self.bytes(of: secondSpan, in: bytes))
        }
    }

    /// The byte length of argument `index`, without making a slice.
    func length(at index: Int) -> Int {
        precondition(index < count, "argument index out of range")
        return spans[index].length
    }

    /// Lends the bytes of argument `index` to `body`, without making a slice. Mutating only so
    /// that, called on a class's property, it works in place instead of on a retained copy.
    @inline(__always)
    mutating func withBytes<Result>(at index: Int, _ body: (UnsafeRawBufferPointer) -> Result) -> Result {
        precondition(index < count, "argument index out of range")
        let span = spans[index]
        return frame.withUnsafeReadableBytes { bytes in
            body(Self.bytes(of: span, in: bytes))
        }
    }

    /// The bytes of an argument's span within the frame's readable bytes.
    @inline(__always)
    private static func bytes(of span: (offset: Int, length: Int), in frame: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: frame[span.offset..<(span.offset + span.length)])
    }
}
