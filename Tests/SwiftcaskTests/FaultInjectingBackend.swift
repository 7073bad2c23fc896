@testable import Swiftcask

/// Wraps a real backend and fails chosen calls, the way a dying disk would.
final class FaultInjectingBackend: AppendBackend, @unchecked Sendable {
    enum Fault {
        /// The writes succeed, the fdatasync fails with this errno.
        case syncFails(Errno)
        /// The write fails with this errno before anything is written.
        case writeFails(Errno)
    }

    let inner: AppendBackend
    private let plan = TestLock<(callsBeforeFault: Int, fault: Fault?)>((0, nil))
    /// The errno the next directory fsync fails with (directory fsyncs do not count as calls).
    private let directoryFault = TestLock<Errno?>(nil)
    var name: String { inner.name }

    init(wrapping inner: AppendBackend) { self.inner = inner }

    /// Injects `fault` into the call after the next `callsBeforeFault` successful ones.
    func inject(_ fault: Fault, after callsBeforeFault: Int = 0) {
        plan.withLock { $0 = (callsBeforeFault, fault) }
    }

    /// Fails the next directory fsync with `errno`.
    func injectDirectorySyncFailure(_ errno: Errno) {
        directoryFault.withLock { $0 = errno }
    }

    func synchronizeDirectory(_ path: String) throws(IOFailure) {
        if let errno = directoryFault.withLock({ fault in defer { fault = nil }; return fault }) {
            throw IOFailure(operation: "injected directory fsync", path: path, errno: errno)
        }
        try inner.synchronizeDirectory(path)
    }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure) {
        let fault: Fault? = plan.withLock { plan in
            guard plan.fault != nil else { return nil }
            if plan.callsBeforeFault > 0 {
                plan.callsBeforeFault -= 1
                return nil
            }
            defer { plan.fault = nil }
            return plan.fault
        }
        switch fault {
        case .none:
            try inner.write(chunks, synchronizing: descriptors, for: caller)
        case .writeFails(let errno):
            throw IOFailure(operation: "injected write", path: chunks.first?.path ?? "-", errno: errno)
        case .syncFails(let errno):
            try inner.write(chunks, synchronizing: [], for: caller)
            if !descriptors.isEmpty { throw IOFailure(operation: "injected fdatasync", path: chunks.first?.path ?? "-", errno: errno) }
        }
    }
}

/// A store whose backend is wrapped in a `FaultInjectingBackend`.
func storeWithFaults(_ directory: TemporaryDirectory, _ options: StoreOptions) throws -> (Store, FaultInjectingBackend) {
    let holder = TestLock<FaultInjectingBackend?>(nil)
    var options = options
    options.wrapBackend = { inner in
        let wrapped = FaultInjectingBackend(wrapping: inner)
        holder.withLock { $0 = wrapped }
        return wrapped
    }
    let store = try Store(directory: directory.path, options: options)
    return (store, holder.withLock { $0! })
}
