/// The next segment file, made ahead of time by the maintenance thread: rotation only renames
/// it into place, so a writer (an event loop, in the server) creates and sizes no file under
/// the lock.
///
/// For `.always` durability its blocks are also written with zeros and synced before any
/// record goes there. On ext4 (and XFS) a write into fallocated, never-written blocks makes the
/// next fdatasync also commit the extent's unwritten→written conversion to the journal; with
/// written zeros a group fsync is a plain data flush (measured here: 216 µs vs 786 µs per
/// 13.6 KB append + fdatasync). In the other modes fsyncs are background work and the spare is
/// only preallocated (which does not double the bytes written), and its page cache is loaded in
/// huge folios before records go there, so reads of the segment map it with 2 MiB pages. Both
/// take tens of milliseconds, so the spare is made as soon as writes start (at open for a new
/// store).
///
/// The name ends in `.tmp`, so recovery deletes a spare that a crash left behind.
struct SpareSegmentFile {
    static let fileName = "spare-segment" + MergeOutputWriter.temporarySuffix
    /// Zeros written per call while filling. Not 2 MiB: writes that size leave the page cache
    /// in huge folios, and group fdatasyncs into huge folios measured 10-15 % slower durable
    /// batches, so `.always` segments keep small folios (and 4 KiB read mappings).
    static let zeroChunkBytes = 1 << 20
    /// After a failed preparation (a full disk, say), wait this long before trying again.
    static let retryDelayNanos: UInt64 = 5_000_000_000

    let file: SystemFile
    let capacity: Int

    /// Creates `spare-segment.tmp` in `directory` (replacing a stale one) of `capacity` bytes:
    /// written with zeros and fdatasynced when `zeroFilled`, else preallocated. Leaves no file
    /// behind on failure.
    static func prepare(in directory: String, capacity: Int, zeroFilled: Bool) throws(IOFailure) -> SpareSegmentFile {
        let path = directory + "/" + fileName
        try FileSystem.removeFile(path)
        let file = try SystemFile.open(path, writable: true, create: true, exclusive: true)
        do {
            guard zeroFilled else {
                try file.preallocate(length: capacity)
                MappedRegion.loadPageCacheInHugeFolios(of: file, length: capacity)
                return SpareSegmentFile(file: file, capacity: capacity)
            }
            let zeros = UnsafeMutableRawPointer.allocate(byteCount: zeroChunkBytes, alignment: 4096)
            defer { zeros.deallocate() }
            zeros.initializeMemory(as: UInt8.self, repeating: 0, count: zeroChunkBytes)
            var offset = 0
            while offset < capacity {
                let count = min(zeroChunkBytes, capacity - offset)
                try file.write(zeros, count: count, at: offset)
                offset += count
            }
            try file.synchronizeData()
        } catch {
            file.close()
            try? FileSystem.removeFile(path)
            throw error
        }
        return SpareSegmentFile(file: file, capacity: capacity)
    }

    /// Closes and deletes the spare (at close, or when it no longer fits the options).
    func discard() {
        file.close()
        try? FileSystem.removeFile(file.path)
    }
}
