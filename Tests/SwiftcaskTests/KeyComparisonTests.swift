import Testing
@testable import Swiftcask

/// `StoreCore.sameBytes`, the key check of every lookup: inline for 8-32 bytes, memcmp else.
struct KeyComparisonTests {
    @Test func equalityAtEveryLengthAndEveryDifferingByte() {
        let lengthMax = StoreCore.inlineComparisonBytesMax + 8
        // One byte of slack before each buffer, so the keys also start at odd addresses.
        var left = [UInt8](repeating: 0, count: lengthMax + 1)
        var right = [UInt8](repeating: 0, count: lengthMax + 1)
        for length in 0...lengthMax {
            for start in 0...1 {
                for index in 0..<length { left[start + index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
                right = left
                let equal = left.withUnsafeBytes { l in right.withUnsafeBytes { r in
                    StoreCore.sameBytes(l.baseAddress! + start, r.baseAddress! + start, count: length)
                } }
                #expect(equal, "length \(length), start \(start)")
                for differing in 0..<length {
                    right[start + differing] ^= 0x40
                    let same = left.withUnsafeBytes { l in right.withUnsafeBytes { r in
                        StoreCore.sameBytes(l.baseAddress! + start, r.baseAddress! + start, count: length)
                    } }
                    #expect(!same, "length \(length), start \(start), byte \(differing) differs")
                    right[start + differing] ^= 0x40
                }
            }
        }
    }
}
