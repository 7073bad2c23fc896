import Swiftcask

/// Command-line options of `swiftcask-bench` (parsed by hand: the benchmark has no dependency
/// beyond the engine).
struct BenchOptions {
    /// The workload of issue 2 and MISSION.md: 2M keys of 16 bytes, 100-byte values.
    var keys = 2_000_000
    var runs = 3
    /// Random reads per run; nil means one per key.
    var reads: Int?
    var batchSize = 100
    /// Pipelined durable fill: batches applied with `writeDeferred` whose durability callback
    /// has not fired yet, at most (one writer keeping several batches in flight, as a server does).
    var batchesInFlight = 16
    /// Parent of the fresh per-run directories; the default lives on /tmp's filesystem.
    var parentDirectory = "/tmp"
    var backend: IOBackendChoice = .automatic
    /// Segment size in MiB; nil keeps the engine's default (`StoreOptions.segmentBytes`).
    var segmentMebibytes: Int?
    /// Durability of the durable fill: `.always` waits in `write(batch)` for the covering
    /// fdatasync; `.everysec` / `.no` call `store.sync()` after every batch instead.
    var durability: Durability = .always
    /// Operations measured per malloc-count probe, after a warm-up of the same length.
    var mallocOperations = 100_000
    /// Every n-th operation is timed on its own for the latency percentiles.
    var latencySampleEvery = 8
    /// Threads that share the reads of the parallel phase.
    var readerThreads = 2
    var phases: Set<Phase> = Set(Phase.allCases)
    var csv = false
    /// Exit with status 3 when a steady-state malloc count exceeds its budget (`Report.mallocBudgets`).
    var checkMallocs = false
    var keepFiles = false
    /// Time only the reopen phase on this existing store directory (no fill).
    var existingDirectory: String?
    var warmup = true
    /// Keys per `Store.prefetch(keys:)` call in the prefetched-gets phase (a pipeline's depth).
    static let prefetchGroupKeys = 16

    enum Phase: String, CaseIterable {
        case fill, durable, pipelined, gets, prefetched, parallel, borrows, lends, reopen, mallocs, merge
    }

    static let usage = """
        usage: swiftcask-bench [options]
          --keys N            keys to write (default 2000000; 200000 is the quick mode)
          --runs N            repetitions of every phase; medians are reported (default 3)
          --reads N           random reads per run (default: one per key)
          --batch N           operations per batch in the durable fill (default 100)
          --in-flight N       pipelined durable fill: batches awaiting their fdatasync (default 16)
          --dir PATH          parent of the fresh store directories (default /tmp)
          --backend B         automatic | io_uring | posix (default automatic)
          --segment-mb N      segment size in MiB (default: the engine's, 64)
          --durability D      durable fill: always (write waits for fdatasync) | everysec | no
                              (the last two call store.sync() after every batch); default always
          --phases LIST       comma-separated subset of fill,durable,pipelined,gets,prefetched,parallel,borrows,lends,reopen,mallocs,merge
                      (merge: fill, overwrite every key, then time one merge of the half-dead store;
                       parallel: the random gets split over --reader-threads threads at once)
          --reader-threads N  threads of the parallel phase (default 2)
          --malloc-ops N      operations per malloc-count probe (default 100000)
          --sample-every N    time every N-th operation for percentiles (default 8)
          --csv               machine-readable output: engine,run,metric,value
          --check-mallocs     exit 3 when a steady-state malloc count exceeds its budget
                              (quick gate: --keys 200000 --runs 1 --phases mallocs --check-mallocs)
          --no-warmup         skip the unreported warm-up pass
          --keep              leave the store directories behind
          --open DIR          no fill: time only reopens (hints, then a full scan) of the
                              existing store in DIR (e.g. one left by --keep), --runs times
        """

    static func parse(_ arguments: [String]) throws(UsageError) -> BenchOptions {
        var options = BenchOptions()
        var iterator = arguments.makeIterator()
        func value(_ flag: String) throws(UsageError) -> String {
            guard let next = iterator.next() else { throw UsageError("\(flag) needs a value") }
            return next
        }
        func count(_ flag: String, minimum: Int = 1) throws(UsageError) -> Int {
            let text = try value(flag)
            guard let number = Int(text.replacingUnderscores()), number >= minimum else {
                throw UsageError("\(flag) needs a whole number ≥ \(minimum), got \(text)")
            }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "--keys": options.keys = try count(argument)
            case "--runs": options.runs = try count(argument)
            case "--reads": options.reads = try count(argument)
            case "--batch": options.batchSize = try count(argument)
            case "--in-flight": options.batchesInFlight = try count(argument)
            case "--dir": options.parentDirectory = try value(argument)
            case "--segment-mb": options.segmentMebibytes = try count(argument)
            case "--backend":
                let text = try value(argument)
                guard let choice = IOBackendChoice(rawValue: text) else {
                    throw UsageError("--backend must be one of \(IOBackendChoice.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
                }
                options.backend = choice
            case "--durability":
                let text = try value(argument)
                guard let durability = Durability(rawValue: text) else {
                    throw UsageError("--durability must be one of always, everysec, no, got \(text)")
                }
                options.durability = durability
            case "--phases":
                var phases: Set<Phase> = []
                for name in try value(argument).split(separator: ",") {
                    guard let phase = Phase(rawValue: String(name)) else {
                        throw UsageError("unknown phase \(name); phases: \(Phase.allCases.map(\.rawValue).joined(separator: ","))")
                    }
                    phases.insert(phase)
                }
                options.phases = phases
            case "--malloc-ops": options.mallocOperations = try count(argument)
            case "--sample-every": options.latencySampleEvery = try count(argument)
            case "--reader-threads": options.readerThreads = try count(argument)
            case "--csv": options.csv = true
            case "--check-mallocs": options.checkMallocs = true
            case "--keep": options.keepFiles = true
            case "--open": options.existingDirectory = try value(argument)
            case "--no-warmup": options.warmup = false
            case "--help", "-h": throw UsageError(nil)
            default: throw UsageError("unknown option \(argument)")
            }
        }
        return options
    }

    var readCount: Int { reads ?? keys }

    /// Reads and the read-phase phases need a filled store.
    var needsFilledStore: Bool {
        !phases.isDisjoint(with: [.fill, .gets, .prefetched, .parallel, .borrows, .lends, .reopen, .mallocs])
    }
}

struct UsageError: Error {
    var message: String?
    init(_ message: String?) { self.message = message }
}

extension String {
    fileprivate func replacingUnderscores() -> String { filter { $0 != "_" } }
}
