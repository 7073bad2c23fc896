/// A separate namespace of keys inside one store (the server maps Redis databases to these).
public struct Keyspace: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }
    public static let `default` = Keyspace(0)
    /// Reserved for metadata of programs built on the store (the server's database mapping).
    public static let metadata = Keyspace(255)
}

/// What the index knows of a key, without reading its value.
public struct EntryInfo: Sendable, Equatable {
    public var valueLength: Int
    /// Unix milliseconds at which the key expires, or nil.
    public var expiresAtMillis: Int64?
}

/// A position in the store's log; a write's ticket is durable once the store synced past it.
public struct CommitTicket: Sendable, Comparable, Hashable {
    let position: UInt64
    public static func < (lhs: CommitTicket, rhs: CommitTicket) -> Bool { lhs.position < rhs.position }
}

/// The outcome of an applied batch.
public struct WriteResult: Sendable {
    public var ticket: CommitTicket
    /// Deletions in the batch that removed a live key.
    public var deletedCount: Int
}

/// Counters and sizes of a store, for INFO, `swiftcask stats` and benchmarks.
public struct StoreStatistics: Sendable {
    public var keys: Int
    public var segmentCount: Int
    /// Bytes of segment data (headers and records), live and dead.
    public var diskBytes: Int
    /// Bytes of records that newer writes made obsolete (reclaimable by a merge).
    public var deadBytes: Int
    /// Bytes of index tables (16 bytes a slot; keys live in the records, not in memory).
    public var indexBytes: Int
    public var ioBackendName: String
    public var durability: Durability
    public var recordsWritten: UInt64
    public var groupsCommitted: UInt64
    public var syncs: UInt64
    /// Commit rounds run on the thread of a caller waiting for them (a blocking `.always`
    /// writer, `sync()`, `syncIfIdle`) instead of on the committer thread.
    public var roundsLedByCallers: UInt64
    public var bytesWritten: UInt64
    /// The error that disabled writes, if any.
    public var writeFailure: String?
    public var mergeInProgress: Bool
    /// A merge will start as soon as the maintenance thread is free (requested, or the
    /// automatic triggers are met), like Redis's `aof_rewrite_scheduled`.
    public var mergeIsDue: Bool
    /// Why the most recent merge failed; nil when it succeeded or none ran.
    public var lastMergeFailure: String?
    public var mergesCompleted: UInt64
    /// Bytes of segment files removed by merges, net of what the merges wrote.
    public var mergeReclaimedBytes: UInt64
    /// Expired keys removed by the active expiry cycle.
    public var expiredKeysCollected: UInt64
    /// Expired keys removed when a read or write found them (lazy expiry).
    public var expiredKeysOnAccess: UInt64
    /// At open: segments whose index came from their hint file, and segments scanned.
    public var segmentsLoadedFromHints: Int
    public var segmentsScanned: Int

    /// Bytes of records the index still references.
    public var liveBytes: Int { diskBytes - deadBytes }
    /// Disk bytes per live byte (1.0 = no garbage); 0 for an empty store.
    public var spaceAmplification: Double { liveBytes > 0 ? Double(diskBytes) / Double(liveBytes) : 0 }
}
