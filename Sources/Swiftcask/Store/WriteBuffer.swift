import Glibc

/// A reusable block of memory into which writers encode records before the committer writes
/// it to its segment at `segmentOffset`. Records stay readable here until the write completed.
/// Buffers come from and return to the store's pool, so steady-state puts allocate nothing.
final class WriteBuffer: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let capacity: Int
    /// Pooled buffers are reused; oversized ones (one huge record or batch) are freed after use.
    let isPooled: Bool

    private(set) var segment: Segment?
    private(set) var segmentOffset = 0
    private(set) var used = 0
    private(set) var recordCount = 0
    /// Log position (bytes appended to the store, ever) just past this buffer's last record.
    var endPosition: UInt64 = 0
    /// The segment is sealed after this buffer: the committer truncates and fsyncs it.
    var sealsSegment = false

    init(capacity: Int, isPooled: Bool) {
        self.capacity = capacity
        self.isPooled = isPooled
        guard let memory = malloc(max(capacity, 1)) else { fatalError("out of memory for a \(capacity)-byte write buffer") }
        self.bytes = memory
    }

    deinit { free(bytes) }

    func attach(to segment: Segment, at offset: Int) {
        self.segment = segment
        self.segmentOffset = offset
        used = 0
        recordCount = 0
        sealsSegment = false
    }

    func detach() {
        segment = nil
        used = 0
        recordCount = 0
        sealsSegment = false
    }

    var remainingBytes: Int { capacity - used }
    var isEmpty: Bool { used == 0 }

    /// Reserves `length` bytes for one record; returns where to encode it.
    @inline(__always)
    func reserve(_ length: Int) -> UnsafeMutableRawPointer {
        assert(length <= remainingBytes)
        let destination = bytes + used
        used += length
        recordCount += 1
        return destination
    }

    /// Gives back the last reservation (an encoding that was abandoned).
    func unreserve(_ length: Int) {
        used -= length
        recordCount -= 1
    }

    /// Whether the segment byte range at `offset` lies in this buffer.
    @inline(__always)
    func contains(segment candidate: Segment, offset: Int) -> Bool {
        candidate === segment && offset >= segmentOffset && offset < segmentOffset + used
    }

    @inline(__always)
    func recordStart(atSegmentOffset offset: Int) -> UnsafeRawPointer {
        UnsafeRawPointer(bytes + (offset - segmentOffset))
    }
}
