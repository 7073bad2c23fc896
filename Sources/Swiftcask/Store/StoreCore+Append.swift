/// The write path: room in a segment and a buffer, encoding, and the index update that makes a
/// write visible. All under the store lock; nothing here waits for the disk except a writer
/// that finds every pooled buffer busy (back-pressure). Rotation creates or renames a file
/// and writes its header to the page cache; the commit round makes both durable.
extension StoreCore {
    /// What rotation writes of a new segment: its header and zeros, one file-system block.
    static let segmentFirstBlockBytes = 4096

    /// Makes room for `length` contiguous bytes in the active segment and the current buffer.
    /// May rotate the segment (creating a file, no fsync) and may wait for a free buffer: returns true
    /// when it waited, which released the lock for a while.
    @discardableResult
    func reserveRoom(_ length: Int) throws(StoreError) -> Bool {
        var waited = false
        while true {
            try checkWritable()
            if active == nil || active!.remainingBytes < length {
                try rotate(toFit: length)
            }
            if let current, current.segment === active, current.remainingBytes >= length,
               current.recordCount < options.groupRecordsMax {
                return waited
            }
            if let current, !current.isEmpty { enqueueCurrent() }
            current = nil
            guard let buffer = takeBuffer(capacity: length) else {
                // Every pooled buffer is queued or in flight: wait for the committer, then re-check.
                signalCommitterIfIdle()
                monitor.waitForProgress()
                waited = true
                continue
            }
            buffer.attach(to: active!, at: active!.appendEnd)
            current = buffer
            // Checked once per buffer, not per record: the spare is ready before rotation needs it.
            if spareSegmentIsDue { monitor.signalMaintenance() }
        }
    }

    /// A free pooled buffer, a new one while the pool is below its size, or a one-off buffer for
    /// a record or batch larger than a pooled buffer; nil when the pool is exhausted.
    private func takeBuffer(capacity: Int) -> WriteBuffer? {
        if capacity > options.writeBufferBytes { return WriteBuffer(capacity: capacity, isPooled: false) }
        if let buffer = freeBuffers.popLast() { return buffer }
        guard pooledBuffersCreated < options.writeBufferCount else { return nil }
        pooledBuffersCreated += 1
        return WriteBuffer(capacity: options.writeBufferBytes, isPooled: true)
    }

    /// Hands the current buffer to the next round, waking the committer unless the caller is
    /// about to run that round itself.
    func enqueueCurrent(wakingCommitter: Bool = true) {
        guard let buffer = current, !buffer.isEmpty else { return }
        buffer.endPosition = appendedPosition
        queued.append(buffer)
        current = nil
        if wakingCommitter { signalCommitterIfIdle() }
    }

    @inline(__always)
    func signalCommitterIfIdle() {
        if committerIsIdle { monitor.signalWork() }
    }

    /// Seals the active segment (the committer truncates and fsyncs it after its last buffer)
    /// and starts a new one big enough for `length` bytes. A failure (disk full) leaves the
    /// store as it was.
    func rotate(toFit length: Int) throws(StoreError) {
        let capacity = max(options.segmentBytes, SegmentFormat.headerBytes + length)
        guard capacity <= Limits.segmentBytesMax else {
            throw StoreError(.batchTooLarge, "a write of \(length) bytes does not fit in one segment (at most \(Limits.segmentBytesMax) bytes)")
        }
        let segment = try createSegment(capacity: capacity)
        if let previous = active {
            previous.isSealed = true
            enqueueCurrent()
            segmentsToSeal.append(previous)
            signalCommitterIfIdle()
        }
        active = segment
        logger.debug("started segment \(segment.id) (\(capacity) bytes)")
    }

    /// Takes the spare (or creates and preallocates a file), stamps and maps a new segment
    /// file. Nothing here waits for the disk: the header and the directory entry become durable
    /// in the next commit round, before any record of the segment is written
    /// (`unsyncedNewSegments`).
    func createSegment(capacity: Int) throws(StoreError) -> Segment {
        let id = nextSegmentID
        let path = path(forSegment: id)
        var createdFile: SystemFile?
        do {
            let file: SystemFile
            if let spare = spareSegment, spare.capacity == capacity {
                spareSegment = nil
                monitor.signalMaintenance()
                createdFile = spare.file
                try FileSystem.rename(spare.file.path, to: path)
                file = SystemFile(descriptor: spare.file.descriptor, path: path)
            } else {
                file = try SystemFile.open(path, writable: true, create: true, exclusive: true)
                createdFile = file
                try file.preallocate(length: capacity)
            }
            // A whole first block (header, then the zeros already there), so the write never
            // has to read the block back from disk first.
            var firstBlock = [UInt8](repeating: 0, count: min(capacity, Self.segmentFirstBlockBytes))
            SegmentHeader(segmentID: id).encode(into: &firstBlock)
            try firstBlock.withUnsafeBytes { bytes in
                Result { () throws(IOFailure) in try file.write(bytes.baseAddress!, count: bytes.count, at: 0) }
            }.get()
            let map = try MappedRegion(file: file, length: capacity)
            map.adviseRandom()
            nextSegmentID += 1
            let segment = Segment(id: id, file: file, map: map, capacity: capacity, dataEnd: SegmentFormat.headerBytes)
            register(segment)
            unsyncedNewSegments.append(segment)
            return segment
        } catch {
            createdFile?.close()
            try? FileSystem.removeFile(path)
            if error.errno == .noSpace {
                throw StoreError(.diskFull, "disk full: cannot create segment \(path) (\(capacity) bytes); the write was not applied, free space and retry")
            }
            throw StoreError(.ioFailure, "cannot create segment: \(error)")
        }
    }

    func register(_ segment: Segment) {
        while segmentsByID.count <= Int(segment.id) { segmentsByID.append(nil) }
        segmentsByID[Int(segment.id)] = segment
        refreshView(of: segment)
        segmentIDs.append(segment.id)
        nextSegmentID = max(nextSegmentID, segment.id + 1)
    }

    /// Appends one record (reserved room required) and updates the index. Returns the entry it
    /// replaced or removed, if any.
    @inline(__always)
    func appendRecord(
        flags: RecordFlags, keyspace: UInt8, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
        expiresAtMillis: Int64, hash: UInt32
    ) -> KeydirEntry? {
        let length = RecordHeader.recordLength(keyLength: key.count, valueLength: value.count)
        // `current` and `active` are read in place, not bound to locals: a local retained and
        // released each (3 % of an INCR -P 16 server's CPU; the committer thread touches the
        // same objects, so each was a contended atomic).
        if current.unsafelyUnwrapped.isEmpty && options.durability != .always {
            // Starts the write-behind deadline (`.always` rounds are led or asked for instead).
            currentFirstAppendNanos = Clock.monotonicNanos()
            signalCommitterIfIdle()
        }
        let offset = active.unsafelyUnwrapped.appendEnd
        let header = RecordHeader(flags: flags, keyspace: keyspace, keyLength: key.count, valueLength: value.count, expiresAtMillis: expiresAtMillis)
        header.encode(into: current.unsafelyUnwrapped.reserve(length), key: key, value: value)
        active.unsafelyUnwrapped.appendEnd += length
        appendedPosition += UInt64(length)
        recordsWritten += 1

        // The key checks are closure literals passed straight down: a closure stored in a local
        // first captured `self` with a retain per record. Even so, capturing `self` retained it
        // for the call (an atomic contended with the committer thread); `core` is borrowed
        // instead, which the caller's own reference makes safe.
        let core = Unmanaged.passUnretained(self)
        let previous: KeydirEntry?
        if flags.contains(.tombstone) {
            previous = keydir.remove(hash: hash) { candidate in
                core._withUnsafeGuaranteedRef { $0.entry(candidate, holds: key, keyspace: keyspace) }
            }
            active.unsafelyUnwrapped.deadBytes += length
            countIndexChange(removed: previous, added: nil, keyspace: keyspace)
        } else {
            let entry = KeydirEntry(hash: hash, segmentID: active.unsafelyUnwrapped.id, offset: UInt32(offset), valueLength: value.count, hasExpiry: expiresAtMillis != 0)
            previous = keydir.upsert(entry) { candidate in
                core._withUnsafeGuaranteedRef { $0.entry(candidate, holds: key, keyspace: keyspace) }
            }
            countIndexChange(removed: previous, added: entry, keyspace: keyspace)
        }
        if let previous { markDead(previous, keyLength: key.count) }
        return previous
    }

    /// Ends a write: hands a full buffer to the committer. In `.always` nobody is woken here: a
    /// blocking writer leads its round itself and `whenDurable` wakes the committer.
    @inline(__always)
    func finishWrite() -> CommitTicket {
        // Read in place, not bound to a local: see `appendRecord`.
        if current != nil && (current.unsafelyUnwrapped.remainingBytes < SegmentFormat.recordHeaderBytes * 4
            || current.unsafelyUnwrapped.recordCount >= options.groupRecordsMax) {
            enqueueCurrent()
        }
        return CommitTicket(position: appendedPosition)
    }

    /// Applies a single put. Key and value sizes must already be checked.
    func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAtMillis: Int64, keyspace: UInt8) throws(StoreError) -> CommitTicket {
        // The index slot is a likely cache miss: start loading it before encoding the record.
        let hash = hash(key, keyspace)
        keydir.prefetch(hash)
        try reserveRoom(RecordHeader.recordLength(keyLength: key.count, valueLength: value.count))
        _ = appendRecord(flags: [], keyspace: keyspace, key: key, value: value, expiresAtMillis: expiresAtMillis, hash: hash)
        return finishWrite()
    }

    /// Applies a single delete; writes a tombstone only when the key is live.
    func delete(key: UnsafeRawBufferPointer, keyspace: UInt8) throws(StoreError) -> (existed: Bool, ticket: CommitTicket) {
        try checkWritable()
        let hash = hash(key, keyspace)
        guard liveEntry(key, keyspace, hash: hash) != nil else { return (false, CommitTicket(position: appendedPosition)) }
        try reserveRoom(RecordHeader.recordLength(keyLength: key.count, valueLength: 0))
        let removed = appendRecord(flags: .tombstone, keyspace: keyspace, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAtMillis: 0, hash: hash)
        return (removed != nil, finishWrite())
    }

    /// Read-modify-write of one key (`Store.update`). Room for the largest outcome comes first,
    /// because waiting for a buffer releases the lock; then the lookup, the body and the append
    /// run without releasing it. The body writes the new value where the record will hold it
    /// (the encoder's copy of the value onto itself is a no-op: `copyMemory` is a memmove).
    func update(
        key: UnsafeRawBufferPointer, keyspace: UInt8, maxValueBytes: Int,
        _ body: (BorrowedEntry?, UnsafeMutableRawBufferPointer) -> UpdateDecision
    ) throws(StoreError) -> CommitTicket? {
        let hash = hash(key, keyspace)
        keydir.prefetch(hash)
        try reserveRoom(RecordHeader.recordLength(keyLength: key.count, valueLength: maxValueBytes))
        let existing = liveEntry(key, keyspace, hash: hash)
        var borrowed: BorrowedEntry?
        if let existing {
            borrowed = BorrowedEntry(value: try verifiedValue(of: existing, keyLength: key.count), expiresAtMillis: expiresAtMillis(of: existing))
        }
        let valueStart = current.unsafelyUnwrapped.bytes + current.unsafelyUnwrapped.used + SegmentFormat.recordHeaderBytes + key.count
        switch body(borrowed, UnsafeMutableRawBufferPointer(start: valueStart, count: maxValueBytes)) {
        case .keep:
            return nil
        case .put(let length, let expiresAtMillis):
            precondition(length >= 0 && length <= maxValueBytes, "an update wrote \(length) bytes into room for \(maxValueBytes)")
            _ = appendRecord(flags: [], keyspace: keyspace, key: key, value: UnsafeRawBufferPointer(start: valueStart, count: length), expiresAtMillis: expiresAtMillis ?? 0, hash: hash)
        case .delete:
            guard existing != nil else { return nil }
            _ = appendRecord(flags: .tombstone, keyspace: keyspace, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAtMillis: 0, hash: hash)
        }
        return finishWrite()
    }

    /// Applies a batch atomically: all its records go contiguously into one buffer of one
    /// segment, flagged so recovery keeps them only if the last one is intact.
    func apply(_ batch: WriteBatch) throws(StoreError) -> WriteResult {
        try checkWritable()
        let nowMillis = Clock.unixMillis()
        // Room for the worst case, so the whole batch lands in one buffer of one segment. A wait
        // for a buffer releases the lock, and other writers may change the keys (and hashes
        // scratch) meanwhile: then measure again.
        while true {
            let bound = try measure(batch, nowMillis: nowMillis)
            guard bound > 0 else { return WriteResult(ticket: CommitTicket(position: appendedPosition), deletedCount: 0) }
            if try !reserveRoom(bound) { break }
        }
        let buffer = current!
        var lastRecord: UnsafeMutableRawPointer?
        var recordCount = 0
        var deletedCount = 0
        let flags: RecordFlags = batch.count > 1 ? .batchMember : []
        var operationIndex = 0
        try batch.forEachOperation { (operation) throws(StoreError) in
            let key = operation.key
            let keyspace = operation.keyspace
            let hash = batchHashes[operationIndex]
            operationIndex += 1
            let recordAt = buffer.bytes + buffer.used
            switch operation.kind {
            case .put:
                _ = appendRecord(flags: flags, keyspace: keyspace, key: key, value: operation.value, expiresAtMillis: operation.expiresAtMillis, hash: hash)
            case .delete:
                guard liveEntry(key, keyspace, hash: hash, nowMillis: nowMillis) != nil else { return }
                _ = appendRecord(flags: flags.union(.tombstone), keyspace: keyspace, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAtMillis: 0, hash: hash)
                deletedCount += 1
            case .setExpiry:
                guard let existing = liveEntry(key, keyspace, hash: hash, nowMillis: nowMillis) else { return }
                // The old value is copied from its record into the new one; the old record stays
                // intact until a merge, so the source cannot change under the copy.
                let value = self.value(of: existing, keyLength: key.count)
                _ = appendRecord(flags: flags, keyspace: keyspace, key: key, value: value, expiresAtMillis: operation.expiresAtMillis, hash: hash)
            }
            recordCount += 1
            lastRecord = recordAt
        }
        if let lastRecord, recordCount > 1 {
            markBatchEnd(lastRecord)
        } else if let lastRecord, flags.contains(.batchMember) {
            clearBatchMember(lastRecord)
        }
        return WriteResult(ticket: finishWrite(), deletedCount: deletedCount)
    }

    /// Bytes the batch's records may take at most; hashes every key into `batchHashes` and
    /// starts loading the index slots and the records they point to (likely cache misses).
    private func measure(_ batch: WriteBatch, nowMillis: Int64) throws(StoreError) -> Int {
        var largestPutValue = 0
        var bound = 0
        batchHashes.removeAll(keepingCapacity: true)
        try batch.forEachOperation { (operation) throws(StoreError) in
            let hash = self.hash(operation.key, operation.keyspace)
            batchHashes.append(hash)
            keydir.prefetch(hash)
            switch operation.kind {
            case .put:
                bound += RecordHeader.recordLength(keyLength: operation.key.count, valueLength: operation.value.count)
                largestPutValue = max(largestPutValue, operation.value.count)
            case .delete:
                bound += RecordHeader.recordLength(keyLength: operation.key.count, valueLength: 0)
            case .setExpiry:
                let existing = liveEntry(operation.key, operation.keyspace, hash: hash, nowMillis: nowMillis)?.valueLength ?? 0
                bound += RecordHeader.recordLength(keyLength: operation.key.count, valueLength: max(existing, largestPutValue))
            }
        }
        guard bound <= Limits.batchBytesMax else {
            throw StoreError(.batchTooLarge, "batch too large: \(bound) bytes, the limit is \(Limits.batchBytesMax) bytes")
        }
        if batch.count > 1 {
            // Then the records those slots point to: replacing a key compares against its record.
            for hash in batchHashes {
                if let entry = keydir.likelyEntry(hash: hash) { prefetchRecord(entry) }
            }
        }
        return bound
    }

    /// Sets `.batchEnd` on a record in a buffer and reseals its CRC.
    private func markBatchEnd(_ record: UnsafeMutableRawPointer) {
        rewriteFlags(record) { $0.insert(.batchEnd) }
    }

    /// A batch that produced one record is written as a plain record.
    private func clearBatchMember(_ record: UnsafeMutableRawPointer) {
        rewriteFlags(record) { $0.remove(.batchMember) }
    }

    private func rewriteFlags(_ record: UnsafeMutableRawPointer, _ change: (inout RecordFlags) -> Void) {
        var header = RecordHeader.decodeHeaderUnchecked(record)
        change(&header.flags)
        record.storeBytes(of: header.flags.rawValue, toByteOffset: SegmentFormat.recordFlagsOffset, as: UInt8.self)
        let covered = UnsafeRawBufferPointer(start: record + SegmentFormat.recordCRCStart, count: header.recordLength - SegmentFormat.recordCRCStart)
        record.storeBytes(of: CRC32C.checksum(covered).littleEndian, as: UInt32.self)
    }

    /// FLUSHDB: one record that drops every earlier key of the keyspace.
    func clear(keyspace: UInt8) throws(StoreError) -> CommitTicket {
        try checkWritable()
        try reserveRoom(SegmentFormat.recordHeaderBytes)
        let segment = active!
        let header = RecordHeader(flags: .keyspaceCleared, keyspace: keyspace, keyLength: 0, valueLength: 0, expiresAtMillis: 0)
        if current!.isEmpty { currentFirstAppendNanos = Clock.monotonicNanos() }
        header.encode(into: current!.reserve(SegmentFormat.recordHeaderBytes), key: UnsafeRawBufferPointer(start: nil, count: 0), value: UnsafeRawBufferPointer(start: nil, count: 0))
        segment.appendEnd += SegmentFormat.recordHeaderBytes
        segment.deadBytes += SegmentFormat.recordHeaderBytes
        appendedPosition += UInt64(SegmentFormat.recordHeaderBytes)
        recordsWritten += 1
        dropAllKeys(of: keyspace)
        return finishWrite()
    }

    func dropAllKeys(of keyspace: UInt8) {
        keydir.removeAll { entry in
            let (entryKeyspace, key) = keyOf(entry)
            guard entryKeyspace == keyspace else { return false }
            markDead(entry, keyLength: key.count)
            return true
        }
        keyspaceCounts[Int(keyspace)] = 0
        expiringCounts[Int(keyspace)] = 0
    }
}
