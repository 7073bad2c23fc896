import NIOCore
import Swiftcask

/// SETBIT, GETBIT, BITCOUNT and LCS: computed over the whole value, which is a byte string.
extension ClientSession {
    /// Redis caps bit offsets at 2^32 - 1 (512 MiB of bits).
    static let bitOffsetMax = (1 << 32) - 1

    func setBit() throws(StoreError) {
        let key = argv.slice(at: 1)
        guard let offset = argv.slice(at: 2).integerValue, offset >= 0, offset <= Self.bitOffsetMax else {
            replyError(ErrorReply.bitOffset)
            return
        }
        guard let bit = argv.slice(at: 3).integerValue, bit == 0 || bit == 1 else {
            replyError(ErrorReply.bitValue)
            return
        }
        let current = try lookup(key)
        var value = current?.value ?? []
        let byteIndex = offset >> 3
        guard checkSizes(key: key, valueLength: byteIndex + 1) else { return }
        let grows = value.count <= byteIndex
        if grows { value.append(contentsOf: repeatElement(0, count: byteIndex + 1 - value.count)) }
        let mask = UInt8(1 << (7 - (offset & 7)))
        let old = value[byteIndex] & mask != 0 ? 1 : 0
        // As in Redis, setting a bit to the value it has changes nothing: no write, no watcher flagged.
        if !grows && old == bit {
            output.writeInteger(old)
            return
        }
        if bit == 1 { value[byteIndex] |= mask } else { value[byteIndex] &= ~mask }
        stagePut(key, value, expiresAtMillis: current?.expiresAtMillis)
        if commit() { output.writeInteger(old) }
    }

    func getBit() throws(StoreError) {
        guard let offset = argv.slice(at: 2).integerValue, offset >= 0, offset <= Self.bitOffsetMax else {
            replyError(ErrorReply.bitOffset)
            return
        }
        let value = try lookup(argv.slice(at: 1))?.value ?? []
        let byteIndex = offset >> 3
        guard byteIndex < value.count else {
            output.writeInteger(0)
            return
        }
        output.writeInteger(value[byteIndex] & UInt8(1 << (7 - (offset & 7))) != 0 ? 1 : 0)
    }

    /// BITCOUNT key [start end [BYTE | BIT]], checked in Redis 7.0's order: a missing key
    /// counts 0 whatever the arguments, and a range of two negatives that is empty counts 0
    /// before the unit is read.
    func bitCount() throws(StoreError) {
        guard let value = try lookup(argv.slice(at: 1))?.value else {
            output.writeInteger(0)
            return
        }
        var start = 0, end = value.count - 1
        var inBits = false
        if argv.count == 4 || argv.count == 5 {
            guard let first = argv.slice(at: 2).integerValue, let last = argv.slice(at: 3).integerValue else {
                replyError(ErrorReply.notInteger)
                return
            }
            (start, end) = (first, last)
            if start < 0 && end < 0 && start > end {
                output.writeInteger(0)
                return
            }
            if argv.count == 5 {
                if argv.slice(at: 4).equalsIgnoringCase("BIT") {
                    inBits = true
                } else if !argv.slice(at: 4).equalsIgnoringCase("BYTE") {
                    replyError(ErrorReply.syntax)
                    return
                }
            }
            let total = inBits ? value.count * 8 : value.count
            if start < 0 { start = max(0, total + start) }
            if end < 0 { end = max(0, total + end) }
            end = min(end, total - 1)
        } else if argv.count != 2 {
            replyError(ErrorReply.syntax)
            return
        }
        guard start <= end else {
            output.writeInteger(0)
            return
        }
        if !inBits {
            output.writeInteger(value[start...end].reduce(0) { $0 + $1.nonzeroBitCount })
            return
        }
        var count = 0
        for bit in start...end where value[bit >> 3] & UInt8(1 << (7 - (bit & 7))) != 0 { count += 1 }
        output.writeInteger(count)
    }

    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]
    func lcs() throws(StoreError) {
        var wantLength = false, wantIndexes = false, withMatchLength = false
        var minimumMatch = 0
        var index = 3
        while index < argv.count {
            let option = argv.slice(at: index)
            if option.equalsIgnoringCase("LEN") {
                wantLength = true
            } else if option.equalsIgnoringCase("IDX") {
                wantIndexes = true
            } else if option.equalsIgnoringCase("WITHMATCHLEN") {
                withMatchLength = true
            } else if option.equalsIgnoringCase("MINMATCHLEN") && index + 1 < argv.count {
                guard let value = argv.slice(at: index + 1).integerValue else {
                    replyError(ErrorReply.notInteger)
                    return
                }
                minimumMatch = max(0, value)
                index += 1
            } else {
                replyError(ErrorReply.syntax)
                return
            }
            index += 1
        }
        if wantLength && wantIndexes {
            replyError("ERR If you want both the length and indexes, please just use IDX.")
            return
        }
        let a = try lookup(argv.slice(at: 1))?.value ?? []
        let b = try lookup(argv.slice(at: 2))?.value ?? []
        // Redis's dynamic programme: lengths[i][j] is the LCS of a[..<i] and b[..<j].
        let width = b.count + 1
        guard (a.count + 1).multipliedReportingOverflow(by: width).partialValue <= Self.lcsCellsMax else {
            replyError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
            return
        }
        var lengths = [UInt32](repeating: 0, count: (a.count + 1) * width)
        if !a.isEmpty && !b.isEmpty {
            for i in 1...a.count {
                for j in 1...b.count {
                    lengths[i * width + j] = a[i - 1] == b[j - 1]
                        ? lengths[(i - 1) * width + j - 1] + 1
                        : max(lengths[(i - 1) * width + j], lengths[i * width + j - 1])
                }
            }
        }
        let total = Int(lengths[a.count * width + b.count])
        var common = [UInt8](repeating: 0, count: total)
        var matches: [(aRange: (Int, Int), bRange: (Int, Int), length: Int)] = []
        var i = a.count, j = b.count, position = total
        var current: (aStart: Int, aEnd: Int, bStart: Int, bEnd: Int)?
        func closeRange() {
            if let range = current {
                let length = range.aEnd - range.aStart + 1
                if length >= minimumMatch { matches.append(((range.aStart, range.aEnd), (range.bStart, range.bEnd), length)) }
                current = nil
            }
        }
        while i > 0 && j > 0 {
            if a[i - 1] == b[j - 1] {
                position -= 1
                common[position] = a[i - 1]
                if let range = current, range.aStart == i, range.bStart == j {
                    current = (i - 1, range.aEnd, j - 1, range.bEnd)
                } else {
                    closeRange()
                    current = (i - 1, i - 1, j - 1, j - 1)
                }
                i -= 1
                j -= 1
            } else if lengths[(i - 1) * width + j] > lengths[i * width + j - 1] {
                i -= 1
            } else {
                j -= 1
            }
        }
        closeRange()
        if wantLength {
            output.writeInteger(total)
        } else if wantIndexes {
            output.writeMapHeader(2, protocolVersion)
            output.writeBulkString("matches")
            output.writeArrayHeader(matches.count)
            for match in matches {
                output.writeArrayHeader(withMatchLength ? 3 : 2)
                output.writeArrayHeader(2)
                output.writeInteger(match.aRange.0)
                output.writeInteger(match.aRange.1)
                output.writeArrayHeader(2)
                output.writeInteger(match.bRange.0)
                output.writeInteger(match.bRange.1)
                if withMatchLength { output.writeInteger(match.length) }
            }
            output.writeBulkString("len")
            output.writeInteger(total)
        } else {
            output.writeBulk(common)
        }
    }

    /// Bound on LCS's table (cells of 4 bytes): 64 Mi cells = 256 MiB.
    static let lcsCellsMax = 64 * 1024 * 1024
}
