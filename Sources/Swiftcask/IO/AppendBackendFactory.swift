import Logging

/// Picks the append backend for a store and explains a fallback once, in words an operator
/// can act on.
enum AppendBackendFactory {
    static func make(_ choice: IOBackendChoice, logger: Logger) throws(StoreError) -> AppendBackend {
        switch choice {
        case .posix:
            return PosixAppendBackend()
        case .ioUring:
            do {
                return try UringAppendBackend()
            } catch {
                throw StoreError(.ioUringUnavailable, "io_uring is unavailable: \(explain(error)); use --io-backend posix (or automatic)")
            }
        case .automatic:
            do {
                return try UringAppendBackend()
            } catch {
                logger.warning("io_uring unavailable (\(explain(error))); falling back to pwrite + fdatasync with the same group commit")
                return PosixAppendBackend()
            }
        }
    }

    /// Turns the setup errno into its likely cause.
    static func explain(_ failure: IOFailure) -> String {
        let disabledSetting = FileSystem.readSmallFile("/proc/sys/kernel/io_uring_disabled") ?? "unknown"
        switch failure.errno {
        case .notImplemented:
            return "the kernel has no io_uring (ENOSYS; Linux 5.1 or later is needed)"
        case .notPermitted:
            return "not permitted (EPERM): a seccomp profile (containers) blocks io_uring_setup, or sysctl kernel.io_uring_disabled=\(disabledSetting)"
        case Errno(rawValue: 12):
            return "out of locked memory for the ring (ENOMEM; raise `ulimit -l`)"
        default:
            return "io_uring_queue_init failed: \(failure.errno)"
        }
    }
}
