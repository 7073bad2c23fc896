import Glibc
import Synchronization
import Testing
@testable import Swiftcask

/// Power cuts simulated by `PowerCutBackend`: writers run on several threads, the cut drops
/// whatever was written but not fsynced (and, with tearing, keeps a random subset of its
/// sectors), and the image is opened and checked against what was acknowledged:
/// - `.always`: every acknowledged write (put, delete, batch) is there;
/// - `.no`/`.everysec`: everything acknowledged before the last completed `sync()` is there;
/// - always: the store opens (torn tails cut), each writer's surviving writes are a prefix of
///   what it issued, batches are all or nothing, values are intact, earlier generations'
///   keys are unchanged; and the recovered store takes writes (the next generation).
@Suite struct PowerCutTests {
    @Test(arguments: allBackends)
    func acknowledgedAlwaysWritesSurvivePowerCuts(backend: IOBackendChoice) throws {
        var options = testOptions(backend: backend, durability: .always, segmentBytes: Limits.segmentBytesMin)
        options.writeBufferBytes = 16 * 1024
        options.autoMerge = false
        let figures = try PowerCutRun(options: options, writers: 4, generations: 8, syncPoints: false, merges: false, seed: seed()).run()
        #expect(figures.acknowledgedChecked > 0)
        #expect(figures.cuts == 8)
    }

    @Test(arguments: [Durability.no, .everysec])
    func everythingBeforeTheLastSyncSurvivesPowerCuts(durability: Durability) throws {
        var options = testOptions(backend: .posix, durability: durability, segmentBytes: Limits.segmentBytesMin)
        options.writeBufferBytes = 8 * 1024
        options.autoMerge = false
        options.everysecIntervalMillis = 5
        let figures = try PowerCutRun(options: options, writers: 2, generations: 8, syncPoints: true, merges: false, seed: seed()).run()
        #expect(figures.acknowledgedChecked > 0)
    }

    /// Merges run between cuts (never during one: a merge's file renames are not modelled),
    /// over segments full of overwritten and deleted keys.
    @Test func powerCutsAroundMergesAndRotations() throws {
        var options = testOptions(backend: .posix, durability: .always, segmentBytes: Limits.segmentBytesMin)
        options.writeBufferBytes = 16 * 1024
        options.autoMerge = false
        options.mergeBytesPerSecondMax = 0
        let figures = try PowerCutRun(options: options, writers: 3, generations: 6, syncPoints: false, merges: true, seed: seed()).run()
        #expect(figures.merges > 0)
    }

    /// One writer, a cut after every single backend call of a fixed workload: every prefix of
    /// the log a crash can leave, torn and untorn, opens and holds what it should.
    @Test func everyBackendCallBoundaryIsASafeCutPoint() throws {
        var options = testOptions(backend: .posix, durability: .always, segmentBytes: Limits.segmentBytesMin)
        options.writeBufferBytes = 8 * 1024
        options.autoMerge = false
        var generator = SplitMix(seed: seed())
        let directory = TemporaryDirectory()
        let holder = PowerCutBackendHolder()
        let store = try Store(directory: directory.path, options: holder.wrapping(options, directory: directory.path))
        var acknowledged: [String] = []
        var batches: [[String]] = []
        var cuts = 0
        for index in 0..<100 {
            if index % 7 == 3 {
                var batch = WriteBatch()
                let keys = (0..<4).map { "one-\(index)-b\($0)" }
                for key in keys { batch.put(key.utf8, powerCutValue(key)) }
                try store.write(batch)
                batches.append(keys)
                acknowledged.append(contentsOf: keys)
            } else {
                let key = "one-\(index)"
                try store.put(key.utf8, powerCutValue(key, large: index % 11 == 0))
                acknowledged.append(key)
            }
            let image = holder.current.cut(tearing: index % 2 == 1, using: &generator)
            cuts += 1
            let recovered = try Store(directory: image.path, options: options)
            for key in acknowledged {
                #expect(try recovered.get(key.utf8) == powerCutValue(key, large: isLarge(key)), "cut \(cuts): \(key) lost or damaged")
            }
            #expect(recovered.count == acknowledged.count)
            try recovered.close()
        }
        try store.close()
        print("power cut (one writer): \(cuts) cuts, \(acknowledged.count) acknowledged writes, \(batches.count) batches, lost 0")
    }

    /// The model itself: a file whose name no directory fsync has covered yet is gone after a
    /// cut, and is kept once the directory was fsynced through the backend.
    @Test func cutsDropNamesNoDirectoryFsyncCovered() throws {
        let directory = TemporaryDirectory()
        writeFile(directory.file("before-open"), [1])
        let model = PowerCutBackend(wrapping: PosixAppendBackend(), directory: directory.path)
        writeFile(directory.file("created"), [2])
        var generator = SplitMix(seed: seed())
        let first = model.cut(tearing: false, using: &generator)
        #expect(FileSystem.fileExists(first.file("before-open")))
        #expect(!FileSystem.fileExists(first.file("created")))
        try model.synchronizeDirectory(directory.path)
        let second = model.cut(tearing: false, using: &generator)
        #expect(readFile(second.file("created")) == [2])
        #expect(model.counters.namesDropped == 1)
        #expect(model.counters.directorySyncs == 1)
    }

    private func isLarge(_ key: String) -> Bool {
        guard !key.contains("-b"), let index = Int(key.dropFirst(4)) else { return false }
        return index % 11 == 0
    }

    private func seed() -> UInt64 {
        let seed = UInt64.random(in: 1...UInt64.max)
        print("power cut seed \(seed)")
        return seed
    }
}

/// The value written for a key: its length and bytes follow from the key, so verification
/// needs no copy of it. Large values (several KiB) force rotations of 64 KiB segments.
func powerCutValue(_ key: String, large: Bool = false) -> [UInt8] {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    let length = large ? 3000 + Int(hash % 9000) : Int(hash % 400)
    return (0..<length).map { UInt8(truncatingIfNeeded: hash &>> UInt64($0 % 56) &+ UInt64($0)) }
}

/// Figures of a run, printed at its end.
struct PowerCutFigures {
    var cuts = 0
    var operationsIssued = 0
    var acknowledgedChecked = 0
    var keysChecked = 0
    var merges = 0
    var syncPoints = 0
    var backendSyncs = 0
    var bytesDropped = 0
    var sectorsKept = 0
}

/// Several generations of: open (the previous image), write from `writers` threads, cut at a
/// random moment, verify the image.
struct PowerCutRun {
    enum Kind { case put, batch, delete }

    struct Operation {
        var kind: Kind
        var keys: [String]
        var large: Bool
    }

    /// One writer's log: what it issued (in order) and how many of those calls returned.
    final class WriterLog: @unchecked Sendable {
        let state = TestLock<(operations: [Operation], acknowledged: Int)>(([], 0))
        var acknowledged: Int { state.withLock { $0.acknowledged } }
    }

    let options: StoreOptions
    let writers: Int
    let generations: Int
    /// `.no`/`.everysec`: the cut keeps what the last explicit `sync()` covered.
    let syncPoints: Bool
    let merges: Bool
    let seed: UInt64
    static let operationsPerWriterMax = 20_000

    func run() throws -> PowerCutFigures {
        var generator = SplitMix(seed: seed)
        var figures = PowerCutFigures()
        /// Keys of earlier generations and whether they survived (checked again every generation).
        var known: [String: Bool] = [:]
        var largeKeys: Set<String> = []
        var directory = TemporaryDirectory()
        for generation in 0..<generations {
            let holder = PowerCutBackendHolder()
            let store = try Store(directory: directory.path, options: holder.wrapping(options, directory: directory.path))
            let stop = StopFlag()
            let logs = (0..<writers).map { _ in WriterLog() }
            let threads = (0..<writers).map { writer in
                let log = logs[writer]
                let writerSeed = generator.next()
                return BackgroundThread(name: "cut-writer-\(writer)") {
                    Self.write(store: store, generation: generation, writer: writer, log: log, stop: stop, seed: writerSeed)
                }
            }
            // Merges and cuts both touch the directory outside the backend: never at once.
            let directoryMutex = LockedCounter()
            let merger = merges ? BackgroundThread(name: "cut-merger") {
                while !stop.isSet {
                    usleep(3000)
                    directoryMutex.withLock { merges in
                        if (try? store.merge()) != nil { merges += 1 }
                    }
                }
            } : nil
            var guaranteed = [Int](repeating: 0, count: writers)
            if syncPoints {
                for _ in 0..<Int.random(in: 1...4, using: &generator) {
                    usleep(UInt32.random(in: 1000...15_000, using: &generator))
                    let acknowledged = logs.map(\.acknowledged)
                    try store.sync()
                    guaranteed = acknowledged
                    figures.syncPoints += 1
                }
            }
            usleep(UInt32.random(in: 1000...60_000, using: &generator))
            if !syncPoints { guaranteed = logs.map(\.acknowledged) }
            let tearing = generation % 2 == 1
            let image = directoryMutex.withLock { _ in holder.current.cut(tearing: tearing, using: &generator) }
            stop.set()
            for thread in threads { thread.join() }
            merger?.join()
            figures.merges += directoryMutex.withLock { $0 }
            let counters = holder.current.counters
            figures.backendSyncs += counters.syncs
            figures.bytesDropped += counters.bytesDropped
            figures.sectorsKept += counters.sectorsKept
            figures.cuts += 1
            try store.close()

            // Open the image as the next generation's store and check it.
            let recovered = try Store(directory: image.path, options: options)
            for (key, present) in known {
                let value = try recovered.get(key.utf8)
                if present {
                    #expect(value == powerCutValue(key, large: largeKeys.contains(key)), "generation \(generation): earlier key \(key) lost or changed")
                } else {
                    #expect(value == nil, "generation \(generation): earlier deleted or lost key \(key) came back")
                }
                figures.keysChecked += 1
            }
            for writer in 0..<writers {
                let operations = logs[writer].state.withLock { $0.operations }
                figures.operationsIssued += operations.count
                figures.acknowledgedChecked += guaranteed[writer]
                try verify(operations, guaranteed: guaranteed[writer], in: recovered, generation: generation, writer: writer, figures: &figures)
                for operation in operations where operation.kind != .delete {
                    for key in operation.keys {
                        known[key] = try recovered.get(key.utf8) != nil
                        if operation.large { largeKeys.insert(key) }
                    }
                }
            }
            try recovered.close()
            let report = try Store.verify(directory: image.path)
            #expect(report.isHealthy, "generation \(generation): the recovered store does not verify: \(report)")
            directory = image
        }
        print("power cut (\(options.durability), \(options.ioBackend), \(writers) writers): \(figures.cuts) cuts, \(figures.operationsIssued) writes issued, \(figures.acknowledgedChecked) acknowledged writes checked, \(figures.keysChecked) older keys rechecked, \(figures.syncPoints) sync points, \(figures.merges) merges, \(figures.backendSyncs) fdatasyncs seen, \(figures.bytesDropped) unsynced bytes dropped, \(figures.sectorsKept) torn sectors kept, lost 0 (unless reported above)")
        return figures
    }

    /// The image must hold a prefix of the writer's operations at least `guaranteed` long.
    private func verify(
        _ operations: [Operation], guaranteed: Int, in store: Store, generation: Int, writer: Int, figures: inout PowerCutFigures
    ) throws {
        var deletedAt: [String: Int] = [:]
        for (index, operation) in operations.enumerated() where operation.kind == .delete {
            deletedAt[operation.keys[0]] = index
        }
        var present: [[Bool]] = []
        var lastVisible = -1
        for (index, operation) in operations.enumerated() {
            var row: [Bool] = []
            for key in operation.keys {
                let value = try store.get(key.utf8)
                if operation.kind != .delete, let value {
                    #expect(value == powerCutValue(key, large: operation.large), "generation \(generation) writer \(writer): \(key) has a wrong value")
                }
                row.append(value != nil)
            }
            present.append(row)
            if operation.kind == .batch {
                #expect(row.allSatisfy { $0 } || row.allSatisfy { !$0 }, "generation \(generation) writer \(writer): batch \(operation.keys) applied in part: \(row)")
            }
            if operation.kind != .delete && row.contains(true) { lastVisible = index }
        }
        // Every operation before `prefix` must have reached the disk.
        let prefix = max(guaranteed, lastVisible)
        for index in 0..<min(prefix, operations.count) {
            let operation = operations[index]
            switch operation.kind {
            case .put, .batch:
                for (position, key) in operation.keys.enumerated() {
                    if let deletion = deletedAt[key] {
                        if deletion < prefix { #expect(!present[index][position], "generation \(generation) writer \(writer): \(key) deleted at \(deletion) (< \(prefix)) is back") }
                    } else {
                        #expect(present[index][position], "generation \(generation) writer \(writer): \(key) (operation \(index), \(index < guaranteed ? "acknowledged" : "before a surviving write")) lost; guaranteed \(guaranteed), last surviving \(lastVisible)")
                    }
                }
            case .delete:
                #expect(!present[index][0], "generation \(generation) writer \(writer): deletion of \(operation.keys[0]) (operation \(index)) lost")
            }
        }
    }

    /// A writer thread: unique keys, batches, large values (rotations) and deletions of its
    /// own earlier keys, until told to stop.
    private static func write(store: Store, generation: Int, writer: Int, log: WriterLog, stop: StopFlag, seed: UInt64) {
        var generator = SplitMix(seed: seed)
        var deletable: [String] = []
        var batch = WriteBatch()
        for index in 0..<operationsPerWriterMax {
            if stop.isSet { break }
            let roll = Int.random(in: 0..<20, using: &generator)
            let operation: Operation
            switch roll {
            case 0..<3 where !deletable.isEmpty:
                let key = deletable.remove(at: Int.random(in: 0..<deletable.count, using: &generator))
                operation = Operation(kind: .delete, keys: [key], large: false)
            case 3..<7:
                let keys = (0..<Int.random(in: 2...6, using: &generator)).map { "g\(generation)-w\(writer)-\(index)-b\($0)" }
                operation = Operation(kind: .batch, keys: keys, large: false)
            default:
                operation = Operation(kind: .put, keys: ["g\(generation)-w\(writer)-\(index)"], large: roll == 19)
            }
            log.state.withLock { $0.operations.append(operation) }
            do {
                switch operation.kind {
                case .put:
                    try store.put(operation.keys[0].utf8, powerCutValue(operation.keys[0], large: operation.large))
                    if !operation.large { deletable.append(operation.keys[0]) }
                case .batch:
                    batch.removeAll()
                    for key in operation.keys { batch.put(key.utf8, powerCutValue(key)) }
                    try store.write(batch)
                case .delete:
                    let existed = try store.delete(operation.keys[0].utf8)
                    #expect(existed, "deleting \(operation.keys[0]): it should exist")
                }
            } catch {
                Issue.record("writer \(writer): \(operation.kind) failed: \(error)")
                return
            }
            log.state.withLock { $0.acknowledged += 1 }
        }
    }
}

/// A flag one thread raises and others poll.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}

/// A counter behind a lock, whose lock also serves to exclude two activities from each other.
final class LockedCounter: Sendable {
    private let lock = TestLock<Int>(0)
    func withLock<Result>(_ body: (inout Int) -> Result) -> Result {
        lock.withLock { body(&$0) }
    }
}
