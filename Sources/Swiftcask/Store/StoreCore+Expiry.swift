/// Active expiry, after Redis's adaptive cycle: sample keys that carry an expiry time, drop
/// the expired ones, and sample again while more than a quarter of a sample had expired, within
/// a time budget. Keys nobody reads again still leave the index. No tombstone is written: the
/// record's own expiry makes recovery and merges drop it.
extension StoreCore {
    /// Keys with an expiry examined per sample (Redis: 20).
    static let expirySampleKeys = 20
    /// Index slots walked per sample at most, so a table with few expiring keys costs little.
    static let expirySampleSlotsMax = 2_000
    /// Wall-clock budget per cycle (Redis: 25 % of its 100 ms period; ours is smaller because
    /// the cycle holds the store lock).
    static let expiryCycleBudgetNanos: UInt64 = 1_000_000
    static let expirySamplesPerCycleMax = 64

    /// Lock held.
    func runActiveExpiryCycle() {
        guard keydir.count > 0 else { return }
        let started = Clock.monotonicNanos()
        let nowMillis = Clock.unixMillis()
        var generator = SystemRandomNumberGenerator()
        var samples = 0
        while samples < Self.expirySamplesPerCycleMax {
            var examined = 0
            var expired: [KeydirEntry] = []
            keydir.sample(startingAt: Int.random(in: 0..<Int.max, using: &generator), slotsMax: Self.expirySampleSlotsMax) { entry in
                guard entry.hasExpiry else { return true }
                examined += 1
                let expiresAt = expiry(of: entry)
                if expiresAt != 0 && expiresAt <= nowMillis { expired.append(entry) }
                return examined < Self.expirySampleKeys
            }
            for entry in expired {
                let (keyspace, key) = keyOf(entry)
                forget(entry, keyLength: key.count, keyspace: keyspace)
            }
            expiredKeysCollected += UInt64(expired.count)
            samples += 1
            if examined == 0 || expired.count * 4 <= examined { break }
            if Clock.monotonicNanos() &- started >= Self.expiryCycleBudgetNanos { break }
        }
    }
}
