import Testing
@testable import Swiftcask

/// Random puts, deletes, expiries, batches, FLUSHDBs, merges, crashes and reopens, checked
/// against an in-memory model after every step. Durability is `.always`, so every
/// acknowledged write is in the files when a crash image is taken.
@Suite struct ModelTests {
    struct Key: Hashable {
        var keyspace: UInt8
        var name: String
    }

    static let keyNames = (0..<120).map { "k\($0)" }
    static let keyspaces: [UInt8] = [0, 1]
    static let farFutureMillis = Clock.unixMillis() + 86_400_000

    final class Harness {
        var directory: TemporaryDirectory
        var store: Store
        var model: [Key: (value: [UInt8], expiresAt: Int64?)] = [:]
        var generator: SplitMix
        let options: StoreOptions

        init(seed: UInt64) throws {
            var options = testOptions(durability: .always, segmentBytes: Limits.segmentBytesMin)
            options.autoMerge = false
            options.mergeBytesPerSecondMax = 0
            self.options = options
            directory = TemporaryDirectory("swiftcask-model")
            store = try Store(directory: directory.path, options: options)
            generator = SplitMix(seed: seed)
        }

        func random(_ bound: Int) -> Int { Int(generator.next() % UInt64(bound)) }
        func randomKey() -> Key { Key(keyspace: ModelTests.keyspaces[random(2)], name: ModelTests.keyNames[random(ModelTests.keyNames.count)]) }
        func randomValue() -> [UInt8] { (0..<random(300)).map { _ in UInt8(truncatingIfNeeded: generator.next()) } }
        /// Either already expired, or expiring long after the test.
        func randomExpiry() -> Int64? { [nil, nil, Clock.unixMillis() - 1, ModelTests.farFutureMillis][random(4)] }

        func live(_ key: Key) -> [UInt8]? {
            guard let entry = model[key] else { return nil }
            if let expiresAt = entry.expiresAt, expiresAt <= Clock.unixMillis() { return nil }
            return entry.value
        }

        func step(_ index: Int) throws {
            switch random(100) {
            case 0..<40:
                let key = randomKey()
                let value = randomValue()
                let expiry = randomExpiry()
                try store.put(key.name.utf8, value, expiresAtMillis: expiry, in: Keyspace(key.keyspace))
                model[key] = (value, expiry)
            case 40..<55:
                let key = randomKey()
                let existed = try store.delete(key.name.utf8, in: Keyspace(key.keyspace))
                #expect(existed == (live(key) != nil), "delete at step \(index)")
                model[key] = nil
            case 55..<70:
                var batch = WriteBatch()
                var pending = model
                for _ in 0..<(1 + random(6)) {
                    let key = randomKey()
                    switch random(3) {
                    case 0:
                        let value = randomValue()
                        let expiry = randomExpiry()
                        batch.put(key.name.utf8, value, expiresAtMillis: expiry, in: Keyspace(key.keyspace))
                        pending[key] = (value, expiry)
                    case 1:
                        batch.delete(key.name.utf8, in: Keyspace(key.keyspace))
                        pending[key] = nil
                    default:
                        let expiry = randomExpiry()
                        batch.setExpiry(key.name.utf8, expiresAtMillis: expiry, in: Keyspace(key.keyspace))
                        if let entry = pending[key], entry.expiresAt.map({ $0 > Clock.unixMillis() }) ?? true {
                            pending[key] = (entry.value, expiry)
                        } else {
                            pending[key] = nil
                        }
                    }
                }
                try store.write(batch)
                model = pending
            case 70..<72:
                let keyspace = ModelTests.keyspaces[random(2)]
                try store.removeAll(in: Keyspace(keyspace))
                model = model.filter { $0.key.keyspace != keyspace }
            case 72..<78:
                _ = try store.merge()
            case 78..<82:
                try reopen(crash: false)
            case 82..<86:
                try reopen(crash: true)
            default:
                let key = randomKey()
                #expect(try store.get(key.name.utf8, in: Keyspace(key.keyspace)) == live(key), "read at step \(index)")
            }
        }

        /// Close and open again, or open a crash image of the live directory.
        func reopen(crash: Bool) throws {
            if crash {
                let image = try crashImage(of: directory.path)
                try store.close()
                directory = image
            } else {
                try store.close()
            }
            store = try Store(directory: directory.path, options: options)
            model = model.filter { $0.value.expiresAt.map { $0 > Clock.unixMillis() } ?? true }
            #expect(store.count == model.count, "count after \(crash ? "crash" : "reopen")")
        }

        func checkEverything(_ context: String) throws {
            for name in ModelTests.keyNames {
                for keyspace in ModelTests.keyspaces {
                    let key = Key(keyspace: keyspace, name: name)
                    #expect(try store.get(name.utf8, in: Keyspace(keyspace)) == live(key), "\(key) \(context)")
                }
            }
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func randomOperationsMatchTheModel(seed: UInt64) throws {
        let harness = try Harness(seed: seed)
        for index in 0..<1500 {
            try harness.step(index)
            if index % 100 == 99 { try harness.checkEverything("at step \(index)") }
        }
        try harness.reopen(crash: false)
        try harness.checkEverything("at the end")
        try harness.store.close()
    }
}
