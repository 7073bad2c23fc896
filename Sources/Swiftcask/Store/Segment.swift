/// One segment file: its descriptor, its read-only memory map and its write progress.
/// Mutable fields are guarded by the store lock.
final class Segment: @unchecked Sendable {
    let id: UInt32
    /// Non-zero for a merge output: it replays right after this segment id.
    let replayAfter: UInt32
    let file: SystemFile
    let map: MappedRegion
    /// Bytes of file space (and map); the active segment is preallocated to this size.
    let capacity: Int

    /// Bytes handed to writers (header and records, buffered or not): where the next record goes.
    var appendEnd: Int
    /// Bytes known to have reached the operating system; below it, reads go through the map.
    var writtenEnd: Int
    /// Bytes of records that a newer record or a deletion made obsolete.
    var deadBytes = 0
    /// No more appends; once written, the committer truncates it to `appendEnd` and fsyncs it.
    var isSealed = false
    /// Sealed, fully written, truncated and fsynced: immutable on disk. Only such segments are
    /// merged, hinted or linked into checkpoints.
    var isFinal = false

    init(id: UInt32, replayAfter: UInt32 = 0, file: SystemFile, map: MappedRegion, capacity: Int, dataEnd: Int) {
        self.id = id
        self.replayAfter = replayAfter
        self.file = file
        self.map = map
        self.capacity = capacity
        self.appendEnd = dataEnd
        self.writtenEnd = dataEnd
    }

    var path: String { file.path }
    var replayOrder: (UInt32, UInt32, UInt32) { SegmentHeader(segmentID: id, replayAfter: replayAfter).replayOrder }
    /// Bytes of records still referenced by the index.
    var liveBytes: Int { appendEnd - SegmentFormat.headerBytes - deadBytes }
    var remainingBytes: Int { capacity - appendEnd }

    /// The record at `offset`; valid while the segment lives, for offsets below `writtenEnd`.
    @inline(__always)
    func recordStart(at offset: Int) -> UnsafeRawPointer { map.base + offset }

    deinit { file.close() }
}
