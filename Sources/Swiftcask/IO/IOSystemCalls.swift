import CShims
import Glibc

/// The system calls through which records reach the disk, as replaceable values. Production
/// uses `.live`; a test wraps them to return short counts, EINTR or EAGAIN at chosen points, so
/// the backends' own retry code runs against a real file. Every call reports failure as a
/// negative errno (the io_uring convention), so a wrapper never has to preserve `errno`.
struct IOSystemCalls: Sendable {
    /// One completion taken off an io_uring completion queue.
    enum RingCompletion {
        case completed(tag: UInt64, result: Int32)
        /// Waiting failed with this (negative) errno; nothing was consumed.
        case waitFailed(Int32)
    }

    /// pwrite(2): bytes written, or -errno.
    var positionedWrite: @Sendable (_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int, _ offset: Int) -> Int
    /// fdatasync(2): 0, or -errno.
    var synchronizeData: @Sendable (_ descriptor: Int32) -> Int32
    /// Fills a submission entry with a write (io_uring_prep_write).
    var prepareRingWrite: @Sendable (
        _ entry: UnsafeMutablePointer<io_uring_sqe>, _ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: UInt32, _ offset: UInt64
    ) -> Void
    /// io_uring_submit_and_wait: entries submitted, or -errno.
    var submitAndWait: @Sendable (_ ring: UnsafeMutablePointer<io_uring>, _ waitCount: UInt32) -> Int32
    /// io_uring_wait_cqe, then reads and consumes that completion.
    var reapCompletion: @Sendable (_ ring: UnsafeMutablePointer<io_uring>) -> RingCompletion

    /// EAGAIN (or EBUSY from io_uring_enter: the kernel is short of memory or completion slots
    /// right now) is retried this many times in a row before it is reported. EINTR is always
    /// retried: the call was merely interrupted by a signal.
    static let busyRetriesMax = 16

    static let live = IOSystemCalls(
        positionedWrite: { descriptor, bytes, count, offset in
            let result = pwrite(descriptor, bytes, count, off_t(offset))
            return result < 0 ? -Int(errno) : result
        },
        synchronizeData: { descriptor in
            fdatasync(descriptor) < 0 ? -errno : 0
        },
        prepareRingWrite: { entry, descriptor, bytes, count, offset in
            sc_uring_prep_write(entry, descriptor, bytes, count, offset)
        },
        submitAndWait: { ring, waitCount in
            sc_uring_submit_and_wait(ring, waitCount)
        },
        reapCompletion: { ring in
            var completion: UnsafeMutablePointer<io_uring_cqe>? = nil
            let waited = sc_uring_wait_cqe(ring, &completion)
            guard waited >= 0, let completion else { return .waitFailed(waited < 0 ? waited : -EIO) }
            defer { sc_uring_cqe_seen(ring, completion) }
            return .completed(tag: sc_uring_cqe_data64(completion), result: sc_uring_cqe_result(completion))
        }
    )

    /// Writes all `count` bytes at `offset`: continues after a short write, retries EINTR, and
    /// EAGAIN up to `busyRetriesMax` times in a row.
    func writeAll(_ descriptor: Int32, path: String, _ bytes: UnsafeRawPointer, count: Int, at offset: Int) throws(IOFailure) {
        var written = 0
        var busyRetries = 0
        while written < count {
            let result = positionedWrite(descriptor, bytes + written, count - written, offset + written)
            if result > 0 {
                written += result
                busyRetries = 0
            } else if result == 0 {
                throw IOFailure(operation: "pwrite (no progress)", path: path, errno: .ioError)
            } else {
                try Self.absorbTransient(Errno(rawValue: Int32(-result)), "pwrite", path, busyRetries: &busyRetries)
            }
        }
    }

    /// pwrite every chunk in full, then fdatasync each descriptor.
    func writeAndSynchronize(_ chunks: [WriteChunk], synchronizing descriptors: [Int32]) throws(IOFailure) {
        for chunk in chunks {
            try writeAll(chunk.descriptor, path: chunk.path, chunk.bytes, count: chunk.count, at: chunk.offset)
        }
        for descriptor in descriptors {
            let path = chunks.first { $0.descriptor == descriptor }?.path ?? "fd \(descriptor)"
            try synchronize(descriptor, path: path)
        }
    }

    /// fdatasync, retrying EINTR (and EAGAIN up to `busyRetriesMax` times).
    func synchronize(_ descriptor: Int32, path: String) throws(IOFailure) {
        var busyRetries = 0
        while true {
            let result = synchronizeData(descriptor)
            if result >= 0 { return }
            try Self.absorbTransient(Errno(rawValue: -result), "fdatasync", path, busyRetries: &busyRetries)
        }
    }

    /// Returns when `error` is worth retrying (counting busy retries), throws it otherwise.
    /// Anything else, EIO above all, is never retried: after a failed fdatasync the kernel may
    /// have dropped the dirty pages, and a second fdatasync would succeed without the data.
    static func absorbTransient(_ error: Errno, _ operation: String, _ path: String, busyRetries: inout Int) throws(IOFailure) {
        if error == .interrupted { return }
        if (error == .tryAgain || error == .busy) && busyRetries < busyRetriesMax {
            busyRetries += 1
            sched_yield()
            return
        }
        throw IOFailure(operation: operation, path: path, errno: error)
    }
}
