/// Opening a directory: every segment is mapped, its header checked, and its records
/// CRC-checked and replayed into the index in id order. A torn tail (a write cut short by a
/// crash) is truncated and logged; anything else that fails its checks is reported with its
/// segment and offset and stops the open, because skipping it could resurrect deleted keys.
extension StoreCore {
    /// Where a segment's valid records end, and what follows them.
    struct ScanOutcome {
        var dataEnd: Int
        var recordCount: Int
        /// Why the bytes at `dataEnd` are not a record (nil: the file ends or only zeros follow).
        var damage: String?
        /// One past the last nonzero byte after `dataEnd` (equal to `dataEnd` when none).
        var garbageEnd: Int
        /// Read record by record (false: replayed from its hint).
        var wasScanned = true
    }

    func recover() throws(StoreError) {
        let names: [String]
        do { names = try FileSystem.contentsOfDirectory(directory) } catch {
            throw StoreError(.ioFailure, "cannot list \(directory): \(error)")
        }
        for name in names where name.hasSuffix(MergeOutputWriter.temporarySuffix) {
            // Left by a merge or hint write that a crash interrupted before its commit point.
            logger.info("removing unfinished file \(name)")
            do { try FileSystem.removeFile(directory + "/" + name) } catch {
                throw StoreError(.ioFailure, "cannot remove \(name): \(error)")
            }
        }
        let ids = names.compactMap(SegmentFormat.segmentID(fromFileName:)).sorted()
        let nowMillis = Clock.unixMillis()
        var outcomes: [(segment: Segment, outcome: ScanOutcome)] = []
        var scannedSegments = 0
        var opened: [Segment] = []
        for id in ids {
            if let segment = try openSegment(id) { opened.append(segment) }
        }
        opened.sort { $0.replayOrder < $1.replayOrder }
        let announcements = opened.compactMap { hintAnnouncement(for: $0) }
        // Hash with the seed the hints were written with, so their hashes serve as they are.
        if let seed = Self.prevailingHashSeed(announcements) { hasher = KeyHasher(seed: seed) }
        // Size the index once for what the hints announce, instead of doubling during the load.
        if !options.ignoreHintFiles {
            keydir.reserve(announcements.reduce(0) { $0 + $1.entryCount }, prefaulting: true)
        }
        defer { keydir.stopPrefaulting() }
        let hints = opened.map { usableHint(for: $0) }
        // Each run of consecutive segments with hash-sorted hints is applied band by band;
        // any other segment on its own, from its hint or by scanning.
        var position = 0
        while position < opened.count {
            var end = position + 1
            if hints[position]?.isSortedByHash == true {
                while end < opened.count && hints[end]?.isSortedByHash == true { end += 1 }
                for segment in opened[position..<end] { register(segment) }
                replaySortedHints((position..<end).map { (opened[$0], hints[$0]!) }, nowMillis: nowMillis)
            }
            for index in position..<end {
                let segment = opened[index]
                let outcome: ScanOutcome
                if let hint = hints[index] {
                    if !hint.isSortedByHash {
                        register(segment)
                        replayHint(hint, of: segment, nowMillis: nowMillis)
                    }
                    outcome = ScanOutcome(dataEnd: segment.capacity, recordCount: hint.count, damage: nil, garbageEnd: segment.capacity, wasScanned: false)
                } else {
                    register(segment)
                    segment.map.adviseSequential()
                    outcome = scan(segment, nowMillis: nowMillis)
                    segment.map.adviseRandom()
                    scannedSegments += 1
                }
                if outcome.recordCount > 0, let torn = outcomes.first(where: { $0.outcome.garbageEnd > $0.outcome.dataEnd }) {
                    throw StoreError(.corruptData, "segment \(torn.segment.path) is damaged at offset \(torn.outcome.dataEnd) (\(torn.outcome.damage ?? "unexpected bytes")) while a newer segment holds data; run `swiftcask verify` on the directory")
                }
                outcomes.append((segment, outcome))
            }
            position = end
        }
        for (index, entry) in outcomes.enumerated() {
            try finishRecovery(of: entry.segment, entry.outcome, isLast: index == outcomes.count - 1)
        }
        if let last = outcomes.last, last.segment.capacity > last.outcome.dataEnd {
            active = last.segment
        }
        segmentsScanned = scannedSegments
        segmentsLoadedFromHints = outcomes.count - scannedSegments
        // Sealed segments that had to be scanned get a hint for next time, replacing an unusable
        // one (when hints are ignored on purpose, only a missing one).
        for (segment, outcome) in outcomes where segment.isFinal && outcome.wasScanned
            && (!options.ignoreHintFiles || !FileSystem.fileExists(hintPath(forSegment: segment.id))) {
            segmentsNeedingHints.append(segment)
        }
        logger.info("opened \(directory): \(keydir.count) keys in \(outcomes.count) segments (\(scannedSegments) scanned, the rest from hints), backend \(backend.name)")
    }

    /// Opens and maps one segment; nil for an empty file left by a crash during creation.
    private func openSegment(_ id: UInt32) throws(StoreError) -> Segment? {
        let path = path(forSegment: id)
        do {
            let file = try SystemFile.open(path, writable: true)
            let size = try file.size()
            if size == 0 {
                file.close()
                logger.warning("removing empty segment file \(path) left by an interrupted rotation")
                try FileSystem.removeFile(path)
                return nil
            }
            let map = try MappedRegion(file: file, length: size)
            switch SegmentHeader.decode(UnsafeRawBufferPointer(rebasing: map.bytes[0..<min(size, SegmentFormat.headerBytes)])) {
            case .success(let header):
                guard header.segmentID == id else {
                    file.close()
                    throw StoreError(.corruptData, "segment \(path) says it is segment \(header.segmentID); files were renamed or copied wrongly")
                }
                return Segment(id: id, replayAfter: header.replayAfter, file: file, map: map, capacity: size, dataEnd: size)
            case .failure(.unsupportedVersion(let version)):
                file.close()
                throw StoreError(.unsupportedFormatVersion, "segment \(path) has format version \(version); this build reads version \(SegmentFormat.version) only. Use a newer swiftcask")
            case .failure(.notASegment(let reason)):
                if RecordHeader.isZero(map.bytes, from: 0, count: size) {
                    file.close()
                    logger.warning("removing segment file \(path): it holds only zeros (interrupted rotation)")
                    try FileSystem.removeFile(path)
                    return nil
                }
                file.close()
                throw StoreError(.corruptData, "segment \(path) is damaged at offset 0: \(reason)")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.ioFailure, "cannot open segment \(path): \(error)")
        }
    }

    /// Replays a segment's records into the index, stopping at the first invalid record.
    private func scan(_ segment: Segment, nowMillis: Int64) -> ScanOutcome {
        let bytes = segment.map.bytes
        let base = segment.map.base
        var offset = SegmentFormat.headerBytes
        var recordCount = 0
        var damage: String?
        // Records of a batch whose end has not been seen yet: applied only when it is.
        var pendingBatch: [(offset: Int, header: RecordHeader)] = []
        var batchStart = offset
        // A lone record is applied one record late: its bucket is prefetched first, so the
        // cache miss overlaps decoding and CRC-checking the next record.
        var deferred: (offset: Int, header: RecordHeader, hash: UInt32)?
        scanning: while offset < bytes.count {
            switch RecordHeader.decode(bytes, at: offset) {
            case .endOfData:
                break scanning
            case .invalid(let reason):
                damage = reason
                break scanning
            case .record(let header):
                if header.flags.contains(.batchMember) {
                    if pendingBatch.isEmpty { batchStart = offset }
                    pendingBatch.append((offset, header))
                    if header.flags.contains(.batchEnd) {
                        if let record = deferred {
                            replay(record.header, at: record.offset, hash: record.hash, in: segment, keysAt: base, nowMillis: nowMillis)
                            deferred = nil
                        }
                        for member in pendingBatch { replay(member.header, at: member.offset, hash: nil, in: segment, keysAt: base, nowMillis: nowMillis) }
                        recordCount += pendingBatch.count
                        pendingBatch.removeAll(keepingCapacity: true)
                    }
                } else {
                    if !pendingBatch.isEmpty {
                        damage = "a batch starting at offset \(batchStart) has no end record"
                        break scanning
                    }
                    let key = UnsafeRawBufferPointer(start: base + offset + SegmentFormat.recordHeaderBytes, count: header.keyLength)
                    let hash = self.hash(key, header.keyspace)
                    keydir.prefetch(hash)
                    if let record = deferred {
                        replay(record.header, at: record.offset, hash: record.hash, in: segment, keysAt: base, nowMillis: nowMillis)
                    }
                    deferred = (offset, header, hash)
                    recordCount += 1
                }
                offset += header.recordLength
            }
        }
        if let record = deferred {
            replay(record.header, at: record.offset, hash: record.hash, in: segment, keysAt: base, nowMillis: nowMillis)
        }
        if !pendingBatch.isEmpty {
            // A batch cut off by the crash: none of it counts.
            offset = batchStart
            damage = damage ?? "incomplete batch"
        }
        let garbageEnd = Self.endOfNonzeroBytes(bytes, from: offset)
        return ScanOutcome(dataEnd: offset, recordCount: recordCount, damage: garbageEnd > offset ? (damage ?? "nonzero bytes after the last record") : nil, garbageEnd: garbageEnd)
    }

    /// One past the last nonzero byte at or after `start` (`start` when there is none). Scans
    /// forward a word at a time: a backward byte scan of a 64 MiB preallocated tail under
    /// sequential read-ahead advice took seconds.
    static func endOfNonzeroBytes(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var end = start
        var index = start
        while index < bytes.count && index % 8 != 0 {
            if bytes[index] != 0 { end = index + 1 }
            index += 1
        }
        let base = bytes.baseAddress!
        while index + 8 <= bytes.count {
            let word = base.load(fromByteOffset: index, as: UInt64.self)
            if word != 0 { end = index + 8 - (word.leadingZeroBitCount / 8) }
            index += 8
        }
        while index < bytes.count {
            if bytes[index] != 0 { end = index + 1 }
            index += 1
        }
        return end
    }

    /// Applies one record's effect on the index: the same for a scanned record and a hint entry
    /// (which brings the key's `hash`; else it is computed). The key is read from the segment's
    /// map (`keysAt`, its base) only to hash it or to compare it with an entry of equal hash.
    @inline(__always)
    func replay(_ header: RecordHeader, at offset: Int, hash knownHash: UInt32?, in segment: Segment, keysAt base: UnsafeRawPointer, nowMillis: Int64) {
        let keyspace = header.keyspace
        if header.flags.contains(.keyspaceCleared) {
            dropAllKeys(of: keyspace)
            segment.deadBytes += header.recordLength
            return
        }
        let key = UnsafeRawBufferPointer(start: base + offset + SegmentFormat.recordHeaderBytes, count: header.keyLength)
        let hash = knownHash ?? self.hash(key, keyspace)
        // unowned(unsafe): the closure never outlives this call; a strong capture cost a
        // retain and a release of the store per replayed record.
        let matches: (KeydirEntry) -> Bool = { [unowned(unsafe) self] in self.entry($0, holds: key, keyspace: keyspace) }
        let expired = header.expiresAtMillis != 0 && header.expiresAtMillis <= nowMillis
        if header.flags.contains(.tombstone) || expired {
            let previous = keydir.remove(hash: hash, matches: matches)
            if let previous { markDead(previous, keyLength: key.count) }
            countIndexChange(removed: previous, added: nil, keyspace: keyspace)
            segment.deadBytes += header.recordLength
            return
        }
        let entry = KeydirEntry(hash: hash, segmentID: segment.id, offset: UInt32(offset), valueLength: header.valueLength, hasExpiry: header.expiresAtMillis != 0)
        let previous = keydir.upsert(entry, matches: matches)
        if let previous { markDead(previous, keyLength: key.count) }
        countIndexChange(removed: previous, added: entry, keyspace: keyspace)
    }

    /// Sets a scanned segment's ends, and repairs its tail: a torn tail is cut off (and the
    /// newest segment re-extended to keep appending), an unsealed older segment is sealed.
    private func finishRecovery(of segment: Segment, _ outcome: ScanOutcome, isLast: Bool) throws(StoreError) {
        segment.appendEnd = outcome.dataEnd
        segment.writtenEnd = outcome.dataEnd
        refreshView(of: segment)
        do {
            if outcome.garbageEnd > outcome.dataEnd {
                logger.warning("segment \(segment.path): truncated a torn tail at offset \(outcome.dataEnd), dropping \(outcome.garbageEnd - outcome.dataEnd) bytes (\(outcome.damage ?? "torn write"))")
                try segment.file.truncate(to: outcome.dataEnd)
                if isLast { try segment.file.preallocate(length: segment.capacity) }
                try segment.file.synchronize()
            } else if !isLast && segment.capacity > outcome.dataEnd {
                logger.info("sealing segment \(segment.path) at \(outcome.dataEnd) bytes (left unsealed by an interrupted rotation)")
                try segment.file.truncate(to: outcome.dataEnd)
                try segment.file.synchronize()
            }
        } catch {
            throw StoreError(.ioFailure, "cannot repair segment tail: \(error)")
        }
        if !isLast || segment.capacity == outcome.dataEnd {
            segment.isSealed = true
            segment.isFinal = true
        }
    }
}
