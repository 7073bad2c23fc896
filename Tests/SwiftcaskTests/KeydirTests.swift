import Testing
@testable import Swiftcask

/// The index in isolation: a "key" here is a number stored in the entry's offset, and
/// `matches` compares offsets, so tests choose hashes freely (collisions included).
struct KeydirTests {
    func entry(key: UInt32, hash: UInt32, valueLength: Int = 1) -> KeydirEntry {
        KeydirEntry(hash: hash, segmentID: 1, offset: key, valueLength: valueLength, hasExpiry: false)
    }

    func find(_ keydir: Keydir, key: UInt32, hash: UInt32) -> KeydirEntry? {
        keydir.find(hash: hash) { $0.offset == key }
    }

    @Test func collidingHashesStayDistinct() {
        let keydir = Keydir()
        for key in UInt32(0)..<500 { keydir.upsert(entry(key: key, hash: 0xDEAD_BEEF)) { $0.offset == key } }
        #expect(keydir.count == 500)
        for key in UInt32(0)..<500 { #expect(find(keydir, key: key, hash: 0xDEAD_BEEF)?.offset == key) }
        for key in stride(from: UInt32(0), to: 500, by: 2) { keydir.remove(hash: 0xDEAD_BEEF) { $0.offset == key } }
        #expect(keydir.count == 250)
        for key in UInt32(0)..<500 { #expect((find(keydir, key: key, hash: 0xDEAD_BEEF) != nil) == (key % 2 == 1)) }
    }

    /// A reserved table being faulted in on another thread takes inserts meanwhile, and a
    /// growth past the reservation waits for that thread before freeing the table.
    @Test func reservedTableTakesInsertsWhilePrefaultingAndGrowsPastIt() {
        let keydir = Keydir()
        let reserved = 200_000
        keydir.reserve(reserved, prefaulting: true)
        let capacity = keydir.capacity
        #expect(capacity * Keydir.loadPercentMax / 100 >= reserved)
        #expect(capacity * MemoryLayout<KeydirEntry>.stride >= KeydirTable.mappedBytesMin)
        for key in UInt32(0)..<UInt32(reserved) { keydir.upsert(entry(key: key, hash: key &* 2_654_435_761)) { $0.offset == key } }
        #expect(keydir.capacity == capacity)
        #expect(!keydir.isResizing)
        let total = UInt32(capacity)
        for key in UInt32(reserved)..<total { keydir.upsert(entry(key: key, hash: key &* 2_654_435_761)) { $0.offset == key } }
        #expect(keydir.capacity > capacity)
        #expect(keydir.count == Int(total))
        for key in stride(from: UInt32(0), to: total, by: 97) { #expect(find(keydir, key: key, hash: key &* 2_654_435_761)?.offset == key) }
        keydir.stopPrefaulting()
    }

    /// Each growth into a mapped table starts faulting it in on another thread while inserts and
    /// the migration write into it: growing through several mapped sizes, with those threads
    /// running, keeps every entry. (That each is stopped before its table is freed is not
    /// observable here: a populate call on an unmapped range just fails.)
    @Test func growthThroughMappedSizesKeepsEveryEntry() {
        let keydir = Keydir()
        let mappedSlots = KeydirTable.mappedBytesMin / MemoryLayout<KeydirEntry>.stride
        let total = UInt32(mappedSlots * 3)
        var capacities: Set<Int> = []
        for key in UInt32(0)..<total {
            keydir.upsert(entry(key: key, hash: key &* 2_654_435_761)) { $0.offset == key }
            capacities.insert(keydir.capacity)
        }
        #expect(capacities.filter { $0 >= mappedSlots }.count >= 3)
        #expect(keydir.count == Int(total))
        for key in stride(from: UInt32(0), to: total, by: 31) { #expect(find(keydir, key: key, hash: key &* 2_654_435_761)?.offset == key) }
    }

    @Test func upsertReplacesAndReturnsThePrevious() {
        let keydir = Keydir()
        #expect(keydir.upsert(entry(key: 7, hash: 1, valueLength: 10)) { $0.offset == 7 } == nil)
        let previous = keydir.upsert(entry(key: 7, hash: 1, valueLength: 20)) { $0.offset == 7 }
        #expect(previous?.valueLength == 10)
        #expect(find(keydir, key: 7, hash: 1)?.valueLength == 20)
        #expect(keydir.count == 1)
    }

    /// A random workload against a Dictionary model, through many incremental resizes, with
    /// hashes squeezed into few values so clusters wrap around the table's end.
    @Test(arguments: [UInt32.max, 0xFFFF, 0x3F])
    func matchesAModelThroughResizes(hashMask: UInt32) {
        var generator = SplitMix(seed: UInt64(hashMask))
        let keydir = Keydir()
        var model: [UInt32: Int] = [:]
        func hash(_ key: UInt32) -> UInt32 { (key &* 2_654_435_761) & hashMask | (hashMask == .max ? 0 : 0xFFFF_0000 & ~hashMask) }
        for step in 0..<60_000 {
            let key = UInt32(generator.next() % 20_000)
            if generator.next() % 4 == 0 {
                let removed = keydir.remove(hash: hash(key)) { $0.offset == key }
                #expect((removed != nil) == (model.removeValue(forKey: key) != nil), "remove \(key) at step \(step)")
            } else {
                let length = Int(generator.next() % 1000)
                keydir.upsert(entry(key: key, hash: hash(key), valueLength: length)) { $0.offset == key }
                model[key] = length
            }
        }
        #expect(keydir.count == model.count)
        for (key, length) in model { #expect(find(keydir, key: key, hash: hash(key))?.valueLength == length) }
        var seen = 0
        keydir.forEach { _ in seen += 1 }
        #expect(seen == model.count)
    }

    @Test func resizeIsIncremental() {
        let keydir = Keydir()
        var sawResize = false
        for key in UInt32(0)..<100_000 {
            keydir.upsert(entry(key: key, hash: key &* 2_654_435_761)) { $0.offset == key }
            if keydir.isResizing {
                sawResize = true
                // Every key stays findable in the middle of a resize.
                #expect(find(keydir, key: key / 2, hash: (key / 2) &* 2_654_435_761) != nil)
            }
        }
        #expect(sawResize)
        #expect(keydir.count == 100_000)
        // 16-byte slots at a load between 40 % and 80 %.
        let bytesPerKey = Double(keydir.memoryBytes) / Double(keydir.count)
        #expect(bytesPerKey >= 20 && bytesPerKey <= 48, "bytes per key \(bytesPerKey)")
    }

    /// A sampler (active expiry, the TTL estimate) sees entries still in the draining table of
    /// an unfinished resize: they move only as inserts come, and a store may stop inserting.
    @Test func samplingReachesTheDrainingTableOfAResize() {
        let keydir = Keydir()
        var key: UInt32 = 0
        while !keydir.isResizing || key < 1_000 {
            keydir.upsert(entry(key: key, hash: key &* 2_654_435_761)) { $0.offset == key }
            key += 1
        }
        var seen = Set<UInt32>()
        keydir.sample(startingAt: 0, slotsMax: Int.max) { entry in
            seen.insert(entry.offset)
            return true
        }
        #expect(keydir.isResizing)
        #expect(seen.count == keydir.count, "every live entry, in either table, is reachable")
        var visits = 0
        keydir.sample(startingAt: 0, slotsMax: Int.max) { _ in
            visits += 1
            return visits < 10
        }
        #expect(visits == 10, "a visit that returns false stops the sampling in either table")
    }

    /// SCAN: every key present throughout is returned, even when the table grows mid-scan.
    @Test func scanReturnsEveryKeyAcrossResizes() {
        let keydir = Keydir()
        for key in UInt32(0)..<5000 { keydir.upsert(entry(key: key, hash: key &* 2_654_435_761)) { $0.offset == key } }
        var seen = Set<UInt32>()
        var cursor: UInt64 = 0
        var calls = 0
        var nextKey: UInt32 = 5000
        repeat {
            cursor = keydir.scan(from: cursor, countHint: 10) { seen.insert($0.offset) }
            // Grow the table while the scan is under way.
            for _ in 0..<40 {
                keydir.upsert(entry(key: nextKey, hash: nextKey &* 2_654_435_761)) { $0.offset == nextKey }
                nextKey += 1
            }
            calls += 1
        } while cursor != 0 && calls < 100_000
        #expect(cursor == 0)
        for key in UInt32(0)..<5000 { #expect(seen.contains(key), "key \(key) missed by scan") }
    }

    @Test func removeAllWhere() {
        let keydir = Keydir()
        for key in UInt32(0)..<3000 { keydir.upsert(entry(key: key, hash: key &* 40503)) { $0.offset == key } }
        #expect(keydir.removeAll { $0.offset % 3 == 0 } == 1000)
        #expect(keydir.count == 2000)
        for key in UInt32(0)..<3000 { #expect((find(keydir, key: key, hash: key &* 40503) != nil) == (key % 3 != 0)) }
    }
}
