// package-benchmark suite for the engine's and the server's hot paths. `make bench-check` runs
// it against the committed Thresholds/ (malloc counts only: a new allocation on one of these
// paths fails the check); wall clock is printed, never gated. The throughput comparisons live in
// `swiftcask-bench` and perf/.
import Benchmark
import Foundation
import NIOCore
@_spi(Benchmarks) import Swiftcask
@_spi(Benchmarks) import SwiftcaskServer

/// Keys preloaded before the measured loops: reads and overwrites hit existing keys.
let preloadedKeys = 100_000
/// Operations in one `WriteBatch` of the batch benchmark, as in the durable fill.
let batchOperations = 100
/// Commands in the pipelined RESP read of the decode benchmark.
let pipelinedCommands = 16

/// 16-byte keys and 100-byte values, as the peers workload uses.
func key(_ index: Int) -> [UInt8] {
    Array(String(format: "key:%012d", index).utf8)
}

let value = [UInt8](repeating: 0x61, count: 100)

/// A store in a fresh temporary directory with `preloadedKeys` keys, durability `.no` (the
/// measured paths are encoding and indexing, not the disk).
final class Fixture {
    let directory: String
    let store: Store
    let keys: [[UInt8]]
    /// Reused by the batch benchmark, as a writer reuses one batch: its storage is kept.
    var batch = WriteBatch()

    init() throws {
        directory = NSTemporaryDirectory() + "swiftcask-engine-benchmarks-" + UUID().uuidString
        var options = StoreOptions()
        options.durability = .no
        options.autoMerge = false
        options.logger.logLevel = .warning
        store = try Store(directory: directory, options: options)
        keys = (0..<preloadedKeys).map(key)
        for key in keys { try store.put(key, value) }
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The store of the engine benchmarks: made by each benchmark's setup, dropped by its teardown
/// (the runner calls them around the measured iterations, on one thread).
nonisolated(unsafe) var fixture: Fixture!

let benchmarks: @Sendable () -> Void = {
    // A thousand operations per measured iteration: per-operation costs are tens of ns.
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 1000
    )
    let makeFixture: Benchmark.BenchmarkSetupHook = { fixture = try Fixture() }
    let dropFixture: Benchmark.BenchmarkTeardownHook = { fixture = nil }

    Benchmark("put-overwrite", closure: { benchmark in
        for iteration in benchmark.scaledIterations {
            try fixture.store.put(fixture.keys[iteration % preloadedKeys], value)
        }
    }, setup: makeFixture, teardown: dropFixture)

    Benchmark("get-copy", closure: { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(try fixture.store.get(fixture.keys[(iteration &* 7919) % preloadedKeys]))
        }
    }, setup: makeFixture, teardown: dropFixture)

    Benchmark("withValue-borrow", closure: { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(try fixture.store.withValue(forKey: fixture.keys[(iteration &* 7919) % preloadedKeys]) { $0.count })
        }
    }, setup: makeFixture, teardown: dropFixture)

    Benchmark("contains-index-lookup", closure: { benchmark in
        for iteration in benchmark.scaledIterations {
            blackHole(fixture.store.contains(fixture.keys[(iteration &* 7919) % preloadedKeys]))
        }
    }, setup: makeFixture, teardown: dropFixture)

    Benchmark("write-batch-of-100", configuration: .init(
        metrics: [.wallClock, .mallocCountTotal, .throughput], scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 10_000
    ), closure: { benchmark in
        for iteration in benchmark.scaledIterations {
            fixture.batch.removeAll()
            for offset in 0..<batchOperations {
                fixture.batch.put(fixture.keys[(iteration &* batchOperations &+ offset) % preloadedKeys], value)
            }
            try fixture.store.write(fixture.batch)
        }
    }, setup: makeFixture, teardown: dropFixture)

    Benchmark("resp-decode-16-pipelined-sets") { benchmark in
        var pipeline = ByteBuffer()
        for index in 0..<pipelinedCommands {
            let key = key(index)
            pipeline.writeString("*3\r\n$3\r\nSET\r\n$\(key.count)\r\n")
            pipeline.writeBytes(key)
            pipeline.writeString("\r\n$\(value.count)\r\n")
            pipeline.writeBytes(value)
            pipeline.writeString("\r\n")
        }
        var decoder = RESPCommandDecoder()
        var arguments = RESPCommandProbe()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            var input = pipeline
            while var command = try decoder.next(from: &input) {
                blackHole(arguments.load(&command))
            }
        }
        benchmark.stopMeasurement()
    }

    Benchmark("record-encode-decode") { benchmark in
        let key = key(1)
        let length = RecordCodecProbe.recordLength(keyLength: key.count, valueLength: value.count)
        let record = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
        defer { record.deallocate() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            key.withUnsafeBytes { key in
                value.withUnsafeBytes { value in
                    RecordCodecProbe.encodePut(key: key, value: value, into: record.baseAddress!)
                }
            }
            blackHole(RecordCodecProbe.decodedLength(UnsafeRawBufferPointer(record), at: 0))
        }
        benchmark.stopMeasurement()
    }

    Benchmark("resp-encode-ok-integer-bulk") { benchmark in
        var output = ByteBuffer()
        output.reserveCapacity(4096)
        benchmark.startMeasurement()
        for iteration in benchmark.scaledIterations {
            output.clear()
            value.withUnsafeBytes { bulk in
                RESPReplyProbe.writeCommonReplies(into: &output, integer: iteration, bulk: bulk)
            }
            blackHole(output.readableBytes)
        }
        benchmark.stopMeasurement()
    }
}
