import NIOCore

/// Finds a command by the bytes of its name, case-insensitively, without allocating:
/// an open-addressing table keyed by FNV-1a of the lower-cased name.
final class CommandRegistry: Sendable {
    /// What every dispatch needs of a command: plain values, so a lookup costs no reference
    /// counting (a class cost a retain and a release per command, 1.5 % of a pipelined GET).
    struct Entry: Sendable {
        let id: CommandID
        /// Position in `entries` and `specs`, which follow `CommandID.allCases`.
        let index: Int
        let arity: Int
        let flags: CommandFlags
        /// A container (CLIENT, CONFIG, …): its calls count under their subcommand.
        let hasSubcommands: Bool

        func acceptsArgumentCount(_ count: Int) -> Bool {
            arity >= 0 ? count == arity : count >= -arity
        }
    }

    /// Power of two, at least 4× the command count so probes stay short.
    static let slotCount = 512
    /// Longest command name; anything longer cannot match.
    static let nameBytesMax = 32

    let entries: [Entry]
    /// The full description of each entry's command (names, key positions, docs), then every
    /// subcommand of a container: one row per line of INFO commandstats, as in Redis 7
    /// (`cmdstat_config|get`).
    let specs: [CommandSpec]
    /// Index in `specs` of each subcommand, by its full lower-case name (`config|get`).
    private let subcommandIndices: [String: Int]
    /// Each entry's name in lower case, in slots of `nameBytesMax` bytes, and its length: one
    /// flat array, as taking a name out of an array of arrays cost a retain and a release
    /// per command.
    private let nameBytes: [UInt8]
    private let nameLengths: [Int]
    private let slots: [Int16]

    init() {
        let commands = CommandID.allCases.map { id in
            guard let spec = CommandTable.spec(named: id.rawValue) else { preconditionFailure("\(id) needs a CommandTable row") }
            return spec
        }
        let subcommands = CommandTable.specs.filter(\.isSubcommand)
        specs = commands + subcommands
        subcommandIndices = Dictionary(uniqueKeysWithValues: subcommands.enumerated().map { ($1.name, commands.count + $0) })
        entries = zip(CommandID.allCases, commands).enumerated().map { index, command in
            Entry(id: command.0, index: index, arity: command.1.arity, flags: command.1.flags,
                  hasSubcommands: !CommandTable.subcommands(of: command.1.name).isEmpty)
        }
        let names = commands.map { Array($0.name.utf8) }
        precondition(names.allSatisfy { $0.count <= Self.nameBytesMax }, "a command name longer than nameBytesMax")
        nameBytes = names.flatMap { $0 + [UInt8](repeating: 0, count: Self.nameBytesMax - $0.count) }
        nameLengths = names.map(\.count)
        precondition(entries.count * 4 <= Self.slotCount)
        var slots = [Int16](repeating: -1, count: Self.slotCount)
        for (index, name) in names.enumerated() {
            var slot = name.withUnsafeBytes { Self.hash($0) } & (Self.slotCount - 1)
            while slots[slot] >= 0 { slot = (slot + 1) & (Self.slotCount - 1) }
            slots[slot] = Int16(index)
        }
        self.slots = slots
    }

    /// The command's name as Redis spells it in replies (lower case).
    func name(of entry: Entry) -> String { specs[entry.index].name }

    /// The `specs` index of a container's subcommand named `subcommand` (any case), if it has one.
    func subcommandIndex(of entry: Entry, named subcommand: UnsafeRawBufferPointer) -> Int? {
        guard entry.hasSubcommands, subcommand.count <= Self.nameBytesMax else { return nil }
        let name = name(of: entry) + "|" + String(decoding: subcommand.map(Self.lowercased), as: UTF8.self)
        return subcommandIndices[name]
    }

    func entry(named bytes: UnsafeRawBufferPointer) -> Entry? {
        guard bytes.count <= Self.nameBytesMax else { return nil }
        var slot = Self.hash(bytes) & (Self.slotCount - 1)
        // Bounded: the table is at most a quarter full, so an empty slot comes soon.
        for _ in 0..<Self.slotCount {
            let index = Int(slots[slot])
            if index < 0 { return nil }
            if nameLengths[index] == bytes.count && equalsIgnoringCase(bytes, nameAt: index) { return entries[index] }
            slot = (slot + 1) & (Self.slotCount - 1)
        }
        return nil
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

    /// Whether `bytes`, in any case, spell the name of entry `nameIndex` (of the same length).
    private func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, nameAt nameIndex: Int) -> Bool {
        nameBytes.withUnsafeBufferPointer { names in
            let name = nameIndex * Self.nameBytesMax
            for index in 0..<bytes.count where Self.lowercased(bytes[index]) != names[name + index] { return false }
            return true
        }
    }
}
