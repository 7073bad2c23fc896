import Glibc
import Testing
@testable import SwiftcaskServer

@Suite struct CommandClockTests {
    /// Sleeps `millis` and returns what `clock` measured, in microseconds.
    static func measuredMicros(of clock: CommandClock, sleepingMillis millis: Int) -> Int {
        let start = clock.now()
        usleep(useconds_t(millis * 1000))
        return clock.micros(from: start, to: clock.now())
    }

    /// A sleep lasts at least what was asked, and far less than a second more on any machine:
    /// a miscalibrated counter (a wrong rate, ticks taken for nanoseconds) lands outside.
    @Test(arguments: [CommandClock.shared, CommandClock.monotonic, CommandClock.calibrated()])
    func measuresASleepInMicroseconds(clock: CommandClock) {
        let micros = Self.measuredMicros(of: clock, sleepingMillis: 30)
        #expect(micros >= 29_000 && micros < 1_000_000, "measured \(micros) µs for a 30 ms sleep")
    }

    @Test func usesTheCounterExactlyWhenTheKernelKeepsTimeWithIt() {
        let clock = CommandClock.calibrated()
        #expect(clock.readsTimestampCounter == (CommandClock.kernelClocksource() == "tsc"))
        #expect(clock.nanosPerTick > 0)
    }

    /// 10,000 back-to-back commands of 300 ns each, on a clock ticking in nanoseconds: each
    /// counts 0 or 1 µs, and together they count the 3,000 µs they took.
    @Test func consecutiveSubMicrosecondIntervalsAddUpToTheirTotal() {
        let clock = CommandClock(nanosPerTick: 1, readsTimestampCounter: false)
        var total = 0
        var tick: UInt64 = 1_000_000_123
        for _ in 0..<10_000 {
            let micros = clock.micros(from: tick, to: tick + 300)
            #expect(micros == 0 || micros == 1)
            total += micros
            tick += 300
        }
        #expect(total == 3_000)
    }

    @Test func aReadingBeforeTheStartCountsAsNoTime() {
        let clock = CommandClock.shared
        let earlier = clock.now()
        usleep(1000)
        #expect(clock.micros(from: clock.now(), to: earlier) == 0)
    }
}
