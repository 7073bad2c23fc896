import CShims
import Glibc
import Logging

/// The store's mutable state: index, segments, write buffers and commit progress. Every
/// method requires the store lock (`monitor`) to be held, except where a comment says
/// otherwise; `Store` is the thread-safe face over it. Facets: `+Append` (write path),
/// `+Commit` (the committer thread), `+Recovery` (open).
final class StoreCore: @unchecked Sendable {
    let directory: String
    let options: StoreOptions
    let monitor = Monitor()
    let backend: AppendBackend
    /// Replaced at open by the seed the hint files were written with (`recover`), then fixed.
    var hasher = KeyHasher()
    var logger: Logger { options.logger }

    let keydir = Keydir()
    /// Segments by id (index = id); nil for ids that never existed or were merged away.
    var segmentsByID: [Segment?] = [nil]
    /// What the read path needs of each segment, by id, without reference counting: the map's
    /// base and how far it may be read. Kept in step with `segmentsByID` by `refreshView`.
    var segmentViews = SegmentViewTable()
    var segmentIDs: [UInt32] = []
    /// The segment receiving appends; nil until the first write after open when the last
    /// segment was sealed.
    var active: Segment?
    var nextSegmentID: UInt32 = 1
    /// Live keys per keyspace.
    var keyspaceCounts = [Int](repeating: 0, count: Limits.keyspacesMax)
    /// Live keys per keyspace that carry an expiry (Redis INFO's `expires`); kept in step with
    /// `keyspaceCounts` by `countIndexChange` and `dropAllKeys`.
    var expiringCounts = [Int](repeating: 0, count: Limits.keyspacesMax)

    // MARK: write buffers (see StoreCore+Append)

    /// The buffer writers append to.
    var current: WriteBuffer?
    /// When the first record went into `current`, for the write-behind deadline.
    var currentFirstAppendNanos: UInt64 = 0
    /// Full or finished buffers waiting for the committer, in log order.
    var queued: [WriteBuffer] = []
    /// Buffers the committer is writing now.
    var inFlight: [WriteBuffer] = []
    /// Buffers whose write failed: kept so their records stay readable (writes are disabled).
    var failedBuffers: [WriteBuffer] = []
    var freeBuffers: [WriteBuffer] = []
    var pooledBuffersCreated = 0
    /// Segments to truncate to their data end and fsync once their buffers are written.
    var segmentsToSeal: [Segment] = []
    /// Segments created by rotation whose header and directory entry are not yet synced: the
    /// next round syncs them before it writes anything else.
    var unsyncedNewSegments: [Segment] = []

    // MARK: commit progress (log positions: bytes ever appended)

    var appendedPosition: UInt64 = 0
    var writtenPosition: UInt64 = 0
    var durablePosition: UInt64 = 0
    /// Positions that `sync()`, a borrow, or shutdown want written (and, for sync, synced).
    var flushRequestedPosition: UInt64 = 0
    var syncRequestedPosition: UInt64 = 0
    var lastSyncNanos: UInt64 = Clock.monotonicNanos()
    var committerIsIdle = false
    /// A commit round (the committer's or a leading writer's) is writing; others wait for it.
    var roundInProgress = false
    /// The scratch of rounds led by writers (one round at a time, so one is enough).
    let leaderScratch = CommitterScratch()
    /// `apply`'s hash of each operation of the batch, so each key is hashed once (reused; lock held).
    var batchHashes: [UInt32] = []
    /// Sticky: once a write or fsync failed, writes are refused until the store is reopened.
    var failure: StoreError?
    var isClosing = false
    var isClosed = false
    var durabilityCallbacks: [(position: UInt64, callback: @Sendable (Result<Void, StoreError>) -> Void)] = []

    // MARK: maintenance (see StoreCore+Maintenance, +Merge, +Expiry)

    /// Sealed segments whose hint file is still to be written.
    var segmentsNeedingHints: [Segment] = []
    var mergeRequested = false
    /// Starts as `options` say; `Store.setMergeTriggers` changes it.
    var mergeTriggers: MergeTriggers
    var mergeInProgress = false
    /// After an automatic merge failed: none starts on its own before this (monotonic clock).
    var automaticMergeNotBeforeNanos: UInt64 = 0
    var lastMergeStartNanos: UInt64 = 0
    /// Starts at open, so the first active expiry cycle runs one interval after it.
    var lastActiveExpiryNanos: UInt64 = Clock.monotonicNanos()
    /// Merges finished, successfully or not: what `Store.merge()` waits on.
    var mergesAttempted: UInt64 = 0
    var lastMergeReport: MergeReport?
    var lastMergeError: StoreError?
    /// A checkpoint is linking files: merges wait, so no file it links disappears.
    var checkpointInProgress = false
    /// The next active segment, made ahead of rotation (`SpareSegmentFile`).
    var spareSegment: SpareSegmentFile?
    var spareRetryNotBeforeNanos: UInt64 = 0

    // MARK: statistics

    var recordsWritten: UInt64 = 0
    var groupsCommitted: UInt64 = 0
    var syncs: UInt64 = 0
    var roundsLedByCallers: UInt64 = 0
    var bytesWritten: UInt64 = 0
    var mergesCompleted: UInt64 = 0
    var mergeReclaimedBytes: UInt64 = 0
    var expiredKeysCollected: UInt64 = 0
    /// Expired keys dropped when a read or write found them (lazy expiry).
    var expiredKeysOnAccess: UInt64 = 0
    /// How the last open rebuilt the index: segments read from hints, and segments scanned.
    var segmentsLoadedFromHints = 0
    var segmentsScanned = 0

    init(directory: String, options: StoreOptions, backend: AppendBackend) {
        self.directory = directory
        self.options = options
        self.backend = backend
        self.mergeTriggers = options.mergeTriggers
    }

    /// The store's threads are joined by then (`Store.close`), so nobody waits on the monitor.
    deinit {
        monitor.deallocate()
    }

    // MARK: records and keys

    /// The start of the record an index entry points at: in the segment's map once written,
    /// else in the write buffer that holds it.
    @inline(__always)
    func recordStart(_ entry: KeydirEntry) -> UnsafeRawPointer {
        let view = segmentViews[entry.segmentID]
        let offset = Int(entry.offset)
        if offset < view.writtenEnd { return view.base.unsafelyUnwrapped + offset }
        return bufferedRecordStart(segmentsByID[Int(entry.segmentID)].unsafelyUnwrapped, offset)
    }

    /// Starts loading the header of an entry's record into the cache when it lies in a map
    /// (a record still in a write buffer is recent, so likely cached already).
    @inline(__always)
    func prefetchRecord(_ entry: KeydirEntry) {
        let view = segmentViews[entry.segmentID]
        if Int(entry.offset) < view.writtenEnd { sc_prefetch(view.base.unsafelyUnwrapped + Int(entry.offset)) }
    }

    /// Publishes a segment's map and written end to the read path (after either changes).
    func refreshView(of segment: Segment) {
        segmentViews[segment.id] = SegmentViewTable.View(base: segment.map.base, writtenEnd: segment.writtenEnd)
    }

    func bufferedRecordStart(_ segment: Segment, _ offset: Int) -> UnsafeRawPointer {
        if let current, current.contains(segment: segment, offset: offset) {
            return current.recordStart(atSegmentOffset: offset)
        }
        for buffer in queued where buffer.contains(segment: segment, offset: offset) {
            return buffer.recordStart(atSegmentOffset: offset)
        }
        for buffer in inFlight where buffer.contains(segment: segment, offset: offset) {
            return buffer.recordStart(atSegmentOffset: offset)
        }
        for buffer in failedBuffers where buffer.contains(segment: segment, offset: offset) {
            return buffer.recordStart(atSegmentOffset: offset)
        }
        preconditionFailure("index points at segment \(segment.id) offset \(offset), which is neither written nor buffered")
    }

    /// Whether the record of `entry` holds exactly this keyspace and key.
    @inline(__always)
    func entry(_ entry: KeydirEntry, holds key: UnsafeRawBufferPointer, keyspace: UInt8) -> Bool {
        let start = recordStart(entry)
        let keyLength = Int(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: SegmentFormat.recordKeyLengthOffset, as: UInt16.self)))
        guard keyLength == key.count,
              start.load(fromByteOffset: SegmentFormat.recordKeyspaceOffset, as: UInt8.self) == keyspace else { return false }
        return keyLength == 0 || Self.sameBytes(start + SegmentFormat.recordHeaderBytes, key.baseAddress!, count: keyLength)
    }

    /// Byte equality; keys of 8 to 32 bytes (the common kind) are compared inline as two or
    /// four words, the last ones overlapping the first, instead of through a call to memcmp,
    /// which cost a quarter of a get's key check (callgrind).
    @inline(__always)
    static func sameBytes(_ first: UnsafeRawPointer, _ second: UnsafeRawPointer, count: Int) -> Bool {
        @inline(__always) func sameWord(at offset: Int) -> Bool {
            first.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == second.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        }
        if count >= 8 && count <= 16 { return sameWord(at: 0) && sameWord(at: count &- 8) }
        if count > 16 && count <= inlineComparisonBytesMax {
            return sameWord(at: 0) && sameWord(at: 8) && sameWord(at: count &- 16) && sameWord(at: count &- 8)
        }
        return memcmp(first, second, count) == 0
    }

    /// Longest key `sameBytes` compares inline.
    static let inlineComparisonBytesMax = 32

    @inline(__always)
    func hash(_ key: UnsafeRawBufferPointer, _ keyspace: UInt8) -> UInt32 {
        hasher.hash(key, keyspace: keyspace)
    }

    @inline(__always)
    func lookup(_ key: UnsafeRawBufferPointer, _ keyspace: UInt8, hash: UInt32) -> KeydirEntry? {
        keydir.find(hash: hash) { self.entry($0, holds: key, keyspace: keyspace) }
    }

    /// The live entry for a key, removing it first if it has expired (lazy expiry).
    @inline(__always)
    func liveEntry(_ key: UnsafeRawBufferPointer, _ keyspace: UInt8, hash knownHash: UInt32? = nil, nowMillis: Int64? = nil) -> KeydirEntry? {
        let hash = knownHash ?? self.hash(key, keyspace)
        guard let found = lookup(key, keyspace, hash: hash) else { return nil }
        if hasExpired(found, nowMillis: nowMillis) {
            forget(found, keyLength: key.count, keyspace: keyspace)
            expiredKeysOnAccess += 1
            return nil
        }
        return found
    }

    /// What a reader holding the lock shared finds for a key. It may not change the index, so
    /// an expired key is reported, not removed: `liveEntry` removes it under the exclusive lock.
    enum SharedLookup {
        case absent
        case live(KeydirEntry)
        case expired
    }

    @inline(__always)
    func sharedLookup(_ key: UnsafeRawBufferPointer, _ keyspace: UInt8) -> SharedLookup {
        guard let found = lookup(key, keyspace, hash: hash(key, keyspace)) else { return .absent }
        return hasExpired(found, nowMillis: nil) ? .expired : .live(found)
    }

    @inline(__always)
    private func hasExpired(_ entry: KeydirEntry, nowMillis: Int64?) -> Bool {
        guard entry.hasExpiry else { return false }
        let expiresAt = expiry(of: entry)
        return expiresAt != 0 && expiresAt <= (nowMillis ?? Clock.unixMillis())
    }

    @inline(__always)
    func expiry(of entry: KeydirEntry) -> Int64 {
        Int64(littleEndian: recordStart(entry).loadUnaligned(fromByteOffset: SegmentFormat.recordExpiryOffset, as: Int64.self))
    }

    /// When an entry expires (Unix milliseconds), nil when never.
    func expiresAtMillis(of entry: KeydirEntry) -> Int64? {
        guard entry.hasExpiry else { return nil }
        let expiresAt = expiry(of: entry)
        return expiresAt == 0 ? nil : expiresAt
    }

    /// Removes an entry from the index and counts its record as dead.
    func forget(_ entry: KeydirEntry, keyLength: Int, keyspace: UInt8) {
        keydir.remove(hash: entry.hash) { $0.segmentID == entry.segmentID && $0.offset == entry.offset }
        markDead(entry, keyLength: keyLength)
        countIndexChange(removed: entry, added: nil, keyspace: keyspace)
    }

    /// Keeps the per-keyspace counts in step with the index: `removed` left it, `added` entered
    /// it (an overwrite passes both).
    @inline(__always)
    func countIndexChange(removed: KeydirEntry?, added: KeydirEntry?, keyspace: UInt8) {
        let index = Int(keyspace)
        let keys = (added == nil ? 0 : 1) - (removed == nil ? 0 : 1)
        if keys != 0 { keyspaceCounts[index] += keys }
        let expiring = (added?.hasExpiry == true ? 1 : 0) - (removed?.hasExpiry == true ? 1 : 0)
        if expiring != 0 { expiringCounts[index] += expiring }
    }

    @inline(__always)
    func markDead(_ entry: KeydirEntry, keyLength: Int) {
        // Read, not mutated through the array (that checked the array's uniqueness per write).
        guard let segment = segmentsByID[Int(entry.segmentID)] else { return }
        segment.deadBytes += RecordHeader.recordLength(keyLength: keyLength, valueLength: entry.valueLength)
    }

    /// The value of an entry's record after checking the record's CRC: data read back is
    /// verified as it was when written (a flipped bit on disk becomes an error, not a value).
    func verifiedValue(of entry: KeydirEntry, keyLength: Int) throws(StoreError) -> UnsafeRawBufferPointer {
        let start = recordStart(entry)
        let length = RecordHeader.recordLength(keyLength: keyLength, valueLength: entry.valueLength)
        let stored = UInt32(littleEndian: start.loadUnaligned(as: UInt32.self))
        let covered = UnsafeRawBufferPointer(start: start + SegmentFormat.recordCRCStart, count: length - SegmentFormat.recordCRCStart)
        guard CRC32C.checksum(covered) == stored else {
            let path = segmentsByID[Int(entry.segmentID)]?.path ?? "segment \(entry.segmentID)"
            throw StoreError(.corruptData, "the record at offset \(entry.offset) of \(path) fails its CRC check: the disk returned damaged data; run `swiftcask verify`")
        }
        return UnsafeRawBufferPointer(start: start + SegmentFormat.recordHeaderBytes + keyLength, count: entry.valueLength)
    }

    /// The value bytes of an entry's record (valid while the lock is held).
    @inline(__always)
    func value(of entry: KeydirEntry, keyLength: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: recordStart(entry) + SegmentFormat.recordHeaderBytes + keyLength, count: entry.valueLength)
    }

    func keyOf(_ entry: KeydirEntry) -> (keyspace: UInt8, key: UnsafeRawBufferPointer) {
        let start = recordStart(entry)
        let keyLength = Int(UInt16(littleEndian: start.loadUnaligned(fromByteOffset: SegmentFormat.recordKeyLengthOffset, as: UInt16.self)))
        return (start.load(fromByteOffset: SegmentFormat.recordKeyspaceOffset, as: UInt8.self),
                UnsafeRawBufferPointer(start: start + SegmentFormat.recordHeaderBytes, count: keyLength))
    }

    func checkWritable() throws(StoreError) {
        if isClosed || isClosing { throw StoreError.closed }
        if let failure { throw failure }
    }

    func path(forSegment id: UInt32) -> String {
        directory + "/" + SegmentFormat.fileName(segmentID: id)
    }

    var statistics: StoreStatistics {
        var diskBytes = 0
        var deadBytes = 0
        for id in segmentIDs {
            guard let segment = segmentsByID[Int(id)] else { continue }
            diskBytes += segment.appendEnd
            deadBytes += segment.deadBytes
        }
        return StoreStatistics(
            keys: keydir.count, segmentCount: segmentIDs.count, diskBytes: diskBytes, deadBytes: deadBytes,
            indexBytes: keydir.memoryBytes, ioBackendName: backend.name, durability: options.durability,
            recordsWritten: recordsWritten, groupsCommitted: groupsCommitted, syncs: syncs,
            roundsLedByCallers: roundsLedByCallers, bytesWritten: bytesWritten,
            writeFailure: failure?.message, mergeInProgress: mergeInProgress, mergeIsDue: mergeIsDue,
            lastMergeFailure: lastMergeError?.message, mergesCompleted: mergesCompleted,
            mergeReclaimedBytes: mergeReclaimedBytes, expiredKeysCollected: expiredKeysCollected,
            expiredKeysOnAccess: expiredKeysOnAccess,
            segmentsLoadedFromHints: segmentsLoadedFromHints, segmentsScanned: segmentsScanned)
    }
}
