/// Hint files: written for every sealed segment (after rotation, at close, after a scan, by
/// merges) and read at open instead of the segment's data.
extension StoreCore {
    func hintPath(forSegment id: UInt32) -> String {
        directory + "/" + HintFile.fileName(segmentID: id)
    }

    /// What a hint's header announces (unverified: only for sizing the index and choosing the
    /// hash seed); nil without a readable header of the current version. Read even when hints
    /// are ignored, so that the hints written afterwards share the existing ones' seed.
    func hintAnnouncement(for segment: Segment) -> HintFile.Announcement? {
        guard let file = try? SystemFile.open(hintPath(forSegment: segment.id), writable: false) else { return nil }
        defer { file.close() }
        var header = [UInt8](repeating: 0, count: HintFile.headerBytes)
        let read = header.withUnsafeMutableBytes { raw in (try? file.read(into: raw.baseAddress!, count: raw.count, at: 0)) ?? 0 }
        guard read == HintFile.headerBytes else { return nil }
        return header.withUnsafeBytes { HintFile.announcement(ofHeader: $0) }
    }

    /// The hash seed most hints were written with (nil without hints): the index adopts it so
    /// their hashes can be used as they are. Hints written with another seed are rejected and
    /// their segments scanned (and re-hinted).
    static func prevailingHashSeed(_ announcements: [HintFile.Announcement]) -> UInt64? {
        var votes: [UInt64: Int] = [:]
        for announcement in announcements { votes[announcement.hashSeed, default: 0] += 1 }
        return votes.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }

    /// Bucket prefetches run this many hint entries ahead of the entry being applied: enough
    /// to overlap about as many cache misses as a core can have outstanding.
    static let hintPrefetchDistance = 16
    /// Hash-sorted hints are applied one band of the hash space at a time, each band covering
    /// this many index slots (256 KiB of table): the band's slots stay in cache while every
    /// segment of the group adds its entries, and the table is touched front to back.
    static let hintBandSlots = 1 << 14

    /// A validated hint, mapped.
    struct UsableHint {
        var map: MappedRegion
        var count: Int
        var isSortedByHash: Bool
    }

    /// The segment's hint, validated; nil (logged) when it is missing or unusable and the
    /// segment must be scanned. `dataBytes`: the segment's size the hint must record (a file
    /// opened at recovery is its data; a live sealed segment keeps its preallocated capacity).
    func usableHint(for segment: Segment, dataBytes: Int? = nil) -> UsableHint? {
        let path = hintPath(forSegment: segment.id)
        guard !options.ignoreHintFiles, FileSystem.fileExists(path) else { return nil }
        do {
            let file = try SystemFile.open(path, writable: false)
            defer { file.close() }
            let size = try file.size()
            guard size > 0 else {
                logger.warning("hint \(path) is empty; scanning segment \(segment.id)")
                return nil
            }
            let map = try MappedRegion(file: file, length: size)
            map.adviseSequential()
            switch HintFile.validate(map.bytes, segmentID: segment.id, segmentBytes: dataBytes ?? segment.capacity, hashSeed: hasher.seed) {
            case .failure(let rejection):
                logger.warning("hint \(path) is unusable (\(rejection)); scanning segment \(segment.id)")
                return nil
            case .success(let count):
                return UsableHint(map: map, count: count, isSortedByHash: HintFile.isSortedByHash(map.bytes))
            }
        } catch {
            logger.warning("cannot read hint \(path) (\(error)); scanning segment \(segment.id)")
            return nil
        }
    }

    /// Applies a validated hint's entries in file order. The hashes come from the hint; keys are
    /// only read (from the data file) when a bucket holds an entry with an equal hash, to tell
    /// an overwrite from a collision, so a hint of distinct keys never touches the data.
    func replayHint(_ hint: UsableHint, of segment: Segment, nowMillis: Int64) {
        replayHintEntries(hint, from: 0, below: 1 << 32, of: segment, nowMillis: nowMillis)
    }

    /// Applies the hash-sorted hints of consecutive segments (in replay order) band by band:
    /// for each band of the hash space, each segment's entries in that band, oldest segment
    /// first. Records of different keys commute and each key's records stay in replay order,
    /// so the index ends as a replay in record order would leave it.
    func replaySortedHints(_ group: [(segment: Segment, hint: UsableHint)], nowMillis: Int64) {
        let bandCount = max(1, keydir.capacity / Self.hintBandSlots)
        let bandWidth = (UInt64(1) << 32) / UInt64(bandCount)
        var cursors = [Int](repeating: 0, count: group.count)
        for band in 1...bandCount {
            let upper = UInt64(band) * bandWidth
            for (member, (segment, hint)) in group.enumerated() {
                cursors[member] = replayHintEntries(hint, from: cursors[member], below: upper, of: segment, nowMillis: nowMillis)
            }
        }
    }

    /// Applies entries from `start` while their hash is below `upper`; returns where it stopped.
    @discardableResult
    private func replayHintEntries(_ hint: UsableHint, from start: Int, below upper: UInt64, of segment: Segment, nowMillis: Int64) -> Int {
        let bytes = hint.map.bytes
        let count = hint.count
        let distance = Self.hintPrefetchDistance
        let base = segment.map.base
        var index = start
        for ahead in start..<min(start + distance, count) { keydir.prefetch(HintFile.hash(bytes, at: ahead)) }
        while index < count {
            let entry = HintFile.entry(bytes, at: index)
            guard UInt64(entry.hash) < upper else { break }
            if index + distance < count { keydir.prefetch(HintFile.hash(bytes, at: index + distance)) }
            replay(entry.header, at: entry.offset, hash: entry.hash, in: segment, keysAt: base, nowMillis: nowMillis)
            index += 1
        }
        return index
    }

    /// Writes the hint of a sealed segment: to a temporary file, fsynced, renamed into place,
    /// directory fsynced. Needs no lock: a sealed segment's bytes never change.
    func writeHint(for segment: Segment) throws(IOFailure) {
        let bytes = UnsafeRawBufferPointer(rebasing: segment.map.bytes[0..<segment.appendEnd])
        guard let hint = HintFile.encode(segmentID: segment.id, segment: bytes, hasher: hasher) else {
            throw IOFailure(operation: "hint (segment fails its checks)", path: segment.path, errno: .ioError)
        }
        let path = hintPath(forSegment: segment.id)
        try writeDurably(hint, to: path, directory: directory)
    }

    /// At close, after both background threads stopped: hints the maintenance thread did not
    /// get to (segments sealed in the last moments).
    func writePendingHints() {
        for segment in segmentsNeedingHints where failure == nil {
            do { try writeHint(for: segment) } catch {
                logger.warning("cannot write the hint of segment \(segment.id) (\(error)); it will be scanned at the next open")
            }
        }
        segmentsNeedingHints.removeAll()
    }

    /// At close, after the committer drained: the active segment is truncated to its data,
    /// fsynced and given its hint; an active segment with no records is removed.
    func sealActiveSegmentAtClose() {
        guard failure == nil, let segment = active else { return }
        do {
            if segment.appendEnd == SegmentFormat.headerBytes {
                try FileSystem.removeFile(segment.path)
                try backend.synchronizeDirectory(directory)
                return
            }
            try segment.file.truncate(to: segment.appendEnd)
            try segment.file.synchronize()
            segment.isSealed = true
            segment.isFinal = true
            try writeHint(for: segment)
        } catch {
            logger.warning("could not seal segment \(segment.id) at close (\(error)); it will be scanned at the next open")
        }
    }

    /// Writes `contents` to `path` atomically: temp file, fsync, rename, directory fsync.
    func writeDurably(_ contents: [UInt8], to path: String, directory: String) throws(IOFailure) {
        let temporary = path + ".tmp"
        let file = try SystemFile.open(temporary, writable: true, create: true)
        do {
            try file.truncate(to: 0)
            try contents.withUnsafeBytes { bytes in
                Result { () throws(IOFailure) in try file.write(bytes.baseAddress!, count: bytes.count, at: 0) }
            }.get()
            try file.synchronize()
            file.close()
        } catch {
            file.close()
            throw error
        }
        try FileSystem.rename(temporary, to: path)
        try backend.synchronizeDirectory(directory)
    }
}
