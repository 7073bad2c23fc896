import Glibc
import Testing
@testable import Swiftcask

@Suite struct HintAndMergeTests {
    func fill(_ store: Store, keys: Int, rounds: Int, deleteEvery: Int = 0) throws -> [String: [UInt8]] {
        var model: [String: [UInt8]] = [:]
        for round in 0..<rounds {
            for index in 0..<keys {
                let key = "key-\(index)"
                if deleteEvery > 0 && index % deleteEvery == 0 && round == rounds - 1 {
                    try store.delete(key)
                    model[key] = nil
                } else {
                    let value = [UInt8](repeating: UInt8((index + round) % 256), count: 50 + index % 50)
                    try store.put(key.utf8, value)
                    model[key] = value
                }
            }
        }
        return model
    }

    func expectContents(_ store: Store, _ model: [String: [UInt8]], _ context: String = "") throws {
        #expect(store.count == model.count, "\(context)")
        for (key, value) in model { #expect(try store.get(key) == value, "\(key) \(context)") }
    }

    @Test func reopenReadsHintsNotData() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        var model: [String: [UInt8]] = [:]
        do {
            let store = try Store(directory: directory.path, options: options)
            model = try fill(store, keys: 800, rounds: 3, deleteEvery: 7)
            try store.close()
        }
        let reopened = try Store(directory: directory.path, options: options)
        let statistics = reopened.statistics
        #expect(statistics.segmentsScanned == 0)
        #expect(statistics.segmentsLoadedFromHints == statistics.segmentCount)
        try expectContents(reopened, model)
        try reopened.close()
    }

    enum HintDamage: CaseIterable { case flipByte, truncate, delete, wrongSize }

    @Test(arguments: HintDamage.allCases)
    func damagedHintFallsBackToScanning(damage: HintDamage) throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        var model: [String: [UInt8]] = [:]
        do {
            let store = try Store(directory: directory.path, options: options)
            model = try fill(store, keys: 600, rounds: 2, deleteEvery: 5)
            try store.close()
        }
        let hints = try FileSystem.contentsOfDirectory(directory.path).filter { $0.hasSuffix(".hint") }.sorted()
        let victim = directory.file(try #require(hints.first))
        switch damage {
        case .flipByte:
            var contents = readFile(victim)
            contents[contents.count / 2] ^= 0x40
            writeFile(victim, contents)
        case .truncate:
            truncateFile(victim, to: fileSize(victim) - 3)
        case .delete:
            unlink(victim)
        case .wrongSize:
            // A hint for a data file of another size: append a zero byte to the data file.
            let data = victim.replacingSuffix(".hint", with: ".seg")
            var contents = readFile(data)
            contents.append(0)
            writeFile(data, contents)
        }
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.statistics.segmentsScanned >= 1)
        try expectContents(reopened, model, "after \(damage)")
        try reopened.close()
    }

    @Test(arguments: allBackends)
    func mergeReclaimsSpaceAndKeepsContents(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, segmentBytes: Limits.segmentBytesMin)
        options.autoMerge = false
        options.mergeBytesPerSecondMax = 0
        let store = try Store(directory: directory.path, options: options)
        // Written first, so they sit in a sealed segment the merge rewrites.
        let now = Clock.unixMillis()
        try store.put("expired", "x", expiresAtMillis: now - 1)
        try store.put("expiring-later", "y", expiresAtMillis: now + 3_600_000)
        var model = try fill(store, keys: 500, rounds: 6, deleteEvery: 3)
        model["expiring-later"] = bytes("y")
        let before = store.statistics
        let report = try store.merge()
        let after = store.statistics
        #expect(store.info(forKey: "expiring-later".utf8)?.expiresAtMillis == now + 3_600_000)
        #expect(report.inputSegments >= 2)
        #expect(report.reclaimedBytes > 0)
        #expect(after.diskBytes < before.diskBytes)
        #expect(after.spaceAmplification < before.spaceAmplification)
        try expectContents(store, model, "after merge")
        // More writes, a second merge over the first one's outputs, a reopen.
        for index in 0..<100 { try store.put(bytes("late-\(index)"), bytes("v\(index)")); model["late-\(index)"] = bytes("v\(index)") }
        for index in stride(from: 1, to: 500, by: 3) { try store.delete("key-\(index)"); model["key-\(index)"] = nil }
        _ = try store.merge()
        try expectContents(store, model, "after second merge")
        try store.close()
        let reopened = try Store(directory: directory.path, options: options)
        try expectContents(reopened, model, "after reopen")
        #expect(try reopened.get("expired") == nil)
        #expect(reopened.statistics.segmentsScanned == 0)
        try reopened.close()
    }

    /// Stops a merge after each of its steps, takes the directory as a crash would leave it,
    /// and checks that it opens with the same contents (deleted keys stay deleted).
    @Test(arguments: MergeStep.allCases)
    func crashAtEveryMergeStep(step: MergeStep) throws {
        let directory = TemporaryDirectory()
        var options = testOptions(segmentBytes: Limits.segmentBytesMin)
        options.autoMerge = false
        options.mergeBytesPerSecondMax = 0
        options.mergeStopAfter = step
        let store = try Store(directory: directory.path, options: options)
        let model = try fill(store, keys: 400, rounds: 5, deleteEvery: 4)
        #expect(throws: StoreError.self) { try store.merge() }
        try store.sync()
        let image = try crashImage(of: directory.path)
        try expectContents(store, model, "live store after stop at \(step)")
        try store.close()
        var reopenOptions = options
        reopenOptions.mergeStopAfter = nil
        let recovered = try Store(directory: image.path, options: reopenOptions)
        try expectContents(recovered, model, "crash image at \(step)")
        // A full merge after recovery still keeps everything.
        _ = try recovered.merge()
        try expectContents(recovered, model, "merge after recovery from \(step)")
        try recovered.close()
        let original = try Store(directory: directory.path, options: reopenOptions)
        try expectContents(original, model, "original directory after \(step)")
        try original.close()
    }

    @Test func automaticMergeTriggersOnDeadBytes() throws {
        let directory = TemporaryDirectory()
        var options = testOptions(segmentBytes: Limits.segmentBytesMin)
        options.mergeTriggerDeadBytes = 64 * 1024
        options.mergeTriggerDeadRatio = 0.5
        options.mergeBytesPerSecondMax = 0
        let store = try Store(directory: directory.path, options: options)
        let model = try fill(store, keys: 200, rounds: 20)
        try store.put("nudge", "x")
        var attempts = 0
        while store.statistics.mergesCompleted == 0 && attempts < 500 {
            try store.put("nudge", "x")  // keeps rotating segments while we wait
            attempts += 1
            Clock.sleep(nanoseconds: 10_000_000)
        }
        #expect(store.statistics.mergesCompleted >= 1)
        var expected = model
        expected["nudge"] = bytes("x")
        try expectContents(store, expected)
        try store.close()
    }

    @Test func activeExpiryCollectsUntouchedKeys() throws {
        let directory = TemporaryDirectory()
        var options = testOptions()
        options.activeExpiryIntervalMillis = 5
        let store = try Store(directory: directory.path, options: options)
        let past = Clock.unixMillis() - 1
        for index in 0..<2000 { try store.put(bytes("gone-\(index)"), bytes("v"), expiresAtMillis: past) }
        for index in 0..<100 { try store.put(bytes("stays-\(index)"), bytes("v")) }
        // Nobody reads the expired keys; the cycle must remove them (bounded wait, polled).
        var polls = 0
        while store.count > 100 && polls < 1000 {
            Clock.sleep(nanoseconds: 5_000_000)
            polls += 1
        }
        #expect(store.count == 100)
        #expect(store.statistics.expiredKeysCollected == 2000)
        try store.close()
    }

    @Test func checkpointOfALiveStoreOpensWithTheContentsAtTheCut() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        let store = try Store(directory: directory.path, options: options)
        let model = try fill(store, keys: 700, rounds: 3, deleteEvery: 6)
        let destination = TemporaryDirectory("swiftcask-checkpoint")
        try store.checkpoint(to: destination.path + "/copy")
        try store.put("after-the-cut", "x")
        try store.delete("key-1")
        let copy = try Store(directory: destination.path + "/copy", options: options)
        try expectContents(copy, model, "checkpoint")
        try copy.close()
        #expect(throws: StoreError.self) { try store.checkpoint(to: directory.path) }  // not empty
        try store.close()
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self
    }
}
