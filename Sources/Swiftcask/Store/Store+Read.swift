import Glibc

/// Reads. None blocks on the disk or makes a system call: a lookup in the index, a CRC check
/// of the record, then a copy from the memory map (or from the write buffer for a record not
/// yet handed to the OS). Gets, lends, borrows and `info` hold the store's lock shared, so
/// threads reading at once do not wait for each other.
/// Expired keys read as absent and are dropped from the index on the way (lazy expiry).
extension Store {
    /// Runs `read` with the live entry of `key` (nil when absent) holding the lock shared with
    /// other readers. An expired key must be removed, which needs the lock exclusively: then
    /// `read` runs under the exclusive lock, after the removal. `read` must only read.
    @inline(__always)
    func withLiveEntry<Result>(
        _ key: UnsafeRawBufferPointer, _ keyspace: Keyspace, _ read: (KeydirEntry?) throws(StoreError) -> Result
    ) throws(StoreError) -> Result {
        try core.monitor.withSharedLock { () throws(StoreError) -> Result? in
            if core.isClosed { throw StoreError.closed }
            switch core.sharedLookup(key, keyspace.rawValue) {
            case .absent: return try read(nil)
            case .live(let entry): return try read(entry)
            case .expired: return nil
            }
        } orExclusive: { () throws(StoreError) -> Result in
            if core.isClosed { throw StoreError.closed }
            return try read(core.liveEntry(key, keyspace.rawValue))
        }
    }

    @inlinable
    public func get<Key: Collection<UInt8>>(_ key: Key, in keyspace: Keyspace = .default) throws(StoreError) -> [UInt8]? {
        try withContiguousBytes(key) { key in
            Result { () throws(StoreError) in try get(key: key, in: keyspace) }
        }.get()
    }

    public func get(_ key: String, in keyspace: Keyspace = .default) throws(StoreError) -> [UInt8]? {
        try get(key.utf8, in: keyspace)
    }

    /// The value of `key` copied into a new array, or nil.
    public func get(key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default) throws(StoreError) -> [UInt8]? {
        try withLiveEntry(key, keyspace) { entry throws(StoreError) -> [UInt8]? in
            guard let entry else { return nil }
            // Array(_:) of a raw buffer is specialised here; `unsafeUninitializedCapacity:` went
            // through an unspecialised stdlib entry costing half of a get (callgrind).
            return [UInt8](try core.verifiedValue(of: entry, keyLength: key.count))
        }
    }

    /// Copies the value of `key` into `destination` (replacing its contents, reusing its
    /// capacity: no allocation once it is large enough); returns false when the key is absent.
    @inlinable
    public func get<Key: Collection<UInt8>>(_ key: Key, in keyspace: Keyspace = .default, into destination: inout [UInt8]) throws(StoreError) -> Bool {
        try withContiguousBytes(key) { key in
            Result { () throws(StoreError) in try get(key: key, in: keyspace, into: &destination) }
        }.get()
    }

    public func get(key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default, into destination: inout [UInt8]) throws(StoreError) -> Bool {
        try withLiveEntry(key, keyspace) { entry throws(StoreError) -> Bool in
            guard let entry else { return false }
            let value = try core.verifiedValue(of: entry, keyLength: key.count)
            destination.removeAll(keepingCapacity: true)
            destination.append(contentsOf: value)
            return true
        }
    }

    /// Lends the value's bytes straight from the memory map, without copying, for the duration
    /// of `body`; nil when the key is absent. `body` may call the store. A value written in the
    /// last few milliseconds is first handed to the OS, so it too can be lent from the map.
    @inlinable
    public func withValue<Key: Collection<UInt8>, Result>(
        forKey key: Key, in keyspace: Keyspace = .default, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result? {
        try withContiguousBytes(key) { key in
            Swift.Result { () throws in try withValue(forKey: key, in: keyspace, body) }
        }.get()
    }

    @inlinable
    public func withValue<Result>(
        forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result? {
        var result: Result?
        try borrowValue(key, keyspace) { result = try body($0) }
        return result
    }

    /// The borrow itself, not generic so it is compiled once and fully optimised.
    @usableFromInline
    func borrowValue(_ key: UnsafeRawBufferPointer, _ keyspace: Keyspace, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        enum Found {
            case absent
            case value(Segment, UnsafeRawBufferPointer)
        }
        /// The entry's segment and value once its record is in the map; nil while it is still
        /// in a write buffer.
        @inline(__always) func mapped(_ entry: KeydirEntry) throws(StoreError) -> Found? {
            let segment = core.segmentsByID[Int(entry.segmentID)].unsafelyUnwrapped
            guard Int(entry.offset) < segment.writtenEnd else { return nil }
            return .value(segment, try core.verifiedValue(of: entry, keyLength: key.count))
        }
        let found = try core.monitor.withSharedLock { () throws(StoreError) -> Found? in
            if core.isClosed { throw StoreError.closed }
            switch core.sharedLookup(key, keyspace.rawValue) {
            case .absent: return .absent
            case .expired: return nil
            // A record still in a write buffer is waited for under the exclusive lock.
            case .live(let entry): return try mapped(entry)
            }
        } orExclusive: { () throws(StoreError) -> Found in
            if core.isClosed { throw StoreError.closed }
            while true {
                guard let entry = core.liveEntry(key, keyspace.rawValue) else { return .absent }
                if let found = try mapped(entry) { return found }
                try core.waitUntilWritten(core.appendedPosition)
            }
        }
        guard case .value(let segment, let value) = found else { return }
        // The segment (and so its map) stays alive while `body` reads it; mapped bytes below
        // `writtenEnd` never change.
        try withExtendedLifetime(segment) { try body(value) }
    }

    /// Lends the value's bytes to `body` with the store lock held (shared), wherever the record is (in
    /// the map or still in a write buffer): unlike `withValue`, it never waits for a buffer to
    /// be written, which can take a group fsync. `body` must not call the store and should only
    /// copy the bytes (writers wait on the lock meanwhile). Nil when the key is absent.
    @inlinable
    public func withValueLocked<Key: Collection<UInt8>, Result>(
        forKey key: Key, in keyspace: Keyspace = .default, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(StoreError) -> Result? {
        try withContiguousBytes(key) { key in
            Swift.Result { () throws(StoreError) in try withValueLocked(forKey: key, in: keyspace, body) }
        }.get()
    }

    /// `withValueLocked` for a key already in contiguous memory (the server's GET); the generic
    /// form above lays its key out and calls this one.
    @inlinable
    public func withValueLocked<Result>(
        forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(StoreError) -> Result? {
        var result: Result?
        try lendValueLocked(key, keyspace) { result = body($0) }
        return result
    }

    /// The lend itself, not generic so it is compiled once and fully optimised.
    @usableFromInline
    func lendValueLocked(_ key: UnsafeRawBufferPointer, _ keyspace: Keyspace, _ body: (UnsafeRawBufferPointer) -> Void) throws(StoreError) {
        try withLiveEntry(key, keyspace) { entry throws(StoreError) in
            guard let entry else { return }
            body(try core.verifiedValue(of: entry, keyLength: key.count))
        }
    }

    /// Length and expiry of a key, without reading its value.
    @inlinable
    public func info<Key: Collection<UInt8>>(forKey key: Key, in keyspace: Keyspace = .default) -> EntryInfo? {
        withContiguousBytes(key) { info(forKey: $0, in: keyspace) }
    }

    public func info(forKey key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default) -> EntryInfo? {
        try? withLiveEntry(key, keyspace) { entry -> EntryInfo? in
            entry.map { EntryInfo(valueLength: $0.valueLength, expiresAtMillis: core.expiresAtMillis(of: $0)) }
        }
    }

    @inlinable
    public func contains<Key: Collection<UInt8>>(_ key: Key, in keyspace: Keyspace = .default) -> Bool {
        info(forKey: key, in: keyspace) != nil
    }

    public func contains(_ key: String, in keyspace: Keyspace = .default) -> Bool {
        contains(key.utf8, in: keyspace)
    }

    /// Keys in all keyspaces (expired keys not yet collected included, as in Redis DBSIZE).
    public var count: Int {
        core.monitor.withLock { core.keydir.count }
    }

    public func count(in keyspace: Keyspace) -> Int {
        core.monitor.withLock { core.keyspaceCounts[Int(keyspace.rawValue)] }
    }

    /// Live keys of a keyspace that carry an expiry (expired keys not yet collected included,
    /// as in `count(in:)`).
    public func expiringCount(in keyspace: Keyspace) -> Int {
        core.monitor.withLock { core.expiringCounts[Int(keyspace.rawValue)] }
    }

    /// Keys with an expiry that `averageTimeToLive` samples at most.
    public static let timeToLiveSampleKeysMax = 64
    /// Index slots `averageTimeToLive` walks at most, so a keyspace with few expiring keys
    /// among many costs little (and may find none: the estimate is then 0).
    public static let timeToLiveSampleSlotsMax = 4096

    /// The average remaining time to live in milliseconds of the keys of a keyspace that carry
    /// an expiry, estimated from a sample taken at a random place of the index, like Redis's
    /// `avg_ttl`; 0 when the sample holds no such key.
    public func averageTimeToLive(in keyspace: Keyspace) -> Int64 {
        core.monitor.withLock {
            guard !core.isClosed, core.expiringCounts[Int(keyspace.rawValue)] > 0 else { return 0 }
            var generator = SystemRandomNumberGenerator()
            let nowMillis = Clock.unixMillis()
            var totalMillis: Int64 = 0
            var sampled: Int64 = 0
            core.keydir.sample(startingAt: Int.random(in: 0..<Int.max, using: &generator), slotsMax: Self.timeToLiveSampleSlotsMax) { entry in
                guard entry.hasExpiry, core.keyOf(entry).keyspace == keyspace.rawValue else { return true }
                let expiresAt = core.expiry(of: entry)
                if expiresAt > nowMillis {
                    totalMillis += expiresAt - nowMillis
                    sampled += 1
                }
                return sampled < Self.timeToLiveSampleKeysMax
            }
            return sampled == 0 ? 0 : totalMillis / sampled
        }
    }

    /// One step of a full iteration with Redis SCAN's guarantees: start with cursor 0, pass
    /// back `nextCursor` until it is 0. Every key present for the whole iteration is returned
    /// at least once, even if the index grows in between; `count` is a hint.
    public func scan(in keyspace: Keyspace, cursor: UInt64, count: Int) -> (keys: [[UInt8]], nextCursor: UInt64) {
        core.monitor.withLock {
            guard !core.isClosed else { return ([], 0) }
            let nowMillis = Clock.unixMillis()
            var keys: [[UInt8]] = []
            let next = core.keydir.scan(from: cursor, countHint: max(1, count)) { entry in
                let (entryKeyspace, key) = core.keyOf(entry)
                guard entryKeyspace == keyspace.rawValue else { return }
                if entry.hasExpiry, case let expiry = core.expiry(of: entry), expiry != 0, expiry <= nowMillis { return }
                keys.append([UInt8](key))
            }
            return (keys, next)
        }
    }

    /// A key chosen at random from a keyspace, or nil when it is empty.
    public func randomKey(in keyspace: Keyspace) -> [UInt8]? {
        core.monitor.withLock {
            guard !core.isClosed, core.keyspaceCounts[Int(keyspace.rawValue)] > 0 else { return nil }
            var generator = SystemRandomNumberGenerator()
            let nowMillis = Clock.unixMillis()
            let entry = core.keydir.randomEntry(using: &generator) { entry in
                guard core.keyOf(entry).keyspace == keyspace.rawValue else { return false }
                return !entry.hasExpiry || core.expiry(of: entry) == 0 || core.expiry(of: entry) > nowMillis
            }
            return entry.map { [UInt8](core.keyOf($0).key) }
        }
    }
}

extension Store {
    /// Keys `prefetch(keys:in:)` looks at per call at most.
    public static let prefetchKeysMax = 64

    /// Starts loading into the CPU caches what reading or writing these keys will touch (their
    /// index slots, then the records those slots point to), so a pipeline of commands waits for
    /// memory about once instead of twice per key. A hint: nothing changes, and keys past
    /// `prefetchKeysMax` are ignored.
    public func prefetch(keys: UnsafeBufferPointer<UnsafeRawBufferPointer>, in keyspace: Keyspace = .default) {
        let count = min(keys.count, Self.prefetchKeysMax)
        guard count > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: count) { hashes in
            // Only reads: shared with other readers, or exclusive while a writer holds the lock.
            func startLoading() {
                guard !core.isClosed else { return }
                for index in 0..<count {
                    hashes[index] = core.hash(keys[index], keyspace.rawValue)
                    core.keydir.prefetch(hashes[index])
                }
                // The slots are on their way (the first ones have likely arrived): fetch records.
                for index in 0..<count {
                    if let entry = core.keydir.likelyEntry(hash: hashes[index]) { core.prefetchRecord(entry) }
                }
            }
            core.monitor.withSharedLock { () -> Void? in startLoading() } orExclusive: { startLoading() }
        }
    }
}
