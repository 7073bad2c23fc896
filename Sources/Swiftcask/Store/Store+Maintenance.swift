/// Merges and checkpoints.
extension Store {
    /// Starts a merge on the maintenance thread and returns at once (Redis BGREWRITEAOF).
    /// Returns false when one is already running.
    @discardableResult
    public func requestMerge() -> Bool {
        core.monitor.withLock {
            if core.mergeInProgress || core.mergeRequested { return false }
            core.mergeRequested = true
            core.monitor.signalMaintenance()
            return true
        }
    }

    /// When automatic merges start (see `MergeTriggers`).
    public var mergeTriggers: MergeTriggers {
        core.monitor.withLock { core.mergeTriggers }
    }

    /// Changes when automatic merges start, from the next check on; a merge running goes on.
    public func setMergeTriggers(_ triggers: MergeTriggers) throws(StoreError) {
        try triggers.validate()
        core.monitor.withLock {
            core.mergeTriggers = triggers
            // Lower thresholds may already be met: let the maintenance thread look now.
            core.monitor.signalMaintenance()
        }
    }

    /// Runs a merge of every sealed segment and waits for it.
    public func merge() throws(StoreError) -> MergeReport {
        try core.monitor.withLock { () throws(StoreError) -> MergeReport in
            try core.checkWritable()
            // Segments rotated out so far are sealed by the committer round that writes their
            // last records: after this they are all final and so part of the merge.
            core.enqueueCurrent()
            try core.waitUntilWritten(core.appendedPosition)
            while core.mergeInProgress { core.monitor.waitForProgress() }
            let target = core.mergesAttempted + 1
            core.mergeRequested = true
            core.lastMergeError = nil
            core.lastMergeReport = nil
            core.monitor.signalMaintenance()
            while core.mergesAttempted < target {
                if core.isClosing { throw StoreError.closed }
                core.monitor.waitForProgress()
            }
            if let error = core.lastMergeError { throw error }
            return core.lastMergeReport!
        }
    }

    /// Writes a consistent copy of the store, as of this call, into `destination` (which must
    /// not exist or be empty), while the store keeps serving. Sealed segments are hard-linked
    /// (copied across file systems), the active one copied up to the current end. The copy
    /// opens as an ordinary store.
    public func checkpoint(to destination: String) throws(StoreError) {
        try core.checkpoint(to: destination)
    }
}
