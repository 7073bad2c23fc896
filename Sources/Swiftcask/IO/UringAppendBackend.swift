import CShims
import Glibc

/// Appends through io_uring: one submission per group, every write linked to the next and the
/// last linked to fdatasync, so a whole group costs one `io_uring_enter` and the sync starts
/// only after every write succeeded. Used from the committer thread only.
final class UringAppendBackend: AppendBackend {
    let name = "io_uring"
    /// Submission queue entries; a group larger than this is submitted in several rounds.
    static let ringEntries = 64
    /// A write that makes no progress this many rounds in a row is an error, not a retry loop.
    static let stalledRoundsMax = 8

    private var ring = io_uring()
    /// Completion results by position in the current submission, reused so a group allocates nothing.
    private let results = UnsafeMutablePointer<Int32>.allocate(capacity: UringAppendBackend.ringEntries)

    /// Sets up a ring, or explains why the kernel refused (ENOSYS: no io_uring; EPERM: seccomp
    /// or `kernel.io_uring_disabled`; ENOMEM: locked-memory limit).
    init() throws(IOFailure) {
        let result = sc_uring_queue_init(UInt32(Self.ringEntries), &ring, 0)
        if result < 0 {
            throw IOFailure(operation: "io_uring_queue_init", path: "-", errno: Errno(rawValue: -result))
        }
    }

    deinit {
        sc_uring_queue_exit(&ring)
        results.deallocate()
    }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32]) throws(IOFailure) {
        precondition(descriptors.count < Self.ringEntries, "more files to sync than ring entries")
        // The chunk being worked on may have been partly written by a short write.
        var next = 0
        var resume = 0
        var stalledRounds = 0
        repeat {
            let roundEnd = min(chunks.count, next + Self.ringEntries - descriptors.count)
            let syncs = roundEnd == chunks.count ? descriptors : []
            let progress = try submitLinked(chunks, next..<roundEnd, skippingFirst: resume, synchronizing: syncs)
            if progress.completedChunks == roundEnd - next {
                next = roundEnd
                resume = 0
                stalledRounds = 0
                if !syncs.isEmpty || (next == chunks.count && descriptors.isEmpty) { return }
                continue
            }
            let madeProgress = progress.completedChunks > 0 || progress.partialBytes > 0
            next += progress.completedChunks
            resume = (progress.completedChunks > 0 ? 0 : resume) + progress.partialBytes
            stalledRounds = madeProgress ? 0 : stalledRounds + 1
            if stalledRounds >= Self.stalledRoundsMax {
                throw IOFailure(operation: "io_uring write (no progress)", path: chunks[next].path, errno: .ioError)
            }
        } while true
    }

    private struct Progress {
        var completedChunks: Int
        /// Bytes of the first incomplete chunk that this round wrote (a short write).
        var partialBytes: Int
    }

    /// Submits `chunks[range]` (the first one from byte `skip`) then the syncs as one linked
    /// chain and reaps every completion. A short write breaks the chain (later entries complete
    /// with ECANCELED); the caller resubmits the rest, syncs included.
    private func submitLinked(
        _ chunks: [WriteChunk], _ range: Range<Int>, skippingFirst skip: Int, synchronizing descriptors: [Int32]
    ) throws(IOFailure) -> Progress {
        let total = range.count + descriptors.count
        for (position, index) in range.enumerated() {
            let chunk = chunks[index]
            let skipped = position == 0 ? skip : 0
            let entry = sc_uring_get_sqe(&ring)!
            sc_uring_prep_write(entry, chunk.descriptor, chunk.bytes + skipped, UInt32(chunk.count - skipped), UInt64(chunk.offset + skipped))
            sc_uring_sqe_set_data64(entry, UInt64(position))
            if position + 1 < total { sc_uring_sqe_link(entry) }
        }
        for (position, descriptor) in descriptors.enumerated() {
            let entry = sc_uring_get_sqe(&ring)!
            sc_uring_prep_fdatasync(entry, descriptor)
            sc_uring_sqe_set_data64(entry, UInt64(range.count + position))
            if range.count + position + 1 < total { sc_uring_sqe_link(entry) }
        }
        let anyPath = range.isEmpty ? "-" : chunks[range.lowerBound].path
        var submitted = sc_uring_submit_and_wait(&ring, UInt32(total))
        while submitted == -EINTR { submitted = sc_uring_submit_and_wait(&ring, UInt32(total)) }
        if submitted < 0 {
            throw IOFailure(operation: "io_uring_submit", path: anyPath, errno: Errno(rawValue: -submitted))
        }
        for _ in 0..<total {
            var completion: UnsafeMutablePointer<io_uring_cqe>? = nil
            var waited = sc_uring_wait_cqe(&ring, &completion)
            while waited == -EINTR { waited = sc_uring_wait_cqe(&ring, &completion) }
            if waited < 0 {
                throw IOFailure(operation: "io_uring_wait_cqe", path: anyPath, errno: Errno(rawValue: -waited))
            }
            results[Int(sc_uring_cqe_data64(completion))] = sc_uring_cqe_result(completion)
            sc_uring_cqe_seen(&ring, completion)
        }
        for (position, index) in range.enumerated() {
            let result = Int(results[position])
            let expected = chunks[index].count - (position == 0 ? skip : 0)
            if result < 0 {
                throw IOFailure(operation: "io_uring write", path: chunks[index].path, errno: Errno(rawValue: Int32(-result)))
            }
            if result < expected { return Progress(completedChunks: position, partialBytes: result) }
        }
        for (position, descriptor) in descriptors.enumerated() {
            let result = results[range.count + position]
            if result < 0 {
                let path = chunks.first { $0.descriptor == descriptor }?.path ?? "fd \(descriptor)"
                throw IOFailure(operation: "io_uring fdatasync", path: path, errno: Errno(rawValue: -result))
            }
        }
        return Progress(completedChunks: range.count, partialBytes: 0)
    }
}
