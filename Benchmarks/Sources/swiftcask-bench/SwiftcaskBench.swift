import CMallocCounter
import Foundation
import Glibc
import Swiftcask

/// `swiftcask-bench`: the embedded-engine benchmark of issue 2 (`make bench`). One thread, 16-byte
/// keys, 100-byte values, fresh store directories; every phase repeated `--runs` times and
/// reported as medians beside its target.
@main
struct SwiftcaskBench {
    static func main() {
        let options: BenchOptions
        do {
            options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            if let message = error.message { FileHandle.standardError.write(Data("swiftcask-bench: \(message)\n".utf8)) }
            print(BenchOptions.usage)
            exit(error.message == nil ? 0 : 2)
        }
        do {
            try run(options)
        } catch {
            FileHandle.standardError.write(Data("swiftcask-bench: failed: \(error)\n".utf8))
            exit(1)
        }
    }

    static func run(_ options: BenchOptions) throws {
        let report = Report(options: options)
        let base = try makeTemporaryDirectory(in: options.parentDirectory)
        defer { if !options.keepFiles { try? FileManager.default.removeItem(atPath: base) } }

        report.header(machine: Machine.describe(directory: base), directory: base,
                      mallocCounterActive: swiftcask_malloc_counter_is_active() != 0)

        if let existing = options.existingDirectory {
            try timeReopensOnly(existing, options, report: report)
            return
        }
        report.progress("generating \(options.keys) keys and the read order")
        let workload = Workload(keyCount: options.keys)
        var runner = PhaseRunner(options: options, workload: workload, directory: base)

        if options.warmup {
            let warmupKeys = min(options.keys, 100_000)
            report.progress("warm-up pass (\(warmupKeys) keys, not reported)")
            let directory = base + "/warmup"
            do {
                let store = try Store(directory: directory, options: runner.storeOptions(durability: .no))
                _ = try runner.fill(store, keyCount: warmupKeys)
                _ = try runner.gets(store, count: warmupKeys, keySpace: warmupKeys)
                _ = try runner.zeroCopyReads(store, .borrow, count: warmupKeys, keySpace: warmupKeys)
                _ = try runner.zeroCopyReads(store, .lend, count: warmupKeys, keySpace: warmupKeys)
                try store.close()
            }
            try FileManager.default.removeItem(atPath: directory)
        }
        let baseline = ProcessMemory.now()

        var runs: [RunFigures] = []
        for run in 1...options.runs {
            var figures = RunFigures()
            if options.needsFilledStore {
                try runFillAndReads(run: run, &runner, &figures, report: report, baseline: baseline)
            }
            if options.phases.contains(.durable) {
                let directory = base + "/run\(run)-durable"
                report.progress("run \(run): durable fill, batches of \(options.batchSize), durability \(options.durability)")
                let store = try Store(directory: directory, options: runner.storeOptions(durability: options.durability))
                figures.durable = try runner.durableFill(store, keyCount: options.keys, durability: options.durability)
                figures.afterDurable = PhaseRunner.facts(store)
                try store.close()
                if !options.keepFiles { try FileManager.default.removeItem(atPath: directory) }
            }
            if options.phases.contains(.pipelined) {
                let directory = base + "/run\(run)-pipelined"
                report.progress("run \(run): pipelined durable fill, batches of \(options.batchSize), ≤ \(options.batchesInFlight) in flight")
                let store = try Store(directory: directory, options: runner.storeOptions(durability: .always))
                figures.pipelined = try runner.pipelinedDurableFill(store, keyCount: options.keys)
                figures.afterPipelined = PhaseRunner.facts(store)
                try store.close()
                if !options.keepFiles { try FileManager.default.removeItem(atPath: directory) }
            }
            if options.phases.contains(.merge) {
                let directory = base + "/run\(run)-merge"
                report.progress("run \(run): merge of \(options.keys) keys each written twice (copy rate unthrottled)")
                var storeOptions = runner.storeOptions(durability: .no)
                storeOptions.autoMerge = false
                storeOptions.mergeBytesPerSecondMax = 0
                let store = try Store(directory: directory, options: storeOptions)
                (figures.merge, figures.mergeCPUSeconds) = try runner.merge(store, keyCount: options.keys)
                try store.close()
                if !options.keepFiles { try FileManager.default.removeItem(atPath: directory) }
            }
            runs.append(figures)
            report.runLine(run, figures)
        }
        report.summary(runs, baseline: baseline, workload: workload)
        if options.checkMallocs {
            let failures = Report.mallocBudgetFailures(runs.first?.mallocs ?? [])
            for failure in failures { FileHandle.standardError.write(Data("swiftcask-bench: malloc budget exceeded: \(failure)\n".utf8)) }
            if !failures.isEmpty { exit(3) }
            if !options.csv { print("malloc budgets: all within limits") }
        }
        if runner.checksum == 42 { print("") }  // keeps the read loops' results alive
    }

    /// Fill (durability `.no`), random gets and borrows, malloc probes (first run only), then
    /// close and a timed reopen.
    static func runFillAndReads(run: Int, _ runner: inout PhaseRunner, _ figures: inout RunFigures, report: Report, baseline: ProcessMemory) throws {
        let options = runner.options
        let directory = runner.directory + "/run\(run)"
        // In a function of its own so the filled store is released (index and buffers freed)
        // before the reopen is measured.
        try fillAndRead(run: run, directory: directory, &runner, &figures, report: report)
        if options.phases.contains(.reopen) || options.phases.contains(.fill) {
            try timeReopens(run: run, directory: directory, expectedKeys: options.keys, runner.storeOptions(durability: .no), &figures, report: report)
        }
        if !options.keepFiles { try FileManager.default.removeItem(atPath: directory) }
    }

    /// `--open DIR`: no fill; the reopen phase alone, `--runs` times, on a store left by an
    /// earlier run (`--keep`), so startup can be profiled and compared without refilling.
    static func timeReopensOnly(_ directory: String, _ options: BenchOptions, report: Report) throws {
        let storeOptions = PhaseRunner.storeOptions(options, durability: .no)
        var runs: [RunFigures] = []
        for run in 1...options.runs {
            var figures = RunFigures()
            try timeReopens(run: run, directory: directory, expectedKeys: nil, storeOptions, &figures, report: report)
            runs.append(figures)
            report.runLine(run, figures)
        }
        report.summary(runs, baseline: ProcessMemory.now(), workload: nil)
    }

    /// Times `Store(directory:)` as the engine opens it (hint files for sealed segments), then
    /// with `ignoreHintFiles` (every segment scanned and CRC-checked); the hints stay on disk.
    static func timeReopens(run: Int, directory: String, expectedKeys: Int?, _ storeOptions: StoreOptions, _ figures: inout RunFigures, report: Report) throws {
        report.progress("run \(run): reopen (hint files where the engine wrote them)")
        let cpuStart = processCPUSeconds()
        let start = monotonicNanos()
        let reopened = try Store(directory: directory, options: storeOptions)
        let seconds = Double(monotonicNanos() - start) / 1e9
        figures.reopenCPUSeconds = processCPUSeconds() - cpuStart
        let facts = PhaseRunner.facts(reopened)
        figures.reopen = PhaseRun(operations: facts.keys, seconds: seconds, payloadBytes: facts.diskBytes)
        figures.afterReopen = facts
        if let expectedKeys, facts.keys != expectedKeys { throw BenchFailure("reopened store has \(facts.keys) keys, expected \(expectedKeys)") }
        figures.residentAfterReopen = ProcessMemory.now()
        figures.diskUsage = diskUsageBytes(directory)
        try reopened.close()

        report.progress("run \(run): reopen ignoring the hint files (full scan)")
        var scanOptions = storeOptions
        scanOptions.ignoreHintFiles = true
        let scanCPUStart = processCPUSeconds()
        let scanStart = monotonicNanos()
        let scanned = try Store(directory: directory, options: scanOptions)
        let scanSeconds = Double(monotonicNanos() - scanStart) / 1e9
        figures.reopenScanCPUSeconds = processCPUSeconds() - scanCPUStart
        let scannedKeys = scanned.statistics.keys
        figures.reopenScan = PhaseRun(operations: scannedKeys, seconds: scanSeconds, payloadBytes: scanned.statistics.diskBytes)
        guard scannedKeys == facts.keys else { throw BenchFailure("scanned store has \(scannedKeys) keys, the hinted open found \(facts.keys)") }
        try scanned.close()
    }

    static func fillAndRead(run: Int, directory: String, _ runner: inout PhaseRunner, _ figures: inout RunFigures, report: Report) throws {
        let options = runner.options
        report.progress("run \(run): fill \(options.keys) keys, durability no")
        let store = try Store(directory: directory, options: runner.storeOptions(durability: .no))
        let fill = try runner.fill(store, keyCount: options.keys)
        if options.phases.contains(.fill) { figures.fill = fill }
        figures.afterFill = PhaseRunner.facts(store)
        if options.phases.contains(.gets) {
            report.progress("run \(run): \(options.readCount) random gets")
            figures.gets = try runner.gets(store, count: options.readCount)
        }
        if options.phases.contains(.prefetched) {
            report.progress("run \(run): \(options.readCount) random gets, prefetched \(BenchOptions.prefetchGroupKeys) at a time")
            figures.prefetchedGets = try runner.prefetchedGets(store, count: options.readCount)
        }
        if options.phases.contains(.parallel) {
            report.progress("run \(run): \(options.readCount) random gets on \(options.readerThreads) threads at once")
            figures.parallelGets = try runner.parallelGets(store, count: options.readCount, threads: options.readerThreads)
        }
        if options.phases.contains(.borrows) {
            report.progress("run \(run): \(options.readCount) random borrows")
            figures.borrows = try runner.zeroCopyReads(store, .borrow, count: options.readCount)
        }
        if options.phases.contains(.lends) {
            report.progress("run \(run): \(options.readCount) random lends")
            figures.lends = try runner.zeroCopyReads(store, .lend, count: options.readCount)
        }
        if options.phases.contains(.mallocs) && run == 1 {
            report.progress("run \(run): malloc probes")
            let probeDirectory = runner.directory + "/run\(run)-probe"
            let durableStore = try Store(directory: probeDirectory, options: runner.storeOptions(durability: options.durability))
            figures.mallocs = try runner.mallocProbes(store, durableStore: durableStore)
            try durableStore.close()
            try FileManager.default.removeItem(atPath: probeDirectory)
        }
        try store.close()
    }

    static func makeTemporaryDirectory(in parent: String) throws -> String {
        var template = Array((parent + "/swiftcask-bench.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw BenchFailure("cannot create a directory in \(parent): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
