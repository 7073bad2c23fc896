import NIOCore

/// Finds a command by the bytes of its name, case-insensitively, without allocating:
/// an open-addressing table keyed by FNV-1a of the lower-cased name.
final class CommandRegistry: Sendable {
    /// A class, so a lookup costs one retain instead of copying the spec's strings and arrays.
    final class Entry: Sendable {
        let id: CommandID
        let spec: CommandSpec
        let nameBytes: [UInt8]
        /// Position in `entries`, which follows `CommandID.allCases`.
        let index: Int
        /// Hot copies of the spec's fields used by every dispatch.
        let arity: Int
        let flags: CommandFlags

        init(id: CommandID, spec: CommandSpec, nameBytes: [UInt8], index: Int) {
            self.id = id
            self.spec = spec
            self.nameBytes = nameBytes
            self.index = index
            self.arity = spec.arity
            self.flags = spec.flags
        }

        func acceptsArgumentCount(_ count: Int) -> Bool {
            arity >= 0 ? count == arity : count >= -arity
        }
    }

    /// Power of two, at least 4× the command count so probes stay short.
    static let slotCount = 512
    /// Longest command name; anything longer cannot match.
    static let nameBytesMax = 32

    let entries: [Entry]
    private let slots: [Int16]

    init() {
        let entries = CommandID.allCases.enumerated().map { index, id in
            guard let spec = CommandTable.spec(named: id.rawValue) else { preconditionFailure("\(id) needs a CommandTable row") }
            return Entry(id: id, spec: spec, nameBytes: Array(spec.name.utf8), index: index)
        }
        precondition(entries.count * 4 <= Self.slotCount)
        var slots = [Int16](repeating: -1, count: Self.slotCount)
        for (index, entry) in entries.enumerated() {
            var slot = entry.nameBytes.withUnsafeBytes { Self.hash($0) } & (Self.slotCount - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            slots[slot] = Int16(index)
        }
        self.entries = entries
        self.slots = slots
    }

    func entry(named name: ByteBuffer) -> Entry? {
        name.withUnsafeReadableBytes { bytes in
            guard bytes.count <= Self.nameBytesMax else { return nil }
            var slot = Self.hash(bytes) & (Self.slotCount - 1)
            // Bounded: the table is at most a quarter full, so an empty slot comes soon.
            for _ in 0..<Self.slotCount {
                let index = Int(slots[slot])
                if index < 0 { return nil }
                let entry = entries[index]
                if entry.nameBytes.count == bytes.count && Self.equalsIgnoringCase(bytes, entry.nameBytes) { return entry }
                slot = (slot + 1) & (Self.slotCount - 1)
            }
            return nil
        }
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(lowercased(byte))) &* 0x0000_0100_0000_01b3 }
        return Int(truncatingIfNeeded: hash)
    }

    private static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lower: [UInt8]) -> Bool {
        for index in 0..<bytes.count where lowercased(bytes[index]) != lower[index] { return false }
        return true
    }
}
