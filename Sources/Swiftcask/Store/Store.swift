import Logging

/// A Bitcask-style key-value store in one directory: append-only segment files of CRC-checked
/// records, an in-memory index, reads straight from memory maps, and group-committed appends
/// through io_uring (or pwrite). Safe to use from many threads at once.
///
/// Writes are visible to readers as soon as the call returns (before they reach the disk);
/// `StoreOptions.durability` says when they are on disk. Facets: `Store+Read`, `Store+Write`.
public final class Store: Sendable {
    let core: StoreCore
    private let lockFile: SystemFile
    private let committer: BackgroundThread
    private let maintenance: BackgroundThread

    /// Opens (creating if allowed) the store in `directory`, replaying its segments. Only one
    /// `Store` may have a directory open at a time, in any process (an exclusive flock).
    public init(directory: String, options: StoreOptions = StoreOptions()) throws(StoreError) {
        try options.validate()
        try Self.prepareDirectory(directory, options)
        let lockFile = try Self.lockDirectory(directory)
        do {
            var backend = try AppendBackendFactory.make(options.ioBackend, logger: options.logger)
            if let wrap = options.wrapBackend { backend = wrap(backend) }
            core = StoreCore(directory: directory, options: options, backend: backend)
            try core.recover()
        } catch {
            lockFile.close()
            throw error
        }
        self.lockFile = lockFile
        let core = self.core
        if core.active == nil && (options.durability == .always || core.segmentIDs.isEmpty) {
            // The first write creates a segment: have it ready (see `SpareSegmentFile`). With
            // `.always` every time, so no segment takes group fsyncs unfilled; otherwise only
            // for a new store, so an open that only reads (the CLI's `get`) stays cheap.
            core.prepareSpareSegment()
        }
        committer = BackgroundThread(name: "swiftcask-commit") { core.runCommitter() }
        maintenance = BackgroundThread(name: "swiftcask-maint") { core.runMaintenance() }
    }

    private static func prepareDirectory(_ directory: String, _ options: StoreOptions) throws(StoreError) {
        if !FileSystem.fileExists(directory) {
            guard options.createIfMissing else {
                throw StoreError(.ioFailure, "no store at \(directory) (the directory does not exist)")
            }
            do { try FileSystem.createDirectory(directory) } catch {
                throw StoreError(.directoryNotWritable, "cannot create the data directory: \(error)")
            }
        }
        guard FileSystem.isWritableDirectory(directory) else {
            throw StoreError(.directoryNotWritable, "the data directory \(directory) is not writable by this user; fix its permissions or choose another directory")
        }
    }

    private static func lockDirectory(_ directory: String) throws(StoreError) -> SystemFile {
        let path = directory + "/" + SegmentFormat.lockFileName
        do {
            let file = try SystemFile.open(path, writable: true, create: true)
            guard try file.lockExclusively() else {
                file.close()
                throw StoreError(.directoryLocked, "\(directory) is already open by another process or another Store in this process (flock on \(path)); close that one first")
            }
            return file
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.directoryNotWritable, "cannot lock \(path): \(error)")
        }
    }

    /// Writes and fsyncs everything, seals the active segment and writes its hint (so the next
    /// open reads no data), stops the background threads and releases the directory. Further
    /// calls fail with `.closed`. Safe to call more than once.
    public func close() throws(StoreError) {
        let isFirstCloser = core.monitor.withLock {
            if core.isClosing {
                while !core.isClosed { core.monitor.waitForProgress() }
                return false
            }
            core.isClosing = true
            core.monitor.signalWork()
            core.monitor.signalMaintenance()
            return true
        }
        if isFirstCloser {
            maintenance.join()
            committer.join()
            core.writePendingHints()
            core.sealActiveSegmentAtClose()
            core.spareSegment?.discard()
            core.spareSegment = nil
            core.monitor.withLock {
                core.isClosed = true
                core.monitor.broadcastProgress()
            }
            lockFile.close()
        }
        if let failure = core.monitor.withLock({ core.failure }) { throw failure }
    }

    deinit {
        try? close()
    }

    /// Counters and sizes.
    public var statistics: StoreStatistics {
        core.monitor.withLock { core.statistics }
    }

    /// "io_uring" or "posix".
    public var ioBackendName: String { core.backend.name }
}
