/// Finds the first argument (the key, for almost every data command) of each multibulk
/// command at the front of a read, without validating or consuming anything. It is only a
/// hint pass: the connection hands the keys to `Store.prefetch` so a pipeline's index slots
/// and records load from memory together, before the commands run one by one (Redis 8 does
/// the same for its pipelines). Anything unexpected ends the scan; the decoder alone judges
/// the bytes.
enum PipelineKeyScanner {
    /// Stores in `keys` (at most `keys.count` of them) the first argument of each command whose
    /// header and first argument lie inside `bytes`, and returns how many it stored; stops at
    /// the first command that is not a complete multibulk frame. The caller's buffer is reused
    /// read after read: an array here cost a third of the pass in appends and clears.
    static func firstArguments(in bytes: UnsafeRawBufferPointer, into keys: UnsafeMutableBufferPointer<UnsafeRawBufferPointer>) -> Int {
        var found = 0
        var position = 0
        while found < keys.count {
            guard let argumentCount = header(UInt8(ascii: "*"), in: bytes, at: &position) else { return found }
            for argument in 0..<argumentCount {
                guard let length = header(UInt8(ascii: "$"), in: bytes, at: &position),
                      length <= bytes.count - position - 2 else { return found }
                if argument == 1 {
                    keys[found] = UnsafeRawBufferPointer(rebasing: bytes[position..<position + length])
                    found += 1
                }
                position += length + 2
            }
        }
        return found
    }

    /// Longest decimal length a header may spell (longer means malformed, so the scan stops).
    static let headerDigitsMax = 10

    /// Reads `<marker><digits>\r\n` at `position` and moves past it; nil when it is not there.
    private static func header(_ marker: UInt8, in bytes: UnsafeRawBufferPointer, at position: inout Int) -> Int? {
        guard position < bytes.count, bytes[position] == marker else { return nil }
        var index = position + 1
        var value = 0
        while index < bytes.count, bytes[index] != UInt8(ascii: "\r") {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10, index - position <= headerDigitsMax else { return nil }
            value = value * 10 + Int(digit)
            index += 1
        }
        guard index + 1 < bytes.count, index > position + 1 else { return nil }
        position = index + 2
        return value
    }
}
