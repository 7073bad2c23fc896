/// Strict integer parsing with Redis's `string2ll` rules, shared by the decoder and commands.
enum RESPInteger {
    /// Digits in the longest Int64.
    static let digitsMax = 19

    static func parse<C: Collection<UInt8>>(_ bytes: C) -> Int? {
        var index = bytes.startIndex
        guard index != bytes.endIndex else { return nil }
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index = bytes.index(after: index)
            guard index != bytes.endIndex else { return nil }
        }
        let first = bytes[index]
        if first == UInt8(ascii: "0") {
            return bytes.index(after: index) == bytes.endIndex && !negative ? 0 : nil
        }
        guard first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        var digits = 0
        while index != bytes.endIndex {
            let byte = bytes[index]
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"), digits < digitsMax + 1 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            digits += 1
            index = bytes.index(after: index)
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int.min : -Int(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int(magnitude)
    }
}
