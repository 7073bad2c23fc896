/// The in-memory index: key hash → newest record. An open-addressing table of 16-byte slots
/// that grows by doubling *incrementally*: while a larger table fills, the old one drains a
/// few slots per insert, so no single write pays for rehashing millions of keys.
///
/// Invariant: a key is in exactly one of the two tables. Not thread-safe: the store guards it
/// with its lock. Keys are compared by the `matches` closures against the stored records.
final class Keydir {
    /// Grow when a table would pass this fill, in percent.
    static let loadPercentMax = 80
    /// Slots of the draining table moved per insert. A table of C slots drains while the new
    /// one (2C) takes at most 0.8C more inserts, so at least 1.25 are needed; 16 ends it fast.
    static let migrationSlotsPerInsert = 16
    static let initialLog2Capacity = 10

    private var primary: KeydirTable
    /// The previous, smaller table while it drains into `primary`.
    private var draining: KeydirTable?
    private var drainCursor = 0
    /// Faulting in a freshly reserved or grown table; stopped before the table could be freed.
    private var prefaulter: KeydirPrefaulter?

    init() {
        primary = KeydirTable(log2Capacity: Self.initialLog2Capacity)
    }

    deinit {
        stopPrefaulting()
        primary.deallocate()
        draining?.deallocate()
    }

    var count: Int { primary.count + (draining?.count ?? 0) }
    /// Slots of the main table.
    var capacity: Int { primary.capacity }

    @inline(__always) func prefetch(_ hash: UInt32) { primary.prefetch(hash) }

    /// The first live entry of the main table with `hash`, without comparing keys: where a
    /// lookup of that hash will most likely go next (for prefetching its record).
    @inline(__always) func likelyEntry(hash: UInt32) -> KeydirEntry? {
        primary.index(of: hash) { _ in true }.map { primary.slots[$0] }
    }

    /// Grows an empty index up front to hold `expectedCount` keys without resizing (used at
    /// open, where hint files tell how many entries are coming). With `prefaulting`, a large
    /// new table's memory is faulted in on another thread, front to back: the kernel's zeroing
    /// of fresh pages then overlaps a load that fills the table in the same order.
    func reserve(_ expectedCount: Int, prefaulting: Bool = false) {
        guard count == 0, draining == nil else { return }
        var log2 = 32 - Int(primary.shift)
        while (1 << log2) * Self.loadPercentMax / 100 < expectedCount && log2 < 32 { log2 += 1 }
        guard log2 > 32 - Int(primary.shift) else { return }
        stopPrefaulting()
        primary.deallocate()
        primary = KeydirTable(log2Capacity: log2)
        if prefaulting { startPrefaulting() }
    }

    /// Faults the main table in on another thread when it is mapped (only large tables are).
    private func startPrefaulting() {
        if primary.memoryBytes >= KeydirTable.mappedBytesMin {
            prefaulter = KeydirPrefaulter(primary.mappedRegion)
        }
    }

    /// Stops the prefaulting thread, if any (the bulk load is over, or the table is going).
    func stopPrefaulting() {
        prefaulter?.stop()
        prefaulter = nil
    }
    /// Bytes of table memory (both tables while a resize is under way).
    var memoryBytes: Int { primary.memoryBytes + (draining?.memoryBytes ?? 0) }
    var isResizing: Bool { draining != nil }

    @inline(__always)
    func find(hash: UInt32, matches: (KeydirEntry) -> Bool) -> KeydirEntry? {
        if let index = primary.index(of: hash, matches: matches) { return primary.slots[index] }
        if let draining, let index = draining.index(of: hash, matches: matches) { return draining.slots[index] }
        return nil
    }

    /// Inserts `entry`, or replaces the entry that `matches`; returns the replaced entry.
    @inline(__always)
    @discardableResult
    func upsert(_ entry: KeydirEntry, matches: (KeydirEntry) -> Bool) -> KeydirEntry? {
        if let index = primary.index(of: entry.hash, matches: matches) {
            let previous = primary.slots[index]
            primary.slots[index] = entry
            return previous
        }
        var previous: KeydirEntry?
        if draining != nil, let index = draining!.index(of: entry.hash, matches: matches) {
            previous = draining!.slots[index]
            draining!.markMoved(at: index)
        }
        reserveOneMore()
        primary.insertNew(entry)
        migrateSome()
        return previous
    }

    /// Removes the entry that `matches`; returns it.
    @discardableResult
    func remove(hash: UInt32, matches: (KeydirEntry) -> Bool) -> KeydirEntry? {
        if let index = primary.index(of: hash, matches: matches) {
            let previous = primary.slots[index]
            primary.remove(at: index)
            return previous
        }
        if draining != nil, let index = draining!.index(of: hash, matches: matches) {
            let previous = draining!.slots[index]
            draining!.markMoved(at: index)
            return previous
        }
        return nil
    }

    /// Replaces the location of an entry found by exact identity (hash, segment, offset).
    /// Returns false when that entry is no longer in the index.
    func relocate(_ old: KeydirEntry, to new: KeydirEntry) -> Bool {
        let matches: (KeydirEntry) -> Bool = { $0.segmentID == old.segmentID && $0.offset == old.offset }
        if let index = primary.index(of: old.hash, matches: matches) {
            primary.slots[index] = new
            return true
        }
        if draining != nil, let index = draining!.index(of: old.hash, matches: matches) {
            draining!.markMoved(at: index)
            reserveOneMore()
            primary.insertNew(new)
            return true
        }
        return false
    }

    /// Removes every entry for which `shouldRemove` is true; returns how many.
    @discardableResult
    func removeAll(where shouldRemove: (KeydirEntry) -> Bool) -> Int {
        var doomed: [KeydirEntry] = []
        for index in 0..<primary.capacity where primary.slots[index].isLive && shouldRemove(primary.slots[index]) {
            doomed.append(primary.slots[index])
        }
        for entry in doomed {
            remove(hash: entry.hash) { $0.segmentID == entry.segmentID && $0.offset == entry.offset }
        }
        var removed = doomed.count
        if draining != nil {
            for index in 0..<draining!.capacity where draining!.slots[index].isLive && shouldRemove(draining!.slots[index]) {
                draining!.markMoved(at: index)
                removed += 1
            }
        }
        return removed
    }

    /// Drops every entry and shrinks back to the initial size.
    func removeAll() {
        stopPrefaulting()
        primary.deallocate()
        draining?.deallocate()
        draining = nil
        drainCursor = 0
        primary = KeydirTable(log2Capacity: Self.initialLog2Capacity)
    }

    /// Visits every live entry (order unspecified).
    func forEach(_ visit: (KeydirEntry) -> Void) {
        for index in 0..<primary.capacity where primary.slots[index].isLive { visit(primary.slots[index]) }
        if let draining {
            for index in 0..<draining.capacity where draining.slots[index].isLive { visit(draining.slots[index]) }
        }
    }

    /// One step of a SCAN in hash order. Visits at least `countHint` entries (when that many
    /// remain) whose hashes lie in `cursor..<next`, and returns `next` (0 when done). Because the
    /// cursor is a hash value, not a slot number, a resize between calls loses nothing: every
    /// entry present for the whole scan is visited at least once (Redis SCAN's guarantee).
    func scan(from cursor: UInt64, countHint: Int, _ visit: (KeydirEntry) -> Void) -> UInt64 {
        let hashSpace: UInt64 = 1 << 32
        guard cursor < hashSpace else { return 0 }
        // Choose the range end at an empty slot of the primary table: no cluster straddles it.
        var upper = hashSpace
        var seen = 0
        var step = primary.bucket(UInt32(cursor))
        while step < primary.capacity {
            let entry = primary.slots[step]
            if entry.isEmpty {
                if seen >= countHint {
                    upper = primary.hashLowerBound(ofBucket: step + 1)
                    break
                }
            } else if UInt64(entry.hash) >= cursor {
                seen += 1
            }
            step += 1
        }
        primary.forEach(hashesFrom: cursor, below: upper, visit)
        draining?.forEach(hashesFrom: cursor, below: upper, visit)
        return upper == hashSpace ? 0 : upper
    }

    /// A live entry chosen at random among those `accepting`, or nil after a bounded search.
    func randomEntry<Generator: RandomNumberGenerator>(using generator: inout Generator, accepting: (KeydirEntry) -> Bool) -> KeydirEntry? {
        guard count > 0 else { return nil }
        let start = Int.random(in: 0..<primary.capacity, using: &generator)
        for step in 0..<primary.capacity {
            let entry = primary.slots[(start + step) & primary.mask]
            if entry.isLive && accepting(entry) { return entry }
        }
        var found: KeydirEntry?
        draining?.forEach(hashesFrom: 0, below: 1 << 32) { entry in
            if found == nil && accepting(entry) { found = entry }
        }
        return found
    }

    /// Visits live entries from slot `start` (modulo the table's size) for at most `slotsMax`
    /// slots of the main table, then as many of the draining one during a resize (its entries
    /// move only as inserts come, so without this a store that stopped writing would never
    /// show them to a sampler), while `visit` returns true.
    func sample(startingAt start: Int, slotsMax: Int, _ visit: (KeydirEntry) -> Bool) {
        guard Self.sample(primary, startingAt: start, slotsMax: slotsMax, visit), let draining else { return }
        _ = Self.sample(draining, startingAt: start, slotsMax: slotsMax, visit)
    }

    /// False when `visit` asked to stop.
    private static func sample(_ table: KeydirTable, startingAt start: Int, slotsMax: Int, _ visit: (KeydirEntry) -> Bool) -> Bool {
        for step in 0..<min(slotsMax, table.capacity) {
            let entry = table.slots[(start &+ step) & table.mask]
            if entry.isLive && !visit(entry) { return false }
        }
        return true
    }

    /// Inlined: every insert asks, and almost every time the answer is no.
    @inline(__always)
    private func reserveOneMore() {
        if (primary.count + 1) * 100 > primary.capacity * Self.loadPercentMax { grow() }
    }

    private func grow() {
        stopPrefaulting()
        finishMigration()
        let log2 = 32 - Int(primary.shift) + 1
        draining = primary
        primary = KeydirTable(log2Capacity: log2)
        drainCursor = 0
        // The first touch of each fresh huge page costs its zeroing (milliseconds on a VM),
        // paid by whichever insert lands there first: a thread touching the table front to
        // back, the order the migration fills it in, takes most of those off the writer.
        startPrefaulting()
    }

    private func migrateSome() {
        guard draining != nil else { return }
        let end = min(draining!.capacity, drainCursor + Self.migrationSlotsPerInsert)
        moveDrainingSlots(upTo: end)
    }

    private func finishMigration() {
        guard draining != nil else { return }
        moveDrainingSlots(upTo: draining!.capacity)
    }

    private func moveDrainingSlots(upTo end: Int) {
        while drainCursor < end {
            let entry = draining!.slots[drainCursor]
            if entry.isLive {
                draining!.markMoved(at: drainCursor)
                primary.insertNew(entry)
            }
            drainCursor += 1
        }
        if drainCursor == draining!.capacity {
            draining!.deallocate()
            draining = nil
            drainCursor = 0
        }
    }
}
