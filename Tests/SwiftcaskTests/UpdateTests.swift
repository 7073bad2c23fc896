import Glibc
import Testing
@testable import Swiftcask

/// `Store.update` / `updateDeferred`: read-modify-write of one key in one step.
@Suite struct UpdateTests {
    @Test func absentKeyIsSeenAsNilAndCreated() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        var seen: BorrowedEntry? = BorrowedEntry(value: UnsafeRawBufferPointer(start: nil, count: 0), expiresAtMillis: 1)
        let ticket = try withKey("fresh") { key in
            try store.updateDeferred(key: key, maxValueBytes: 8) { current, replacement in
                seen = current
                #expect(replacement.count == 8)
                replacement.copyBytes(from: "new".utf8)
                return .put(length: 3, expiresAtMillis: nil)
            }
        }
        #expect(seen == nil)
        #expect(ticket != nil)
        #expect(try store.get("fresh") == bytes("new"))
        try store.close()
    }

    @Test func currentValueAndExpiryAreShownAndKept() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        let expiresAt = Clock.unixMillis() + 600_000
        try store.put("k".utf8, "41".utf8, expiresAtMillis: expiresAt)
        try withKey("k") { key in
            _ = try store.updateDeferred(key: key, maxValueBytes: 8) { current, replacement in
                #expect(current.map { Array($0.value) } == bytes("41"))
                #expect(current?.expiresAtMillis == expiresAt)
                replacement.copyBytes(from: "42".utf8)
                return .put(length: 2, expiresAtMillis: current?.expiresAtMillis)
            }
        }
        #expect(try store.get("k") == bytes("42"))
        #expect(store.info(forKey: "k".utf8)?.expiresAtMillis == expiresAt)
        try store.close()
    }

    @Test func keepWritesNothingAndDeleteWritesOnlyForALiveKey() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        try store.put("k", "v")
        let before = store.statistics.recordsWritten
        #expect(try withKey("k") { key in try store.updateDeferred(key: key, maxValueBytes: 4) { _, _ in .keep } } == nil)
        #expect(try withKey("absent") { key in try store.updateDeferred(key: key, maxValueBytes: 0) { _, _ in .delete } } == nil)
        #expect(store.statistics.recordsWritten == before)
        #expect(try withKey("k") { key in try store.updateDeferred(key: key, maxValueBytes: 0) { _, _ in .delete } } != nil)
        #expect(store.statistics.recordsWritten == before + 1)
        #expect(try store.get("k") == nil)
        try store.close()
    }

    @Test func expiredKeyIsSeenAsAbsent() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        try store.put("gone".utf8, "7".utf8, expiresAtMillis: Clock.unixMillis() - 1)
        var sawValue = true
        try withKey("gone") { key in
            _ = try store.updateDeferred(key: key, maxValueBytes: 1) { current, _ in
                sawValue = current != nil
                return .keep
            }
        }
        #expect(!sawValue)
        try store.close()
    }

    /// The point of the primitive: concurrent increments of one key lose nothing. Small write
    /// buffers make writers wait for free ones, the path where the lock is released before the
    /// lookup.
    @Test(arguments: [Durability.no, .always])
    func concurrentIncrementsLoseNothing(durability: Durability) throws {
        let directory = TemporaryDirectory()
        var options = testOptions(durability: durability)
        options.writeBufferBytes = 4096
        options.writeBufferCount = 2
        let store = try Store(directory: directory.path, options: options)
        let threads = 4
        let increments = durability == .always ? 200 : 2_000
        let failures = TestLock(0)
        let workers = (0..<threads).map { index in
            BackgroundThread(name: "incr-\(index)") {
                for _ in 0..<increments {
                    do { try increment(store, "counter") } catch { failures.withLock { $0 += 1 } }
                }
            }
        }
        for worker in workers { worker.join() }
        #expect(failures.withLock { $0 } == 0)
        let expected = bytes(String(threads * increments))
        #expect(try store.get("counter") == expected)
        try store.close()
        let reopened = try Store(directory: directory.path, options: testOptions())
        #expect(try reopened.get("counter") == expected)
        try reopened.close()
    }

    @Test func limitsAreCheckedAtTheirBoundary() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        let keyAtLimit = [UInt8](repeating: 0x6B, count: Limits.keyBytesMax)
        let written = try keyAtLimit.withUnsafeBytes { key in
            try store.update(key: key, maxValueBytes: 1) { _, replacement in
                replacement[0] = 0x31
                return .put(length: 1, expiresAtMillis: nil)
            }
        }
        #expect(written)
        let keyPastLimit = [UInt8](repeating: 0x6B, count: Limits.keyBytesMax + 1)
        let keyError = #expect(throws: StoreError.self) {
            try keyPastLimit.withUnsafeBytes { key in try store.update(key: key, maxValueBytes: 1) { _, _ in .keep } }
        }
        #expect(keyError?.code == .keyTooLarge)
        let valueError = #expect(throws: StoreError.self) {
            try withKey("k") { key in try store.update(key: key, maxValueBytes: Limits.valueBytesMax + 1) { _, _ in .keep } }
        }
        #expect(valueError?.code == .valueTooLarge)
        try store.close()
    }

    /// A current value that fails its CRC is an error, and nothing is written over it.
    @Test func damagedCurrentValueIsAnErrorAndNothingIsWritten() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        try store.put("victim", "12")
        try store.sync()
        try damageFirstRecord(in: directory.path, key: "victim", valueOffset: 0, with: 0x39)
        let before = store.statistics.recordsWritten
        var ranBody = false
        let error = #expect(throws: StoreError.self) {
            try withKey("victim") { key in
                try store.updateDeferred(key: key, maxValueBytes: 20) { _, _ in
                    ranBody = true
                    return .keep
                }
            }
        }
        #expect(error?.code == .corruptData)
        #expect(!ranBody)
        #expect(store.statistics.recordsWritten == before)
        try store.close()
    }

    private func withKey<Result>(_ key: String, _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        try Array(key.utf8).withUnsafeBytes { try body($0) }
    }
}

/// Adds one to the decimal value of `key` (absent: 0), blocking for durability as `update` does.
private func increment(_ store: Store, _ key: String) throws {
    _ = try Array(key.utf8).withUnsafeBytes { key in
        try store.update(key: key, maxValueBytes: 20) { current, replacement in
            let value = current.map { Int(String(decoding: $0.value, as: UTF8.self))! } ?? 0
            let digits = Array(String(value + 1).utf8)
            replacement.copyBytes(from: digits)
            return .put(length: digits.count, expiresAtMillis: current?.expiresAtMillis)
        }
    }
}
