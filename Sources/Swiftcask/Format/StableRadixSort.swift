/// Stable sort of plain values by a 32-bit key: least-significant-digit radix sort, three passes
/// of 11 bits each (the last uses 10). A hint file sorts every record of a segment (a million
/// or more) by hash; a comparison sort of tuples took about a third of a merge's CPU, and these
/// passes are sequential reads and 2048-way scattered writes, cheap on the cache. Three passes
/// and a copy back move less memory than four byte-wide passes.
enum StableRadixSort {
    static let digitBits = 11
    static let buckets = 1 << digitBits
    static let passes = (UInt32.bitWidth + digitBits - 1) / digitBits

    /// Sorts `elements` by `key`; elements with equal keys keep their order.
    static func sort<Element: BitwiseCopyable>(_ elements: inout [Element], byKey key: (Element) -> UInt32) {
        let count = elements.count
        guard count > 1 else { return }
        let scratch = UnsafeMutableBufferPointer<Element>.allocate(capacity: count)
        defer { scratch.deallocate() }
        withUnsafeTemporaryAllocation(of: Int.self, capacity: passes * buckets) { starts in
            starts.initialize(repeating: 0)
            elements.withUnsafeMutableBufferPointer { original in
                // One counting pass for every digit.
                for element in original {
                    let value = key(element)
                    for pass in 0..<passes {
                        starts[pass * buckets + Int((value >> UInt32(pass * digitBits)) & UInt32(buckets - 1))] += 1
                    }
                }
                var source = original
                var destination = scratch
                for pass in 0..<passes {
                    let digits = UnsafeMutableBufferPointer(rebasing: starts[(pass * buckets)..<((pass + 1) * buckets)])
                    // Counts become each bucket's first position.
                    var position = 0
                    for bucket in 0..<buckets {
                        let bucketCount = digits[bucket]
                        digits[bucket] = position
                        position += bucketCount
                    }
                    let shift = UInt32(pass * digitBits)
                    for element in source {
                        let bucket = Int((key(element) >> shift) & UInt32(buckets - 1))
                        destination[digits[bucket]] = element
                        digits[bucket] += 1
                    }
                    swap(&source, &destination)
                }
                // After an odd number of passes the result is in the scratch buffer.
                if passes % 2 == 1 { original.baseAddress!.update(from: source.baseAddress!, count: count) }
            }
        }
    }
}
