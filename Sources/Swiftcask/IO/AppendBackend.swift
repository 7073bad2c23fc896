/// One contiguous run of bytes to write at an offset of a file.
struct WriteChunk {
    var descriptor: Int32
    var path: String
    var bytes: UnsafeRawPointer
    var count: Int
    var offset: Int
}

/// Who runs a round of appends and how big it is: the io_uring backend issues them differently.
enum AppendCaller {
    /// The committer thread: rounds for durability callbacks, everysec and write-behind.
    case committer
    /// The committer thread, with a round that fdatasyncs fewer than
    /// `StoreCore.ringSyncRoundRecordsMin` records: its waiters are few, so its latency counts
    /// more than batching.
    case committerSmallSyncRound
    /// A writer that blocks until its round is durable and leads it on its own thread.
    case blockedWriter
}

/// The engine's only way to make records and directory entries durable. `write` writes every
/// chunk in full, then fdatasyncs each descriptor in `synchronizing`; it returns only when all
/// of that is done and throws on the first failure. Implementations: io_uring (writes linked
/// to the fdatasync, one submission per group) and plain pwrite + fdatasync. Tests wrap one to
/// inject faults or to model what a power cut keeps, which is why directory fsyncs come
/// through here too.
protocol AppendBackend: AnyObject {
    /// "io_uring" or "posix", for logs and statistics.
    var name: String { get }
    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure)
    /// fsyncs the directory at `path`, so files created, renamed or removed in it survive a power cut.
    func synchronizeDirectory(_ path: String) throws(IOFailure)
}

/// Which append backend a store uses.
public enum IOBackendChoice: String, Sendable, CaseIterable {
    /// io_uring when the kernel allows it, else pwrite + fdatasync (logged once, with the reason).
    case automatic
    /// io_uring or fail to open.
    case ioUring = "io_uring"
    /// pwrite + fdatasync.
    case posix
}
