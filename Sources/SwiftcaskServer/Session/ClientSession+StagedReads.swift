import NIOCore
import Swiftcask

/// Reads over many keys (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSH inside EXEC) that must see the
/// transaction's staged writes: the engine's keys, corrected by the overlay.
extension ClientSession {
    /// Engine keys RANDOMKEY draws inside EXEC before falling back to a scan, when the
    /// transaction deleted most of them.
    static let randomKeyDrawsMax = 64

    /// DBSIZE: keys of `keyspace`, counting expired keys not yet collected, as Redis does.
    func databaseSize(of keyspace: Keyspace) -> Int {
        guard let overlay else { return store.count(in: keyspace) }
        // Engine lookups first: they drop expired staged keys, so the count below agrees with them.
        var correction = 0
        for (key, isLive) in overlay.stagedKeys(in: keyspace, nowMillis: now) {
            let inEngine = store.info(forKey: key, in: keyspace) != nil
            correction += (isLive ? 1 : 0) - (inEngine ? 1 : 0)
        }
        return store.count(in: keyspace) + correction
    }

    /// Whether an engine key is still visible to the transaction (it did not delete it).
    func isVisible(engineKey key: [UInt8], in keyspace: Keyspace) -> Bool {
        guard let overlay, let staged = overlay.entry(key, in: keyspace) else { return true }
        return staged.isLive(at: now)
    }

    /// Keys the transaction created that the engine does not hold, in byte order.
    func stagedAdditions(in keyspace: Keyspace) -> [[UInt8]] {
        guard let overlay else { return [] }
        return overlay.stagedKeys(in: keyspace, nowMillis: now).compactMap { key, isLive in
            isLive && store.info(forKey: key, in: keyspace) == nil ? key : nil
        }
    }

    /// RANDOMKEY inside EXEC: a staged addition or an engine key the transaction kept, each
    /// with a chance in proportion to their numbers.
    func randomVisibleKey(in keyspace: Keyspace) -> [UInt8]? {
        let additions = stagedAdditions(in: keyspace)
        let size = databaseSize(of: keyspace)
        guard size > 0 else { return nil }
        if Int.random(in: 0..<size) < additions.count { return additions.randomElement() }
        for _ in 0..<Self.randomKeyDrawsMax {
            guard let key = store.randomKey(in: keyspace) else { break }
            if isVisible(engineKey: key, in: keyspace) { return key }
        }
        return firstVisibleEngineKey(in: keyspace) ?? additions.first
    }

    private func firstVisibleEngineKey(in keyspace: Keyspace) -> [UInt8]? {
        var found: [UInt8]?
        forEachEngineKey(in: keyspace) { key in
            if isVisible(engineKey: key, in: keyspace) { found = key }
            return found == nil
        }
        return found
    }

    /// Visits every key of a keyspace in scan order while `visit` returns true. Bounded: each
    /// step returns at least one key or ends the scan; the cap stops a cursor that never
    /// returns to zero.
    func forEachEngineKey(in keyspace: Keyspace, _ visit: ([UInt8]) -> Bool) {
        var cursor: UInt64 = 0
        let stepsMax = store.count(in: keyspace) / Self.scanStepKeys + Self.scanExtraStepsMax
        for _ in 0..<stepsMax {
            let step = store.scan(in: keyspace, cursor: cursor, count: Self.scanStepKeys)
            for key in step.keys where !visit(key) { return }
            cursor = step.nextCursor
            if cursor == 0 { return }
        }
    }

    /// FLUSHDB inside EXEC: a staged delete of every key the transaction sees, so the whole
    /// transaction stays one atomic batch in the log.
    func stageFlush(of keyspace: Keyspace) {
        var keys: [[UInt8]] = []
        forEachEngineKey(in: keyspace) { key in
            keys.append(key)
            return true
        }
        keys.append(contentsOf: stagedAdditions(in: keyspace))
        for key in keys {
            let buffer = ByteBuffer(bytes: key)
            if exists(buffer, in: keyspace) { stageDelete(buffer, in: keyspace) }
        }
    }
}
