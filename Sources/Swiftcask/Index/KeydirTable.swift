import CShims
import Glibc

/// One open-addressing table with linear probing: a power-of-two array of `KeydirEntry`,
/// bucket = top bits of the hash (so slot order follows hash order, which SCAN relies on),
/// deletion by backward shift (no tombstones). Owned and freed by `Keydir`.
struct KeydirTable {
    let slots: UnsafeMutablePointer<KeydirEntry>
    let capacity: Int
    /// 32 - log2(capacity).
    let shift: UInt32
    /// Live entries.
    var count = 0
    /// Tables at least this large are mapped directly, with huge pages requested.
    static let mappedBytesMin = 2 << 20

    /// Zero-filled memory either way: large tables come from fresh zero pages (huge pages
    /// where the kernel grants them), so allocating costs no time up front.
    init(log2Capacity: Int) {
        precondition(log2Capacity >= 1 && log2Capacity <= 32, "keydir capacity out of range")
        capacity = 1 << log2Capacity
        shift = UInt32(32 - log2Capacity)
        let bytes = capacity * MemoryLayout<KeydirEntry>.stride
        let memory: UnsafeMutableRawPointer?
        if bytes >= Self.mappedBytesMin {
            let mapped = sc_mmap_anonymous(bytes)
            memory = sc_mmap_failed(mapped) != 0 ? nil : mapped
        } else {
            memory = calloc(capacity, MemoryLayout<KeydirEntry>.stride)
        }
        guard let memory else { fatalError("out of memory allocating a keydir table of \(capacity) slots") }
        slots = memory.assumingMemoryBound(to: KeydirEntry.self)
    }

    func deallocate() {
        if memoryBytes >= Self.mappedBytesMin {
            _ = sc_munmap(slots, memoryBytes)
        } else {
            free(slots)
        }
    }

    /// A mapped table's address range, as integers so it can be handed to another thread.
    struct MappedRange: Sendable {
        var address: UInt
        var bytes: Int
    }

    var mappedRegion: MappedRange { MappedRange(address: UInt(bitPattern: slots), bytes: memoryBytes) }

    /// Starts loading the bucket of `hash` into the cache while the caller does other work.
    @inline(__always) func prefetch(_ hash: UInt32) { sc_prefetch(slots + bucket(hash)) }

    var memoryBytes: Int { capacity * MemoryLayout<KeydirEntry>.stride }
    var mask: Int { capacity - 1 }

    @inline(__always) func bucket(_ hash: UInt32) -> Int { Int(UInt64(hash) >> UInt64(shift)) }

    /// The lowest hash value whose bucket is `bucket` (for SCAN cursors); 2^32 past the end.
    @inline(__always) func hashLowerBound(ofBucket bucket: Int) -> UInt64 { UInt64(bucket) << UInt64(shift) }

    /// Index of the live entry with `hash` that `matches`, probing from its bucket to the
    /// first empty slot.
    @inline(__always)
    func index(of hash: UInt32, matches: (KeydirEntry) -> Bool) -> Int? {
        var index = bucket(hash)
        for _ in 0..<capacity {
            let entry = slots[index]
            if entry.isEmpty { return nil }
            if entry.hash == hash && entry.segmentID != KeydirEntry.movedSegmentID && matches(entry) { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    /// Places an entry known not to be in the table.
    @inline(__always)
    mutating func insertNew(_ entry: KeydirEntry) {
        assert(count < capacity, "keydir table full")
        var index = bucket(entry.hash)
        while !slots[index].isEmpty { index = (index + 1) & mask }
        slots[index] = entry
        count += 1
    }

    /// Removes the entry at `index`, shifting later members of its cluster back so every entry
    /// stays reachable from its bucket without tombstones.
    mutating func remove(at index: Int) {
        var hole = index
        var next = index
        while true {
            next = (next + 1) & mask
            let entry = slots[next]
            if entry.isEmpty { break }
            let home = bucket(entry.hash)
            // The entry may fill the hole unless its home lies cyclically in (hole, next].
            let homeBetween = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if homeBetween { continue }
            slots[hole] = entry
            hole = next
        }
        slots[hole] = KeydirEntry(hash: 0, segmentID: KeydirEntry.emptySegmentID, offset: 0, valueLength: 0, hasExpiry: false)
        count -= 1
    }

    /// Marks an entry of a draining table as gone without moving anything (draining tables
    /// are never inserted into, and the migration cursor must not see entries move behind it).
    mutating func markMoved(at index: Int) {
        slots[index].segmentID = KeydirEntry.movedSegmentID
        count -= 1
    }

    /// Visits every live entry whose hash lies in `lower..<upper` (upper ≤ 2^32), each once.
    /// Such entries sit between the bucket of `lower` and the first empty slot after the bucket
    /// of `upper - 1`, possibly wrapped around the end.
    func forEach(hashesFrom lower: UInt64, below upper: UInt64, _ visit: (KeydirEntry) -> Void) {
        guard lower < upper else { return }
        let last = bucket(UInt32(upper - 1))
        var step = bucket(UInt32(lower))
        let end = step + capacity
        while step < end {
            let entry = slots[step & mask]
            if entry.isEmpty {
                if step > last { return }
            } else if entry.isLive && UInt64(entry.hash) >= lower && UInt64(entry.hash) < upper {
                visit(entry)
            }
            step += 1
        }
    }
}
