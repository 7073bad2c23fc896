import CShims

/// A read-only, shared memory map of a whole file. Writes made through the file descriptor
/// (pwrite or io_uring) are visible through the map as soon as they complete: both go through
/// the page cache. The region is unmapped when the last reference goes away, so a reader that
/// holds the owning segment can never see the mapping vanish under it.
final class MappedRegion: @unchecked Sendable {
    let base: UnsafeRawPointer
    let length: Int

    init(file: SystemFile, length: Int) throws(IOFailure) {
        precondition(length > 0, "cannot map an empty file")
        let address = sc_mmap_shared_readonly(file.descriptor, length)
        if sc_mmap_failed(address) != 0 || address == nil {
            throw IOFailure(operation: "mmap", path: file.path, errno: .current)
        }
        self.base = UnsafeRawPointer(address!)
        self.length = length
    }

    /// Hints the kernel about the access pattern (advisory; failures are ignored on purpose).
    func adviseSequential() { _ = sc_madvise_sequential(UnsafeMutableRawPointer(mutating: base), length) }
    func adviseRandom() { _ = sc_madvise_random(UnsafeMutableRawPointer(mutating: base), length) }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: length) }

    deinit {
        _ = sc_munmap(UnsafeMutableRawPointer(mutating: base), length)
    }
}
