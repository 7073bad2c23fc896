import Testing
@testable import Swiftcask

@Suite struct StableRadixSortTests {
    struct Tagged: Equatable {
        var key: UInt32
        var position: Int
    }

    /// The reference order: by key, then by original position (what "stable" means).
    func expectSortedStably(_ keys: [UInt32], _ context: String) {
        var elements = keys.enumerated().map { Tagged(key: $0.element, position: $0.offset) }
        let expected = elements.sorted { ($0.key, $0.position) < ($1.key, $1.position) }
        StableRadixSort.sort(&elements, byKey: \.key)
        #expect(elements == expected, "\(context)")
    }

    @Test func sortsByKeyKeepingTheOrderOfEqualKeys() {
        var random = SplitMix(seed: 0x5EED)
        expectSortedStably([], "empty")
        expectSortedStably([7], "one")
        expectSortedStably([2, 1], "two")
        expectSortedStably([UInt32.max, 0, UInt32.max, 0], "extremes")
        for count in [255, 256, 257, 10_000] {
            // Every byte of the key decides somewhere, and many keys repeat.
            expectSortedStably((0..<count).map { _ in UInt32(truncatingIfNeeded: random.next()) }, "\(count) random")
            expectSortedStably((0..<count).map { _ in UInt32(random.next() % 5) << 24 }, "\(count) top byte only")
            expectSortedStably((0..<count).map { _ in UInt32(random.next() % 3) }, "\(count) low byte only")
            expectSortedStably((0..<count).map { UInt32(count - $0) }, "\(count) descending")
        }
    }
}
