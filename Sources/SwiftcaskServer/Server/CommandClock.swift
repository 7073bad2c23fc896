import CShims
import Swiftcask
#if canImport(Glibc)
import Glibc
#endif

/// Times commands (INFO commandstats, SLOWLOG) with the CPU's time-stamp counter when the
/// kernel itself keeps time with it: one `rdtsc` per command instead of a
/// `clock_gettime(CLOCK_MONOTONIC)`, which cost 4 % of a pipelined GET's CPU (its `rdtsc` is
/// fenced, and it scales the result). Elsewhere (another clocksource, another architecture)
/// it reads the monotonic clock. Readings are ticks: only differences mean something.
struct CommandClock: Sendable {
    /// Nanoseconds per tick (1 for the monotonic clock).
    let nanosPerTick: Double
    let readsTimestampCounter: Bool

    /// The spin that measures the counter's rate against the monotonic clock, once per process.
    static let calibrationNanos: UInt64 = 10_000_000
    /// A calibration endpoint whose two clock reads around the counter read lie further apart
    /// was interrupted (preempted, a page fault): its rate would skew every duration.
    static let endpointSpreadNanosMax: UInt64 = 20_000
    static let calibrationAttemptsMax = 5
    static let clocksourcePath = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
    static let monotonic = CommandClock(nanosPerTick: 1, readsTimestampCounter: false)

    /// The process's clock, chosen and calibrated on first use.
    static let shared = calibrated()

    /// The counter when the kernel's clocksource is `tsc` (the kernel found it constant-rate
    /// and in step across CPUs), else the monotonic clock.
    static func calibrated() -> CommandClock {
        guard kernelClocksource() == "tsc", sc_timestamp_counter() != 0 else { return monotonic }
        for _ in 0..<calibrationAttemptsMax {
            let start = endpoint()
            while SystemClock.monotonicNanos() &- start.nanos < calibrationNanos {}
            let end = endpoint()
            guard start.spread <= endpointSpreadNanosMax, end.spread <= endpointSpreadNanosMax,
                  end.ticks > start.ticks, end.nanos > start.nanos else { continue }
            return CommandClock(nanosPerTick: Double(end.nanos - start.nanos) / Double(end.ticks - start.ticks), readsTimestampCounter: true)
        }
        return monotonic
    }

    /// A counter reading and the monotonic time it was taken at (the middle of two reads
    /// around it, `spread` apart).
    private static func endpoint() -> (ticks: UInt64, nanos: UInt64, spread: UInt64) {
        let before = SystemClock.monotonicNanos()
        let ticks = sc_timestamp_counter()
        let after = SystemClock.monotonicNanos()
        return (ticks, before + (after &- before) / 2, after &- before)
    }

    static func kernelClocksource() -> String? {
        FileSystem.readSmallFile(clocksourcePath)
    }

    @inline(__always)
    func now() -> UInt64 {
        readsTimestampCounter ? sc_timestamp_counter() : SystemClock.monotonicNanos()
    }

    /// Microseconds from `start` to `end`, as the difference of the two readings in whole
    /// microseconds (as Redis counts): a command shorter than a microsecond counts 0 or 1, so
    /// the sum over consecutive commands is their total time. Flooring each difference
    /// instead counted every sub-microsecond GET as 0. 0 if `end` reads earlier than `start`.
    @inline(__always)
    func micros(from start: UInt64, to end: UInt64) -> Int {
        guard end > start else { return 0 }
        let microsPerTick = nanosPerTick / 1000
        return Int(Double(end) * microsPerTick) - Int(Double(start) * microsPerTick)
    }
}
