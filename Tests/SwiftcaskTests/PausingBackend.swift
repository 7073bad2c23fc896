import Glibc
@testable import Swiftcask

/// Wraps a backend so a test can stop the next write inside the backend (a round in progress,
/// lock released) and let it go on later. Waits poll with a bounded deadline.
final class PausingBackend: AppendBackend, @unchecked Sendable {
    private struct State {
        var armed = false
        var paused = false
        var resumed = false
    }

    /// How long a wait for the other side may take before it counts as a failure.
    static let waitLimitNanos: UInt64 = 10_000_000_000

    let inner: AppendBackend
    private let state = TestLock(State())
    var name: String { inner.name }

    init(wrapping inner: AppendBackend) { self.inner = inner }

    /// The next call that writes something stops before its IO until `resume()`.
    func pauseNextWrite() {
        state.withLock { $0 = State(armed: true) }
    }

    /// True once a write stopped (false after the wait limit).
    func waitUntilPaused() -> Bool {
        Self.poll { self.state.withLock { $0.paused } }
    }

    func resume() {
        state.withLock { $0.resumed = true }
    }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure) {
        let pauses = !chunks.isEmpty && state.withLock { state in
            defer { if state.armed { state.armed = false; state.paused = true } }
            return state.armed
        }
        if pauses && !Self.poll({ self.state.withLock { $0.resumed } }) {
            throw IOFailure(operation: "paused write (never resumed)", path: chunks[0].path, errno: .ioError)
        }
        try inner.write(chunks, synchronizing: descriptors, for: caller)
    }

    func synchronizeDirectory(_ path: String) throws(IOFailure) {
        try inner.synchronizeDirectory(path)
    }

    /// Polls `condition` until it holds (true) or the wait limit passes (false).
    static func poll(_ condition: () -> Bool) -> Bool {
        let deadline = Clock.monotonicNanos() + waitLimitNanos
        while !condition() {
            if Clock.monotonicNanos() > deadline { return false }
            sched_yield()
        }
        return true
    }
}
