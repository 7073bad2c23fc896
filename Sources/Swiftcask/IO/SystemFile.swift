import CShims
import Glibc

/// An open file descriptor and the path it was opened from. Every file system call the engine
/// makes goes through this type (or `MappedRegion` and the append backends), so errors come back
/// typed, EINTR is retried, and nothing above the IO layer touches `errno`.
struct SystemFile: Sendable {
    let descriptor: Int32
    let path: String

    /// Opens `path`; `create` makes it (mode 0644) when missing.
    static func open(_ path: String, writable: Bool, create: Bool = false, exclusive: Bool = false) throws(IOFailure) -> SystemFile {
        var flags = writable ? O_RDWR : O_RDONLY
        if create { flags |= O_CREAT }
        if exclusive { flags |= O_EXCL }
        let descriptor = try retryingInterrupts("open", path) { sc_open(path, flags, 0o644) }
        return SystemFile(descriptor: descriptor, path: path)
    }

    /// Opens a directory so it can be fsynced or locked.
    static func openDirectory(_ path: String) throws(IOFailure) -> SystemFile {
        let descriptor = try retryingInterrupts("open directory", path) { sc_open(path, O_RDONLY | O_DIRECTORY, 0) }
        return SystemFile(descriptor: descriptor, path: path)
    }

    func close() {
        // close(2) must not be retried on EINTR on Linux: the descriptor is already released.
        _ = Glibc.close(descriptor)
    }

    /// Writes all `count` bytes at `offset`, continuing after short writes.
    func write(_ bytes: UnsafeRawPointer, count: Int, at offset: Int) throws(IOFailure) {
        try IOSystemCalls.live.writeAll(descriptor, path: path, bytes, count: count, at: offset)
    }

    /// Reads exactly `count` bytes at `offset` (fewer only at end of file); returns the count read.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) throws(IOFailure) -> Int {
        var total = 0
        while total < count {
            let result = pread(descriptor, buffer + total, count - total, off_t(offset + total))
            if result < 0 {
                if Errno.current == .interrupted { continue }
                throw IOFailure(operation: "pread", path: path, errno: .current)
            }
            if result == 0 { break }
            total += result
        }
        return total
    }

    func synchronizeData() throws(IOFailure) {
        try IOSystemCalls.live.synchronize(descriptor, path: path)
    }

    func synchronize() throws(IOFailure) {
        _ = try retryingInterrupts("fsync", path) { fsync(descriptor) }
    }

    /// Reserves `length` bytes of disk from offset 0 so later writes cannot fail with ENOSPC and
    /// fdatasync need not update the file size. Falls back to ftruncate where unsupported.
    func preallocate(length: Int) throws(IOFailure) {
        while sc_fallocate(descriptor, 0, Int64(length)) != 0 {
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .notSupported {
                try truncate(to: length)
                return
            }
            throw IOFailure(operation: "fallocate", path: path, errno: error)
        }
    }

    func truncate(to length: Int) throws(IOFailure) {
        _ = try retryingInterrupts("ftruncate", path) { ftruncate(descriptor, off_t(length)) }
    }

    func size() throws(IOFailure) -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw IOFailure(operation: "fstat", path: path, errno: .current)
        }
        return Int(status.st_size)
    }

    /// Takes an exclusive, non-blocking flock. Returns false when another open file description
    /// (this process or another) holds it.
    func lockExclusively() throws(IOFailure) -> Bool {
        while sc_flock_exclusive_nonblocking(descriptor) != 0 {
            let error = Errno.current
            if error == .interrupted { continue }
            if error == .wouldBlock { return false }
            throw IOFailure(operation: "flock", path: path, errno: error)
        }
        return true
    }

    private static func retryingInterrupts(_ operation: String, _ path: String, _ call: () -> Int32) throws(IOFailure) -> Int32 {
        while true {
            let result = call()
            if result >= 0 { return result }
            let error = Errno.current
            if error != .interrupted { throw IOFailure(operation: operation, path: path, errno: error) }
        }
    }

    private func retryingInterrupts(_ operation: String, _ path: String, _ call: () -> Int32) throws(IOFailure) -> Int32 {
        try Self.retryingInterrupts(operation, path, call)
    }
}
