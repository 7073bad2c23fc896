import Foundation
import NIOCore
import Testing
@testable import Swiftcask
@testable import SwiftcaskServer

/// Inside MULTI/EXEC every read sees the transaction's earlier staged writes, as in Redis, and
/// EXEC still reaches the log as one atomic batch.
@Suite struct StagedReadsTests {
    static func bulk(_ text: String) -> String { "$\(text.utf8.count)\r\n\(text)\r\n" }

    /// Queues each command (checking +QUEUED) and returns EXEC's reply.
    static func transaction(_ client: TestClient, _ commands: [[String]]) throws -> String {
        #expect(try client.call("MULTI") == "+OK\r\n")
        for command in commands {
            #expect(try client.raw(TestClient.encode(command)) == "+QUEUED\r\n", "\(command)")
        }
        return try client.call("EXEC")
    }

    @Test func pointReadsSeeStagedWrites() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("SET", "x", "1")
        let reply = try Self.transaction(client, [
            ["SET", "a", "10"], ["GET", "a"], ["INCR", "a"], ["EXISTS", "a", "x", "nope"], ["TYPE", "a"],
            ["DEL", "x"], ["EXISTS", "x"], ["TYPE", "x"], ["GET", "x"],
            ["SET", "t", "v", "EX", "100"], ["TTL", "t"], ["PERSIST", "t"], ["TTL", "t"], ["STRLEN", "a"],
            ["APPEND", "a", "5"], ["GET", "a"],
        ])
        #expect(reply == "*16\r\n+OK\r\n" + Self.bulk("10") + ":11\r\n:2\r\n+string\r\n"
            + ":1\r\n:0\r\n+none\r\n$-1\r\n"
            + "+OK\r\n:100\r\n:1\r\n:-1\r\n:2\r\n"
            + ":3\r\n" + Self.bulk("115"))
        #expect(try client.call("GET", "a") == Self.bulk("115"))
        #expect(try client.call("EXISTS", "x") == ":0\r\n")
        #expect(try client.call("TTL", "t") == ":-1\r\n")
    }

    @Test func keyspaceReadsSeeStagedCreationsAndDeletions() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("SET", "y", "1")
        _ = try client.call("SET", "z", "1")
        let reply = try Self.transaction(client, [
            ["SET", "a", "1"], ["DEL", "y"], ["DBSIZE"], ["KEYS", "*"], ["SCAN", "0", "COUNT", "100"],
            ["SCAN", "0", "MATCH", "a*"], ["DEL", "z"], ["RANDOMKEY"], ["DEL", "a"], ["RANDOMKEY"], ["DBSIZE"], ["KEYS", "*"],
        ])
        // Engine keys come in scan order, then keys the transaction created, in byte order.
        #expect(reply == "*12\r\n+OK\r\n:1\r\n:2\r\n*2\r\n" + Self.bulk("z") + Self.bulk("a")
            + "*2\r\n" + Self.bulk("0") + "*2\r\n" + Self.bulk("z") + Self.bulk("a")
            + "*2\r\n" + Self.bulk("0") + "*1\r\n" + Self.bulk("a")
            + ":1\r\n" + Self.bulk("a") + ":1\r\n$-1\r\n:0\r\n*0\r\n")
        #expect(try client.call("DBSIZE") == ":0\r\n")
    }

    @Test func expiringAStagedKeyInThePastHidesItFromLaterReads() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        let past = String(SystemClock.wallMillis() - 1)
        let reply = try Self.transaction(client, [
            ["SET", "k", "v"], ["PEXPIREAT", "k", past], ["EXISTS", "k"], ["DBSIZE"], ["KEYS", "*"],
        ])
        #expect(reply == "*5\r\n+OK\r\n:1\r\n:0\r\n:0\r\n*0\r\n")
    }

    @Test func flushInsideExecIsStagedAndTheTransactionIsOneBatch() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        let watcher = try harness.client()
        _ = try client.call("SET", "x", "1")
        _ = try client.call("SET", "y", "2")
        _ = try watcher.call("WATCH", "x")
        try harness.state.store.sync()
        let logBefore = harness.state.store.statistics.diskBytes
        let reply = try Self.transaction(client, [
            ["SET", "a", "1"], ["FLUSHDB"], ["DBSIZE"], ["GET", "x"], ["SET", "b", "2"], ["KEYS", "*"], ["FLUSHALL"], ["SET", "c", "3"],
        ])
        #expect(reply == "*8\r\n+OK\r\n+OK\r\n:0\r\n$-1\r\n+OK\r\n*1\r\n" + Self.bulk("b") + "+OK\r\n+OK\r\n")
        #expect(try client.call("KEYS", "*") == "*1\r\n" + Self.bulk("c"))
        // The watcher of a flushed key sees its transaction fail.
        _ = try watcher.call("MULTI")
        _ = try watcher.call("SET", "x", "mine")
        #expect(try watcher.call("EXEC") == "*-1\r\n")

        try harness.state.store.sync()
        let flags = try Self.recordFlags(in: harness.directory, from: logBefore)
        #expect(flags.count > 1)
        #expect(flags.allSatisfy { $0.contains(.batchMember) && !$0.contains(.keyspaceCleared) })
        #expect(flags.filter { $0.contains(.batchEnd) }.count == 1 && flags.last?.contains(.batchEnd) == true)
    }

    @Test func randomKeyFindsTheOneEngineKeyATransactionKept() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        // Far more deleted keys than RANDOMKEY's draws: the fallback scan must find the survivor.
        let keys = (0..<(ClientSession.randomKeyDrawsMax * 4)).map { "k\($0)" }
        for key in keys { _ = try client.call("SET", key, "v") }
        let reply = try Self.transaction(client, [["DEL"] + keys.dropLast(), ["RANDOMKEY"]])
        #expect(reply == "*2\r\n:\(keys.count - 1)\r\n" + Self.bulk(keys.last!))
    }

    @Test func swapdbInsideExecJoinsTheTransactionBatch() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("SET", "in0", "x")
        try harness.state.store.sync()
        let logBefore = harness.state.store.statistics.diskBytes
        let reply = try Self.transaction(client, [["SWAPDB", "0", "1"], ["DBSIZE"], ["SET", "new", "1"]])
        #expect(reply == "*3\r\n+OK\r\n:0\r\n+OK\r\n")
        #expect(try client.call("SELECT", "1") == "+OK\r\n")
        #expect(try client.call("GET", "in0") == Self.bulk("x"))
        let stored = try harness.state.store.get(ServerState.databaseMapKey, in: ServerState.metadataKeyspace)
        #expect(stored.map { Array($0.prefix(2)) } == [1, 0])
        try harness.state.store.sync()
        let flags = try Self.recordFlags(in: harness.directory, from: logBefore)
        #expect(flags.count == 2 && flags.allSatisfy { $0.contains(.batchMember) } && flags.last?.contains(.batchEnd) == true)
    }

    /// Flags of the records of the store's only segment from log offset `start` on.
    static func recordFlags(in directory: String, from start: Int) throws -> [RecordFlags] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix("." + SegmentFormat.fileExtension) }.sorted()
        #expect(names.count == 1, "\(names)")
        let data = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + names[0]))
        return data.withUnsafeBytes { bytes in
            var flags: [RecordFlags] = []
            var offset = start
            while offset + SegmentFormat.recordHeaderBytes <= bytes.count {
                let header = RecordHeader.decodeHeaderUnchecked(bytes.baseAddress! + offset)
                guard header.recordLength > SegmentFormat.recordHeaderBytes || header.flags != [] else { break }
                flags.append(header.flags)
                offset += header.recordLength
            }
            return flags
        }
    }
}
