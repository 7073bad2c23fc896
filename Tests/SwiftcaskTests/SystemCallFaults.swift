import CShims
import Glibc
@testable import Swiftcask

/// Wraps the real system calls of an append backend (`IOSystemCalls.live`) and, on a fixed
/// schedule, makes them behave as the kernel is allowed to: a write that takes only part of its
/// bytes, a call interrupted by a signal (EINTR) before or after it did its work, a kernel
/// short of resources (EAGAIN, EBUSY). The backend's own retry code then has to cope, against
/// a real file.
///
/// Schedule: every `period`-th call of a kind arms the next fault of that kind's list; the
/// armed fault hits the first following call it applies to (a short write needs more than one
/// byte). With `period` ≥ 2, faults never come twice in a row, so no retry bound is reached.
final class SystemCallFaults: Sendable {
    enum Call: String, CaseIterable, Sendable {
        case write = "pwrite", sync = "fdatasync", ringWrite = "io_uring write", submit = "io_uring_submit", reap = "io_uring_wait_cqe"
    }

    enum Fault: String, CaseIterable, Sendable {
        /// The call does part of its work: pwrite and ring writes take about half the bytes; a
        /// reaped write completion reports half its bytes and the rest of the chain as cancelled.
        case short
        /// EINTR before the call did anything.
        case interruptedBefore = "EINTR before"
        /// The call did its work, then reports EINTR (a signal during fdatasync or the wait).
        case interruptedAfter = "EINTR after"
        /// EAGAIN (EBUSY from io_uring_submit) without doing anything; for a reaped completion,
        /// the completion says EAGAIN and the rest of the chain reads as cancelled.
        case busy = "EAGAIN/EBUSY"
    }

    private struct State {
        var callsByKind: [Call: Int] = [:]
        var armed: [Call: Fault] = [:]
        var injected: [Call: [Fault: Int]] = [:]
        /// After an injected short or busy completion, the rest of that submission reads as
        /// cancelled, as the kernel reports a broken link chain.
        var cancellingRestOfSubmission = false
    }

    static let faultsByCall: [Call: [Fault]] = [
        .write: [.short, .interruptedBefore, .busy],
        .sync: [.interruptedBefore, .interruptedAfter, .busy],
        .ringWrite: [.short],
        .submit: [.interruptedBefore, .interruptedAfter, .busy],
        .reap: [.interruptedBefore, .short, .busy],
    ]

    let period: Int
    private let state = TestLock(State())

    init(period: Int) {
        precondition(period >= 2, "consecutive faults could exhaust a retry bound")
        self.period = period
    }

    /// Faults injected so far, by call and kind.
    var injected: [Call: [Fault: Int]] { state.withLock { $0.injected } }
    var totalInjected: Int { injected.values.reduce(0) { $0 + $1.values.reduce(0, +) } }

    /// The live calls, with this schedule's faults injected.
    var calls: IOSystemCalls {
        let live = IOSystemCalls.live
        return IOSystemCalls(
            positionedWrite: { descriptor, bytes, count, offset in
                switch self.fault(for: .write, applicable: { $0 != .short || count > 1 }) {
                case .short: return live.positionedWrite(descriptor, bytes, count / 2, offset)
                case .interruptedBefore: return -Int(EINTR)
                case .busy: return -Int(EAGAIN)
                case .interruptedAfter, nil: return live.positionedWrite(descriptor, bytes, count, offset)
                }
            },
            synchronizeData: { descriptor in
                switch self.fault(for: .sync, applicable: { _ in true }) {
                case .interruptedBefore: return -EINTR
                case .interruptedAfter:
                    let result = live.synchronizeData(descriptor)
                    return result < 0 ? result : -EINTR
                case .busy: return -EAGAIN
                case .short, nil: return live.synchronizeData(descriptor)
                }
            },
            prepareRingWrite: { entry, descriptor, bytes, count, offset in
                let shortened = self.fault(for: .ringWrite, applicable: { _ in count > 1 }) == .short
                live.prepareRingWrite(entry, descriptor, bytes, shortened ? count / 2 : count, offset)
            },
            submitAndWait: { ring, waitCount in
                self.state.withLock { $0.cancellingRestOfSubmission = false }
                switch self.fault(for: .submit, applicable: { _ in true }) {
                case .interruptedBefore: return -EINTR
                case .interruptedAfter:
                    let result = live.submitAndWait(ring, waitCount)
                    return result < 0 ? result : -EINTR
                case .busy: return -EBUSY
                case .short, nil: return live.submitAndWait(ring, waitCount)
                }
            },
            reapCompletion: { ring in self.reap(ring, live: live) }
        )
    }

    private func reap(_ ring: UnsafeMutablePointer<io_uring>, live: IOSystemCalls) -> IOSystemCalls.RingCompletion {
        if state.withLock({ $0.cancellingRestOfSubmission }) {
            guard case .completed(let tag, _) = live.reapCompletion(ring) else { return .waitFailed(-EIO) }
            return .completed(tag: tag, result: -ECANCELED)
        }
        // Whether a fault applies depends on the completion, so peek by reaping first; an
        // EINTR before the wait is decided without consuming anything.
        if fault(for: .reap, applicable: { $0 == .interruptedBefore }, arming: false) == .interruptedBefore {
            return .waitFailed(-EINTR)
        }
        let completion = live.reapCompletion(ring)
        guard case .completed(let tag, let result) = completion else { return completion }
        // A write completion has a positive byte count; a sync's is 0.
        switch fault(for: .reap, applicable: { $0 != .short || result > 1 }, arming: true) {
        case .short:
            state.withLock { $0.cancellingRestOfSubmission = true }
            return .completed(tag: tag, result: result / 2)
        case .busy:
            state.withLock { $0.cancellingRestOfSubmission = true }
            return .completed(tag: tag, result: -EAGAIN)
        case .interruptedBefore, .interruptedAfter, nil:
            return completion
        }
    }

    /// Counts a call of `kind` (when `arming`), arms the next fault on schedule, and returns the
    /// armed fault (disarming it) when it applies to this call.
    private func fault(for kind: Call, applicable: (Fault) -> Bool, arming: Bool = true) -> Fault? {
        state.withLock { state in
            if arming {
                let count = state.callsByKind[kind, default: 0] + 1
                state.callsByKind[kind] = count
                if count % period == 0, state.armed[kind] == nil {
                    let choices = Self.faultsByCall[kind]!
                    state.armed[kind] = choices[(count / period) % choices.count]
                }
            }
            guard let armed = state.armed[kind], applicable(armed) else { return nil }
            state.armed[kind] = nil
            state.injected[kind, default: [:]][armed, default: 0] += 1
            return armed
        }
    }

    /// One line per injected fault kind, for the test log and docs/RELIABILITY.md.
    func summary() -> String {
        let injected = self.injected
        return Call.allCases.compactMap { call in
            guard let faults = injected[call] else { return nil }
            let parts = Fault.allCases.compactMap { fault in faults[fault].map { "\(fault.rawValue) \($0)" } }
            return "\(call.rawValue): " + parts.joined(separator: ", ")
        }.joined(separator: "; ")
    }
}
