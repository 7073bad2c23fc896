/// Merge (compaction): rewrite the live records of the sealed segments into new segments and
/// drop the old ones.
///
/// Inputs are always a *prefix* of the replay order (every sealed segment from the oldest on),
/// which is what makes dropping tombstones, FLUSHDB markers and expired records safe: no
/// segment older than a dropped tombstone survives to bring its key back.
///
/// Crash safety, step by step (a crash between any two leaves a store that opens with the
/// same contents):
/// 1. Find the live records (listed by each input's hint, or by a scan where it has none)
///    and copy them to `<id>.seg.tmp` files with fresh ids that replay right after the
///    last input (`replayAfter`); write their hints as `<id>.hint.tmp`; fsync. Recovery
///    deletes `*.tmp`.
/// 2. Rename hints, then segments, to their final names; fsync the directory. From here the
///    outputs replay after the inputs; since they hold only the inputs' live records, the
///    result is the same with or without them.
/// 3. Under the store lock, in short holds: register the copies, point the index at them
///    (skipping keys overwritten or deleted during the merge), then retire the inputs.
/// 4. Delete the inputs oldest first (data, then hint); fsync the directory. Whatever
///    inputs a crash leaves are the newest ones, so every tombstone they hold still follows
///    the puts it deletes. Unlinked files stay readable through maps readers still hold.
extension StoreCore {
    /// Records a merge drops whatever the index says: its inputs are a prefix of the replay
    /// order, so nothing older survives for a tombstone or a keyspace clear to act on.
    static let flagsNeverCopied: RecordFlags = [.tombstone, .keyspaceCleared]
    /// Records checked for liveness per lock acquisition.
    static let mergeRecordsPerLock = 512
    /// How far ahead of the key being looked up (or moved) the merge prefetches index slots:
    /// enough misses in flight to cover one miss's latency.
    static let mergeLookupsPrefetched = 16
    /// Index entries moved to the copies per hold of the store lock in the switch-over: one
    /// hold for a whole merge (a million entries, each a likely cache miss) stalled writers and
    /// readers for up to 142 ms (a redis-benchmark SET max latency); this many take well under
    /// a millisecond.
    static let switchOverMovesPerLock = 4096

    /// Without the lock, on the maintenance thread.
    func performMerge() -> Result<MergeReport, StoreError> {
        let started = Clock.monotonicNanos()
        let inputs: [Segment] = monitor.withLock {
            var prefix: [Segment] = []
            for id in segmentIDs {
                guard let segment = segmentsByID[Int(id)], segment.isFinal else { break }
                prefix.append(segment)
            }
            return prefix
        }
        guard !inputs.isEmpty else {
            return .success(MergeReport(inputSegments: 0, inputSegmentsListedByHints: 0, outputSegments: 0, bytesBefore: 0, bytesAfter: 0, recordsCopied: 0, recordsSupersededDuringMerge: 0, seconds: 0))
        }
        let writer = MergeOutputWriter(
            directory: directory, segmentBytes: options.segmentBytes,
            anchor: anchor(of: inputs),
            allocateID: { self.monitor.withLock { self.allocateSegmentID() } })
        var moves: [(old: KeydirEntry, id: UInt32, offset: UInt32)] = []
        var copiedBytes = 0
        var listedByHints = 0
        // Once the outputs have their final names they are part of the store: never discarded.
        var committed = false
        do {
            for input in inputs {
                if try copyLiveRecords(of: input, into: writer, moves: &moves, copiedBytes: &copiedBytes, started: started) {
                    listedByHints += 1
                }
            }
            let outputs = try writer.finish()
            let maps = try writeOutputHints(outputs)
            if options.mergeStopAfter == .outputsWritten { return .failure(Self.injectedCrash(.outputsWritten)) }
            try commit(outputs)
            committed = true
            if options.mergeStopAfter == .outputsCommitted { return .failure(Self.injectedCrash(.outputsCommitted)) }
            let superseded = switchOver(to: outputs, mappedAs: maps, from: inputs, moves: moves)
            try deleteInputs(inputs)
            if options.mergeStopAfter == .inputsDeleted { return .failure(Self.injectedCrash(.inputsDeleted)) }
            let bytesBefore = inputs.reduce(0) { $0 + $1.appendEnd }
            let bytesAfter = outputs.reduce(0) { $0 + $1.size }
            let report = MergeReport(
                inputSegments: inputs.count, inputSegmentsListedByHints: listedByHints, outputSegments: outputs.count, bytesBefore: bytesBefore, bytesAfter: bytesAfter,
                recordsCopied: moves.count, recordsSupersededDuringMerge: superseded,
                seconds: Double(Clock.monotonicNanos() - started) / 1e9)
            monitor.withLock {
                mergesCompleted += 1
                mergeReclaimedBytes += UInt64(max(0, report.reclaimedBytes))
            }
            return .success(report)
        } catch let error as StoreError {
            if !committed { writer.discard() }
            return .failure(error)
        } catch {
            if !committed { writer.discard() }
            if case let failure as IOFailure = error, failure.errno == .noSpace {
                return .failure(StoreError(.diskFull, "merge stopped, disk full: \(failure); the store is unchanged"))
            }
            return .failure(StoreError(.ioFailure, "merge stopped: \(error); the store is unchanged"))
        }
    }

    static func injectedCrash(_ step: MergeStep) -> StoreError {
        StoreError(.ioFailure, "merge stopped by a test after step \(step)")
    }

    func allocateSegmentID() -> UInt32 {
        let id = nextSegmentID
        nextSegmentID += 1
        return id
    }

    /// Copies the records of `input` that the index still points at (and that have not expired).
    /// The records to check come from the segment's hint when it has a usable one: hashes
    /// without reading or hashing keys, and (hint sorted by hash) index lookups that walk the
    /// table in slot order instead of missing the cache once per record. The live records
    /// found that way are copied once the whole hint is checked, in file order: copying them
    /// in hash order read the segment at random, 6× slower when most records were live.
    /// Without a hint, a scan checks and copies chunk by chunk. Returns whether the hint
    /// listed the records.
    private func copyLiveRecords(
        of input: Segment, into writer: MergeOutputWriter, moves: inout [(old: KeydirEntry, id: UInt32, offset: UInt32)],
        copiedBytes: inout Int, started: UInt64
    ) throws -> Bool {
        let bytes = UnsafeRawBufferPointer(rebasing: input.map.bytes[0..<input.appendEnd])
        let hint = usableHint(for: input, dataBytes: input.appendEnd)
        var offset = SegmentFormat.headerBytes
        var hintIndex = 0
        var candidates: [(offset: Int, header: RecordHeader, hash: UInt32)] = []
        // The live records of one lock hold. They join `live` after the hold: growing `live`
        // under the lock (tens of MB for a segment's records, on fresh memory) held it 30 ms.
        var found: [(offset: Int, length: Int, entry: KeydirEntry)] = []
        // A hinted input's live records, copied once the whole hint is checked.
        var live: [(offset: Int, length: Int, entry: KeydirEntry)] = []
        while hint.map({ hintIndex < $0.count }) ?? (offset < bytes.count) {
            // Headers and hashes without the lock (a sealed segment and its hint do not
            // change), so the hold only looks keys up.
            candidates.removeAll(keepingCapacity: true)
            if let hint {
                let end = min(hint.count, hintIndex + Self.mergeRecordsPerLock)
                for index in hintIndex..<end {
                    let entry = HintFile.entry(hint.map.bytes, at: index)
                    if entry.header.flags.isDisjoint(with: Self.flagsNeverCopied) {
                        candidates.append((entry.offset, entry.header, entry.hash))
                    }
                }
                hintIndex = end
            } else {
                var checked = 0
                while offset < bytes.count && checked < Self.mergeRecordsPerLock {
                    let header = RecordHeader.decodeHeaderUnchecked(bytes.baseAddress! + offset)
                    if header.flags.isDisjoint(with: Self.flagsNeverCopied) {
                        let key = UnsafeRawBufferPointer(rebasing: bytes[(offset + SegmentFormat.recordHeaderBytes)..<(offset + SegmentFormat.recordHeaderBytes + header.keyLength)])
                        candidates.append((offset, header, hash(key, header.keyspace)))
                    }
                    offset += header.recordLength
                    checked += 1
                }
            }
            found.removeAll(keepingCapacity: true)
            let nowMillis = Clock.unixMillis()
            let closing = monitor.withLock { () -> Bool in
                forEachPrefetchingSlots(candidates.indices, hash: { candidates[$0].hash }) { index in
                    let candidate = candidates[index]
                    let recordOffset = UInt32(candidate.offset)
                    guard let entry = keydir.find(hash: candidate.hash, matches: { $0.segmentID == input.id && $0.offset == recordOffset }) else { return }
                    let header = candidate.header
                    if header.expiresAtMillis != 0 && header.expiresAtMillis <= nowMillis {
                        // Expired but not yet collected: the copy is dropped, so is the entry.
                        forget(entry, keyLength: header.keyLength, keyspace: header.keyspace)
                    } else {
                        found.append((candidate.offset, header.recordLength, entry))
                    }
                }
                return isClosing
            }
            if closing { throw StoreError(.closed, "merge abandoned: the store is closing") }
            if hint == nil {
                try copy(found[...], of: bytes, into: writer, moves: &moves, copiedBytes: &copiedBytes, started: started)
            } else {
                live.append(contentsOf: found)
            }
        }
        guard hint != nil else { return false }
        StableRadixSort.sort(&live, byKey: { UInt32($0.offset) })
        var next = 0
        while next < live.count {
            let end = min(live.count, next + Self.mergeRecordsPerLock)
            try copy(live[next..<end], of: bytes, into: writer, moves: &moves, copiedBytes: &copiedBytes, started: started)
            next = end
        }
        return true
    }

    /// Appends `records` of an input segment to the merge outputs, then keeps to the copy rate.
    private func copy(
        _ records: ArraySlice<(offset: Int, length: Int, entry: KeydirEntry)>, of bytes: UnsafeRawBufferPointer,
        into writer: MergeOutputWriter, moves: inout [(old: KeydirEntry, id: UInt32, offset: UInt32)],
        copiedBytes: inout Int, started: UInt64
    ) throws {
        for record in records {
            let placed = try writer.append(UnsafeRawBufferPointer(rebasing: bytes[record.offset..<(record.offset + record.length)]))
            moves.append((record.entry, placed.id, UInt32(placed.offset)))
            copiedBytes += record.length
        }
        throttle(copiedBytes: copiedBytes, since: started)
    }

    /// Visits `indices` in order, with the index slots of the next `mergeLookupsPrefetched`
    /// (their hashes from `hash`) already on their way: each lookup is a likely cache miss.
    private func forEachPrefetchingSlots(_ indices: Range<Int>, hash: (Int) -> UInt32, _ visit: (Int) -> Void) {
        for index in indices.prefix(Self.mergeLookupsPrefetched) { keydir.prefetch(hash(index)) }
        for index in indices {
            let ahead = index + Self.mergeLookupsPrefetched
            if ahead < indices.upperBound { keydir.prefetch(hash(ahead)) }
            visit(index)
        }
    }

    /// Sleeps as needed to keep the copy rate under `mergeBytesPerSecondMax`.
    private func throttle(copiedBytes: Int, since started: UInt64) {
        guard options.mergeBytesPerSecondMax > 0 else { return }
        let allowedNanos = UInt64(Double(copiedBytes) / Double(options.mergeBytesPerSecondMax) * 1e9)
        let elapsed = Clock.monotonicNanos() &- started
        if allowedNanos > elapsed { Clock.sleep(nanoseconds: allowedNanos - elapsed) }
    }

    /// Hints of the outputs, built by reading each output back (and so checking it). Returns
    /// the outputs' maps, which the switch-over hands to the new segments.
    private func writeOutputHints(_ outputs: [MergeOutputWriter.Output]) throws -> [MappedRegion] {
        var maps: [MappedRegion] = []
        for output in outputs {
            let map = try MappedRegion(file: output.file, length: output.size)
            maps.append(map)
            guard let hint = HintFile.encode(segmentID: output.id, segment: map.bytes, hasher: hasher) else {
                throw StoreError(.ioFailure, "merge output \(output.temporaryPath) does not read back as written")
            }
            try writeDurably(hint, to: hintPath(forSegment: output.id) + MergeOutputWriter.temporarySuffix, directory: directory)
        }
        return maps
    }

    /// Step 2: the outputs take their final names.
    private func commit(_ outputs: [MergeOutputWriter.Output]) throws {
        for output in outputs {
            let hint = hintPath(forSegment: output.id)
            try FileSystem.rename(hint + MergeOutputWriter.temporarySuffix, to: hint)
            try FileSystem.rename(output.temporaryPath, to: output.finalPath)
        }
        try backend.synchronizeDirectory(directory)
    }

    /// Step 3: the index moves to the copies; returns how many copies were already obsolete.
    private func switchOver(
        to outputs: [MergeOutputWriter.Output], mappedAs maps: [MappedRegion], from inputs: [Segment],
        moves: [(old: KeydirEntry, id: UInt32, offset: UInt32)]
    ) -> Int {
        var segments: [Segment] = []
        for (output, map) in zip(outputs, maps) {
            map.adviseRandom()
            let file = SystemFile(descriptor: output.file.descriptor, path: output.finalPath)
            let segment = Segment(id: output.id, replayAfter: anchor(of: inputs), file: file, map: map, capacity: output.size, dataEnd: output.size)
            segment.isSealed = true
            segment.isFinal = true
            segments.append(segment)
        }
        // The copies become readable first and the inputs go last; in between, an entry points
        // at either of two identical records, so the moves can be spread over many lock holds.
        monitor.withLock {
            for segment in segments {
                while segmentsByID.count <= Int(segment.id) { segmentsByID.append(nil) }
                segmentsByID[Int(segment.id)] = segment
                refreshView(of: segment)
            }
        }
        var superseded = 0
        var next = 0
        while next < moves.count {
            let end = min(moves.count, next + Self.switchOverMovesPerLock)
            monitor.withLock {
                forEachPrefetchingSlots(next..<end, hash: { moves[$0].old.hash }) { index in
                    let move = moves[index]
                    let old = move.old
                    let new = KeydirEntry(hash: old.hash, segmentID: move.id, offset: move.offset, valueLength: old.valueLength, hasExpiry: old.hasExpiry)
                    // A key written or deleted since the copy keeps its newer entry: the copy is dead.
                    if !keydir.relocate(old, to: new) {
                        superseded += 1
                        let keyLength = Int(UInt16(littleEndian: segmentsByID[Int(move.id)]!.recordStart(at: Int(move.offset)).loadUnaligned(fromByteOffset: SegmentFormat.recordKeyLengthOffset, as: UInt16.self)))
                        segmentsByID[Int(move.id)]!.deadBytes += RecordHeader.recordLength(keyLength: keyLength, valueLength: old.valueLength)
                    }
                }
            }
            next = end
        }
        return monitor.withLock {
            let retired = Set(inputs.map(\.id))
            for id in retired {
                segmentsByID[Int(id)] = nil
                segmentViews[id] = SegmentViewTable.View(base: nil, writtenEnd: 0)
            }
            segmentIDs = segments.map(\.id) + segmentIDs.filter { !retired.contains($0) }
            return superseded
        }
    }

    private func anchor(of inputs: [Segment]) -> UInt32 {
        let last = inputs[inputs.count - 1]
        return last.replayAfter != 0 ? last.replayAfter : last.id
    }

    /// Step 4, oldest first.
    private func deleteInputs(_ inputs: [Segment]) throws {
        for (index, input) in inputs.enumerated() {
            try FileSystem.removeFile(input.path)
            try FileSystem.removeFile(hintPath(forSegment: input.id))
            if index == 0 && options.mergeStopAfter == .firstInputDeleted {
                try backend.synchronizeDirectory(directory)
                throw Self.injectedCrash(.firstInputDeleted)
            }
        }
        try backend.synchronizeDirectory(directory)
    }
}
