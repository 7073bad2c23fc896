/// Writes. Each is visible to readers when the call returns; with `.always` durability the
/// blocking forms return only after the fdatasync that covers them, and the deferred forms
/// report durability through `whenDurable`.
extension Store {
    @inlinable
    public func put<Key: Collection<UInt8>, Value: Collection<UInt8>>(
        _ key: Key, _ value: Value, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default
    ) throws(StoreError) {
        try withContiguousBytes(key) { key in
            withContiguousBytes(value) { value in
                Result { () throws(StoreError) in try put(key: key, value: value, expiresAtMillis: expiresAtMillis, in: keyspace) }
            }
        }.get()
    }

    public func put(_ key: String, _ value: String, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default) throws(StoreError) {
        try put(key.utf8, value.utf8, expiresAtMillis: expiresAtMillis, in: keyspace)
    }

    /// The put every other form ends in.
    public func put(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default) throws(StoreError) {
        _ = try appendPut(key, value, expiresAtMillis, keyspace, waitingForDurability: true)
    }

    /// `put` without waiting for the disk, whatever the durability mode: for event loops that
    /// must not block. Pass the ticket to `whenDurable` before acknowledging.
    public func putDeferred(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default) throws(StoreError) -> CommitTicket {
        try appendPut(key, value, expiresAtMillis, keyspace, waitingForDurability: false)
    }

    /// Checks the limits and appends the record; with `waitingForDurability` under `.always`,
    /// returns only after the fdatasync that covers it.
    @inline(__always)
    private func appendPut(
        _ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer, _ expiresAtMillis: Int64?, _ keyspace: Keyspace, waitingForDurability: Bool
    ) throws(StoreError) -> CommitTicket {
        try Limits.checkKey(key.count)
        try Limits.checkValue(value.count)
        return try core.monitor.withLock { () throws(StoreError) -> CommitTicket in
            let ticket = try core.put(key: key, value: value, expiresAtMillis: expiresAtMillis ?? 0, keyspace: keyspace.rawValue)
            if waitingForDurability && core.options.durability == .always { try core.waitUntilDurable(ticket.position) }
            return ticket
        }
    }

    /// Deletes a key; returns whether it was present (a tombstone is written only then).
    @inlinable @discardableResult
    public func delete<Key: Collection<UInt8>>(_ key: Key, in keyspace: Keyspace = .default) throws(StoreError) -> Bool {
        try withContiguousBytes(key) { key in
            Result { () throws(StoreError) in try delete(key: key, in: keyspace) }
        }.get()
    }

    @discardableResult
    public func delete(_ key: String, in keyspace: Keyspace = .default) throws(StoreError) -> Bool {
        try delete(key.utf8, in: keyspace)
    }

    @discardableResult
    public func delete(key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default) throws(StoreError) -> Bool {
        try Limits.checkKey(key.count)
        return try core.monitor.withLock { () throws(StoreError) -> Bool in
            let (existed, ticket) = try core.delete(key: key, keyspace: keyspace.rawValue)
            if existed && core.options.durability == .always { try core.waitUntilDurable(ticket.position) }
            return existed
        }
    }

    /// Applies a batch atomically: readers see all of it or none, and so does recovery.
    @discardableResult
    public func write(_ batch: WriteBatch) throws(StoreError) -> WriteResult {
        try core.monitor.withLock { () throws(StoreError) -> WriteResult in
            let result = try core.apply(batch)
            if core.options.durability == .always { try core.waitUntilDurable(result.ticket.position) }
            return result
        }
    }

    /// Applies a batch without waiting for the disk, whatever the durability mode: for event
    /// loops that must not block. Pass the ticket to `whenDurable` before acknowledging.
    public func writeDeferred(_ batch: WriteBatch) throws(StoreError) -> WriteResult {
        try core.monitor.withLock { () throws(StoreError) -> WriteResult in try core.apply(batch) }
    }

    /// Calls `callback` once `ticket` is durable as the durability mode promises: with
    /// `.always`, on the committer thread after the covering fdatasync (or with the error that
    /// prevented it); in the other modes, at once on the calling thread.
    public func whenDurable(_ ticket: CommitTicket, _ callback: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        let immediate: Result<Void, StoreError>? = core.monitor.withLock {
            if core.durablePosition >= ticket.position || core.options.durability != .always { return .success(()) }
            if let failure = core.failure { return .failure(failure) }
            if core.isClosed { return .failure(.closed) }
            core.durabilityCallbacks.append((ticket.position, callback))
            core.monitor.signalWork()
            return nil
        }
        if let immediate { callback(immediate) }
    }

    /// For an event loop that holds replies until their writes are durable, as Redis's
    /// `appendfsync always` loop does: when no round is running, writes and fdatasyncs the
    /// current group on the calling thread (blocking it for the IO) and returns true once
    /// `ticket` is durable. Returns false at once when a round is already running; the caller
    /// then waits with `whenDurable`. Throws the failure that makes the store refuse writes.
    public func syncIfIdle(_ ticket: CommitTicket) throws(StoreError) -> Bool {
        try core.monitor.withLock { () throws(StoreError) -> Bool in try core.leadRoundsIfIdle(until: ticket.position) }
    }

    /// The asynchronous batch write: suspends, without blocking a thread, until durable.
    @discardableResult
    public func write(_ batch: WriteBatch) async throws(StoreError) -> WriteResult {
        let result = try writeDeferred(batch)
        try await waitUntilDurable(result.ticket)
        return result
    }

    /// The asynchronous put: suspends, without blocking a thread, until durable.
    public func put<Key: Collection<UInt8>, Value: Collection<UInt8>>(
        _ key: Key, _ value: Value, expiresAtMillis: Int64? = nil, in keyspace: Keyspace = .default
    ) async throws(StoreError) {
        var batch = WriteBatch()
        batch.put(key, value, expiresAtMillis: expiresAtMillis, in: keyspace)
        try await write(batch)
    }

    public func waitUntilDurable(_ ticket: CommitTicket) async throws(StoreError) {
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            whenDurable(ticket) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Deletes every key of a keyspace (one log record, like Redis FLUSHDB).
    public func removeAll(in keyspace: Keyspace) throws(StoreError) {
        try core.monitor.withLock { () throws(StoreError) in
            let ticket = try core.clear(keyspace: keyspace.rawValue)
            if core.options.durability == .always { try core.waitUntilDurable(ticket.position) }
        }
    }

    /// `removeAll` without waiting for the disk, whatever the durability mode: for event loops
    /// that must not block. Pass the ticket to `whenDurable` before acknowledging.
    public func removeAllDeferred(in keyspace: Keyspace) throws(StoreError) -> CommitTicket {
        try core.monitor.withLock { () throws(StoreError) -> CommitTicket in try core.clear(keyspace: keyspace.rawValue) }
    }

    /// Writes and fdatasyncs everything written so far, whatever the durability mode.
    public func sync() throws(StoreError) {
        try core.monitor.withLock { () throws(StoreError) in
            if core.isClosed { throw StoreError.closed }
            try core.synchronize()
        }
    }
}
