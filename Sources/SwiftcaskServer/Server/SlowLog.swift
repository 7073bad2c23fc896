/// Redis's slow log: the newest `maxLength` commands that ran longer than the threshold.
struct SlowLog: Sendable {
    struct Entry: Sendable {
        let id: Int
        let timestampSeconds: Int
        let durationMicros: Int
        let arguments: [[UInt8]]
        let peer: String
        let clientName: String
    }

    /// Redis keeps at most 32 arguments per entry and 128 bytes per argument.
    static let argumentsMax = 32
    static let argumentBytesMax = 128

    private(set) var entries: [Entry] = []  // newest first
    private var nextID = 0

    mutating func record(durationMicros: Int, arguments: [[UInt8]], peer: String, clientName: String, timestampSeconds: Int, maxLength: Int) {
        var kept = Array(arguments.prefix(Self.argumentsMax))
        if arguments.count > Self.argumentsMax {
            kept[Self.argumentsMax - 1] = Array("... (\(arguments.count - Self.argumentsMax + 1) more arguments)".utf8)
        }
        kept = kept.map { argument in
            argument.count > Self.argumentBytesMax
                ? Array(argument.prefix(Self.argumentBytesMax)) + Array("... (\(argument.count - Self.argumentBytesMax) more bytes)".utf8)
                : argument
        }
        entries.insert(Entry(id: nextID, timestampSeconds: timestampSeconds, durationMicros: durationMicros, arguments: kept, peer: peer, clientName: clientName), at: 0)
        nextID += 1
        trim(to: maxLength)
    }

    mutating func trim(to maxLength: Int) {
        if entries.count > max(0, maxLength) { entries.removeLast(entries.count - max(0, maxLength)) }
    }

    mutating func reset() { entries.removeAll() }
}
