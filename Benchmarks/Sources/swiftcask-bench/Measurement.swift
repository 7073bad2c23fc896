import Glibc

/// Monotonic time in nanoseconds (clock_gettime through the vDSO: ~20 ns, no system call).
@inline(__always)
func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// User + system CPU time of the whole process (every thread), in seconds: on a shared,
/// noisy machine it shows the work an operation cost apart from waiting for a core.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

/// Per-operation latencies of one run, in nanoseconds, in storage reserved (and touched) up
/// front so recording never allocates or faults inside a timed loop.
struct LatencySamples {
    private(set) var nanos: [UInt64]

    init(capacity: Int) {
        nanos = [UInt64](repeating: 0, count: capacity)
        nanos.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    mutating func record(_ value: UInt64) {
        if nanos.count < nanos.capacity { nanos.append(value) }
    }

    /// The value at quantile `q` (0...1) in microseconds; nil without samples.
    func percentileMicros(_ quantiles: [Double]) -> [Double?] {
        guard !nanos.isEmpty else { return quantiles.map { _ in nil } }
        let sorted = nanos.sorted()
        return quantiles.map { q in
            let index = min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.down)))
            return Double(sorted[index]) / 1000
        }
    }
}

/// One run of one phase.
struct PhaseRun {
    var operations: Int
    var seconds: Double
    /// Bytes of keys and values moved (for MB/s); 0 when meaningless.
    var payloadBytes: Int
    var p50Micros: Double?
    var p99Micros: Double?
    /// Latency unit when not one operation (e.g. "batch").
    var latencyUnit = "op"

    var operationsPerSecond: Double { Double(operations) / seconds }
    var microsPerOperation: Double { seconds * 1e6 / Double(operations) }
    var megabytesPerSecond: Double { Double(payloadBytes) / seconds / 1e6 }
}

/// The median of a non-empty list (mean of the middle two for an even count).
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of nothing")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

func median(_ values: [Double?]) -> Double? {
    let present = values.compactMap { $0 }
    return present.isEmpty ? nil : median(present)
}

/// Medians over runs, per figure (each figure's median on its own, as db_bench-style tools do).
struct PhaseSummary {
    var name: String
    var runs: [PhaseRun]
    var target: Target?

    var operations: Int { runs.first?.operations ?? 0 }
    var seconds: Double { median(runs.map(\.seconds)) }
    var operationsPerSecond: Double { median(runs.map(\.operationsPerSecond)) }
    var microsPerOperation: Double { median(runs.map(\.microsPerOperation)) }
    var megabytesPerSecond: Double { median(runs.map(\.megabytesPerSecond)) }
    var p50Micros: Double? { median(runs.map(\.p50Micros)) }
    var p99Micros: Double? { median(runs.map(\.p99Micros)) }
}

/// A figure to print beside a result, with whether the result meets it.
struct Target {
    var text: String
    var isMet: (Double) -> Bool
    /// Which figure of the summary the target applies to.
    var figure: (PhaseSummary) -> Double

    static func atLeast(opsPerSecond minimum: Double, _ text: String) -> Target {
        Target(text: text, isMet: { $0 >= minimum }, figure: { $0.operationsPerSecond })
    }
}
