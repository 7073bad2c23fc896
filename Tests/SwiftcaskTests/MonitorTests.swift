import Glibc
import Testing
@testable import Swiftcask

/// The futex-based lock and conditions under the store: exclusion under contention, and
/// wake-ups that are not lost.
@Suite struct MonitorTests {
    /// How long a test lets a thread take to react before it counts as a lost wake-up.
    static let reactionNanosMax: UInt64 = 10_000_000_000

    /// Shared state the threads change only with the monitor's lock held.
    final class Shared: @unchecked Sendable {
        let monitor = Monitor()
        var counter = 0
        var flag = false
        var waitersDone = 0
        var sawFlag = false
        deinit { monitor.deallocate() }
    }

    @Test func lockExcludesOtherThreadsUnderContention() {
        let shared = Shared()
        let threads = 4
        let incrementsPerThread = 50_000
        let workers = (0..<threads).map { index in
            BackgroundThread(name: "locker-\(index)") {
                for _ in 0..<incrementsPerThread {
                    // A plain read-modify-write: any overlap between two holders loses counts.
                    shared.monitor.withLock { shared.counter += 1 }
                }
            }
        }
        workers.forEach { $0.join() }
        #expect(shared.counter == threads * incrementsPerThread)
    }

    @Test func signalWakesAWaiterThatHoldsTheLockAgain() {
        let shared = Shared()
        let waiter = BackgroundThread(name: "waiter") {
            let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
            shared.monitor.lock()
            while !shared.flag && Clock.monotonicNanos() < deadline {
                shared.monitor.waitForWork(untilMonotonicNanos: deadline)
            }
            // Held again: this write races with nothing.
            shared.counter += 1
            shared.sawFlag = shared.flag
            shared.monitor.unlock()
        }
        shared.monitor.withLock {
            shared.flag = true
            shared.monitor.signalWork()
        }
        waiter.join()
        #expect(shared.sawFlag)
        #expect(shared.counter == 1)
    }

    @Test func broadcastWakesEveryWaiter() {
        let shared = Shared()
        let waiters = 3
        let threads = (0..<waiters).map { index in
            BackgroundThread(name: "waiter-\(index)") {
                shared.monitor.withLock {
                    while !shared.flag { shared.monitor.waitForProgress() }
                    shared.waitersDone += 1
                }
            }
        }
        shared.monitor.withLock {
            shared.flag = true
            shared.monitor.broadcastProgress()
        }
        // One broadcast must release them all; wait for that within a bounded time.
        let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
        while shared.monitor.withLock({ shared.waitersDone }) < waiters && Clock.monotonicNanos() < deadline {
            Clock.sleep(nanoseconds: 1_000_000)
        }
        let done = shared.monitor.withLock { shared.waitersDone }
        #expect(done == waiters, "one broadcast woke \(done) of \(waiters) waiters")
        // Release any waiter a failed broadcast left asleep, so the threads can be joined.
        while shared.monitor.withLock({ shared.waitersDone }) < waiters {
            shared.monitor.withLock { shared.monitor.broadcastProgress() }
            Clock.sleep(nanoseconds: 1_000_000)
        }
        threads.forEach { $0.join() }
    }

    @Test func timedWaitReturnsAtItsDeadlineWithTheLockHeld() {
        let shared = Shared()
        let waitNanos: UInt64 = 30_000_000
        shared.monitor.lock()
        let start = Clock.monotonicNanos()
        shared.monitor.waitForMaintenance(untilMonotonicNanos: start + waitNanos)
        let elapsed = Clock.monotonicNanos() - start
        shared.counter += 1
        shared.monitor.unlock()
        // Nobody signals, so only the deadline ends the wait.
        #expect(elapsed >= waitNanos)
        // A deadline already past returns at once.
        shared.monitor.withLock { shared.monitor.waitForWork(untilMonotonicNanos: 0) }
        #expect(shared.counter == 1)
    }
}
