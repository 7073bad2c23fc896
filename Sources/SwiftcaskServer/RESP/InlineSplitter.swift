/// Redis's `sdssplitargs`: splits an inline request line into arguments, honouring
/// "double quotes" (with \n \r \t \b \a \xHH escapes) and 'single quotes'.
enum InlineSplitter {
    /// C's `isspace`, which `sdssplitargs` uses.
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C
    }

    static func split<C: BidirectionalCollection<UInt8>>(_ line: C) throws(RESPProtocolError) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var index = line.startIndex
        // Each iteration consumes at least one byte, so the loops are bounded by the line length.
        while true {
            while index != line.endIndex && isSpace(line[index]) { index = line.index(after: index) }
            if index == line.endIndex { return result }
            var current: [UInt8] = []
            var inDoubleQuotes = false
            var inSingleQuotes = false
            var done = false
            while !done {
                if inDoubleQuotes {
                    guard index != line.endIndex else { throw .unbalancedQuotes }
                    let byte = line[index]
                    let next = line.index(after: index)
                    if byte == UInt8(ascii: "\\"), next != line.endIndex, line[next] == UInt8(ascii: "x"),
                       let high = hexValue(at: line.index(after: next), in: line),
                       let low = hexValue(at: line.index(line.index(after: next), offsetBy: 1, limitedBy: line.endIndex) ?? line.endIndex, in: line) {
                        current.append(high << 4 | low)
                        index = line.index(next, offsetBy: 3)
                        continue
                    } else if byte == UInt8(ascii: "\\"), next != line.endIndex {
                        switch line[next] {
                        case UInt8(ascii: "n"): current.append(0x0A)
                        case UInt8(ascii: "r"): current.append(0x0D)
                        case UInt8(ascii: "t"): current.append(0x09)
                        case UInt8(ascii: "b"): current.append(0x08)
                        case UInt8(ascii: "a"): current.append(0x07)
                        default: current.append(line[next])
                        }
                        index = line.index(after: next)
                        continue
                    } else if byte == UInt8(ascii: "\"") {
                        // The closing quote must be followed by a space or the end.
                        if next != line.endIndex && !isSpace(line[next]) { throw .unbalancedQuotes }
                        done = true
                    } else {
                        current.append(byte)
                    }
                    index = next
                } else if inSingleQuotes {
                    guard index != line.endIndex else { throw .unbalancedQuotes }
                    let byte = line[index]
                    let next = line.index(after: index)
                    if byte == UInt8(ascii: "\\"), next != line.endIndex, line[next] == UInt8(ascii: "'") {
                        current.append(UInt8(ascii: "'"))
                        index = line.index(after: next)
                        continue
                    } else if byte == UInt8(ascii: "'") {
                        if next != line.endIndex && !isSpace(line[next]) { throw .unbalancedQuotes }
                        done = true
                    } else {
                        current.append(byte)
                    }
                    index = next
                } else {
                    guard index != line.endIndex else { break }
                    let byte = line[index]
                    if isSpace(byte) || byte == 0 {
                        done = true
                    } else if byte == UInt8(ascii: "\"") {
                        inDoubleQuotes = true
                    } else if byte == UInt8(ascii: "'") {
                        inSingleQuotes = true
                    } else {
                        current.append(byte)
                    }
                    index = line.index(after: index)
                }
            }
            result.append(current)
        }
    }

    private static func hexValue<C: BidirectionalCollection<UInt8>>(at index: C.Index, in line: C) -> UInt8? {
        guard index != line.endIndex else { return nil }
        switch line[index] {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return line[index] - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return line[index] - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return line[index] - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
