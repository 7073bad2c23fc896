import ArgumentParser
import Foundation
import Swiftcask

/// `swiftcask bench`: a quick embedded workload (puts, then random gets and borrows) in a
/// scratch directory, with a summary table. `make bench` is the full benchmark.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time N puts and N random gets in a scratch store; print ops/s and µs/op.",
        discussion: """
            Runs in a new scratch directory inside --dir (created if missing, removed afterwards), so \
            it measures that file system and never touches the store there. Keys are 16 bytes. For the \
            full benchmark with percentiles and peers, see `make bench` and docs/BENCHMARKS.md.
            """)

    static let keyBytes = 16
    /// Bounds the memory the precomputed keys take (keysMax × keyBytes).
    static let keysMax = 50_000_000
    static let valueBytesMax = 1024 * 1024
    /// Operations between progress-bar updates.
    static let operationsPerProgressStep = 1024

    @OptionGroup var location: StoreLocation
    @Option(help: "Number of keys: N puts, then N gets and N borrows.") var keys = 100_000
    @Option(name: .customLong("value-bytes"), help: "Bytes per value.") var valueBytes = 100
    @Option(help: "Durability mode during the puts: always, everysec or no. The put phase ends with a sync() in every mode.")
    var durability: Durability = .no

    func validate() throws {
        guard (1...Self.keysMax).contains(keys) else { throw ValidationError("--keys must be between 1 and \(Self.keysMax)") }
        guard (0...Self.valueBytesMax).contains(valueBytes) else {
            throw ValidationError("--value-bytes must be between 0 and \(Self.valueBytesMax)")
        }
    }

    private struct Phase {
        var name: String
        var operations: Int
        var seconds: Double
    }

    func run() throws {
        let scratch = try makeScratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        #if DEBUG
        print("WARNING: debug build; numbers are not representative (build with -c release)")
        #endif
        let keyBytes = Self.makeKeys(keys)
        let value = [UInt8](repeating: UInt8(ascii: "v"), count: valueBytes)
        var order = Array(0..<keys)
        order.shuffle()
        var phases: [Phase] = []
        var store = try StoreLocation.open(scratch, durability: durability)
        print("swiftcask bench: \(Formatting.grouped(keys)) keys of \(Self.keyBytes) bytes, values of \(valueBytes) bytes, durability \(durability.rawValue), io backend \(store.ioBackendName)")
        print("scratch directory: \(scratch)")

        phases.append(try Self.time("put", keys) { index in
            try keyBytes.withUnsafeBytes { keys in
                try value.withUnsafeBytes { value in
                    try store.put(key: Self.key(index, in: keys), value: value)
                }
            }
        } finally: { try store.sync() })
        phases.append(try Self.time("get (copy)", keys) { index in
            let found = try keyBytes.withUnsafeBytes { try store.get(key: Self.key(order[index], in: $0)) }
            guard found?.count == valueBytes else { throw CLIFailure("bench: key \(order[index]) read back wrong") }
        })
        phases.append(try Self.time("withValue (borrow)", keys) { index in
            let length = try keyBytes.withUnsafeBytes { try store.withValue(forKey: Self.key(order[index], in: $0)) { $0.count } }
            guard length == valueBytes else { throw CLIFailure("bench: key \(order[index]) read back wrong") }
        })
        try store.close()
        let openStart = ContinuousClock.now
        store = try StoreLocation.open(scratch, durability: durability)
        phases.append(Phase(name: "reopen (from hints)", operations: store.count, seconds: Self.seconds(since: openStart)))
        try store.close()
        Self.printTable(phases)
    }

    private func makeScratchDirectory() throws -> String {
        try FileManager.default.createDirectory(atPath: location.dir, withIntermediateDirectories: true)
        var template = Array((location.dir + "/swiftcask-bench.XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else {
            throw CLIFailure("cannot create a scratch directory in \(location.dir): \(String(cString: strerror(errno)))")
        }
        return String(cString: created)
    }

    /// Unique 16-character hex keys in a scattered order (a bijective 64-bit mix of the index),
    /// laid out back to back so the timed loops do no formatting.
    static func makeKeys(_ count: Int) -> [UInt8] {
        let hexDigits = Array("0123456789abcdef".utf8)
        var bytes = [UInt8]()
        bytes.reserveCapacity(count * keyBytes)
        for index in 0..<count {
            var mixed = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
            mixed ^= mixed >> 29
            for shift in stride(from: 60, through: 0, by: -4) { bytes.append(hexDigits[Int(mixed >> UInt64(shift) & 0xF)]) }
        }
        return bytes
    }

    static func key(_ index: Int, in keys: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: keys[index * keyBytes..<(index + 1) * keyBytes])
    }

    /// Runs `operation` for 0..<count, then `finally`, all timed, under a progress bar.
    private static func time(
        _ name: String, _ count: Int, _ operation: (Int) throws -> Void, finally: () throws -> Void = {}
    ) throws -> Phase {
        let progress = ProgressBar(name, total: count, unit: " ops")
        defer { progress.finish() }
        let start = ContinuousClock.now
        for index in 0..<count {
            try operation(index)
            if (index + 1) % operationsPerProgressStep == 0 { progress.advance(by: operationsPerProgressStep) }
        }
        try finally()
        return Phase(name: name, operations: count, seconds: seconds(since: start))
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static func printTable(_ phases: [Phase]) {
        let header = ["phase", "ops", "total ms", "ops/s", "µs/op"]
        let rows = phases.map { phase in
            [
                phase.name,
                Formatting.grouped(phase.operations),
                Formatting.fixed(phase.seconds * 1000, digits: 1),
                phase.seconds > 0 ? Formatting.grouped(Int(Double(phase.operations) / phase.seconds)) : "-",
                phase.operations > 0 ? Formatting.fixed(phase.seconds * 1e6 / Double(phase.operations), digits: 3) : "-",
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max()! }
        for row in [header] + rows {
            let cells = row.indices.map { column in
                let padding = String(repeating: " ", count: widths[column] - row[column].count)
                return column == 0 ? row[column] + padding : padding + row[column]
            }
            print(cells.joined(separator: "  "))
        }
    }
}
