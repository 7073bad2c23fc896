// swiftcask-torture: the embedded engine's crash-torture worker.
//
//   swiftcask-torture run --dir DIR --prefix P [--threads N] [--segment-bytes B]
//                         [--merge-interval-ms M] [--seed S] [--backend automatic|io_uring|posix]
//       Opens DIR with durability `always` and writes until killed (or --ops-max per thread).
//       Each thread writes unique keys `P-t<thread>-<n>` and batches of 2-6 keys
//       `P-t<thread>-<n>-b<i>`; overwrites of a small set of `hot-*` keys make dead bytes for the
//       merges a background thread requests every M ms. One line per event on stdout, each
//       written with a single write(2) (so it reaches the pipe whole before the next write):
//         b <batch-id> <count>   a batch is about to be written (its keys: <batch-id>-b<i>)
//         P <key>                a put was acknowledged (durable)
//         B <batch-id> <count>   a batch was acknowledged (durable)
//
//   swiftcask-torture verify --dir DIR --expected FILE
//       Opens DIR (recovery runs), checks every acknowledged put and batch of FILE (lines as
//       above) is present with its value, every announced batch is all-or-nothing, then closes
//       and runs the offline verifier. Prints one summary line; exit status 1 on any loss.
import Glibc
import Logging
import Swiftcask

/// The value a key is written with: length and bytes follow from the key, so the verifier
/// needs nothing else. One key in 64 gets a value of several KiB (rotations come sooner).
func tortureValue(for key: Substring) -> [UInt8] {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    let length = hash % 64 == 0 ? 4096 + Int(hash % 12_288) : Int(hash % 300)
    return (0..<length).map { UInt8(truncatingIfNeeded: (hash &>> UInt64($0 % 56)) &+ UInt64($0)) }
}

func fail(_ message: String) -> Never {
    var line = "swiftcask-torture: \(message)\n"
    line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    exit(2)
}

/// One line to stdout in one write(2), retried until whole.
func emit(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in
        var written = 0
        while written < bytes.count {
            let result = Glibc.write(1, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                if errno == EINTR { continue }
                exit(3)  // stdout closed: the harness is gone
            }
            written += result
        }
    }
}

struct Arguments {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) {
        var iterator = arguments.makeIterator()
        while let name = iterator.next() {
            guard name.hasPrefix("--"), let value = iterator.next() else { fail("expected --name value pairs, got \(name)") }
            values[String(name.dropFirst(2))] = value
        }
    }

    func string(_ name: String) -> String {
        guard let value = values[name] else { fail("--\(name) is required") }
        return value
    }

    func integer(_ name: String, default fallback: Int) -> Int {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text) else { fail("--\(name) must be an integer, got \(text)") }
        return value
    }
}

/// A seeded SplitMix64.
struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A joinable pthread.
final class Worker: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, { context in
            let worker = Unmanaged<Worker>.fromOpaque(context!).takeRetainedValue()
            worker.body()
            return nil
        }, context)
        if result != 0 { fail("pthread_create failed: \(result)") }
    }

    func join() { pthread_join(thread, nil) }
}

func options(_ arguments: Arguments) -> StoreOptions {
    var options = StoreOptions()
    options.durability = .always
    options.logger.logLevel = .warning
    options.segmentBytes = arguments.integer("segment-bytes", default: 1 << 20)
    options.writeBufferBytes = min(options.writeBufferBytes, options.segmentBytes)
    options.mergeTriggerDeadBytes = 256 * 1024
    options.mergeBytesPerSecondMax = 0
    if let backend = arguments.values["backend"] {
        guard let choice = IOBackendChoice(rawValue: backend) else { fail("unknown --backend \(backend)") }
        options.ioBackend = choice
    }
    return options
}

func run(_ arguments: Arguments) {
    let directory = arguments.string("dir")
    let prefix = arguments.string("prefix")
    let threads = arguments.integer("threads", default: 4)
    let operationsMax = arguments.integer("ops-max", default: 10_000_000)
    let mergeIntervalMillis = arguments.integer("merge-interval-ms", default: 200)
    let seed = UInt64(arguments.integer("seed", default: Int(getpid())))
    let store: Store
    do { store = try Store(directory: directory, options: options(arguments)) } catch { fail("open failed: \(error)") }
    emit("# opened \(directory) with \(store.count) keys, backend \(store.ioBackendName)")
    let workers = (0..<threads).map { thread in
        Worker {
            var generator = Generator(state: seed &+ UInt64(thread) &* 0x1_0000_0001)
            var batch = WriteBatch()
            for index in 0..<operationsMax {
                let roll = Int.random(in: 0..<10, using: &generator)
                do {
                    if roll < 2 {
                        let id = "\(prefix)-t\(thread)-\(index)"
                        let count = Int.random(in: 2...6, using: &generator)
                        batch.removeAll()
                        for member in 0..<count {
                            let key = "\(id)-b\(member)"
                            batch.put(key.utf8, tortureValue(for: Substring(key)))
                        }
                        emit("b \(id) \(count)")
                        try store.write(batch)
                        emit("B \(id) \(count)")
                    } else if roll < 4 {
                        // Overwritten again and again: dead bytes for the merges. Not verified.
                        let key = "hot-\(Int.random(in: 0..<64, using: &generator))"
                        try store.put(key.utf8, tortureValue(for: Substring("\(key)-\(index)")))
                    } else {
                        let key = "\(prefix)-t\(thread)-\(index)"
                        try store.put(key.utf8, tortureValue(for: Substring(key)))
                        emit("P \(key)")
                    }
                } catch {
                    fail("thread \(thread): write failed: \(error)")
                }
            }
        }
    }
    let merger = mergeIntervalMillis > 0 ? Worker {
        while true {
            usleep(UInt32(mergeIntervalMillis) * 1000)
            store.requestMerge()
        }
    } : nil
    for worker in workers { worker.join() }
    _ = merger
    do { try store.close() } catch { fail("close failed: \(error)") }
    emit("# done")
    exit(0)
}

func verify(_ arguments: Arguments) {
    let directory = arguments.string("dir")
    let expectedPath = arguments.string("expected")
    guard let file = fopen(expectedPath, "r") else { fail("cannot open \(expectedPath)") }
    var puts: [String] = []
    var announced: [String: Int] = [:]
    var acknowledgedBatches: Set<String> = []
    var lineBuffer: UnsafeMutablePointer<CChar>?
    var capacity = 0
    while getline(&lineBuffer, &capacity, file) > 0 {
        let line = String(cString: lineBuffer!).split(separator: "\n").first.map(String.init) ?? ""
        let fields = line.split(separator: " ")
        guard fields.count >= 2 else { continue }
        switch fields[0] {
        case "P": puts.append(String(fields[1]))
        case "b": if fields.count == 3, let count = Int(fields[2]) { announced[String(fields[1])] = count }
        case "B":
            if fields.count == 3, let count = Int(fields[2]) {
                announced[String(fields[1])] = count
                acknowledgedBatches.insert(String(fields[1]))
            }
        default: continue
        }
    }
    free(lineBuffer)
    fclose(file)

    var options = options(arguments)
    options.autoMerge = false
    let store: Store
    do { store = try Store(directory: directory, options: options) } catch { fail("open after crash failed: \(error)") }
    var lost: [String] = []
    var damaged: [String] = []
    var partialBatches: [String] = []
    var keysChecked = 0
    func check(_ key: String) -> Bool? {
        keysChecked += 1
        do {
            guard let value = try store.get(key.utf8) else { return nil }
            if value != tortureValue(for: Substring(key)) { damaged.append(key) }
            return true
        } catch { fail("get \(key) failed: \(error)") }
    }
    for key in puts where check(key) == nil { lost.append(key) }
    var unacknowledgedBatchesApplied = 0
    for (id, count) in announced {
        let present = (0..<count).map { check("\(id)-b\($0)") != nil }
        if acknowledgedBatches.contains(id) {
            for (member, isPresent) in present.enumerated() where !isPresent { lost.append("\(id)-b\(member)") }
        } else if present.contains(true) {
            if present.contains(false) { partialBatches.append(id) } else { unacknowledgedBatchesApplied += 1 }
        }
    }
    let keys = store.count
    do { try store.close() } catch { fail("close failed: \(error)") }
    let report: VerificationReport
    do { report = try Store.verify(directory: directory) } catch { fail("offline verify failed: \(error)") }
    let unhealthy = report.segments.filter { !$0.isHealthy }.map(\.path)
    emit("verified puts=\(puts.count) batches=\(acknowledgedBatches.count) keys_checked=\(keysChecked) store_keys=\(keys) lost=\(lost.count) damaged=\(damaged.count) partial_batches=\(partialBatches.count) unacknowledged_batches_applied=\(unacknowledgedBatchesApplied) unhealthy_segments=\(unhealthy.count)")
    for key in lost.prefix(20) { emit("LOST \(key)") }
    for key in damaged.prefix(20) { emit("DAMAGED \(key)") }
    for id in partialBatches.prefix(20) { emit("PARTIAL \(id)") }
    for path in unhealthy.prefix(20) { emit("UNHEALTHY \(path)") }
    exit(lost.isEmpty && damaged.isEmpty && partialBatches.isEmpty && unhealthy.isEmpty ? 0 : 1)
}

let commandLine = CommandLine.arguments
guard commandLine.count >= 2 else { fail("usage: swiftcask-torture run|verify --dir DIR ...") }
switch commandLine[1] {
case "run": run(Arguments(commandLine.dropFirst(2)))
case "verify": verify(Arguments(commandLine.dropFirst(2)))
default: fail("unknown command \(commandLine[1]); use run or verify")
}
