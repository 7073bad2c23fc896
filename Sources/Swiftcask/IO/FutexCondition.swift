import CShims
import Synchronization

/// A condition variable for `Monitor`: a sequence number that every signal advances, which
/// waiters sleep on with futex(2). A waiter reads the number while it still holds the
/// monitor's lock, so a signal sent after it checked its condition (which needs that lock)
/// changes the number first and the sleep returns at once: no wakeup is lost.
///
/// Signalling costs no system call while nobody waits (the committer is signalled on every
/// append), which is why waiters are counted.
struct FutexCondition: @unchecked Sendable {
    private let sequence = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)
    private let waiters = UnsafeMutablePointer<Atomic<UInt32>>.allocate(capacity: 1)

    init() {
        sequence.initialize(to: Atomic(0))
        waiters.initialize(to: Atomic(0))
    }

    func deallocate() {
        sequence.deinitialize(count: 1)
        sequence.deallocate()
        waiters.deinitialize(count: 1)
        waiters.deallocate()
    }

    /// Wakes one waiter, or all of them.
    @inline(__always)
    func signal(all: Bool) {
        sequence.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if waiters.pointee.load(ordering: .sequentiallyConsistent) != 0 {
            _ = sc_futex_wake(sequence.futexWord, all ? Int32.max : 1)
        }
    }

    /// Called with the monitor's lock held: registers a waiter and returns the number to sleep on.
    func prepareToWait() -> UInt32 {
        waiters.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        return sequence.pointee.load(ordering: .sequentiallyConsistent)
    }

    /// Called without the lock: sleeps unless a signal came since `prepareToWait`.
    func sleep(unlessChangedFrom observed: UInt32, untilMonotonicNanos deadlineNanos: UInt64?) {
        _ = sc_futex_wait(sequence.futexWord, observed, deadlineNanos.map { Int64(clamping: $0) } ?? -1)
    }

    /// Called with the lock held again.
    func finishWaiting() {
        waiters.pointee.wrappingSubtract(1, ordering: .sequentiallyConsistent)
    }
}
