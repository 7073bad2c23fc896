/// Hashes (keyspace, key) to the 32 bits the index uses. A multiply-fold mix over 8-byte words
/// (wyhash's construction), seeded per store at random so clients cannot aim collisions at it.
/// Hint files store hashes together with their seed, and an open adopts that seed; the seed is
/// no more secret than the data directory it is stored in.
struct KeyHasher {
    let seed: UInt64

    init(seed: UInt64 = UInt64.random(in: .min ... .max)) { self.seed = seed }

    private static let prime0: UInt64 = 0xa076_1d64_78bd_642f
    private static let prime1: UInt64 = 0xe703_7ed1_a0b4_28db
    private static let prime2: UInt64 = 0x8ebc_6af0_9c88_c6e3

    @inline(__always)
    private static func fold(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    @inline(__always)
    func hash(_ key: UnsafeRawBufferPointer, keyspace: UInt8) -> UInt32 {
        let count = key.count
        var state = seed ^ Self.fold(UInt64(count) ^ Self.prime0, UInt64(keyspace) ^ Self.prime1)
        if let base = key.baseAddress {
            // Unchecked offsets: `offset + 8 <= count` bounds every load (a get hashes each key).
            var offset = 0
            while offset &+ 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                state = Self.fold(state ^ word, Self.prime1)
                offset &+= 8
            }
            if offset < count {
                var tail: UInt64 = 0
                var shift: UInt64 = 0
                while offset < count {
                    tail |= UInt64(base.load(fromByteOffset: offset, as: UInt8.self)) &<< shift
                    shift &+= 8
                    offset &+= 1
                }
                state = Self.fold(state ^ tail, Self.prime2)
            }
        }
        state = Self.fold(state ^ Self.prime0, Self.prime2)
        return UInt32(truncatingIfNeeded: state >> 32) ^ UInt32(truncatingIfNeeded: state)
    }
}
