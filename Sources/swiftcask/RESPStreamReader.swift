/// Reads a stream of RESP arrays of bulk strings (what `swiftcask dump` writes and
/// `redis-cli --pipe` sends), one command at a time, within Redis's request limits.
struct RESPStreamReader {
    /// Longest `*n` or `$n` header line (Redis: 64 KiB).
    static let headerLineBytesMax = 64 * 1024
    /// Most arguments in one command (Redis: 1,048,576).
    static let argumentsMax = 1024 * 1024
    /// Longest argument (Redis's proto-max-bulk-len default; also the engine's value limit).
    static let bulkBytesMax = 512 * 1024 * 1024

    let input: FileInput

    /// Offset of the next command in the stream, for messages.
    var offset: Int { input.offset }

    /// The next command's arguments, or nil at the end of the stream. Empty arrays (`*0`) are
    /// skipped as Redis does.
    mutating func next() throws -> [[UInt8]]? {
        while true {
            let commandOffset = input.offset
            guard let header = try input.readLine(bytesMax: Self.headerLineBytesMax) else { return nil }
            guard header.first == UInt8(ascii: "*") else {
                throw CLIFailure("\(input.name): expected a RESP array ('*') at offset \(commandOffset), found \(Formatting.printable(Array(header.prefix(16))))")
            }
            guard let count = Self.integer(header.dropFirst()), count <= Self.argumentsMax else {
                throw CLIFailure("\(input.name): invalid array length at offset \(commandOffset) (at most \(Self.argumentsMax) arguments)")
            }
            if count <= 0 { continue }
            var arguments: [[UInt8]] = []
            arguments.reserveCapacity(count)
            for _ in 0..<count {
                let argumentOffset = input.offset
                guard let line = try input.readLine(bytesMax: Self.headerLineBytesMax) else {
                    throw CLIFailure("\(input.name): the stream ends inside the command at offset \(commandOffset)")
                }
                guard line.first == UInt8(ascii: "$"), let length = Self.integer(line.dropFirst()),
                      (0...Self.bulkBytesMax).contains(length) else {
                    throw CLIFailure("\(input.name): expected a bulk string ('$' and a length up to \(Self.bulkBytesMax)) at offset \(argumentOffset)")
                }
                arguments.append(try input.read(count: length))
                let terminatorOffset = input.offset
                guard try input.read(count: 2) == [UInt8(ascii: "\r"), UInt8(ascii: "\n")] else {
                    throw CLIFailure("\(input.name): a bulk string is not followed by \\r\\n at offset \(terminatorOffset)")
                }
            }
            return arguments
        }
    }

    /// A decimal integer of at most 18 digits (so it cannot overflow), optionally negative.
    static func integer(_ digits: ArraySlice<UInt8>) -> Int? {
        let isNegative = digits.first == UInt8(ascii: "-")
        let body = isNegative ? digits.dropFirst() : digits
        guard !body.isEmpty && body.count <= 18 else { return nil }
        var value = 0
        for digit in body {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return isNegative ? -value : value
    }
}
