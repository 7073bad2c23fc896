import Synchronization

extension UnsafeMutablePointer where Pointee == Atomic<UInt32> {
    /// The atomic as a futex word (an `Atomic<UInt32>` is laid out as a `UInt32`), for
    /// `Monitor`'s lock and `FutexCondition`'s sequence number.
    @inline(__always)
    var futexWord: UnsafeMutablePointer<UInt32> {
        UnsafeMutableRawPointer(self).assumingMemoryBound(to: UInt32.self)
    }
}
