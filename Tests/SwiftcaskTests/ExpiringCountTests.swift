import Testing
@testable import Swiftcask

/// `Store.expiringCount(in:)`: live keys that carry an expiry, per keyspace, kept in step with
/// `count(in:)` by every write, expiry, flush and reopen.
@Suite struct ExpiringCountTests {
    static let hourMillis: Int64 = 3_600_000
    static let other = Keyspace(3)

    /// Options whose active expiry cycle never runs during a test, so only reads expire keys.
    func lazyOnlyOptions(segmentBytes: Int = 1 << 20) -> StoreOptions {
        var options = testOptions(segmentBytes: segmentBytes)
        options.activeExpiryIntervalMillis = 3_600_000
        return options
    }

    @Test func putsOverwritesPersistAndDeletesMoveTheCount() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: lazyOnlyOptions())
        let later = Clock.unixMillis() + Self.hourMillis
        try store.put(bytes("plain"), bytes("v"))
        #expect(store.expiringCount(in: .default) == 0)
        try store.put(bytes("a"), bytes("v"), expiresAtMillis: later)
        try store.put(bytes("b"), bytes("v"), expiresAtMillis: later)
        #expect(store.expiringCount(in: .default) == 2)
        // Overwrite keeping an expiry: still one key with an expiry.
        try store.put(bytes("a"), bytes("w"), expiresAtMillis: later + 1)
        #expect(store.expiringCount(in: .default) == 2)
        // Overwrite without expiry (SET): the expiry is gone.
        try store.put(bytes("a"), bytes("x"))
        #expect(store.expiringCount(in: .default) == 1)
        // EXPIRE and PERSIST through a batch.
        var batch = WriteBatch()
        batch.setExpiry(bytes("plain"), expiresAtMillis: later)
        try store.write(batch)
        #expect(store.expiringCount(in: .default) == 2)
        batch.removeAll()
        batch.setExpiry(bytes("b"), expiresAtMillis: nil)
        try store.write(batch)
        #expect(store.expiringCount(in: .default) == 1)
        // Deleting a key without expiry leaves the count; deleting the expiring one drops it.
        try store.delete(bytes("a"))
        #expect(store.expiringCount(in: .default) == 1)
        try store.delete(bytes("plain"))
        #expect(store.expiringCount(in: .default) == 0)
        #expect(store.count(in: .default) == 1)
        try store.close()
    }

    @Test func keyspacesCountApartAndRemoveAllClearsOnlyItsOwn() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: lazyOnlyOptions())
        let later = Clock.unixMillis() + Self.hourMillis
        for index in 0..<10 { try store.put(bytes("k\(index)"), bytes("v"), expiresAtMillis: index < 4 ? later : nil) }
        for index in 0..<5 { try store.put(bytes("k\(index)"), bytes("v"), expiresAtMillis: later, in: Self.other) }
        #expect(store.expiringCount(in: .default) == 4)
        #expect(store.expiringCount(in: Self.other) == 5)
        try store.removeAll(in: .default)
        #expect(store.expiringCount(in: .default) == 0)
        #expect(store.expiringCount(in: Self.other) == 5)
        try store.close()
    }

    @Test func lazyExpiryOnAccessDropsTheKeyAndIsCounted() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: lazyOnlyOptions())
        let past = Clock.unixMillis() - 1
        try store.put(bytes("gone"), bytes("v"), expiresAtMillis: past)
        try store.put(bytes("stays"), bytes("v"), expiresAtMillis: Clock.unixMillis() + Self.hourMillis)
        // Not yet collected: counted like Redis counts keys not yet expired by a cycle.
        #expect(store.expiringCount(in: .default) == 2)
        #expect(try store.get(bytes("gone")) == nil)
        #expect(store.expiringCount(in: .default) == 1)
        #expect(store.count(in: .default) == 1)
        #expect(store.statistics.expiredKeysOnAccess == 1)
        #expect(store.statistics.expiredKeysCollected == 0)
        try store.close()
    }

    @Test func reopenRebuildsTheCountFromScansAndHints() throws {
        let directory = TemporaryDirectory()
        let options = lazyOnlyOptions(segmentBytes: Limits.segmentBytesMin)
        let later = Clock.unixMillis() + Self.hourMillis
        var expected = 0
        do {
            let store = try Store(directory: directory.path, options: options)
            // Enough records for several sealed segments (read back from hints) and an active one (scanned).
            for round in 0..<3 {
                for index in 0..<1000 {
                    let expiring = (index + round) % 3 == 0
                    try store.put(bytes("key-\(index)"), [UInt8](repeating: 7, count: 60), expiresAtMillis: expiring ? later : nil)
                }
            }
            for index in stride(from: 0, to: 1000, by: 10) { try store.delete(bytes("key-\(index)")) }
            try store.put(bytes("expired"), bytes("v"), expiresAtMillis: Clock.unixMillis() - 1)
            try store.put(bytes("x"), bytes("v"), expiresAtMillis: later, in: Self.other)
            try store.removeAll(in: Self.other)
            expected = store.expiringCount(in: .default) - 1  // "expired" is dropped on reopen
            try store.close()
        }
        #expect(expected == (0..<1000).filter { $0 % 10 != 0 && ($0 + 2) % 3 == 0 }.count)
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.statistics.segmentsLoadedFromHints > 0)
        #expect(reopened.expiringCount(in: .default) == expected)
        #expect(reopened.expiringCount(in: Self.other) == 0)
        try reopened.close()
        var scanning = options
        scanning.ignoreHintFiles = true
        let scanned = try Store(directory: directory.path, options: scanning)
        #expect(scanned.expiringCount(in: .default) == expected)
        try scanned.close()
    }

    @Test func averageTimeToLiveEstimatesTheRemainingTime() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: lazyOnlyOptions())
        #expect(store.averageTimeToLive(in: .default) == 0)
        let start = Clock.unixMillis()
        // Fewer keys than the sample size, in a small table: every one is sampled.
        for index in 0..<10 {
            try store.put(bytes("k\(index)"), bytes("v"), expiresAtMillis: start + (index < 5 ? 1 : 3) * Self.hourMillis)
            try store.put(bytes("plain\(index)"), bytes("v"))
        }
        let average = store.averageTimeToLive(in: .default)
        let elapsed = Clock.unixMillis() - start
        #expect(average <= 2 * Self.hourMillis && average >= 2 * Self.hourMillis - elapsed)
        #expect(store.averageTimeToLive(in: Self.other) == 0)
        try store.close()
    }

    @Test func lockedLendSeesFreshWritesAndAbsentKeys() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions(durability: .everysec))
        try store.put(bytes("fresh"), bytes("value"))
        #expect(try store.withValueLocked(forKey: bytes("fresh")) { Array($0) } == bytes("value"))
        #expect(try store.withValueLocked(forKey: bytes("absent")) { Array($0) } == nil)
        // The raw-buffer entry point (the server's GET, no generic wrapping) reads the same.
        let fresh = bytes("fresh"), absent = bytes("absent")
        #expect(try fresh.withUnsafeBytes { key in try store.withValueLocked(forKey: key) { Array($0) } } == bytes("value"))
        #expect(try absent.withUnsafeBytes { key in try store.withValueLocked(forKey: key) { Array($0) } } == nil)
        try store.close()
    }
}
