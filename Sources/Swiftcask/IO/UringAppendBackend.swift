import CShims
import Glibc

/// Appends through io_uring: one submission per group, every write linked to the next and the
/// last linked to fdatasync, so a whole group costs one `io_uring_enter` and the sync starts
/// only after every write succeeded. One round at a time (the store runs rounds one by one).
///
/// A round led by a blocked writer goes through plain pwrite + fdatasync on the writer's
/// thread instead: the kernel hands buffered ring writes and every ring fdatasync to an io-wq
/// worker thread, and that hop plus waking the writer cost about a quarter of a serial durable
/// round here (batches of 100 with `.always`: 148–160 µs per batch through the ring, 115–125 µs
/// with plain calls). So does a small committer round that syncs: when the CPUs are busy the
/// worker waits 0.16–0.19 ms on average to run (`perf sched`), which a handful of waiting
/// replies feel in full (a server's `always` SET -P 1: +8 % req/s with plain calls). Larger
/// committer rounds stay on the ring, which measured 7 % more req/s at -P 16.
final class UringAppendBackend: AppendBackend {
    let name = "io_uring"
    /// Submission queue entries; a group larger than this is submitted in several rounds.
    static let ringEntries = 64
    /// A write that makes no progress this many rounds in a row is an error, not a retry loop.
    static let stalledRoundsMax = 8

    private var ring = io_uring()
    /// False when setup failed: a throwing init still runs deinit, and exiting a zeroed ring
    /// would close descriptor 0.
    private var ringReady = false
    private let calls: IOSystemCalls
    /// Completion results by position in the current submission, reused so a group allocates nothing.
    private let results = UnsafeMutablePointer<Int32>.allocate(capacity: UringAppendBackend.ringEntries)

    /// Sets up a ring, or explains why the kernel refused (ENOSYS: no io_uring; EPERM: seccomp
    /// or `kernel.io_uring_disabled`; ENOMEM: locked-memory limit).
    init(calls: IOSystemCalls = .live) throws(IOFailure) {
        self.calls = calls
        let result = sc_uring_queue_init(UInt32(Self.ringEntries), &ring, 0)
        if result < 0 {
            throw IOFailure(operation: "io_uring_queue_init", path: "-", errno: Errno(rawValue: -result))
        }
        ringReady = true
    }

    deinit {
        if ringReady { sc_uring_queue_exit(&ring) }
        results.deallocate()
    }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure) {
        if caller != .committer { return try calls.writeAndSynchronize(chunks, synchronizing: descriptors) }
        precondition(descriptors.count < Self.ringEntries, "more files to sync than ring entries")
        // The chunk being worked on may have been partly written by a short write.
        var next = 0
        var resume = 0
        var stalledRounds = 0
        while true {
            let roundEnd = min(chunks.count, next + Self.ringEntries - descriptors.count)
            let syncs = roundEnd == chunks.count ? descriptors : []
            let progress = try submitLinked(chunks, next..<roundEnd, skippingFirst: resume, synchronizing: syncs)
            // Only the last round syncs, so every chunk written means the syncs were in this round.
            if next + progress.completedChunks == chunks.count && progress.synchronized { return }
            let madeProgress = progress.completedChunks > 0 || progress.partialBytes > 0
            next += progress.completedChunks
            resume = (progress.completedChunks > 0 ? 0 : resume) + progress.partialBytes
            stalledRounds = madeProgress ? 0 : stalledRounds + 1
            if stalledRounds >= Self.stalledRoundsMax {
                let path = next < chunks.count ? chunks[next].path : chunks.last?.path ?? "-"
                throw IOFailure(operation: "io_uring write (no progress)", path: path, errno: .ioError)
            }
        }
    }

    private struct Progress {
        var completedChunks: Int
        /// Bytes of the first incomplete chunk that this round wrote (a short write).
        var partialBytes: Int
        /// Every sync of the round succeeded (true when it had none).
        var synchronized: Bool
    }

    /// A plain fsync: directories are synced once per new file (segment, hint, merge output),
    /// too rarely for the ring to matter.
    func synchronizeDirectory(_ path: String) throws(IOFailure) {
        try FileSystem.synchronizeDirectory(path)
    }

    /// Submits `chunks[range]` (the first one from byte `skip`) then the syncs as one linked
    /// chain and reaps every completion. A short write breaks the chain (later entries complete
    /// with ECANCELED); the caller resubmits the rest, syncs included. So does an interrupted
    /// (EINTR) or busy (EAGAIN) completion.
    private func submitLinked(
        _ chunks: [WriteChunk], _ range: Range<Int>, skippingFirst skip: Int, synchronizing descriptors: [Int32]
    ) throws(IOFailure) -> Progress {
        let total = range.count + descriptors.count
        if total == 0 { return Progress(completedChunks: 0, partialBytes: 0, synchronized: true) }
        for (position, index) in range.enumerated() {
            let chunk = chunks[index]
            let skipped = position == 0 ? skip : 0
            let entry = sc_uring_get_sqe(&ring)!
            calls.prepareRingWrite(entry, chunk.descriptor, chunk.bytes + skipped, UInt32(chunk.count - skipped), UInt64(chunk.offset + skipped))
            sc_uring_sqe_set_data64(entry, UInt64(position))
            if position + 1 < total { sc_uring_sqe_link(entry) }
        }
        for (position, descriptor) in descriptors.enumerated() {
            let entry = sc_uring_get_sqe(&ring)!
            sc_uring_prep_fdatasync(entry, descriptor)
            sc_uring_sqe_set_data64(entry, UInt64(range.count + position))
            if range.count + position + 1 < total { sc_uring_sqe_link(entry) }
        }
        let anyPath = range.isEmpty ? (chunks.last?.path ?? "-") : chunks[range.lowerBound].path
        try submitAll(waitingFor: total, path: anyPath)
        try reapAll(total, path: anyPath)
        for (position, index) in range.enumerated() {
            let result = Int(results[position])
            let expected = chunks[index].count - (position == 0 ? skip : 0)
            if result < 0 {
                let error = Errno(rawValue: Int32(-result))
                if error == .interrupted || error == .tryAgain {
                    return Progress(completedChunks: position, partialBytes: 0, synchronized: false)
                }
                throw IOFailure(operation: "io_uring write", path: chunks[index].path, errno: error)
            }
            if result < expected { return Progress(completedChunks: position, partialBytes: result, synchronized: false) }
        }
        for (position, descriptor) in descriptors.enumerated() {
            let result = results[range.count + position]
            if result < 0 {
                let error = Errno(rawValue: -result)
                if error == .interrupted || error == .tryAgain {
                    return Progress(completedChunks: range.count, partialBytes: 0, synchronized: false)
                }
                let path = chunks.first { $0.descriptor == descriptor }?.path ?? "fd \(descriptor)"
                throw IOFailure(operation: "io_uring fdatasync", path: path, errno: error)
            }
        }
        return Progress(completedChunks: range.count, partialBytes: 0, synchronized: true)
    }

    /// Hands every queued entry to the kernel. EINTR is retried (entries the kernel already took
    /// are not resubmitted: liburing tracks the ring head), EAGAIN/EBUSY and a submission that
    /// takes nothing up to `IOSystemCalls.busyRetriesMax` times in a row.
    private func submitAll(waitingFor total: Int, path: String) throws(IOFailure) {
        var busyRetries = 0
        while true {
            let submitted = calls.submitAndWait(&ring, UInt32(total))
            if submitted < 0 {
                try IOSystemCalls.absorbTransient(Errno(rawValue: -submitted), "io_uring_submit", path, busyRetries: &busyRetries)
                continue
            }
            if sc_uring_sq_ready(&ring) == 0 { return }
            // A short submit left entries queued: go on while it takes some.
            if submitted > 0 {
                busyRetries = 0
            } else {
                try IOSystemCalls.absorbTransient(.busy, "io_uring_submit", path, busyRetries: &busyRetries)
            }
        }
    }

    /// Takes `total` completions off the ring into `results`, by tag; retries an interrupted wait.
    private func reapAll(_ total: Int, path: String) throws(IOFailure) {
        var reaped = 0
        var busyRetries = 0
        while reaped < total {
            switch calls.reapCompletion(&ring) {
            case .completed(let tag, let result):
                results[Int(tag)] = result
                reaped += 1
            case .waitFailed(let waited):
                try IOSystemCalls.absorbTransient(Errno(rawValue: -waited), "io_uring_wait_cqe", path, busyRetries: &busyRetries)
            }
        }
    }
}
