import CShims
import Glibc
import Synchronization
import Testing
@testable import Swiftcask

/// The futex-based lock and conditions under the store: exclusion under contention, readers
/// side by side but never beside a writer, and wake-ups that are not lost.
@Suite struct MonitorTests {
    /// How long a test lets a thread take to react before it counts as a lost wake-up.
    static let reactionNanosMax: UInt64 = 10_000_000_000
    /// Spin pauses between two writes (or two reads) under the lock, so that a reader let in
    /// beside a writer would see it halfway.
    static let pausesInsideTheLock = 20

    /// Shared state the threads change only with the monitor's lock held.
    final class Shared: @unchecked Sendable {
        let monitor = Monitor()
        var counter = 0
        var flag = false
        var waitersDone = 0
        var sawFlag = false
        /// For the shared-lock tests, which change them without the lock.
        let started = Atomic<Bool>(false)
        let released = Atomic<Bool>(false)
        let tornReads = Atomic<Int>(0)
        let reads = Atomic<Int>(0)
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

    @Test func readersHoldTheLockTogether() {
        let shared = Shared()
        let reader = BackgroundThread(name: "reader") {
            let held = shared.monitor.tryLockShared()
            shared.started.store(held, ordering: .sequentiallyConsistent)
            let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
            while held && !shared.released.load(ordering: .sequentiallyConsistent) && Clock.monotonicNanos() < deadline { sc_spin_pause() }
            if held { shared.monitor.unlockShared() }
        }
        let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
        while !shared.started.load(ordering: .sequentiallyConsistent) && Clock.monotonicNanos() < deadline { sc_spin_pause() }
        let readerHolds = shared.started.load(ordering: .sequentiallyConsistent)
        #expect(readerHolds, "a lone reader could not hold the lock shared")
        // The other thread still holds it shared: a second reader gets in beside it.
        let second = shared.monitor.tryLockShared()
        #expect(second)
        if second { shared.monitor.unlockShared() }
        shared.released.store(true, ordering: .sequentiallyConsistent)
        reader.join()
    }

    @Test func exclusiveHolderWaitsForReadersAndTurnsNewOnesAway() {
        let shared = Shared()
        #expect(shared.monitor.tryLockShared())
        let writer = BackgroundThread(name: "writer") {
            shared.monitor.lock()
            shared.started.store(true, ordering: .sequentiallyConsistent)
            let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
            while !shared.released.load(ordering: .sequentiallyConsistent) && Clock.monotonicNanos() < deadline { sc_spin_pause() }
            shared.monitor.unlock()
        }
        // Once the writer has claimed the lock, new readers are turned away; it may not hold
        // the lock yet, because this thread still reads.
        var turnedAway = false
        let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
        while !turnedAway && Clock.monotonicNanos() < deadline {
            if shared.monitor.tryLockShared() { shared.monitor.unlockShared() } else { turnedAway = true }
        }
        #expect(turnedAway, "a waiting writer did not turn new readers away")
        let writerGotInEarly = shared.started.load(ordering: .sequentiallyConsistent)
        #expect(!writerGotInEarly, "the writer got the lock while a reader held it")
        // The last reader leaves: the writer must get in (woken if it went to sleep).
        shared.monitor.unlockShared()
        let writerDeadline = Clock.monotonicNanos() + Self.reactionNanosMax
        while !shared.started.load(ordering: .sequentiallyConsistent) && Clock.monotonicNanos() < writerDeadline { sc_spin_pause() }
        let writerGotIn = shared.started.load(ordering: .sequentiallyConsistent)
        #expect(writerGotIn, "the writer was not let in after the last reader left")
        let readerGotInBesideTheWriter = shared.monitor.tryLockShared()
        if readerGotInBesideTheWriter { shared.monitor.unlockShared() }
        #expect(!readerGotInBesideTheWriter)
        shared.released.store(true, ordering: .sequentiallyConsistent)
        writer.join()
        #expect(shared.monitor.tryLockShared(), "readers stay locked out after the writer left")
        shared.monitor.unlockShared()
    }

    @Test func readersNeverSeeAWriterHalfway() {
        let shared = Shared()
        let rounds = 10_000
        // Writers set `counter` and, a moment later, `waitersDone`; a reader that holds the lock
        // shared must always find them equal, however long it takes between the two loads.
        let writers = (0..<2).map { index in
            BackgroundThread(name: "writer-\(index)") {
                for _ in 0..<rounds {
                    shared.monitor.withLock {
                        shared.counter += 1
                        for _ in 0..<Self.pausesInsideTheLock { sc_spin_pause() }
                        shared.waitersDone = shared.counter
                    }
                }
            }
        }
        let readers = (0..<2).map { index in
            BackgroundThread(name: "reader-\(index)") {
                for _ in 0..<rounds {
                    func readBoth() -> (Int, Int) {
                        let counter = shared.counter
                        for _ in 0..<Self.pausesInsideTheLock { sc_spin_pause() }
                        return (counter, shared.waitersDone)
                    }
                    let seen = shared.monitor.withSharedLock { () -> (Int, Int)? in readBoth() } orExclusive: { readBoth() }
                    if seen.0 != seen.1 { shared.tornReads.wrappingAdd(1, ordering: .relaxed) }
                    shared.reads.wrappingAdd(1, ordering: .relaxed)
                }
            }
        }
        writers.forEach { $0.join() }
        readers.forEach { $0.join() }
        let tornReads = shared.tornReads.load(ordering: .relaxed)
        let reads = shared.reads.load(ordering: .relaxed)
        #expect(tornReads == 0)
        #expect(reads == 2 * rounds)
        #expect(shared.counter == 2 * rounds)
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
