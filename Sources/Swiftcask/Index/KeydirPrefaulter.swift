import Glibc
import Synchronization

/// Faults in a freshly mapped index table on its own thread, front to back, one huge page per
/// call (MADV_POPULATE_WRITE, Linux 5.14+; contents are left as they are), until the whole
/// table is done or `stop()` is called. The kernel's zeroing of fresh pages, slow on VMs,
/// then overlaps the writes that fill the table in the same order: a bulk load at open, or the
/// migration after a growth. Advisory: if the kernel refuses, the thread just ends and the
/// writers fault pages in themselves; if no thread can be started, there is no prefaulter.
final class KeydirPrefaulter {
    static let chunkBytes = 2 << 20

    private final class Flag: Sendable {
        let stopRequested = Atomic<Bool>(false)
    }

    private let flag: Flag
    private let thread: BackgroundThread

    init?(_ range: KeydirTable.MappedRange) {
        let flag = Flag()
        self.flag = flag
        let started = BackgroundThread.startIfPossible(name: "swiftcask-fault") {
            var offset = 0
            while offset < range.bytes && !flag.stopRequested.load(ordering: .relaxed) {
                let length = min(Self.chunkBytes, range.bytes - offset)
                guard madvise(UnsafeMutableRawPointer(bitPattern: range.address + UInt(offset)), length, MADV_POPULATE_WRITE) == 0 else { return }
                offset += length
            }
        }
        guard let started else { return nil }
        thread = started
    }

    /// Stops after the chunk in progress and waits for the thread: the table may be freed after.
    func stop() {
        flag.stopRequested.store(true, ordering: .relaxed)
        thread.join()
    }
}
