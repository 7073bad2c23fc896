import Testing
@testable import Swiftcask

/// Hint files store key hashes and their seed, and an open trusts them: the hash of a key must
/// never change between versions. These values were computed by the first implementation.
struct KeyHasherTests {
    static let pinned: [(key: String, keyspace: UInt8, hash: UInt32)] = [
        ("", 0, 3148470375),
        ("a", 0, 3923198188),
        ("a", 1, 629160754),
        ("1234567", 0, 410448940),
        ("12345678", 0, 277610129),
        ("123456789", 3, 970512896),
        ("key:000000000001", 0, 1141512053),
        ("user:1000:profile:settings", 15, 2877668808),
        (String(repeating: "x", count: 40), 2, 63873436),
    ]

    @Test func hashesStayWhatHintFilesRecorded() {
        let hasher = KeyHasher(seed: 0x5EED_1234_ABCD_0042)
        for (key, keyspace, expected) in Self.pinned {
            let hash = Array(key.utf8).withUnsafeBytes { hasher.hash($0, keyspace: keyspace) }
            #expect(hash == expected, "key \"\(key)\" keyspace \(keyspace)")
        }
    }
}
