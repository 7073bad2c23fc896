/// The maintenance thread: writes hint files for sealed segments, runs merges (requested or
/// automatic) and the active expiry cycle. One thread, so these never race each other.
extension StoreCore {
    /// After a failed automatic merge, wait this long before trying again.
    static let mergeRetryDelayNanos: UInt64 = 60_000_000_000

    /// Runs until shutdown; call on the maintenance thread without holding the lock.
    func runMaintenance() {
        if options.maintenanceNiceness > 0, let error = BackgroundThread.setCurrentThreadNiceness(options.maintenanceNiceness) {
            logger.warning("cannot lower the maintenance thread's priority to nice \(options.maintenanceNiceness) (\(error)); it runs at the process's priority")
        }
        monitor.lock()
        while !isClosing {
            // The spare first: the next rotation wants it soon, a hint only the next open.
            let now = Clock.monotonicNanos()
            if spareSegmentIsWanted(now: now) {
                monitor.unlock()
                prepareSpareSegment()
                monitor.lock()
                continue
            }
            if !segmentsNeedingHints.isEmpty {
                let segment = segmentsNeedingHints.removeFirst()
                monitor.unlock()
                do { try writeHint(for: segment) } catch {
                    logger.warning("cannot write the hint of segment \(segment.id) (\(error)); it will be scanned at the next open")
                }
                monitor.lock()
                continue
            }
            if !checkpointInProgress && mergeIsDue {
                let requested = mergeRequested
                mergeRequested = false
                mergeInProgress = true
                monitor.unlock()
                let outcome = performMerge()
                monitor.lock()
                mergeInProgress = false
                mergesAttempted += 1
                switch outcome {
                case .success(let report):
                    lastMergeReport = report
                    lastMergeError = nil
                    automaticMergeNotBeforeNanos = 0
                    logger.info("merge: \(report)")
                case .failure(let error):
                    lastMergeError = error
                    if !requested { automaticMergeNotBeforeNanos = Clock.monotonicNanos() + Self.mergeRetryDelayNanos }
                    logger.warning("merge failed: \(error.message)")
                }
                monitor.broadcastProgress()
                continue
            }
            let interval = UInt64(options.activeExpiryIntervalMillis) * 1_000_000
            if now &- lastActiveExpiryNanos >= interval {
                runActiveExpiryCycle()
                lastActiveExpiryNanos = now
            }
            monitor.waitForMaintenance(untilMonotonicNanos: lastActiveExpiryNanos + interval)
        }
        monitor.unlock()
    }

    /// Whether to make the next segment now (see `SpareSegmentFile`). Lock held.
    private func spareSegmentIsWanted(now: UInt64) -> Bool {
        guard failure == nil, !isClosing, now >= spareRetryNotBeforeNanos else { return false }
        return spareSegmentIsDue
    }

    /// As soon as this open has written, in every mode: zero-filling (`.always`) or loading the
    /// page cache in huge folios takes tens of milliseconds, and a fast writer fills a segment
    /// in a few hundred. Not before: an open that only reads (the CLI's `get`, `dump`) makes
    /// no file. Lock held.
    var spareSegmentIsDue: Bool {
        spareSegment == nil && active != nil && recordsWritten > 0
    }

    /// Makes the spare segment; call without the lock. A failure (a full disk) is logged and
    /// retried later: rotation then creates its segment the ordinary way.
    func prepareSpareSegment() {
        let outcome = Result { () throws(IOFailure) in
            try SpareSegmentFile.prepare(in: directory, capacity: options.segmentBytes, zeroFilled: options.durability == .always)
        }
        monitor.withLock {
            switch outcome {
            case .success(let spare):
                if isClosing || spareSegment != nil { spare.discard() } else { spareSegment = spare }
            case .failure(let error):
                spareRetryNotBeforeNanos = Clock.monotonicNanos() + SpareSegmentFile.retryDelayNanos
                logger.info("cannot prepare a spare segment (\(error)); segments are created at rotation instead")
            }
        }
    }

    /// Sealed segments, their dead bytes and total bytes.
    var sealedGarbage: (deadBytes: Int, totalBytes: Int) {
        var dead = 0
        var total = 0
        for id in segmentIDs {
            guard let segment = segmentsByID[Int(id)], segment.isFinal else { continue }
            dead += segment.deadBytes
            total += segment.appendEnd
        }
        return (dead, total)
    }

    /// Whether the maintenance thread starts a merge when next free: one was requested, or the
    /// automatic triggers are met (and no automatic merge failed in the last minute). Lock held.
    var mergeIsDue: Bool {
        guard failure == nil, !mergeInProgress else { return false }
        return mergeRequested || (Clock.monotonicNanos() >= automaticMergeNotBeforeNanos && automaticMergeIsDue())
    }

    private func automaticMergeIsDue() -> Bool {
        guard mergeTriggers.isEnabled else { return false }
        let (dead, total) = sealedGarbage
        return mergeTriggers.thresholdsAreMet(deadBytes: dead, totalBytes: total)
    }
}
