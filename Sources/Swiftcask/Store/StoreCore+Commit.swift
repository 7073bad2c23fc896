/// The committer: one thread per store that takes every buffer writers filled since its last
/// round, writes them in log order with one backend call per segment (writes linked to the
/// fdatasync under io_uring), seals rotated segments, and then wakes every writer and runs
/// every durability callback the round covered. While it waits on the disk, writers fill the
/// next group: that is the group commit.
///
/// A writer that blocks for durability (`.always` puts, `sync()`) does not hand its round to
/// the committer when none is running: it leads the round itself on its own thread, as
/// LevelDB's and RocksDB's write leaders do. That saves two thread wake-ups per round (writer →
/// committer → writer), about a third of a serial durable batch here. Writers arriving during
/// a round append to the next group and wait; one of them leads it. Only one round runs at a
/// time (`roundInProgress`), so log order and the sealing order are unchanged.
extension StoreCore {
    /// A committer round that fdatasyncs fewer records goes through plain calls, not the ring
    /// (see `UringAppendBackend`). Measured on a server's `always` SET: 13–20 records per
    /// round at -P 1 (latency-bound), 110–180 at -P 16 (CPU-bound, where the ring wins).
    static let ringSyncRoundRecordsMin = 32

    /// Buffers taken for the current round are in `inFlight`; segments to seal in it here.
    final class CommitterScratch {
        var chunks: [WriteChunk] = []
        var descriptors: [Int32] = []
        var sealing: [Segment] = []
        /// Segments created since the last round: their header and directory entry get synced first.
        var created: [Segment] = []
        var firing: [@Sendable (Result<Void, StoreError>) -> Void] = []
        init() {
            chunks.reserveCapacity(64)
            descriptors.reserveCapacity(4)
        }
    }

    /// Runs until shutdown; call on the committer thread without holding the lock.
    func runCommitter() {
        let scratch = CommitterScratch()
        monitor.lock()
        while true {
            let now = Clock.monotonicNanos()
            if roundInProgress {
                // A writer leads a round; it wakes the committer afterwards if work is left.
                waitIdle(until: nil)
                continue
            }
            if failure != nil {
                fireDueCallbacks(scratch)
                if isClosing { break }
                waitIdle(until: nil)
                continue
            }
            let wantsSync = syncIsDue(now)
            if shouldTakeCurrent(now, wantsSync: wantsSync) { enqueueCurrent() }
            if queued.isEmpty && segmentsToSeal.isEmpty && !wantsSync {
                fireDueCallbacks(scratch)
                if isClosing && (current?.isEmpty ?? true) { break }
                waitIdle(until: nextDeadline(now))
                continue
            }
            runRound(scratch, wantsSync: wantsSync, caller: .committer)
            fireDueCallbacks(scratch)
        }
        monitor.unlock()
    }

    /// One round on the calling thread by a writer waiting for durability (see the type's
    /// comment). Lock held on entry and exit; only when no round is running.
    func leadRound() {
        let now = Clock.monotonicNanos()
        let wantsSync = syncIsDue(now)
        if shouldTakeCurrent(now, wantsSync: wantsSync) { enqueueCurrent(wakingCommitter: false) }
        runRound(leaderScratch, wantsSync: wantsSync, caller: .blockedWriter)
        if committerHasWork { signalCommitterIfIdle() }
    }

    /// Whether anything is left for the committer after a led round: durability callbacks
    /// (fired only by the committer, so in log order), buffers, seals, a flush or a
    /// write-behind or everysec deadline to keep, shutdown or a failure to report.
    private var committerHasWork: Bool {
        !durabilityCallbacks.isEmpty || !queued.isEmpty || !segmentsToSeal.isEmpty || isClosing || failure != nil
            || flushRequestedPosition > writtenPosition
            || (options.durability != .always && (durablePosition < appendedPosition || !(current?.isEmpty ?? true)))
    }

    /// Writes the queued buffers (and fdatasyncs when the mode or a request asks), seals
    /// rotated segments, publishes the progress and wakes waiting writers. Lock held on entry
    /// and exit; released for the IO.
    private func runRound(_ scratch: CommitterScratch, wantsSync: Bool, caller: AppendCaller) {
        roundInProgress = true
        if caller == .blockedWriter { roundsLedByCallers += 1 }
        swap(&inFlight, &queued)
        swap(&scratch.sealing, &segmentsToSeal)
        swap(&scratch.created, &unsyncedNewSegments)
        let target = inFlight.last?.endPosition ?? writtenPosition
        let synchronizing = wantsSync || options.durability == .always
        // The active segment may hold unsynced data from earlier rounds and no buffer in this one.
        let alsoSync = synchronizing ? active.flatMap { segment in
            inFlight.contains { $0.segment === segment } || scratch.sealing.contains { $0 === segment } ? nil : segment
        } : nil
        var route = caller
        if caller == .committer && synchronizing {
            var records = 0
            for buffer in inFlight { records += buffer.recordCount }
            if records < Self.ringSyncRoundRecordsMin { route = .committerSmallSyncRound }
        }
        monitor.unlock()
        let outcome = performRound(scratch, synchronizing: synchronizing, alsoSync: alsoSync, caller: route)
        monitor.lock()
        finishRound(outcome, target: target, synchronized: synchronizing, scratch: scratch)
        roundInProgress = false
    }

    private func waitIdle(until deadline: UInt64?) {
        committerIsIdle = true
        monitor.waitForWork(untilMonotonicNanos: deadline)
        committerIsIdle = false
    }

    private func syncIsDue(_ now: UInt64) -> Bool {
        guard durablePosition < appendedPosition else { return false }
        if isClosing || syncRequestedPosition > durablePosition { return true }
        return options.durability == .everysec
            && now &- lastSyncNanos >= UInt64(options.everysecIntervalMillis) * 1_000_000
    }

    private func shouldTakeCurrent(_ now: UInt64, wantsSync: Bool) -> Bool {
        guard let current, !current.isEmpty else { return false }
        return options.durability == .always || wantsSync || isClosing
            || flushRequestedPosition > writtenPosition
            || now &- currentFirstAppendNanos >= UInt64(options.writeBehindMillis) * 1_000_000
    }

    /// When the committer must wake up by itself: the write-behind deadline of the current
    /// buffer, or the next everysec fsync. (`.always` has no write-behind: its rounds are led
    /// by writers or asked for by `whenDurable`.)
    private func nextDeadline(_ now: UInt64) -> UInt64? {
        var deadline: UInt64?
        if options.durability != .always, let current, !current.isEmpty {
            deadline = currentFirstAppendNanos + UInt64(options.writeBehindMillis) * 1_000_000
        }
        if options.durability == .everysec && durablePosition < appendedPosition {
            let syncAt = lastSyncNanos + UInt64(options.everysecIntervalMillis) * 1_000_000
            deadline = min(deadline ?? syncAt, syncAt)
        }
        return deadline
    }

    /// The IO of one round, without the lock. Order matters for recovery: new segments' headers
    /// and directory entries are durable before any record goes into them, and a rotated
    /// segment is written, fsynced and truncated before any byte of a newer segment is
    /// written, so a torn tail can only ever be in the newest segment that holds data.
    private func performRound(_ scratch: CommitterScratch, synchronizing: Bool, alsoSync: Segment?, caller: AppendCaller) -> IOFailure? {
        do {
            if !scratch.created.isEmpty {
                try synchronizeData(of: scratch.created, scratch, caller: caller)
                try backend.synchronizeDirectory(directory)
            }
            // Segments sealed with no buffer in this round: their data went out in earlier rounds.
            for segment in scratch.sealing where !inFlight.contains(where: { $0.segment === segment }) {
                try seal(segment, caller: caller)
            }
            var index = 0
            while index < inFlight.count {
                let segment = inFlight[index].segment!
                scratch.chunks.removeAll(keepingCapacity: true)
                while index < inFlight.count && inFlight[index].segment === segment {
                    let buffer = inFlight[index]
                    scratch.chunks.append(WriteChunk(descriptor: segment.file.descriptor, path: segment.path, bytes: UnsafeRawPointer(buffer.bytes), count: buffer.used, offset: buffer.segmentOffset))
                    index += 1
                }
                let sealsNow = scratch.sealing.contains { $0 === segment }
                scratch.descriptors.removeAll(keepingCapacity: true)
                if synchronizing && !sealsNow { scratch.descriptors.append(segment.file.descriptor) }
                try backend.write(scratch.chunks, synchronizing: scratch.descriptors, for: caller)
                if sealsNow { try seal(segment, caller: caller) }
            }
            if let alsoSync { try synchronizeData(of: CollectionOfOne(alsoSync), scratch, caller: caller) }
            return nil
        } catch {
            return error
        }
    }

    /// fdatasyncs `segments` through the backend without writing anything (scratch reused).
    private func synchronizeData(of segments: some Sequence<Segment>, _ scratch: CommitterScratch, caller: AppendCaller) throws(IOFailure) {
        scratch.chunks.removeAll(keepingCapacity: true)
        scratch.descriptors.removeAll(keepingCapacity: true)
        for segment in segments { scratch.descriptors.append(segment.file.descriptor) }
        try backend.write(scratch.chunks, synchronizing: scratch.descriptors, for: caller)
    }

    /// Makes a rotated segment final: data synced (through the backend, like every data
    /// sync), preallocated tail cut off, size synced.
    private func seal(_ segment: Segment, caller: AppendCaller) throws(IOFailure) {
        try backend.write([], synchronizing: [segment.file.descriptor], for: caller)
        try segment.file.truncate(to: segment.appendEnd)
        try segment.file.synchronize()
    }

    private func finishRound(_ outcome: IOFailure?, target: UInt64, synchronized: Bool, scratch: CommitterScratch) {
        if let outcome {
            let error = StoreError.writeFailure(outcome)
            failure = error
            logger.error("write failed, the store now refuses writes: \(error.message)")
            failedBuffers.append(contentsOf: inFlight)
        } else {
            for buffer in inFlight {
                let segment = buffer.segment!
                segment.writtenEnd = max(segment.writtenEnd, buffer.segmentOffset + buffer.used)
                refreshView(of: segment)
                bytesWritten += UInt64(buffer.used)
                buffer.detach()
                if buffer.isPooled { freeBuffers.append(buffer) }
            }
            writtenPosition = max(writtenPosition, target)
            if synchronized {
                durablePosition = max(durablePosition, target)
                lastSyncNanos = Clock.monotonicNanos()
                syncs += 1
            }
            groupsCommitted += 1
            if !scratch.sealing.isEmpty {
                for segment in scratch.sealing { segment.isFinal = true }
                segmentsNeedingHints.append(contentsOf: scratch.sealing)
                monitor.signalMaintenance()
            }
        }
        inFlight.removeAll(keepingCapacity: true)
        scratch.sealing.removeAll(keepingCapacity: true)
        scratch.created.removeAll(keepingCapacity: true)
        monitor.broadcastProgress()
    }

    /// Runs (without the lock) the callbacks whose position is durable, or all with the error.
    private func fireDueCallbacks(_ scratch: CommitterScratch) {
        guard !durabilityCallbacks.isEmpty else { return }
        let result: Result<Void, StoreError>
        if let failure {
            result = .failure(failure)
            for pending in durabilityCallbacks { scratch.firing.append(pending.callback) }
            durabilityCallbacks.removeAll(keepingCapacity: true)
        } else {
            result = .success(())
            var kept = 0
            for index in durabilityCallbacks.indices {
                let pending = durabilityCallbacks[index]
                if pending.position <= durablePosition {
                    scratch.firing.append(pending.callback)
                } else {
                    durabilityCallbacks[kept] = pending
                    kept += 1
                }
            }
            durabilityCallbacks.removeLast(durabilityCallbacks.count - kept)
        }
        guard !scratch.firing.isEmpty else { return }
        monitor.unlock()
        for callback in scratch.firing { callback(result) }
        monitor.lock()
        scratch.firing.removeAll(keepingCapacity: true)
    }

    /// Blocks the calling thread until `position` is durable, leading a round itself whenever
    /// none is running; throws the sticky failure if the write could not be synced. Lock held
    /// on entry and exit.
    func waitUntilDurable(_ position: UInt64) throws(StoreError) {
        while try !leadRoundsIfIdle(until: position) { monitor.waitForProgress() }
    }

    /// Leads rounds (each with an fdatasync) on the calling thread until `position` is durable,
    /// and returns true; returns false instead as soon as another round is running or the store
    /// is closing (the committer then finishes the work). Throws the sticky failure. Lock held
    /// on entry and exit. `Store.syncIfIdle` is this for an event loop that must not wait.
    func leadRoundsIfIdle(until position: UInt64) throws(StoreError) -> Bool {
        while durablePosition < position {
            if let failure { throw failure }
            if isClosed { throw StoreError.closed }
            if roundInProgress || isClosing { return false }
            syncRequestedPosition = max(syncRequestedPosition, position)
            leadRound()
        }
        return true
    }

    /// Blocks until `position` reached the OS (readable through the maps).
    func waitUntilWritten(_ position: UInt64) throws(StoreError) {
        if flushRequestedPosition < position {
            flushRequestedPosition = position
            monitor.signalWork()
        }
        while writtenPosition < position {
            if let failure { throw failure }
            if isClosed { throw StoreError.closed }
            monitor.waitForProgress()
        }
    }

    /// Forces an fsync covering everything appended so far and waits for it.
    func synchronize() throws(StoreError) {
        let target = appendedPosition
        guard durablePosition < target else {
            if let failure { throw failure }
            return
        }
        syncRequestedPosition = max(syncRequestedPosition, target)
        monitor.signalWork()
        try waitUntilDurable(target)
    }
}
