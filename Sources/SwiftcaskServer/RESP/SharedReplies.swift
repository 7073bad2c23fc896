/// Precomputed reply bytes, built once (Redis's `shared` object): small integers and
/// aggregate/bulk headers, so hot replies are a single copy into the output buffer.
///
/// Each table is one block of fixed-size slots that lives as long as the process, read
/// through a raw pointer: an array of arrays cost a retain and a release of the table per
/// reply (INCR -P 16 profile), and copying an element out cost another pair.
enum SharedReplies {
    /// Integers `0..<integerCountMax` and headers up to this length are precomputed.
    static let integerCountMax = 10_000
    static let headerLengthMax = 64

    /// `:n\r\n` for n in `0..<integerCountMax`.
    nonisolated(unsafe) static let integers = Table(count: integerCountMax) { ":\($0)\r\n" }
    /// `$n\r\n` for n in `0..<headerLengthMax`.
    nonisolated(unsafe) static let bulkHeaders = Table(count: headerLengthMax) { "$\($0)\r\n" }
    /// `*n\r\n` for n in `0..<headerLengthMax`.
    nonisolated(unsafe) static let arrayHeaders = Table(count: headerLengthMax) { "*\($0)\r\n" }

    /// Replies in slots of `slotBytes`: the reply's length in the slot's first byte, then its bytes.
    struct Table {
        static let slotBytes = 16
        private let slots: UnsafeMutableRawPointer
        private let count: Int

        init(count: Int, _ reply: (Int) -> String) {
            self.count = count
            // Never deallocated: the tables are process-wide constants.
            slots = UnsafeMutableRawPointer.allocate(byteCount: count * Self.slotBytes, alignment: Self.slotBytes)
            for index in 0..<count {
                let bytes = Array(reply(index).utf8)
                precondition(bytes.count < Self.slotBytes, "a shared reply longer than its slot")
                let slot = slots + index * Self.slotBytes
                slot.storeBytes(of: UInt8(bytes.count), as: UInt8.self)
                bytes.withUnsafeBytes { (slot + 1).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            }
        }

        /// The bytes of reply `index`; the caller keeps `index` below the table's count (checked:
        /// past either end would read memory that is not the table's).
        @inline(__always)
        subscript(index: Int) -> UnsafeRawBufferPointer {
            precondition(index >= 0 && index < count, "shared reply index out of range")
            let slot = UnsafeRawPointer(slots + index * Self.slotBytes)
            return UnsafeRawBufferPointer(start: slot + 1, count: Int(slot.load(as: UInt8.self)))
        }
    }
}
