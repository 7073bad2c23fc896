import Glibc

/// A POSIX error number, as returned by a failed system call (`errno`).
public struct Errno: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// ENOSPC: no space left on device.
    public static let noSpace = Errno(rawValue: ENOSPC)
    /// EINTR: interrupted by a signal; the call is retried.
    public static let interrupted = Errno(rawValue: EINTR)
    /// EAGAIN: the kernel is short of a resource right now; retried a bounded number of times.
    public static let tryAgain = Errno(rawValue: EAGAIN)
    /// EBUSY: from io_uring_enter, the completion queue is full for now; retried like EAGAIN.
    public static let busy = Errno(rawValue: EBUSY)
    /// EIO: the device reported an I/O error.
    public static let ioError = Errno(rawValue: EIO)
    /// EWOULDBLOCK: a non-blocking lock is held by someone else.
    public static let wouldBlock = Errno(rawValue: EWOULDBLOCK)
    /// ENOENT: no such file or directory.
    public static let noEntry = Errno(rawValue: ENOENT)
    /// EACCES: permission denied.
    public static let accessDenied = Errno(rawValue: EACCES)
    /// EROFS: read-only file system.
    public static let readOnlyFileSystem = Errno(rawValue: EROFS)
    /// ENOSYS: the kernel does not implement the call.
    public static let notImplemented = Errno(rawValue: ENOSYS)
    /// EPERM: operation not permitted (for io_uring: seccomp or `kernel.io_uring_disabled`).
    public static let notPermitted = Errno(rawValue: EPERM)
    /// EOPNOTSUPP: the file system does not support the operation.
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)
    /// ECANCELED: a linked io_uring request was cancelled because an earlier one failed.
    public static let cancelled = Errno(rawValue: ECANCELED)

    /// The calling thread's current `errno`.
    static var current: Errno { Errno(rawValue: Glibc.errno) }

    public var description: String {
        guard let message = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: message)) (errno \(rawValue))"
    }
}
