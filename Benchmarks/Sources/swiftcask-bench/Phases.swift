import CMallocCounter
import Dispatch
import Swiftcask
import Synchronization

/// Allocations per operation over a stretch of operations: in every thread (what the process
/// paid, committer included) and in the calling thread alone.
struct MallocProbe {
    var name: String
    var operations: Int
    var allocations: UInt64
    var threadAllocations: UInt64

    var perOperation: Double { Double(allocations) / Double(operations) }
    var threadPerOperation: Double { Double(threadAllocations) / Double(operations) }

    static func measure(_ name: String, operations: Int, _ body: () throws -> Void) rethrows -> MallocProbe {
        let before = swiftcask_allocations()
        let threadBefore = swiftcask_thread_allocations()
        try body()
        return MallocProbe(name: name, operations: operations,
                           allocations: swiftcask_allocations() - before,
                           threadAllocations: swiftcask_thread_allocations() - threadBefore)
    }
}

/// What a store looked like after a phase.
struct StoreFacts {
    var keys: Int
    var indexBytes: Int
    var diskBytes: Int
    var segments: Int
    var syncs: UInt64
    var groups: UInt64
    var backend: String
}

/// The figures of one run.
struct RunFigures {
    var fill: PhaseRun?
    var durable: PhaseRun?
    var pipelined: PhaseRun?
    var gets: PhaseRun?
    var prefetchedGets: PhaseRun?
    /// The random gets split over several threads reading at once.
    var parallelGets: PhaseRun?
    var borrows: PhaseRun?
    var lends: PhaseRun?
    var reopen: PhaseRun?
    /// Reopen after deleting the hint files: every segment scanned and CRC-checked.
    var reopenScan: PhaseRun?
    /// CPU seconds (all threads) of the two reopens.
    var reopenCPUSeconds: Double?
    var reopenScanCPUSeconds: Double?
    /// One merge of a store where every key was written twice: operations are the live
    /// records copied.
    var merge: PhaseRun?
    /// CPU seconds (all threads) of that merge.
    var mergeCPUSeconds: Double?
    var afterFill: StoreFacts?
    var afterReopen: StoreFacts?
    var afterDurable: StoreFacts?
    var afterPipelined: StoreFacts?
    var residentAfterReopen: ProcessMemory?
    var diskUsage: Int?
    var mallocs: [MallocProbe] = []
}

/// Runs the phases against fresh stores in `directory`.
struct PhaseRunner {
    let options: BenchOptions
    let workload: Workload
    let directory: String
    /// Sum of bytes read, so no read loop can be optimised away.
    var checksum = 0

    var payloadBytesPerOperation: Int { Workload.keyBytes + Workload.valueBytes }

    func storeOptions(durability: Durability) -> StoreOptions {
        Self.storeOptions(options, durability: durability)
    }

    static func storeOptions(_ options: BenchOptions, durability: Durability) -> StoreOptions {
        var storeOptions = StoreOptions()
        storeOptions.durability = durability
        storeOptions.ioBackend = options.backend
        if let mebibytes = options.segmentMebibytes { storeOptions.segmentBytes = mebibytes << 20 }
        storeOptions.logger.logLevel = .warning
        return storeOptions
    }

    static func facts(_ store: Store) -> StoreFacts {
        let statistics = store.statistics
        return StoreFacts(keys: statistics.keys, indexBytes: statistics.indexBytes, diskBytes: statistics.diskBytes,
                          segments: statistics.segmentCount, syncs: statistics.syncs,
                          groups: statistics.groupsCommitted, backend: statistics.ioBackendName)
    }

    /// Fill with no per-operation sync (durability `.no`), then one `sync()`, all timed.
    func fill(_ store: Store, keyCount: Int) throws -> PhaseRun {
        var samples = LatencySamples(capacity: keyCount / options.latencySampleEvery + 1)
        let every = options.latencySampleEvery
        let start = monotonicNanos()
        for index in 0..<keyCount {
            if index % every == 0 {
                let before = monotonicNanos()
                try store.put(key: workload.key(index), value: workload.value(index))
                samples.record(monotonicNanos() - before)
            } else {
                try store.put(key: workload.key(index), value: workload.value(index))
            }
        }
        try store.sync()
        let seconds = Double(monotonicNanos() - start) / 1e9
        let percentiles = samples.percentileMicros([0.5, 0.99])
        return PhaseRun(operations: keyCount, seconds: seconds, payloadBytes: keyCount * payloadBytesPerOperation,
                        p50Micros: percentiles[0], p99Micros: percentiles[1])
    }

    /// Durable fill: batches of `batchSize` puts, each durable before the next starts.
    func durableFill(_ store: Store, keyCount: Int, durability: Durability) throws -> PhaseRun {
        var samples = LatencySamples(capacity: keyCount / options.batchSize + 1)
        var batch = WriteBatch()
        let start = monotonicNanos()
        var first = 0
        while first < keyCount {
            batch.removeAll()
            let end = min(keyCount, first + options.batchSize)
            for index in first..<end { batch.put(workload.key(index), workload.value(index)) }
            let before = monotonicNanos()
            try store.write(batch)
            if durability != .always { try store.sync() }
            samples.record(monotonicNanos() - before)
            first = end
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        let percentiles = samples.percentileMicros([0.5, 0.99])
        return PhaseRun(operations: keyCount, seconds: seconds, payloadBytes: keyCount * payloadBytesPerOperation,
                        p50Micros: percentiles[0], p99Micros: percentiles[1], latencyUnit: "batch")
    }

    /// Durable fill with one writer keeping up to `batchesInFlight` batches in flight:
    /// `writeDeferred(batch)`, then `whenDurable` releases the batch's slot after the covering
    /// fdatasync (durability `.always`). Every batch is durable before the phase ends; group
    /// commit lets one fdatasync cover several batches. Latency: write to durable, per batch.
    func pipelinedDurableFill(_ store: Store, keyCount: Int) throws -> PhaseRun {
        let slots = DispatchSemaphore(value: options.batchesInFlight)
        let tracker = DurabilityTracker(capacity: keyCount / options.batchSize + 1)
        var batch = WriteBatch()
        let start = monotonicNanos()
        var first = 0
        while first < keyCount {
            batch.removeAll()
            let end = min(keyCount, first + options.batchSize)
            for index in first..<end { batch.put(workload.key(index), workload.value(index)) }
            slots.wait()
            let submitted = monotonicNanos()
            let result = try store.writeDeferred(batch)
            store.whenDurable(result.ticket) { outcome in
                tracker.finish(submittedNanos: submitted, failed: (try? outcome.get()) == nil)
                slots.signal()
            }
            first = end
        }
        for _ in 0..<options.batchesInFlight { slots.wait() }
        let seconds = Double(monotonicNanos() - start) / 1e9
        // libdispatch traps when a semaphore is freed below its initial value.
        for _ in 0..<options.batchesInFlight { slots.signal() }
        let (latencies, failures) = tracker.results()
        guard failures == 0 else { throw BenchFailure("\(failures) pipelined batches failed to become durable") }
        let percentiles = latencies.percentileMicros([0.5, 0.99])
        return PhaseRun(operations: keyCount, seconds: seconds, payloadBytes: keyCount * payloadBytesPerOperation,
                        p50Micros: percentiles[0], p99Micros: percentiles[1], latencyUnit: "batch")
    }

    /// One merge of a store in which every key was written twice (so half the bytes are dead),
    /// automatic merges off; only `merge()` is timed. Returns the run and its CPU seconds.
    func merge(_ store: Store, keyCount: Int) throws -> (PhaseRun, cpuSeconds: Double) {
        for _ in 0..<2 {
            for index in 0..<keyCount { try store.put(key: workload.key(index), value: workload.value(index)) }
        }
        try store.sync()
        let cpuStart = processCPUSeconds()
        let start = monotonicNanos()
        let report = try store.merge()
        let seconds = Double(monotonicNanos() - start) / 1e9
        let cpuSeconds = processCPUSeconds() - cpuStart
        // Records still in the active segment are not merged: at most `keyCount` are copied.
        guard report.recordsCopied > keyCount / 2, report.recordsCopied <= keyCount, store.count == keyCount else {
            throw BenchFailure("merge copied \(report.recordsCopied) records and left \(store.count) keys; expected \(keyCount) keys")
        }
        return (PhaseRun(operations: report.recordsCopied, seconds: seconds, payloadBytes: report.bytesAfter), cpuSeconds)
    }

    /// Random gets that copy the value out (`get(key:)`), in the workload's random order
    /// (restricted to keys below `keySpace` for the warm-up, which fills only some keys).
    mutating func gets(_ store: Store, count: Int, keySpace: Int? = nil) throws -> PhaseRun {
        let keySpace = keySpace ?? workload.keyCount
        var samples = LatencySamples(capacity: count / options.latencySampleEvery + 1)
        let every = options.latencySampleEvery
        var found = 0
        let start = monotonicNanos()
        for step in 0..<count {
            let key = keySpace == workload.keyCount ? workload.readKey(step) : workload.key(Int(workload.readOrder[step % workload.keyCount]) % keySpace)
            if step % every == 0 {
                let before = monotonicNanos()
                let value = try store.get(key: key)
                samples.record(monotonicNanos() - before)
                found &+= value?.count ?? 0
            } else {
                found &+= try store.get(key: key)?.count ?? 0
            }
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        guard found == count * Workload.valueBytes else { throw BenchFailure("gets found \(found / Workload.valueBytes) of \(count) values") }
        checksum &+= found
        let percentiles = samples.percentileMicros([0.5, 0.99])
        return PhaseRun(operations: count, seconds: seconds, payloadBytes: count * payloadBytesPerOperation,
                        p50Micros: percentiles[0], p99Micros: percentiles[1])
    }

    /// The same random gets split over `threads` threads reading at once (thread t does reads
    /// t, t + threads, …): how the reads of several threads add up. Wall-clock time; no latency
    /// samples.
    mutating func parallelGets(_ store: Store, count: Int, threads: Int) throws -> PhaseRun {
        let workload = self.workload
        let found = Atomic<Int>(0)
        let start = monotonicNanos()
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var bytes = 0
            for step in stride(from: thread, to: count, by: threads) {
                bytes &+= (try? store.get(key: workload.readKey(step)))??.count ?? 0
            }
            found.wrappingAdd(bytes, ordering: .relaxed)
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        let total = found.load(ordering: .relaxed)
        guard total == count * Workload.valueBytes else { throw BenchFailure("parallel gets found \(total / Workload.valueBytes) of \(count) values") }
        checksum &+= total
        return PhaseRun(operations: count, seconds: seconds, payloadBytes: count * payloadBytesPerOperation, p50Micros: nil, p99Micros: nil)
    }

    /// The same random gets, but the caller hands the store each group of
    /// `prefetchGroupKeys` keys first (`Store.prefetch(keys:)`), as the server does for a
    /// pipeline: the index and record misses of a group overlap instead of following each other.
    mutating func prefetchedGets(_ store: Store, count: Int) throws -> PhaseRun {
        let group = BenchOptions.prefetchGroupKeys
        var keys = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: group)
        var found = 0
        let start = monotonicNanos()
        var step = 0
        while step < count {
            let size = min(group, count - step)
            for index in 0..<size { keys[index] = workload.readKey(step + index) }
            keys.withUnsafeBufferPointer { store.prefetch(keys: UnsafeBufferPointer(rebasing: $0[0..<size])) }
            for index in 0..<size { found &+= try store.get(key: keys[index])?.count ?? 0 }
            step += size
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        guard found == count * Workload.valueBytes else { throw BenchFailure("prefetched gets found \(found / Workload.valueBytes) of \(count) values") }
        checksum &+= found
        return PhaseRun(operations: count, seconds: seconds, payloadBytes: count * payloadBytesPerOperation, p50Micros: nil, p99Micros: nil)
    }

    /// The two zero-copy reads of the engine's API.
    enum ZeroCopyRead: String {
        /// `withValue`: the value is lent from the map after the store lock is released (the
        /// segment is retained meanwhile), so the body may call the store.
        case borrow
        /// `withValueLocked`: the value is lent with the store lock held; the body only copies.
        case lend
    }

    /// Random zero-copy reads: the body reads one byte of the lent value.
    mutating func zeroCopyReads(_ store: Store, _ read: ZeroCopyRead, count: Int, keySpace: Int? = nil) throws -> PhaseRun {
        // The API is chosen once, outside the loop: each loop is specialised for its read, with
        // no dispatch and no closure context per read (a nested function that switched per read
        // cost ~110 instructions per read, callgrind).
        switch read {
        case .borrow:
            return try timedReads(read, count: count, keySpace: keySpace) { key, touched in
                try store.withValue(forKey: key) { value -> Int in touched &+= Int(value[0]); return value.count } ?? 0
            }
        case .lend:
            return try timedReads(read, count: count, keySpace: keySpace) { key, touched in
                try store.withValueLocked(forKey: key) { value -> Int in touched &+= Int(value[0]); return value.count } ?? 0
            }
        }
    }

    /// Runs `readOne` (which returns the value's length and adds its first byte to `touched`)
    /// over `count` keys in random order, timing every `latencySampleEvery`-th read.
    @inline(__always)
    private mutating func timedReads(
        _ read: ZeroCopyRead, count: Int, keySpace: Int?, _ readOne: (UnsafeRawBufferPointer, inout Int) throws -> Int
    ) throws -> PhaseRun {
        let keySpace = keySpace ?? workload.keyCount
        var samples = LatencySamples(capacity: count / options.latencySampleEvery + 1)
        let every = options.latencySampleEvery
        var found = 0
        var touched = 0
        let start = monotonicNanos()
        for step in 0..<count {
            let key = keySpace == workload.keyCount ? workload.readKey(step) : workload.key(Int(workload.readOrder[step % workload.keyCount]) % keySpace)
            if step % every == 0 {
                let before = monotonicNanos()
                let length = try readOne(key, &touched)
                samples.record(monotonicNanos() - before)
                found &+= length
            } else {
                found &+= try readOne(key, &touched)
            }
        }
        let seconds = Double(monotonicNanos() - start) / 1e9
        guard found == count * Workload.valueBytes else { throw BenchFailure("\(read.rawValue)s found \(found / Workload.valueBytes) of \(count) values") }
        checksum &+= found &+ touched
        let percentiles = samples.percentileMicros([0.5, 0.99])
        return PhaseRun(operations: count, seconds: seconds, payloadBytes: count * payloadBytesPerOperation,
                        p50Micros: percentiles[0], p99Micros: percentiles[1])
    }

    /// Steady-state allocation counts on a filled store: each probe runs once to warm up
    /// (pools, index already sized, code paths taken) and is counted on its second pass.
    mutating func mallocProbes(_ store: Store, durableStore: Store?) throws -> [MallocProbe] {
        let operations = min(options.mallocOperations, workload.keyCount)
        var probes: [MallocProbe] = []
        probes.reserveCapacity(8)
        var sink = 0
        for pass in 0..<2 {
            let put = try MallocProbe.measure("put (overwrite, durability no)", operations: operations) {
                for step in 0..<operations {
                    let index = Int(workload.readOrder[step])
                    try store.put(key: workload.key(index), value: workload.value(index, round: pass + 1))
                }
            }
            let get = try MallocProbe.measure("get (copy out)", operations: operations) {
                for step in 0..<operations {
                    sink &+= try store.get(key: workload.readKey(step))?.count ?? 0
                }
            }
            let borrow = try MallocProbe.measure("withValue (borrow)", operations: operations) {
                for step in 0..<operations {
                    sink &+= try store.withValue(forKey: workload.readKey(step)) { $0.count } ?? 0
                }
            }
            let lend = try MallocProbe.measure("withValueLocked (lend)", operations: operations) {
                for step in 0..<operations {
                    sink &+= try store.withValueLocked(forKey: workload.readKey(step)) { $0.count } ?? 0
                }
            }
            let contains = MallocProbe.measure("contains", operations: operations) {
                for step in 0..<operations where store.contains(workload.readKey(step)) { sink &+= 1 }
            }
            var batch = WriteBatch()
            batch.put(workload.key(0), workload.value(0))
            batch.removeAll()
            let batchSize = options.batchSize
            let batched = try MallocProbe.measure("put in WriteBatch of \(batchSize) (durability no)", operations: operations / batchSize * batchSize) {
                for batchStart in stride(from: 0, to: operations / batchSize * batchSize, by: batchSize) {
                    batch.removeAll()
                    for step in batchStart..<batchStart + batchSize {
                        let index = Int(workload.readOrder[step])
                        batch.put(workload.key(index), workload.value(index, round: pass + 3))
                    }
                    try store.write(batch)
                }
            }
            var durable: MallocProbe?
            if let durableStore {
                let durableOperations = min(operations, 20_000) / batchSize * batchSize
                durable = try MallocProbe.measure("put in durable WriteBatch of \(batchSize) (\(options.durability))", operations: durableOperations) {
                    for batchStart in stride(from: 0, to: durableOperations, by: batchSize) {
                        batch.removeAll()
                        for step in batchStart..<batchStart + batchSize {
                            let index = Int(workload.readOrder[step])
                            batch.put(workload.key(index), workload.value(index, round: pass + 5))
                        }
                        try durableStore.write(batch)
                        if options.durability != .always { try durableStore.sync() }
                    }
                }
            }
            if pass == 1 {
                probes += [put, get, borrow, lend, contains, batched]
                if let durable { probes.append(durable) }
            }
        }
        checksum &+= sink
        return probes
    }
}

/// Collects durability callbacks from the committer thread.
final class DurabilityTracker: Sendable {
    private let state: Mutex<(samples: LatencySamples, failures: Int)>

    init(capacity: Int) { state = Mutex((LatencySamples(capacity: capacity), 0)) }

    func finish(submittedNanos: UInt64, failed: Bool) {
        let now = monotonicNanos()
        state.withLock { state in
            state.samples.record(now - submittedNanos)
            if failed { state.failures += 1 }
        }
    }

    func results() -> (LatencySamples, Int) { state.withLock { ($0.samples, $0.failures) } }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
