import Glibc

/// A mutex with condition variables (pthread), for the store's state and the committer's
/// hand-offs. `Synchronization.Mutex` has no condition variable, and the engine may not use NIO's.
///
/// A struct of pointers, not a class: every store call takes the lock, and reaching a class
/// instance through `core.monitor` cost a retain and a release per call (4.5% of a random
/// read). Its owner calls `deallocate()` once nothing can use it any more.
struct Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when the committer has work (new records, a sync request, shutdown).
    private let workAvailable = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Broadcast when a group finished (written, synced or failed) or a buffer became free.
    private let progressMade = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Signalled when the maintenance thread has something to do (a sealed segment needs its
    /// hint, a merge was requested, shutdown).
    private let maintenanceDue = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        for condition in [workAvailable, progressMade, maintenanceDue] {
            var attributes = pthread_condattr_t()
            pthread_condattr_init(&attributes)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
            pthread_cond_init(condition, &attributes)
            pthread_condattr_destroy(&attributes)
        }
    }

    func deallocate() {
        pthread_cond_destroy(workAvailable)
        pthread_cond_destroy(progressMade)
        pthread_cond_destroy(maintenanceDue)
        maintenanceDue.deallocate()
        pthread_mutex_destroy(mutex)
        workAvailable.deallocate()
        progressMade.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    @inline(__always)
    func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    func signalWork() { pthread_cond_signal(workAvailable) }
    func broadcastProgress() { pthread_cond_broadcast(progressMade) }

    /// Waits (lock held) for `signalWork`, at most until `deadlineNanos` on the monotonic clock.
    func waitForWork(untilMonotonicNanos deadlineNanos: UInt64?) {
        wait(on: workAvailable, untilMonotonicNanos: deadlineNanos)
    }

    func signalMaintenance() { pthread_cond_signal(maintenanceDue) }

    /// Waits (lock held) for `signalMaintenance`, at most until `deadlineNanos`.
    func waitForMaintenance(untilMonotonicNanos deadlineNanos: UInt64?) {
        wait(on: maintenanceDue, untilMonotonicNanos: deadlineNanos)
    }

    /// Waits (lock held) for `broadcastProgress`.
    func waitForProgress() {
        pthread_cond_wait(progressMade, mutex)
    }

    private func wait(on condition: UnsafeMutablePointer<pthread_cond_t>, untilMonotonicNanos deadlineNanos: UInt64?) {
        guard let deadlineNanos else {
            pthread_cond_wait(condition, mutex)
            return
        }
        var deadline = timespec(tv_sec: Int(deadlineNanos / 1_000_000_000), tv_nsec: Int(deadlineNanos % 1_000_000_000))
        pthread_cond_timedwait(condition, mutex, &deadline)
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
