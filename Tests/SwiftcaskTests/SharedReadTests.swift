import Synchronization
import Testing
@testable import Swiftcask

/// Reads hold the store's lock shared, side by side on several threads, while writers, merges
/// and lazy expiry take it exclusively: every read sees a whole write, never a torn one, an
/// error or a value older than one it saw before.
@Suite struct SharedReadTests {
    static let keys = 1500
    static let rounds = 6
    /// Keys deleted in odd rounds and written again in even ones, so reads also find them absent.
    static let deletedEvery = 7

    static func key(_ index: Int) -> [UInt8] { bytes("key-\(index)") }

    /// Value of a key in a round: the round is readable back from it, and the rest depends on
    /// both, so a value of another key or round, or a mix of two, does not match.
    static func value(_ index: Int, round: Int) -> [UInt8] {
        bytes("\(round):" + String(repeating: "\(index)-\(round)|", count: 4))
    }

    /// Test options without the active expiry cycle, whose exclusive lock holds and removals
    /// would get in the way of what a test checks of the readers.
    static func optionsWithoutActiveExpiry() -> StoreOptions {
        var options = testOptions()
        options.activeExpiryIntervalMillis = 3_600_000
        return options
    }

    static func isDeleted(_ index: Int, inRound round: Int) -> Bool {
        index % deletedEvery == 0 && round % 2 == 1
    }

    /// What a reader thread checks of every value it sees.
    final class ReaderLog: @unchecked Sendable {
        var lastRound = [Int](repeating: -1, count: SharedReadTests.keys)
        var failures: [String] = []
        var valuesSeen = 0

        func check(_ index: Int, _ seen: [UInt8]?) {
            guard let seen else { return }
            valuesSeen += 1
            guard let colon = seen.firstIndex(of: UInt8(ascii: ":")),
                  let round = Int(String(decoding: seen[..<colon], as: UTF8.self)),
                  seen == SharedReadTests.value(index, round: round) else {
                failures.append("key \(index): malformed value \(String(decoding: seen, as: UTF8.self))")
                return
            }
            if round < lastRound[index] { failures.append("key \(index): round \(round) read after round \(lastRound[index])") }
            lastRound[index] = round
        }
    }

    @Test(arguments: allBackends)
    func readersOnSeveralThreadsSeeWholeWritesDuringWritesAndMerges(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, segmentBytes: Limits.segmentBytesMin)
        options.autoMerge = false
        options.mergeBytesPerSecondMax = 0
        let store = try Store(directory: directory.path, options: options)
        for index in 0..<Self.keys { try store.put(Self.key(index), Self.value(index, round: 0)) }
        let writerDone = Atomic<Bool>(false)
        let logs = [ReaderLog(), ReaderLog()]
        let readers = logs.enumerated().map { number, log in
            BackgroundThread(name: "reader-\(number)") {
                var pass = 0
                // Every way to read, in turn; each pass walks all keys (the writer's rounds end
                // the loop, and at least one whole pass runs after the last write).
                while true {
                    let finished = writerDone.load(ordering: .acquiring)
                    for index in 0..<Self.keys {
                        let key = Self.key(index)
                        do {
                            switch (index + pass) % 4 {
                            case 0: log.check(index, try store.get(key))
                            case 1: log.check(index, try store.withValue(forKey: key) { [UInt8]($0) } ?? nil)
                            case 2: log.check(index, try store.withValueLocked(forKey: key) { [UInt8]($0) })
                            default:
                                // Every round of a key has a value of the same length.
                                if let info = store.info(forKey: key), info.valueLength != Self.value(index, round: 0).count {
                                    log.failures.append("key \(index): info reports \(info.valueLength) bytes")
                                }
                            }
                        } catch {
                            log.failures.append("key \(index): \(error)")
                        }
                    }
                    pass += 1
                    if finished { break }
                }
            }
        }
        for round in 1...Self.rounds {
            for index in 0..<Self.keys {
                if Self.isDeleted(index, inRound: round) {
                    _ = try store.delete(Self.key(index))
                } else {
                    try store.put(Self.key(index), Self.value(index, round: round))
                }
            }
            // Moves every live record to new segments and drops the old ones under the readers.
            _ = try store.merge()
        }
        writerDone.store(true, ordering: .releasing)
        readers.forEach { $0.join() }
        for (number, log) in logs.enumerated() {
            #expect(log.failures.count == 0, "reader \(number): \(log.failures.prefix(5))")
            #expect(log.valuesSeen > 0)
        }
        for index in 0..<Self.keys {
            let expected = Self.isDeleted(index, inRound: Self.rounds) ? nil : Self.value(index, round: Self.rounds)
            #expect(try store.get(Self.key(index)) == expected)
        }
        try store.close()
    }

    /// Flags the threads of `aGetCompletesWhileAnotherThreadIsInsideALend` set without a lock.
    final class Handshake: @unchecked Sendable {
        let lending = Atomic<Bool>(false)
        let otherReadDone = Atomic<Bool>(false)
        let sawOtherReadWhileLending = Atomic<Bool>(false)
    }

    /// How long a thread gets to react before the test counts it as blocked.
    static let reactionNanosMax: UInt64 = 10_000_000_000

    @Test func aGetCompletesWhileAnotherThreadIsInsideALend() throws {
        let directory = TemporaryDirectory()
        // The store's own threads must not take the lock exclusively during the handshake (it
        // would wait for the lend, and the get behind it): no active expiry cycle, and nothing
        // left for the committer to write once `sync` returns.
        let store = try Store(directory: directory.path, options: Self.optionsWithoutActiveExpiry())
        try store.put("lent", "first")
        try store.put("read", "second")
        try store.sync()
        let handshake = Handshake()
        let lender = BackgroundThread(name: "lender") {
            _ = try? store.withValueLocked(forKey: bytes("lent")) { _ in
                handshake.lending.store(true, ordering: .sequentiallyConsistent)
                // Stay inside the lend (holding the lock shared) until the other read is done.
                let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
                while !handshake.otherReadDone.load(ordering: .sequentiallyConsistent) && Clock.monotonicNanos() < deadline {}
                handshake.sawOtherReadWhileLending.store(handshake.otherReadDone.load(ordering: .sequentiallyConsistent), ordering: .sequentiallyConsistent)
            }
        }
        let deadline = Clock.monotonicNanos() + Self.reactionNanosMax
        while !handshake.lending.load(ordering: .sequentiallyConsistent) && Clock.monotonicNanos() < deadline {}
        let value = try store.get("read")
        handshake.otherReadDone.store(true, ordering: .sequentiallyConsistent)
        lender.join()
        #expect(value == bytes("second"))
        let overlapped = handshake.sawOtherReadWhileLending.load(ordering: .sequentiallyConsistent)
        #expect(overlapped, "a get waited for another thread's lend to end")
        try store.close()
    }

    @Test func expiredKeysReadFromSeveralThreadsAreRemovedOnce() throws {
        let directory = TemporaryDirectory()
        // No active expiry cycle: the readers are what must remove the keys.
        let store = try Store(directory: directory.path, options: Self.optionsWithoutActiveExpiry())
        let expiring = 600
        let lasting = 100
        let expiresAt = Clock.unixMillis() + 20
        for index in 0..<expiring { try store.put(Self.key(index), Self.value(index, round: 0), expiresAtMillis: expiresAt) }
        for index in expiring..<(expiring + lasting) { try store.put(Self.key(index), Self.value(index, round: 0)) }
        // Wait for the wall clock to pass the expiry (a condition, not a guess at a duration).
        while Clock.unixMillis() <= expiresAt { Clock.sleep(nanoseconds: 1_000_000) }
        let logs = [ReaderLog(), ReaderLog()]
        let readers = logs.enumerated().map { number, log in
            BackgroundThread(name: "expiry-reader-\(number)") {
                for index in 0..<(expiring + lasting) {
                    do {
                        let value = number == 0 ? try store.get(Self.key(index)) : try store.withValueLocked(forKey: Self.key(index)) { [UInt8]($0) }
                        if (index < expiring) != (value == nil) { log.failures.append("key \(index): read \(value?.count ?? -1) bytes") }
                        log.check(index, value)
                    } catch {
                        log.failures.append("key \(index): \(error)")
                    }
                }
            }
        }
        readers.forEach { $0.join() }
        for (number, log) in logs.enumerated() {
            #expect(log.failures.count == 0, "reader \(number): \(log.failures.prefix(5))")
            #expect(log.valuesSeen == lasting)
        }
        // Readers found the expired keys under the shared lock, and each was removed exactly
        // once under the exclusive one.
        #expect(store.count == lasting)
        #expect(store.statistics.expiredKeysOnAccess == UInt64(expiring))
        try store.close()
    }
}
