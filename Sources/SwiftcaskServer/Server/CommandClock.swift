import CShims
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
    static let clocksourcePath = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
    static let monotonic = CommandClock(nanosPerTick: 1, readsTimestampCounter: false)

    /// The process's clock, chosen and calibrated on first use.
    static let shared = calibrated()

    /// The counter when the kernel's clocksource is `tsc` (the kernel found it constant-rate
    /// and in step across CPUs), else the monotonic clock.
    static func calibrated() -> CommandClock {
        guard kernelClocksource() == "tsc", sc_timestamp_counter() != 0 else { return monotonic }
        let startNanos = SystemClock.monotonicNanos()
        let startTicks = sc_timestamp_counter()
        var nanos = startNanos
        while nanos &- startNanos < calibrationNanos { nanos = SystemClock.monotonicNanos() }
        let ticks = sc_timestamp_counter() &- startTicks
        guard ticks > 0 && ticks < UInt64(Int64.max) else { return monotonic }
        return CommandClock(nanosPerTick: Double(nanos &- startNanos) / Double(ticks), readsTimestampCounter: true)
    }

    static func kernelClocksource() -> String? {
        guard let file = fopen(clocksourcePath, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        return String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
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
