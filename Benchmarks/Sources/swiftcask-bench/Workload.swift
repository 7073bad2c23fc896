/// The keys, values and read order of a run, generated and touched before any timing so the
/// timed loops measure the store, not key formatting or first-touch page faults.
///
/// Key i is 16 lowercase hex digits of a bijective 64-bit mix of i (unique, random-looking,
/// printable; the peer drivers in Benchmarks/peers generate the same keys). Values are
/// 100-byte windows into a 1 MiB random buffer, starting at a different offset per key.
/// Written only by `init`, so the parallel read phase's threads may share it.
final class Workload: @unchecked Sendable {
    static let keyBytes = 16
    static let valueBytes = 100
    static let valuePoolBytes = 1 << 20

    let keyCount: Int
    private let keys: UnsafeMutableRawPointer
    private let values: UnsafeMutableRawPointer
    /// A random permutation of 0..<keyCount: the read order.
    let readOrder: UnsafeMutableBufferPointer<Int32>
    /// The keys again, laid out in read order: the read loops walk this sequentially, so the
    /// caller's key is in cache (as it is for a real caller) and only the store's own memory
    /// accesses miss. Reading `key(readOrder[i])` instead would add a cache miss per read.
    private let keysInReadOrder: UnsafeMutableRawPointer

    init(keyCount: Int, seed: UInt64 = 0x5eed) {
        precondition(keyCount > 0 && keyCount < Int(Int32.max), "key count out of range")
        self.keyCount = keyCount
        keys = .allocate(byteCount: keyCount * Self.keyBytes, alignment: 16)
        values = .allocate(byteCount: Self.valuePoolBytes + Self.valueBytes, alignment: 16)
        readOrder = .allocate(capacity: keyCount)
        keysInReadOrder = .allocate(byteCount: keyCount * Self.keyBytes, alignment: 16)
        let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
        for index in 0..<keyCount {
            var mixed = Self.mix(UInt64(index))
            let key = keys + index * Self.keyBytes
            for position in stride(from: Self.keyBytes - 1, through: 0, by: -1) {
                key.storeBytes(of: hexDigits[Int(mixed & 0xF)], toByteOffset: position, as: UInt8.self)
                mixed >>= 4
            }
        }
        var random = SplitMix64(seed: seed)
        for offset in stride(from: 0, to: Self.valuePoolBytes + Self.valueBytes, by: 8) {
            let remaining = min(8, Self.valuePoolBytes + Self.valueBytes - offset)
            withUnsafeBytes(of: random.next()) { (values + offset).copyMemory(from: $0.baseAddress!, byteCount: remaining) }
        }
        for index in 0..<keyCount { readOrder[index] = Int32(index) }
        for index in stride(from: keyCount - 1, to: 0, by: -1) {
            let other = Int(random.next() % UInt64(index + 1))
            readOrder.swapAt(index, other)
        }
        for step in 0..<keyCount {
            (keysInReadOrder + step * Self.keyBytes).copyMemory(from: keys + Int(readOrder[step]) * Self.keyBytes, byteCount: Self.keyBytes)
        }
    }

    deinit {
        keys.deallocate()
        values.deallocate()
        readOrder.deallocate()
        keysInReadOrder.deallocate()
    }

    /// Bytes held by the workload itself (subtracted when reporting the store's memory).
    var footprintBytes: Int { keyCount * (2 * Self.keyBytes + 4) + Self.valuePoolBytes }

    @inline(__always)
    func key(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: keys + index * Self.keyBytes, count: Self.keyBytes)
    }

    /// The key of read number `step` (random order, sequential memory).
    @inline(__always)
    func readKey(_ step: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: keysInReadOrder + (step % keyCount) * Self.keyBytes, count: Self.keyBytes)
    }

    /// The value written for key `index` in round `round` (rounds differ so overwrites change data).
    @inline(__always)
    func value(_ index: Int, round: Int = 0) -> UnsafeRawBufferPointer {
        let offset = (index &* 97 &+ round &* 7919) & (Self.valuePoolBytes - 1)
        return UnsafeRawBufferPointer(start: values + offset, count: Self.valueBytes)
    }

    /// SplitMix64's finalizer: a bijection on 64 bits.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
