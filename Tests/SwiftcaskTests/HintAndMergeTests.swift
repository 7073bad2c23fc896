import Glibc
import Testing
@testable import Swiftcask

@Suite struct HintAndMergeTests {
    /// Smallest segments, merges only on request and unthrottled.
    func manualMergeOptions(backend: IOBackendChoice = .posix) -> StoreOptions {
        var options = testOptions(backend: backend, segmentBytes: Limits.segmentBytesMin)
        options.autoMerge = false
        options.mergeBytesPerSecondMax = 0
        return options
    }

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

    /// A merge writes its outputs in whole 2 MiB chunks at 2 MiB-aligned offsets, so the copies
    /// are read through 2 MiB pages (where the kernel supports it).
    @Test(.enabled(if: HugePageMapping.kernelMapsFilesWrittenInHugeChunks()))
    func mergeOutputsAreMappedWithHugePages() throws {
        let directory = TemporaryDirectory()
        var options = manualMergeOptions()
        options.segmentBytes = 2 * HugePageMapping.hugePageBytes
        let store = try Store(directory: directory.path, options: options)
        let value = [UInt8](repeating: 3, count: 1000)
        // About 9 MiB: two sealed segments to merge, all of it live.
        let keys = 9000
        for index in 0..<keys { try store.put(bytes("key\(index)"), value) }
        let before = Set(try segmentFiles(in: directory.path))
        let report = try store.merge()
        #expect(report.outputSegments >= 1)
        for index in 0..<keys { #expect(try store.get(bytes("key\(index)")) == value) }
        let outputs = try segmentFiles(in: directory.path).filter { !before.contains($0) }
        #expect(outputs.count == report.outputSegments)
        let kilobytes = outputs.map(HugePageMapping.kilobytesMappedWithHugePages).reduce(0, +)
        #expect(kilobytes >= HugePageMapping.hugePageBytes / 1024)
        try store.close()
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

    /// Edits a hint in place and seals it with a fresh CRC, so only the edit can reject it.
    func rewriteHint(_ path: String, _ edit: (inout [UInt8]) -> Void) {
        var contents = readFile(path)
        edit(&contents)
        let crcStart = contents.count - HintFile.trailerBytes
        let crc = contents.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<crcStart])) }
        withUnsafeBytes(of: crc.littleEndian) { contents.replaceSubrange(crcStart..., with: $0) }
        writeFile(path, contents)
    }

    enum HintDamage: CaseIterable { case flipByte, truncate, delete, wrongSize, oldVersion, otherSeed, unsorted }

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
        case .oldVersion:
            rewriteHint(victim) { $0[8] = 1 }
        case .otherSeed:
            // A good hint, but hashed with another seed (as another store would write it).
            let segment = readFile(victim.replacingSuffix(".hint", with: ".seg"))
            let id = try #require(SegmentFormat.segmentID(fromFileName: String(victim.split(separator: "/").last!).replacingSuffix(".hint", with: ".seg")))
            let hint = try #require(segment.withUnsafeBytes { HintFile.encode(segmentID: id, segment: $0, hasher: KeyHasher(seed: 42)) })
            writeFile(victim, hint)
        case .unsorted:
            // Swap the first two entries: each is valid, their order is not.
            rewriteHint(victim) { contents in
                let first = HintFile.headerBytes
                let second = first + HintFile.entryBytes
                let saved = Array(contents[first..<second])
                contents.replaceSubrange(first..<second, with: contents[second..<(second + HintFile.entryBytes)])
                contents.replaceSubrange(second..<(second + HintFile.entryBytes), with: saved)
            }
        }
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.statistics.segmentsScanned == 1)
        try expectContents(reopened, model, "after \(damage)")
        try reopened.close()
        // The scanned segment got a good hint again.
        let again = try Store(directory: directory.path, options: options)
        #expect(again.statistics.segmentsScanned == 0, "after \(damage)")
        try expectContents(again, model, "reopened after \(damage)")
        try again.close()
    }

    /// A hint lists every record of its segment exactly once, in (hash, offset) order, so the
    /// records of one key (equal hashes) stay in record order.
    @Test func hintEntriesCoverEveryRecordInHashThenRecordOrder() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        do {
            let store = try Store(directory: directory.path, options: options)
            _ = try fill(store, keys: 300, rounds: 4, deleteEvery: 6)
            try store.close()
        }
        var repeatedHashes = 0
        let hints = try FileSystem.contentsOfDirectory(directory.path).filter { $0.hasSuffix(".hint") }
        #expect(hints.count >= 2)
        for name in hints {
            let segment = readFile(directory.file(name.replacingSuffix(".hint", with: ".seg")))
            let id = try #require(SegmentFormat.segmentID(fromFileName: name.replacingSuffix(".hint", with: ".seg")))
            var recordOffsets: [Int] = []
            segment.withUnsafeBytes { bytes in
                var offset = SegmentFormat.headerBytes
                while offset < bytes.count, case .record(let header) = RecordHeader.decode(bytes, at: offset) {
                    recordOffsets.append(offset)
                    offset += header.recordLength
                }
            }
            let hint = try #require(segment.withUnsafeBytes { HintFile.encode(segmentID: id, segment: $0, hasher: KeyHasher(seed: 9)) })
            var entries: [HintFile.Entry] = []
            let validated = hint.withUnsafeBytes { raw in
                HintFile.forEachEntry(raw) { entries.append($0) }
                return (HintFile.validate(raw, segmentID: id, segmentBytes: segment.count, hashSeed: 9), HintFile.isSortedByHash(raw))
            }
            #expect(try validated.0.get() == recordOffsets.count)
            #expect(validated.1)
            #expect(entries.map(\.offset).sorted() == recordOffsets, "\(name)")
            for (previous, next) in zip(entries, entries.dropFirst()) {
                #expect((previous.hash, previous.offset) < (next.hash, next.offset), "\(name)")
                if previous.hash == next.hash { repeatedHashes += 1 }
            }
        }
        #expect(repeatedHashes > 0, "no segment held a key twice: the order of equal hashes went untested")
    }

    /// The fuzzer's seed hints (written by Fuzz/make_corpus.py from docs/FORMAT.md) decode as
    /// the format says: the Python writer and the Swift reader agree on every field.
    @Test func seedCorpusHintsFollowTheFormat() throws {
        let corpus = String(#filePath.split(separator: "/").dropLast(3).joined(separator: "/"))
        func outcome(_ name: String) -> (result: Result<Int, HintFile.Rejection>, sorted: Bool) {
            // Corpus files: a mode byte and the data file size (u32) before the hint.
            let input = readFile("/" + corpus + "/Fuzz/corpus/hint/" + name)
            let segmentBytes = Int(input[1]) | Int(input[2]) << 8 | Int(input[3]) << 16 | Int(input[4]) << 24
            return Array(input.dropFirst(5)).withUnsafeBytes {
                (HintFile.validate($0, segmentID: 7, segmentBytes: segmentBytes, hashSeed: 0x5EED), HintFile.isSortedByHash($0))
            }
        }
        #expect(try outcome("valid").result.get() == 3)
        #expect(outcome("valid").sorted)
        #expect(try outcome("empty").result.get() == 0)
        #expect(try outcome("clear-in-record-order").result.get() == 2)
        #expect(!outcome("clear-in-record-order").sorted)
        for rejected in ["outside", "unsorted", "version-1"] {
            #expect(throws: HintFile.Rejection.self, "\(rejected)") { try outcome(rejected).result.get() }
        }
    }

    /// Many segments, overwrites and deletes across them, and enough keys that the index has
    /// several hint bands: the band-by-band load must equal a scan in record order.
    @Test func hintedLoadAcrossBandsEqualsAScan() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: 1 << 20)
        let keys = 2 * StoreCore.hintBandSlots
        var model: [String: [UInt8]] = [:]
        do {
            let store = try Store(directory: directory.path, options: options)
            for index in 0..<keys { try store.put(bytes("k\(index)"), bytes("first-\(index)")); model["k\(index)"] = bytes("first-\(index)") }
            for index in stride(from: 0, to: keys, by: 3) { try store.put(bytes("k\(index)"), bytes("second-\(index)")); model["k\(index)"] = bytes("second-\(index)") }
            for index in stride(from: 1, to: keys, by: 5) { _ = try store.delete("k\(index)"); model["k\(index)"] = nil }
            for index in stride(from: 1, to: keys, by: 10) { try store.put(bytes("k\(index)"), bytes("back-\(index)")); model["k\(index)"] = bytes("back-\(index)") }
            try store.close()
        }
        let hinted = try Store(directory: directory.path, options: options)
        #expect(hinted.statistics.segmentsScanned == 0)
        #expect(hinted.core.keydir.capacity >= 4 * StoreCore.hintBandSlots)
        let hintedStatistics = hinted.statistics
        let seed = hinted.core.hasher.seed
        try expectContents(hinted, model, "from hints")
        try hinted.close()
        var scanOptions = options
        scanOptions.ignoreHintFiles = true
        let scanned = try Store(directory: directory.path, options: scanOptions)
        #expect(scanned.statistics.segmentsLoadedFromHints == 0)
        #expect(scanned.core.hasher.seed == seed, "ignored hints still give their seed, so later hints match them")
        #expect(scanned.statistics.deadBytes == hintedStatistics.deadBytes)
        try expectContents(scanned, model, "scanned")
        try scanned.close()
    }

    /// Two keys with the same 32-bit hash under the store's seed: loading hints must compare
    /// their keys (in the data files) and keep both, and an overwrite of one in a later segment
    /// must replace only that one. The seed itself must survive the reopen.
    @Test func collidingKeysSurviveAHintedReopen() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        let store = try Store(directory: directory.path, options: options)
        let hasher = store.core.hasher
        var seen: [UInt32: String] = [:]
        var pair: (String, String)?
        var candidate = 0
        while pair == nil {
            let key = "c\(candidate)"
            let hash = key.utf8CString.withUnsafeBytes { hasher.hash(UnsafeRawBufferPointer(rebasing: $0.dropLast()), keyspace: 0) }
            if let other = seen[hash] { pair = (other, key) } else { seen[hash] = key }
            candidate += 1
        }
        let (first, second) = try #require(pair)
        try store.put(first, "one")
        try store.put(second, "two")
        for index in 0..<2000 { try store.put(bytes("filler-\(index)"), [UInt8](repeating: 7, count: 40)) }  // seals segments
        try store.put(second, "two again")
        try store.close()
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.core.hasher.seed == hasher.seed)
        #expect(reopened.statistics.segmentsScanned == 0)
        #expect(try reopened.get(first) == bytes("one"))
        #expect(try reopened.get(second) == bytes("two again"))
        #expect(reopened.count == 2002)
        try reopened.close()
    }

    /// Expiry times and tombstones come from the hint: a key that expired while the store was
    /// closed is gone, one expiring later keeps its time, a deleted key stays deleted.
    @Test func hintsCarryExpiriesAndTombstones() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        let now = Clock.unixMillis()
        let later = now + 3_600_000
        do {
            let store = try Store(directory: directory.path, options: options)
            try store.put("expires-soon", "x", expiresAtMillis: now + 50)
            try store.put("expires-later", "y", expiresAtMillis: later)
            try store.put("deleted", "z")
            _ = try store.delete("deleted")
            try store.close()
        }
        var polls = 0
        while Clock.unixMillis() <= now + 50 && polls < 1000 {
            Clock.sleep(nanoseconds: 10_000_000)
            polls += 1
        }
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.statistics.segmentsScanned == 0)
        #expect(try reopened.get("expires-soon") == nil)
        #expect(try reopened.get("deleted") == nil)
        #expect(reopened.info(forKey: "expires-later".utf8)?.expiresAtMillis == later)
        #expect(reopened.count == 1)
        try reopened.close()
    }

    /// A keyspace clear makes a segment order-dependent: its hint keeps record order and is
    /// applied as such, between the hash-sorted hints around it.
    @Test func keyspaceClearInAHintedSegmentKeepsOrder() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        let other = Keyspace(3)
        var model: [String: [UInt8]] = [:]
        do {
            let store = try Store(directory: directory.path, options: options)
            model = try fill(store, keys: 300, rounds: 1)
            for index in 0..<300 { try store.put(bytes("gone-\(index)"), bytes("v"), in: other) }
            try store.removeAll(in: other)
            try store.put(bytes("kept"), bytes("after the clear"), in: other)
            model.merge(try fill(store, keys: 300, rounds: 1)) { $1 }
            try store.close()
        }
        let names = try FileSystem.contentsOfDirectory(directory.path).filter { $0.hasSuffix(".hint") }
        let unsorted = names.filter { name in
            let contents = readFile(directory.file(name))
            return contents.withUnsafeBytes { !HintFile.isSortedByHash($0) }
        }
        #expect(unsorted.count == 1)
        let reopened = try Store(directory: directory.path, options: options)
        #expect(reopened.statistics.segmentsScanned == 0)
        #expect(reopened.count(in: .default) == model.count)
        for (key, value) in model { #expect(try reopened.get(key) == value, "\(key)") }
        #expect(try reopened.get(bytes("kept"), in: other) == bytes("after the clear"))
        #expect(try reopened.get(bytes("gone-5"), in: other) == nil)
        #expect(reopened.count(in: other) == 1)
        try reopened.close()
    }

    /// Both ways a merge lists the records to check: from hint files, and (hints ignored, as
    /// for a segment whose hint is missing or damaged) from a scan of the segment.
    @Test(arguments: allBackends, [true, false])
    func mergeReclaimsSpaceAndKeepsContents(backend: IOBackendChoice, usesHints: Bool) throws {
        let directory = TemporaryDirectory()
        var options = manualMergeOptions(backend: backend)
        options.ignoreHintFiles = !usesHints
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
        #expect(report.inputSegmentsListedByHints == (usesHints ? report.inputSegments : 0))
        #expect(report.reclaimedBytes > 0)
        #expect(after.diskBytes < before.diskBytes)
        #expect(after.spaceAmplification < before.spaceAmplification)
        try expectContents(store, model, "after merge")
        // More writes, a second merge over the first one's outputs, a reopen.
        for index in 0..<100 { try store.put(bytes("late-\(index)"), bytes("v\(index)")); model["late-\(index)"] = bytes("v\(index)") }
        for index in stride(from: 1, to: 500, by: 3) { try store.delete("key-\(index)"); model["key-\(index)"] = nil }
        let second = try store.merge()
        #expect(second.inputSegmentsListedByHints == (usesHints ? second.inputSegments : 0))
        try expectContents(store, model, "after second merge")
        try store.close()
        let reopened = try Store(directory: directory.path, options: manualMergeOptions(backend: backend))
        try expectContents(reopened, model, "after reopen")
        #expect(try reopened.get("expired") == nil)
        #expect(reopened.statistics.segmentsScanned == 0)
        try reopened.close()
    }

    /// A merge whose switch-over takes several holds of the lock (more live records than
    /// `switchOverMovesPerLock`) while another thread overwrites and deletes keys: every key
    /// ends with its last write, before and after a reopen, whatever the interleaving.
    @Test func mergeSwitchOverInStepsKeepsConcurrentWrites() throws {
        let directory = TemporaryDirectory()
        let options = manualMergeOptions()
        let store = try Store(directory: directory.path, options: options)
        let keys = StoreCore.switchOverMovesPerLock * 3
        var model = try fill(store, keys: keys, rounds: 2)
        let touched = stride(from: 0, to: keys, by: 5).map { $0 }
        let writer = BackgroundThread(name: "writer-during-merge") {
            for index in touched {
                do {
                    if index % 2 == 0 {
                        try store.put(bytes("key-\(index)"), bytes("new-\(index)"))
                    } else {
                        _ = try store.delete("key-\(index)")
                    }
                } catch {
                    Issue.record("write during the merge failed: \(error)")
                }
            }
        }
        let report = try store.merge()
        writer.join()
        for index in touched { model["key-\(index)"] = index % 2 == 0 ? bytes("new-\(index)") : nil }
        #expect(report.recordsCopied > StoreCore.switchOverMovesPerLock)
        try expectContents(store, model, "after the merge")
        try store.close()
        let reopened = try Store(directory: directory.path, options: options)
        try expectContents(reopened, model, "after reopen")
        try reopened.close()
    }

    /// Stops a merge after each of its steps, takes the directory as a crash would leave it,
    /// and checks that it opens with the same contents (deleted keys stay deleted).
    @Test(arguments: MergeStep.allCases)
    func crashAtEveryMergeStep(step: MergeStep) throws {
        let directory = TemporaryDirectory()
        var options = manualMergeOptions()
        options.mergeStopAfter = step
        let store = try Store(directory: directory.path, options: options)
        let model = try fill(store, keys: 400, rounds: 5, deleteEvery: 4)
        #expect(store.statistics.lastMergeFailure == nil)
        #expect(throws: StoreError.self) { try store.merge() }
        #expect(store.statistics.lastMergeFailure != nil, "a failed merge is reported")
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
        #expect(recovered.statistics.lastMergeFailure == nil)
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
        try expectAnAutomaticMerge(store, keeping: model)
    }

    /// Writes (so segments keep rotating) until a merge has completed, at most 500 × 10 ms;
    /// then the store must hold `model` plus the key written, and closes.
    private func expectAnAutomaticMerge(_ store: Store, keeping model: [String: [UInt8]]) throws {
        try store.put("nudge", "x")
        var attempts = 0
        while store.statistics.mergesCompleted == 0 && attempts < 500 {
            try store.put("nudge", "x")
            attempts += 1
            Clock.sleep(nanoseconds: 10_000_000)
        }
        #expect(store.statistics.mergesCompleted >= 1)
        var expected = model
        expected["nudge"] = bytes("x")
        try expectContents(store, expected)
        try store.close()
    }

    @Test func mergeTriggersChangeWhileTheStoreRuns() throws {
        let directory = TemporaryDirectory()
        let options = manualMergeOptions()
        let store = try Store(directory: directory.path, options: options)
        let model = try fill(store, keys: 200, rounds: 20)
        #expect(store.statistics.mergesCompleted == 0)
        #expect(store.mergeTriggers.isEnabled == false)

        // Ratios outside (0, 1] and negative byte counts are refused and change nothing.
        for invalid in [MergeTriggers(isEnabled: true, deadRatio: 0, deadBytes: 0),
                        MergeTriggers(isEnabled: true, deadRatio: 1.01, deadBytes: 0),
                        MergeTriggers(isEnabled: true, deadRatio: 0.5, deadBytes: -1)] {
            let error = #expect(throws: StoreError.self) { try store.setMergeTriggers(invalid) }
            #expect(error?.code == .invalidOptions)
        }
        #expect(store.mergeTriggers.isEnabled == false)

        let enabled = MergeTriggers(isEnabled: true, deadRatio: 0.5, deadBytes: 64 * 1024)
        try store.setMergeTriggers(enabled)
        #expect(store.mergeTriggers == enabled)
        try expectAnAutomaticMerge(store, keeping: model)
    }

    /// `mergeIsDue` (INFO's `aof_rewrite_scheduled`) stays false while automatic merges are
    /// off, and for the minute after an automatic merge failed, though the garbage is still there.
    @Test func noMergeIsDueWhileTriggersAreOffOrAfterAFailedAutomaticMerge() throws {
        let directory = TemporaryDirectory()
        var options = manualMergeOptions()
        options.mergeStopAfter = .outputsWritten
        let store = try Store(directory: directory.path, options: options)
        let model = try fill(store, keys: 200, rounds: 20)
        #expect(store.statistics.mergeIsDue == false)
        try store.setMergeTriggers(MergeTriggers(isEnabled: true, deadRatio: 0.5, deadBytes: 64 * 1024))
        var polls = 0
        while store.statistics.lastMergeFailure == nil && polls < 500 {
            polls += 1
            Clock.sleep(nanoseconds: 10_000_000)
        }
        let statistics = store.statistics
        #expect(statistics.lastMergeFailure != nil, "the automatic merge ran and failed")
        #expect(statistics.mergeInProgress == false)
        #expect(statistics.mergeIsDue == false, "no automatic retry within \(StoreCore.mergeRetryDelayNanos / 1_000_000_000) s")
        #expect(statistics.deadBytes >= 64 * 1024, "the garbage that triggered it is still there")
        try expectContents(store, model)
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
        try store.put(bytes("stays-expiring"), bytes("v"), expiresAtMillis: Clock.unixMillis() + 3_600_000)
        // Nobody reads the expired keys; the cycle must remove them (bounded wait, polled).
        var polls = 0
        while store.count > 101 && polls < 1000 {
            Clock.sleep(nanoseconds: 5_000_000)
            polls += 1
        }
        #expect(store.count == 101)
        #expect(store.statistics.expiredKeysCollected == 2000)
        #expect(store.expiringCount(in: .default) == 1, "collection lowers the count of keys with a TTL")
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
