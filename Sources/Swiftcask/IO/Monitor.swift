import CShims
import Glibc
import Synchronization

/// A mutex with condition variables, for the store's state and the committer's hand-offs,
/// built on futexes (the three-state lock and sequence-counter conditions of Drepper's
/// "Futexes Are Tricky", as Rust's standard library uses them on Linux).
///
/// Why not pthread: every store call takes this lock, and `pthread_mutex_lock` plus `unlock`
/// cost 57 instructions through the PLT per call (callgrind, 11 % of a zero-copy read); the
/// inlined compare-exchange and exchange here cost a handful. `Synchronization.Mutex` has no
/// condition variable, and the engine may not use NIO's.
///
/// Readers may also hold it shared (`tryLockShared`), so gets from several threads run side by
/// side instead of queueing behind one another: a reader adds itself to `sharing`; whoever holds
/// the lock exclusively first marks `sharing` claimed and waits for the readers inside to leave,
/// and a reader that finds the mark backs out and takes the lock exclusively instead (so writers
/// are never starved by a stream of readers). Before, two reading threads together managed
/// about half of what one thread did alone.
///
/// A struct of pointers, not a class: reaching a class instance through `core.monitor` cost
/// a retain and a release per call. Its owner calls `deallocate()` once nothing uses it.
struct Monitor: @unchecked Sendable {
    private static let unlocked: UInt32 = 0
    private static let locked: UInt32 = 1
    /// Locked, and some thread may be asleep waiting for it: unlocking must wake one.
    private static let contended: UInt32 = 2
    /// Polls of a held lock before sleeping: a store call holds it for well under a
    /// microsecond, so a short spin usually avoids two system calls.
    private static let spinsBeforeSleeping = 100

    private let state = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
    /// Readers holding the lock shared, plus `exclusiveClaim` while a thread holds (or is
    /// taking) it exclusively, plus `claimantAsleep` while that thread sleeps until the readers
    /// leave. Only the holder of `state` sets or clears those two bits.
    private let sharing = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
    private static let exclusiveClaim: UInt32 = 1 << 31
    /// Set before the claimant sleeps, so the last reader out makes the wake-up system call only
    /// when someone sleeps: readers that back out of a claimed lock would otherwise each make one.
    private static let claimantAsleep: UInt32 = 1 << 30
    /// Signalled when the committer has work (new records, a sync request, shutdown).
    private let workAvailable = FutexCondition()
    /// Broadcast when a group finished (written, synced or failed) or a buffer became free.
    private let progressMade = FutexCondition()
    /// Signalled when the maintenance thread has something to do (a sealed segment needs its
    /// hint, a merge was requested, shutdown).
    private let maintenanceDue = FutexCondition()

    init() {
        state.initialize(to: Atomic(Self.unlocked))
        sharing.initialize(to: Atomic(0))
    }

    func deallocate() {
        workAvailable.deallocate()
        progressMade.deallocate()
        maintenanceDue.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
        sharing.deinitialize(count: 1)
        sharing.deallocate()
    }

    /// Takes the lock exclusively: no other thread holds it, shared or not, until `unlock`.
    @inline(__always)
    func lock() {
        if !state.pointee.compareExchange(expected: Self.unlocked, desired: Self.locked, ordering: .acquiring).exchanged {
            lockContended()
        }
        // Acquiring: what readers did inside happens before what this holder does next.
        let readers = sharing.pointee.wrappingAdd(Self.exclusiveClaim, ordering: .acquiringAndReleasing).oldValue
        if readers != 0 { waitForReadersToLeave() }
    }

    @inline(__always)
    func unlock() {
        sharing.pointee.wrappingSubtract(Self.exclusiveClaim, ordering: .releasing)
        if state.pointee.exchange(Self.unlocked, ordering: .releasing) == Self.contended {
            _ = sc_futex_wake(state.futexWord, 1)
        }
    }

    /// Takes the lock shared with other readers, unless a thread holds it exclusively or is
    /// taking it; false then, and the caller takes it with `lock()` instead. A holder only reads.
    @inline(__always)
    func tryLockShared() -> Bool {
        let before = sharing.pointee.wrappingAdd(1, ordering: .acquiring).oldValue
        if before & Self.exclusiveClaim == 0 { return true }
        unlockShared()
        return false
    }

    @inline(__always)
    func unlockShared() {
        // The last reader out of a claimed lock wakes the claimant if it sleeps.
        if sharing.pointee.wrappingSubtract(1, ordering: .releasing).oldValue == Self.exclusiveClaim | Self.claimantAsleep | 1 {
            _ = sc_futex_wake(sharing.futexWord, 1)
        }
    }

    /// Runs `shared` holding the lock shared when it can; when a thread holds it exclusively,
    /// or `shared` returns nil (it found something only an exclusive holder may do), runs
    /// `exclusive` with the lock held exclusively.
    @inline(__always)
    func withSharedLock<Result, Failure: Error>(
        _ shared: () throws(Failure) -> Result?, orExclusive exclusive: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        if tryLockShared() {
            defer { unlockShared() }
            if let result = try shared() { return result }
        }
        return try withLock(exclusive)
    }

    /// Called by the new exclusive holder: spins briefly (a reader stays well under a
    /// microsecond), then sleeps until the last reader leaves and wakes it.
    @inline(never)
    private func waitForReadersToLeave() {
        var spins = Self.spinsBeforeSleeping
        while true {
            let current = sharing.pointee.load(ordering: .acquiring)
            if current & ~Self.claimantAsleep == Self.exclusiveClaim {
                if current & Self.claimantAsleep != 0 {
                    sharing.pointee.wrappingSubtract(Self.claimantAsleep, ordering: .relaxed)
                }
                return
            }
            if spins > 0 {
                sc_spin_pause()
                spins -= 1
                continue
            }
            let asleep = current | Self.claimantAsleep
            if current == asleep || sharing.pointee.compareExchange(expected: current, desired: asleep, ordering: .relaxed).exchanged {
                // Returns at once if a reader came or went since `asleep` was current.
                _ = sc_futex_wait(sharing.futexWord, asleep, -1)
            }
        }
    }

    @inline(__always)
    func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }

    /// Spins briefly, then sleeps with the lock marked contended so its holder wakes us.
    @inline(never)
    private func lockContended() {
        var current = spinWhileLocked()
        if current == Self.unlocked {
            let attempt = state.pointee.compareExchange(expected: Self.unlocked, desired: Self.locked, ordering: .acquiring)
            if attempt.exchanged { return }
            current = attempt.original
        }
        while true {
            // Taking it as `contended` (not `locked`) is conservative: we cannot tell whether
            // other threads still sleep on it, so our unlock will wake one if any does.
            if current != Self.contended && state.pointee.exchange(Self.contended, ordering: .acquiring) == Self.unlocked {
                return
            }
            _ = sc_futex_wait(state.futexWord, Self.contended, -1)
            current = spinWhileLocked()
        }
    }

    private func spinWhileLocked() -> UInt32 {
        var spins = Self.spinsBeforeSleeping
        while true {
            let current = state.pointee.load(ordering: .relaxed)
            if current != Self.locked || spins == 0 { return current }
            sc_spin_pause()
            spins -= 1
        }
    }

    func signalWork() { workAvailable.signal(all: false) }
    func broadcastProgress() { progressMade.signal(all: true) }

    /// Waits (lock held) for `signalWork`, at most until `deadlineNanos` on the monotonic clock.
    func waitForWork(untilMonotonicNanos deadlineNanos: UInt64?) {
        wait(on: workAvailable, untilMonotonicNanos: deadlineNanos)
    }

    func signalMaintenance() { maintenanceDue.signal(all: false) }

    /// Waits (lock held) for `signalMaintenance`, at most until `deadlineNanos`.
    func waitForMaintenance(untilMonotonicNanos deadlineNanos: UInt64?) {
        wait(on: maintenanceDue, untilMonotonicNanos: deadlineNanos)
    }

    /// Waits (lock held) for `broadcastProgress`.
    func waitForProgress() {
        wait(on: progressMade, untilMonotonicNanos: nil)
    }

    /// Like `pthread_cond_wait`: releases the lock while asleep and holds it again on return,
    /// which may also come early (a signal meant for another waiter, a signal or a timeout);
    /// callers re-check their condition in a loop.
    private func wait(on condition: FutexCondition, untilMonotonicNanos deadlineNanos: UInt64?) {
        let observed = condition.prepareToWait()
        unlock()
        condition.sleep(unlessChangedFrom: observed, untilMonotonicNanos: deadlineNanos)
        lock()
        condition.finishWaiting()
    }
}

/// Clocks used by the engine.
enum Clock {
    /// Nanoseconds on the monotonic clock, for timeouts and intervals.
    static func monotonicNanos() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }

    /// Milliseconds since the Unix epoch, for expiry times (the unit Redis uses).
    static func unixMillis() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
