import Logging

/// When a write counts as done. The names are Redis's `appendfsync` values.
public enum Durability: String, Sendable, CaseIterable {
    /// A write returns (or its completion runs) only after the fdatasync that covers it.
    case always
    /// Writes reach the OS within `writeBehindMillis` and the disk within about
    /// `everysecIntervalMillis`: a power cut may lose the last interval.
    case everysec
    /// Writes reach the OS within `writeBehindMillis`; the OS decides when they reach the disk.
    case no
}

/// How a store is opened and tuned. Every default is justified beside it.
public struct StoreOptions: Sendable {
    public var durability: Durability = .everysec
    /// For `.everysec`: the longest time between fdatasyncs while there are unsynced writes.
    public var everysecIntervalMillis = 1000
    /// Segment file size. 64 MiB: preallocation takes well under a millisecond, a merge rewrites
    /// a bounded amount at a time, and rotation (a file create plus a directory fsync) happens
    /// about once per 500,000 small records.
    public var segmentBytes = 64 * 1024 * 1024
    public var ioBackend: IOBackendChoice = .automatic
    /// Size of each pooled write buffer: the most bytes one commit group writes per buffer.
    /// 1 MiB amortises a submission over ~8,000 small records while staying in L2/L3.
    public var writeBufferBytes = 1024 * 1024
    /// Pooled buffers: one filling, the rest queued or in flight. Writers wait when all are in use.
    public var writeBufferCount = 4
    /// Most records in one buffer (and so one group), bounding the work a group represents.
    public var groupRecordsMax = 16_384
    /// `.everysec` and `.no`: buffered records reach the OS at most this long after the write.
    public var writeBehindMillis = 2
    /// Merge sealed segments automatically when both triggers below are met.
    public var autoMerge = true
    /// Auto-merge when dead bytes are at least this fraction of sealed segments' bytes.
    public var mergeTriggerDeadRatio = 0.5
    /// ... and at least this many bytes (so small stores are not rewritten for nothing; Redis's
    /// `auto-aof-rewrite-min-size` is the same 64 MiB).
    public var mergeTriggerDeadBytes = 64 * 1024 * 1024
    /// Merge copy rate limit, so foreground writes keep the disk; 0 = unlimited.
    public var mergeBytesPerSecondMax = 64 * 1024 * 1024
    /// The maintenance thread's nice value (0 = the process's own, up to 19 = lowest): merges,
    /// hint files and active expiry then take the CPU only when requests leave it idle, as a
    /// merge competing at equal priority took 30-80 % of a 2-core server's throughput while it ran.
    public var maintenanceNiceness: Int32 = 10
    /// How often the active expiry cycle runs (Redis: 10 times a second).
    public var activeExpiryIntervalMillis = 100
    /// Rebuild the index by scanning every segment even where hint files exist (for
    /// benchmarking startup and for distrust after hardware trouble).
    public var ignoreHintFiles = false
    /// Create the directory when it does not exist.
    public var createIfMissing = true
    public var logger = Logger(label: "swiftcask")
    /// Test seam: wraps the chosen append backend (fault injection, lost-write simulation).
    var wrapBackend: (@Sendable (AppendBackend) -> AppendBackend)?
    /// Test seam: a merge stops after this step, leaving its files as a crash there would.
    var mergeStopAfter: MergeStep?

    public init() {}

    /// The three merge settings above, as the store starts with them, read or set together.
    public var mergeTriggers: MergeTriggers {
        get { MergeTriggers(isEnabled: autoMerge, deadRatio: mergeTriggerDeadRatio, deadBytes: mergeTriggerDeadBytes) }
        set {
            autoMerge = newValue.isEnabled
            mergeTriggerDeadRatio = newValue.deadRatio
            mergeTriggerDeadBytes = newValue.deadBytes
        }
    }

    /// The largest nice value Linux accepts.
    public static let maintenanceNicenessMax: Int32 = 19

    func validate() throws(StoreError) {
        guard segmentBytes >= Limits.segmentBytesMin && segmentBytes <= Limits.segmentBytesMax else {
            throw StoreError(.invalidOptions, "segmentBytes must be between \(Limits.segmentBytesMin) and \(Limits.segmentBytesMax), got \(segmentBytes)")
        }
        guard writeBufferBytes >= 4096 && writeBufferBytes <= segmentBytes else {
            throw StoreError(.invalidOptions, "writeBufferBytes must be between 4096 and segmentBytes (\(segmentBytes)), got \(writeBufferBytes)")
        }
        guard writeBufferCount >= 2 && writeBufferCount <= 64 else {
            throw StoreError(.invalidOptions, "writeBufferCount must be between 2 and 64, got \(writeBufferCount)")
        }
        guard groupRecordsMax >= 1 else { throw StoreError(.invalidOptions, "groupRecordsMax must be at least 1") }
        guard everysecIntervalMillis >= 1 else { throw StoreError(.invalidOptions, "everysecIntervalMillis must be at least 1") }
        guard writeBehindMillis >= 0 else { throw StoreError(.invalidOptions, "writeBehindMillis must not be negative") }
        try mergeTriggers.validate()
        guard mergeBytesPerSecondMax >= 0 else {
            throw StoreError(.invalidOptions, "mergeBytesPerSecondMax must not be negative, got \(mergeBytesPerSecondMax)")
        }
        guard maintenanceNiceness >= 0 && maintenanceNiceness <= Self.maintenanceNicenessMax else {
            throw StoreError(.invalidOptions, "maintenanceNiceness must be between 0 and \(Self.maintenanceNicenessMax), got \(maintenanceNiceness)")
        }
        guard activeExpiryIntervalMillis >= 1 else { throw StoreError(.invalidOptions, "activeExpiryIntervalMillis must be at least 1") }
    }
}
