import Foundation
import Testing
@testable import Swiftcask

@Suite struct StoreBasicsTests {
    @Test(arguments: allBackends)
    func putGetDeleteAndReopen(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        do {
            let store = try Store(directory: directory.path, options: testOptions(backend: backend))
            #expect(store.ioBackendName == backend.rawValue)
            try store.put("alpha", "1")
            try store.put("beta", "2")
            try store.put("alpha", "3")
            #expect(try store.get("alpha") == bytes("3"))
            #expect(try store.delete("beta") == true)
            #expect(try store.delete("beta") == false)
            #expect(try store.get("beta") == nil)
            #expect(store.count == 1)
            try store.close()
        }
        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend))
        #expect(try reopened.get("alpha") == bytes("3"))
        #expect(try reopened.get("beta") == nil)
        #expect(reopened.count == 1)
        try reopened.close()
    }

    @Test func readYourWritesBeforeTheDisk() throws {
        let directory = TemporaryDirectory()
        var options = testOptions()
        options.writeBehindMillis = 60_000  // nothing leaves the buffer on its own
        let store = try Store(directory: directory.path, options: options)
        for index in 0..<1000 { try store.put(bytes("key\(index)"), bytes("value\(index)")) }
        for index in 0..<1000 { #expect(try store.get(bytes("key\(index)")) == bytes("value\(index)")) }
        // Borrowing a buffered value first hands it to the OS, then lends it from the map.
        let borrowed = try store.withValue(forKey: bytes("key999")) { Array($0) }
        #expect(borrowed == bytes("value999"))
        try store.close()
    }

    @Test func typedKeysAndValues() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        try store.put([UInt8]([1, 2, 3]), [UInt8](repeating: 9, count: 10))
        try store.put(bytes("slice")[1...], "x".utf8)
        #expect(try store.get([UInt8]([1, 2, 3])) == [UInt8](repeating: 9, count: 10))
        #expect(try store.get("lice") == bytes("x"))
        #expect(store.info(forKey: [UInt8]([1, 2, 3])) == EntryInfo(valueLength: 10, expiresAtMillis: nil))
        #expect(store.contains("lice"))
        #expect(!store.contains("slice"))
        try store.put([UInt8](), [UInt8]())  // the empty key is a key like any other
        #expect(try store.get([UInt8]()) == [])
        try store.close()
    }

    @Test(arguments: allBackends)
    func keyAndValueLimitsAtTheBoundary(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions(backend: backend, segmentBytes: 64 << 20))
        let longestKey = [UInt8](repeating: 0x6B, count: Limits.keyBytesMax)
        try store.put(longestKey, bytes("ok"))
        #expect(try store.get(longestKey) == bytes("ok"))
        let error = #expect(throws: StoreError.self) { try store.put([UInt8](repeating: 0x6B, count: Limits.keyBytesMax + 1), bytes("no")) }
        #expect(error?.code == .keyTooLarge)
        #expect(error?.message.contains("65535") == true)

        // Values: the limit itself is 512 MiB; check one past it without touching the memory.
        let pastLimit = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: 0x1000), count: Limits.valueBytesMax + 1)
        let valueError = #expect(throws: StoreError.self) { try store.put(key: UnsafeRawBufferPointer(start: nil, count: 0), value: pastLimit) }
        #expect(valueError?.code == .valueTooLarge)
        #expect(valueError?.message.contains("\(Limits.valueBytesMax)") == true)
        #expect(store.count == 1)
        try store.close()
    }

    @Test func valueAtTheLimitRoundTrips() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions(segmentBytes: 1 << 20))
        var value = [UInt8](repeating: 0, count: Limits.valueBytesMax)
        value[0] = 1
        value[value.count - 1] = 2
        try store.put(bytes("big"), value)
        value = []
        let length = try store.withValue(forKey: bytes("big")) { ($0.count, $0[0], $0[$0.count - 1]) }
        #expect(length?.0 == Limits.valueBytesMax && length?.1 == 1 && length?.2 == 2)
        try store.close()
        let reopened = try Store(directory: directory.path, options: testOptions(segmentBytes: 1 << 20))
        #expect(reopened.info(forKey: bytes("big"))?.valueLength == Limits.valueBytesMax)
        try reopened.close()
    }

    @Test func secondOpenOfTheSameDirectoryFails() throws {
        let directory = TemporaryDirectory()
        let first = try Store(directory: directory.path, options: testOptions())
        let error = #expect(throws: StoreError.self) { try Store(directory: directory.path, options: testOptions()) }
        #expect(error?.code == .directoryLocked)
        #expect(error?.message.contains("already open") == true)
        try first.close()
        let second = try Store(directory: directory.path, options: testOptions())
        try second.close()
    }

    @Test func maintenanceThreadRunsAtTheConfiguredNiceness() throws {
        let directory = TemporaryDirectory()
        var options = testOptions()
        // 19, the boundary, and a value no other test uses, so the thread found is this store's.
        options.maintenanceNiceness = StoreOptions.maintenanceNicenessMax
        let store = try Store(directory: directory.path, options: options)
        try store.put("a", "b")
        // A merge runs on the maintenance thread: once it returns, the thread has started.
        _ = try store.merge()
        #expect(maintenanceThreadNicenesses().contains(StoreOptions.maintenanceNicenessMax))
        try store.close()
    }

    @Test(arguments: [Int32(-1), StoreOptions.maintenanceNicenessMax + 1])
    func nicenessOutsideLinuxRangeIsRefused(niceness: Int32) throws {
        let directory = TemporaryDirectory()
        var options = testOptions()
        options.maintenanceNiceness = niceness
        let error = #expect(throws: StoreError.self) { try Store(directory: directory.path, options: options) }
        #expect(error?.code == .invalidOptions)
        #expect(error?.message.contains("maintenanceNiceness") == true)
    }

    @Test func closedStoreRefusesWork() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        try store.close()
        try store.close()
        #expect(throws: StoreError.closed) { try store.put("a", "b") }
        #expect(throws: StoreError.closed) { try store.get("a") }
    }

    @Test func unwritableDirectoryIsReported() throws {
        let directory = TemporaryDirectory()
        let error = #expect(throws: StoreError.self) {
            try Store(directory: "/proc/swiftcask-cannot-exist", options: testOptions())
        }
        #expect(error?.code == .directoryNotWritable)
        _ = directory
    }

    @Test func expiryIsLazyAndSurvivesReopen() throws {
        let directory = TemporaryDirectory()
        let now = Clock.unixMillis()
        do {
            let store = try Store(directory: directory.path, options: testOptions())
            try store.put("past", "x", expiresAtMillis: now - 1)
            try store.put("future", "y", expiresAtMillis: now + 3_600_000)
            #expect(try store.get("past") == nil)
            #expect(store.info(forKey: "future".utf8)?.expiresAtMillis == now + 3_600_000)
            var batch = WriteBatch()
            batch.setExpiry("future".utf8, expiresAtMillis: nil)
            batch.setExpiry("absent".utf8, expiresAtMillis: now + 5)
            try store.write(batch)
            #expect(store.info(forKey: "future".utf8) == EntryInfo(valueLength: 1, expiresAtMillis: nil))
            #expect(!store.contains("absent"))
            try store.close()
        }
        let reopened = try Store(directory: directory.path, options: testOptions())
        #expect(try reopened.get("past") == nil)
        #expect(try reopened.get("future") == bytes("y"))
        #expect(reopened.info(forKey: "future".utf8)?.expiresAtMillis == nil)
        try reopened.close()
    }

    @Test(arguments: allBackends)
    func rotationAcrossManySegments(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        let options = testOptions(backend: backend, segmentBytes: Limits.segmentBytesMin)
        do {
            let store = try Store(directory: directory.path, options: options)
            for index in 0..<5000 { try store.put(bytes("key-\(index % 1500)"), [UInt8](repeating: UInt8(index % 251), count: 100)) }
            #expect(store.statistics.segmentCount > 5)
            try store.close()
        }
        let files = try segmentFiles(in: directory.path)
        // Rotated segments are sealed at their exact data size; only the newest keeps its preallocation.
        for file in files.dropLast() { #expect(fileSize(file) < Limits.segmentBytesMin) }
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.count == 1500)
        for index in 3500..<5000 {
            #expect(try reopened.get(bytes("key-\(index % 1500)")) == [UInt8](repeating: UInt8(index % 251), count: 100))
        }
        #expect(reopened.statistics.deadBytes > 0)
        try reopened.close()
    }

    @Test func keyspacesAreSeparateAndClearable() throws {
        let directory = TemporaryDirectory()
        do {
            let store = try Store(directory: directory.path, options: testOptions())
            for index in 0..<100 {
                try store.put(bytes("k\(index)"), bytes("zero"), in: .default)
                try store.put(bytes("k\(index)"), bytes("one"), in: Keyspace(1))
            }
            #expect(store.count(in: .default) == 100 && store.count(in: Keyspace(1)) == 100)
            #expect(try store.get("k5", in: Keyspace(1)) == bytes("one"))
            try store.removeAll(in: .default)
            #expect(store.count(in: .default) == 0)
            #expect(try store.get("k5") == nil)
            try store.put("after", "clear")
            try store.close()
        }
        let reopened = try Store(directory: directory.path, options: testOptions())
        #expect(reopened.count(in: .default) == 1)
        #expect(reopened.count(in: Keyspace(1)) == 100)
        #expect(try reopened.get("after") == bytes("clear"))
        try reopened.close()
    }

    @Test func scanVisitsEveryKeyOnceRandomKeyFindsOne() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        for index in 0..<3000 { try store.put(bytes("scan-\(index)"), bytes("v")) }
        try store.put("other-keyspace", "v", in: Keyspace(2))
        var seen: [String: Int] = [:]
        var cursor: UInt64 = 0
        var rounds = 0
        repeat {
            let page = store.scan(in: .default, cursor: cursor, count: 100)
            for key in page.keys { seen[String(decoding: key, as: UTF8.self), default: 0] += 1 }
            cursor = page.nextCursor
            rounds += 1
        } while cursor != 0 && rounds < 10_000
        #expect(seen.count == 3000)
        #expect(seen.values.allSatisfy { $0 == 1 })
        #expect(seen["other-keyspace"] == nil)
        let random = try #require(store.randomKey(in: .default))
        #expect(String(decoding: random, as: UTF8.self).hasPrefix("scan-"))
        #expect(store.randomKey(in: Keyspace(7)) == nil)
        try store.close()
    }

    /// Prefetching is a hint: present, absent, buffered and too many keys change nothing, and a
    /// closed store ignores it.
    @Test func prefetchChangesNothing() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        let count = Store.prefetchKeysMax + 10
        for index in 0..<count { try store.put("key-\(index)", "value-\(index)") }
        try store.sync()  // records now in the map; the next ones stay in a write buffer
        try store.put("buffered", "fresh")
        let names = (0..<count).map { "key-\($0)" } + ["absent", "buffered", ""]
        // All keys back to back in one buffer, as a pipeline's keys sit in a read buffer.
        let joined = names.flatMap { Array($0.utf8) }
        func prefetchAll() {
            joined.withUnsafeBytes { bytes in
                var start = 0
                let pointers = names.map { name in
                    defer { start += name.utf8.count }
                    return UnsafeRawBufferPointer(rebasing: bytes[start..<start + name.utf8.count])
                }
                pointers.withUnsafeBufferPointer { store.prefetch(keys: $0) }
            }
        }
        prefetchAll()
        for index in 0..<count { #expect(try store.get("key-\(index)") == bytes("value-\(index)")) }
        #expect(try store.get("buffered") == bytes("fresh"))
        #expect(try store.get("absent") == nil)
        #expect(store.count == count + 1)
        try store.close()
        prefetchAll()
    }
}

/// The nice values of this process's threads named swiftcask-maint (field 19 of
/// /proc/self/task/TID/stat, counted after the parenthesised name).
private func maintenanceThreadNicenesses() -> [Int32] {
    guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return [] }
    return tasks.compactMap { task -> Int32? in
        guard let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
              stat[stat.index(after: open)..<close] == "swiftcask-maint" else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (stat field 3), so the nice value (field 19) is fields[16].
        return fields.count > 16 ? Int32(fields[16]) : nil
    }
}
