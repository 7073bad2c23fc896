/// Read-modify-write of one key in one step (Redis's INCR, APPEND, GETSET and the like): the
/// engine looks the key up, the caller's body decides the new value from the current one, and
/// the record is appended, all under the store lock, so no other write to the store comes in
/// between and the key is hashed and looked up once.
extension Store {
    /// Runs `body` with the key's live value (nil when absent or expired) and room for a
    /// replacement of up to `maxValueBytes`, then applies its decision without waiting for the
    /// disk, whatever the durability mode. Returns the ticket of the write (pass it to
    /// `whenDurable` before acknowledging), or nil when nothing was written.
    ///
    /// `body` runs with the store lock held: it must be short, and must not call the store.
    /// It writes the new value at the start of the replacement space, which is where the
    /// record will hold it, so the value is never copied.
    public func updateDeferred(
        key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default, maxValueBytes: Int,
        _ body: (_ current: BorrowedEntry?, _ replacement: UnsafeMutableRawBufferPointer) -> UpdateDecision
    ) throws(StoreError) -> CommitTicket? {
        try Limits.checkKey(key.count)
        try Limits.checkValue(maxValueBytes)
        return try core.monitor.withLock { () throws(StoreError) -> CommitTicket? in
            try core.update(key: key, keyspace: keyspace.rawValue, maxValueBytes: maxValueBytes, body)
        }
    }

    /// `updateDeferred` that, with `.always` durability, returns only after the fdatasync that
    /// covers the write. Returns whether something was written.
    @discardableResult
    public func update(
        key: UnsafeRawBufferPointer, in keyspace: Keyspace = .default, maxValueBytes: Int,
        _ body: (_ current: BorrowedEntry?, _ replacement: UnsafeMutableRawBufferPointer) -> UpdateDecision
    ) throws(StoreError) -> Bool {
        try Limits.checkKey(key.count)
        try Limits.checkValue(maxValueBytes)
        return try core.monitor.withLock { () throws(StoreError) -> Bool in
            guard let ticket = try core.update(key: key, keyspace: keyspace.rawValue, maxValueBytes: maxValueBytes, body) else { return false }
            if core.options.durability == .always { try core.waitUntilDurable(ticket.position) }
            return true
        }
    }
}
