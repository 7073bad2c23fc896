/// Hint files: written for every sealed segment (after rotation, at close, after a scan, by
/// merges) and read at open instead of the segment's data.
extension StoreCore {
    func hintPath(forSegment id: UInt32) -> String {
        directory + "/" + HintFile.fileName(segmentID: id)
    }

    /// The entry count a hint's header announces (unverified: only for sizing the index).
    func hintEntryCount(for segment: Segment) -> Int? {
        guard !options.ignoreHintFiles, let file = try? SystemFile.open(hintPath(forSegment: segment.id), writable: false) else { return nil }
        defer { file.close() }
        var count: UInt32 = 0
        guard (try? file.read(into: &count, count: 4, at: 12)) == 4 else { return nil }
        return Int(UInt32(littleEndian: count))
    }

    /// Replays a segment from its hint; returns the record count, or nil (logged) when the hint
    /// is missing or unusable and the segment must be scanned.
    func loadHint(for segment: Segment, nowMillis: Int64) -> Int? {
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
            switch HintFile.validate(map.bytes, segmentID: segment.id, segmentBytes: segment.capacity) {
            case .failure(let rejection):
                logger.warning("hint \(path) is unusable (\(rejection)); scanning segment \(segment.id)")
                return nil
            case .success(let count):
                HintFile.forEachEntry(map.bytes) { entry in
                    replay(entry.header, at: entry.offset, key: entry.key, in: segment, nowMillis: nowMillis)
                }
                return count
            }
        } catch {
            logger.warning("cannot read hint \(path) (\(error)); scanning segment \(segment.id)")
            return nil
        }
    }

    /// Writes the hint of a sealed segment: to a temporary file, fsynced, renamed into place,
    /// directory fsynced. Needs no lock: a sealed segment's bytes never change.
    func writeHint(for segment: Segment) throws(IOFailure) {
        let bytes = UnsafeRawBufferPointer(rebasing: segment.map.bytes[0..<segment.appendEnd])
        guard let hint = HintFile.encode(segmentID: segment.id, segment: bytes) else {
            throw IOFailure(operation: "hint (segment fails its checks)", path: segment.path, errno: .ioError)
        }
        let path = hintPath(forSegment: segment.id)
        try Self.writeDurably(hint, to: path, directory: directory)
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
                try FileSystem.synchronizeDirectory(directory)
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
    static func writeDurably(_ contents: [UInt8], to path: String, directory: String) throws(IOFailure) {
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
        try FileSystem.synchronizeDirectory(directory)
    }
}
