import Foundation
import Swiftcask

/// Prints the environment, per-run lines and the median table (or CSV with `--csv`).
/// Progress goes to stderr so stdout holds only results.
struct Report {
    let options: BenchOptions

    static let fillTarget = 2_000_000.0
    static let durableTarget = 800_000.0
    static let readTarget = 3_000_000.0
    /// MISSION.md: index memory ≤ 24 bytes + key bytes per key.
    static let indexOverheadBytesMax = 24.0

    /// Steady-state allocations allowed per operation, by probe name prefix. `get (copy out)`
    /// returns a new [UInt8], so it pays exactly one allocation by contract.
    static let mallocBudgets: [(prefix: String, perOperationMax: Double)] = [
        ("put (overwrite", 0.01),
        ("get (copy out)", 1.01),
        ("withValue", 0.01),
        ("contains", 0.01),
        ("put in WriteBatch", 0.01),
        ("put in durable WriteBatch", 0.05),
    ]

    static func mallocBudgetFailures(_ probes: [MallocProbe]) -> [String] {
        probes.compactMap { probe in
            guard let budget = mallocBudgets.first(where: { probe.name.hasPrefix($0.prefix) }) else { return nil }
            return probe.perOperation > budget.perOperationMax
                ? String(format: "%@: %.3f per op, budget %.2f", probe.name, probe.perOperation, budget.perOperationMax) : nil
        }
    }

    func progress(_ line: String) {
        fflush(nil)
        FileHandle.standardError.write(Data("· \(line)\n".utf8))
    }

    private func line(_ text: String) {
        print(options.csv ? "# " + text : text)
    }

    func header(machine: Machine, directory: String, mallocCounterActive: Bool) {
        line("swiftcask-bench — embedded engine benchmark (issue 2)")
        #if DEBUG
        let banner = String(repeating: "!", count: 78)
        line(banner)
        line("WARNING: DEBUG BUILD. These numbers are meaningless; build with -c release (make bench).")
        line(banner)
        let buildMode = "debug (UNOPTIMISED)"
        #else
        let buildMode = "release"
        #endif
        line("machine:     \(machine.cores) cores, \(machine.cpuModel), \(machine.kernel)")
        line("build:       \(buildMode), engine Swiftcask (same configuration)")
        line("directory:   \(directory) (\(machine.filesystem))")
        line("workload:    \(options.keys) keys × \(Workload.keyBytes)-byte keys, \(Workload.valueBytes)-byte values, 1 thread, \(options.runs) run(s), medians reported")
        line("fill:        durability no, no per-op sync, one store.sync() at the end (timed)")
        let durableHow = options.durability == .always ? "write(batch) returns after the covering fdatasync" : "write(batch) then store.sync()"
        line("durable:     batches of \(options.batchSize), durability \(options.durability): \(durableHow)")
        line("reads:       \(options.readCount) per run in random order; latency sampled every \(options.latencySampleEvery)th op")
        line("io backend:  requested \(options.backend.rawValue)")
        line("mallocs:     \(mallocCounterActive ? "counted by the interposer in CMallocCounter" : "INTERPOSER NOT ACTIVE: malloc counts will read 0")")
    }

    func runLine(_ run: Int, _ figures: RunFigures) {
        var parts: [String] = []
        if let fill = figures.fill { parts.append("fill \(rate(fill.operationsPerSecond))") }
        if let durable = figures.durable { parts.append("durable \(rate(durable.operationsPerSecond))") }
        if let pipelined = figures.pipelined { parts.append("pipelined \(rate(pipelined.operationsPerSecond))") }
        if let gets = figures.gets { parts.append("gets \(rate(gets.operationsPerSecond))") }
        if let parallel = figures.parallelGets { parts.append("gets on \(options.readerThreads) threads \(rate(parallel.operationsPerSecond))") }
        if let borrows = figures.borrows { parts.append("borrows \(rate(borrows.operationsPerSecond))") }
        if let lends = figures.lends { parts.append("lends \(rate(lends.operationsPerSecond))") }
        if let reopen = figures.reopen { parts.append(String(format: "reopen %.3f s (cpu %.3f s)", reopen.seconds, figures.reopenCPUSeconds ?? 0)) }
        if let scan = figures.reopenScan { parts.append(String(format: "full scan %.3f s (cpu %.3f s)", scan.seconds, figures.reopenScanCPUSeconds ?? 0)) }
        if let merge = figures.merge { parts.append(String(format: "merge %.3f s (cpu %.3f s)", merge.seconds, figures.mergeCPUSeconds ?? 0)) }
        if options.csv {
            csvRows(run: "\(run)", figures: figures)
        } else {
            print("run \(run): " + parts.joined(separator: ", "))
        }
    }

    func summary(_ runs: [RunFigures], baseline: ProcessMemory, workload: Workload?) {
        let backend = runs.compactMap { $0.afterFill?.backend ?? $0.afterDurable?.backend }.first ?? "?"
        var summaries: [PhaseSummary] = []
        func add(_ name: String, _ runs: [PhaseRun?], _ target: Target?) {
            let present = runs.compactMap { $0 }
            if !present.isEmpty { summaries.append(PhaseSummary(name: name, runs: present, target: target)) }
        }
        add("fill (no sync)", runs.map(\.fill), .atLeast(opsPerSecond: Self.fillTarget, "≥ 2.0M/s"))
        add("durable fill (batch \(options.batchSize))", runs.map(\.durable), .atLeast(opsPerSecond: Self.durableTarget, "≥ 800k/s"))
        add("durable pipelined (≤ \(options.batchesInFlight) batches in flight)", runs.map(\.pipelined), .atLeast(opsPerSecond: Self.durableTarget, "≥ 800k/s"))
        add("random get (copy)", runs.map(\.gets), .atLeast(opsPerSecond: Self.readTarget, "≥ 3.0M/s"))
        add("random get, \(BenchOptions.prefetchGroupKeys) prefetched", runs.map(\.prefetchedGets), nil)
        add("parallel random gets (\(options.readerThreads) threads)", runs.map(\.parallelGets), nil)
        add("random withValue (borrow)", runs.map(\.borrows), .atLeast(opsPerSecond: Self.readTarget, "≥ 3.0M/s"))
        add("random withValueLocked (lend)", runs.map(\.lends), .atLeast(opsPerSecond: Self.readTarget, "≥ 3.0M/s"))
        add("reopen (with hint files)", runs.map(\.reopen), nil)
        add("reopen (no hints: full scan)", runs.map(\.reopenScan), nil)
        add("merge (records copied)", runs.map(\.merge), nil)

        if options.csv {
            medianCSV(summaries, runs)
            return
        }
        print("")
        print("io backend: \(backend)    medians of \(options.runs) run(s)")
        let columns = ["phase", "ops", "time s", "ops/s", "µs/op", "MB/s", "p50 µs", "p99 µs", "target", ""]
        var rows: [[String]] = []
        for summary in summaries {
            let latencyUnit = summary.runs.first?.latencyUnit == "batch" ? "/batch" : ""
            var status = ""
            if let target = summary.target { status = target.isMet(target.figure(summary)) ? "ok" : "MISSED" }
            rows.append([
                summary.name, "\(summary.operations)", String(format: "%.3f", summary.seconds),
                rate(summary.operationsPerSecond), String(format: "%.3f", summary.microsPerOperation),
                String(format: "%.1f", summary.megabytesPerSecond),
                summary.p50Micros.map { String(format: "%.2f", $0) + latencyUnit } ?? "-",
                summary.p99Micros.map { String(format: "%.2f", $0) + latencyUnit } ?? "-",
                summary.target?.text ?? "", status,
            ])
        }
        printTable(columns, rows)

        if let facts = runs.compactMap(\.afterReopen).first ?? runs.compactMap(\.afterFill).first {
            print("")
            let perKey = Double(facts.indexBytes) / Double(max(1, facts.keys))
            let limit = Self.indexOverheadBytesMax + Double(Workload.keyBytes)
            print(String(format: "index:      %.1f bytes/key (%d bytes for %d keys)   target ≤ %.0f (24 + %d key bytes)  %@",
                         perKey, facts.indexBytes, facts.keys, limit, Workload.keyBytes, perKey <= limit ? "ok" : "MISSED"))
            if let memory = runs.compactMap(\.residentAfterReopen).last {
                print(String(format: "memory:     after reopen RSS %.1f MB (anon %.1f MB, file-backed maps %.1f MB), process peak %.1f MB",
                             mb(memory.resident), mb(memory.residentAnonymous), mb(memory.residentFile), mb(memory.residentPeak)))
                if let workload {
                    print(String(format: "            (includes the benchmark's own key tables and read order: %.1f MB)", mb(workload.footprintBytes)))
                }
            }
            if let disk = runs.compactMap(\.diskUsage).first {
                print(String(format: "disk:       %.1f MB in %d segment(s), %.1f bytes/key (record = 20-byte header + key + value)",
                             mb(disk), facts.segments, Double(disk) / Double(facts.keys)))
            }
        }
        if let durable = runs.compactMap(\.afterDurable).first {
            print(String(format: "durable:    %llu fdatasync rounds for %d keys (%.0f keys per sync), %llu groups",
                         durable.syncs, durable.keys, Double(durable.keys) / Double(max(1, durable.syncs)), durable.groups))
        }
        if let pipelined = runs.compactMap(\.afterPipelined).first {
            print(String(format: "pipelined:  %llu fdatasync rounds for %d keys (%.0f keys per sync), %llu groups",
                         pipelined.syncs, pipelined.keys, Double(pipelined.keys) / Double(max(1, pipelined.syncs)), pipelined.groups))
        }
        if let probes = runs.first(where: { !$0.mallocs.isEmpty })?.mallocs {
            print("")
            print("mallocs per operation, steady state (\(probes.first?.operations ?? 0) ops after an equal warm-up; target 0 for get and put):")
            printTable(["operation", "all threads", "calling thread", ""], probes.map { probe in
                [probe.name, String(format: "%.3f", probe.perOperation), String(format: "%.3f", probe.threadPerOperation),
                 probe.perOperation < 0.01 ? "ok" : "allocates"]
            })
        }
    }

    private func csvRows(run: String, figures: RunFigures) {
        func row(_ metric: String, _ value: Double?) {
            guard let value else { return }
            print("swiftcask,\(run),\(metric),\(String(format: "%.6g", value))")
        }
        row("fill_ops_per_sec", figures.fill?.operationsPerSecond)
        row("fill_p50_us", figures.fill?.p50Micros)
        row("fill_p99_us", figures.fill?.p99Micros)
        row("durable_ops_per_sec", figures.durable?.operationsPerSecond)
        row("durable_batch_p50_us", figures.durable?.p50Micros)
        row("durable_batch_p99_us", figures.durable?.p99Micros)
        row("pipelined_ops_per_sec", figures.pipelined?.operationsPerSecond)
        row("read_ops_per_sec", figures.gets?.operationsPerSecond)
        row("read_p50_us", figures.gets?.p50Micros)
        row("read_p99_us", figures.gets?.p99Micros)
        row("prefetched_read_ops_per_sec", figures.prefetchedGets?.operationsPerSecond)
        row("parallel_read_ops_per_sec", figures.parallelGets?.operationsPerSecond)
        row("borrow_ops_per_sec", figures.borrows?.operationsPerSecond)
        row("lend_ops_per_sec", figures.lends?.operationsPerSecond)
        row("reopen_seconds", figures.reopen?.seconds)
        row("reopen_scan_seconds", figures.reopenScan?.seconds)
        row("reopen_cpu_seconds", figures.reopenCPUSeconds)
        row("reopen_scan_cpu_seconds", figures.reopenScanCPUSeconds)
        row("merge_seconds", figures.merge?.seconds)
        row("merge_cpu_seconds", figures.mergeCPUSeconds)
        row("disk_bytes", figures.diskUsage.map(Double.init))
        row("peak_rss_bytes", figures.residentAfterReopen.map { Double($0.residentPeak) })
        if let facts = figures.afterReopen {
            row("index_bytes_per_key", Double(facts.indexBytes) / Double(max(1, facts.keys)))
        }
        for probe in figures.mallocs {
            let name = probe.name.split(separator: " ").first.map(String.init) ?? probe.name
            row("mallocs_per_op_\(name)\(probe.name.contains("durable") ? "_durable" : probe.name.contains("WriteBatch") ? "_batch" : "")", probe.perOperation)
        }
    }

    private func medianCSV(_ summaries: [PhaseSummary], _ runs: [RunFigures]) {
        for summary in summaries {
            let key: String
            switch summary.name {
            case let name where name.hasPrefix("fill"): key = "fill_ops_per_sec"
            case let name where name.hasPrefix("durable pipelined"): key = "pipelined_ops_per_sec"
            case let name where name.hasPrefix("durable"): key = "durable_ops_per_sec"
            case let name where name.hasPrefix("parallel"): key = "parallel_read_ops_per_sec"
            case let name where name.hasPrefix("random get,"): key = "prefetched_read_ops_per_sec"
            case let name where name.hasPrefix("random get"): key = "read_ops_per_sec"
            case let name where name.hasPrefix("random withValueLocked"): key = "lend_ops_per_sec"
            case let name where name.hasPrefix("random withValue"): key = "borrow_ops_per_sec"
            case let name where name.hasPrefix("reopen (no hints"):
                print("swiftcask,median,reopen_scan_seconds,\(String(format: "%.6g", summary.seconds))")
                continue
            case let name where name.hasPrefix("merge"):
                print("swiftcask,median,merge_seconds,\(String(format: "%.6g", summary.seconds))")
                continue
            default:
                print("swiftcask,median,reopen_seconds,\(String(format: "%.6g", summary.seconds))")
                continue
            }
            print("swiftcask,median,\(key),\(String(format: "%.6g", summary.operationsPerSecond))")
        }
        for (key, values) in [("reopen_cpu_seconds", runs.compactMap(\.reopenCPUSeconds)), ("reopen_scan_cpu_seconds", runs.compactMap(\.reopenScanCPUSeconds)),
                              ("merge_cpu_seconds", runs.compactMap(\.mergeCPUSeconds))] where !values.isEmpty {
            print("swiftcask,median,\(key),\(String(format: "%.6g", values.sorted()[values.count / 2]))")
        }
    }

    private func mb(_ bytes: Int) -> Double { Double(bytes) / 1e6 }
    private func mb(_ bytes: Double) -> Double { bytes / 1e6 }

    private func rate(_ perSecond: Double) -> String {
        perSecond >= 1e6 ? String(format: "%.2fM", perSecond / 1e6) : String(format: "%.0fk", perSecond / 1e3)
    }

    private func printTable(_ columns: [String], _ rows: [[String]]) {
        var widths = columns.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func render(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                return index == 0 || index >= cells.count - 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }
        print(render(columns))
        print(String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1)))
        for row in rows { print(render(row)) }
    }
}
