import Foundation
import NIOCore
import Testing
@testable import SwiftcaskServer

@Suite struct StringCommandTests {
    @Test func pingEchoAndUnknown() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("PING") == "+PONG\r\n")
        #expect(try client.call("ping", "hi") == "$2\r\nhi\r\n")
        #expect(try client.call("ECHO", "x") == "$1\r\nx\r\n")
        #expect(try client.call("foo", "a", "b") == "-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n")
        #expect(try client.call("GET") == "-ERR wrong number of arguments for 'get' command\r\n")
        #expect(try client.call("LPUSH", "l", "x").hasPrefix("-ERR unsupported command 'lpush'"))
    }

    @Test func setAndGetWithOptions() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("GET", "k") == "$-1\r\n")
        #expect(try client.call("SET", "k", "v") == "+OK\r\n")
        #expect(try client.call("GET", "k") == "$1\r\nv\r\n")
        #expect(try client.call("SET", "k", "w", "NX") == "$-1\r\n")
        #expect(try client.call("SET", "k", "w", "XX", "GET") == "$1\r\nv\r\n")
        #expect(try client.call("SET", "n", "w", "XX") == "$-1\r\n")
        #expect(try client.call("SET", "k", "v", "NX", "XX") == "-ERR syntax error\r\n")
        #expect(try client.call("SET", "k", "v", "EX", "0") == "-ERR invalid expire time in 'set' command\r\n")
        #expect(try client.call("SET", "k", "v", "EX", "x") == "-ERR value is not an integer or out of range\r\n")
        #expect(try client.call("SET", "k", "v", "EX", "100") == "+OK\r\n")
        #expect(try client.call("TTL", "k") == ":100\r\n")
        #expect(try client.call("SET", "k", "v2", "KEEPTTL") == "+OK\r\n")
        #expect(try client.call("TTL", "k") == ":100\r\n")
        #expect(try client.call("SET", "k", "v3") == "+OK\r\n")
        #expect(try client.call("TTL", "k") == ":-1\r\n")
        #expect(try client.call("SET", "k", "v", "KEEPTTL", "EX", "1") == "-ERR syntax error\r\n")
        #expect(try client.call("SETNX", "k", "x") == ":0\r\n")
        #expect(try client.call("SETNX", "k2", "x") == ":1\r\n")
        #expect(try client.call("SETEX", "k3", "-1", "x") == "-ERR invalid expire time in 'setex' command\r\n")
        #expect(try client.call("GETSET", "k2", "y") == "$1\r\nx\r\n")
        #expect(try client.call("GETDEL", "k2") == "$1\r\ny\r\n")
        #expect(try client.call("EXISTS", "k2") == ":0\r\n")
    }

    @Test func counters() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("INCR", "c") == ":1\r\n")
        #expect(try client.call("INCRBY", "c", "10") == ":11\r\n")
        #expect(try client.call("DECR", "c") == ":10\r\n")
        #expect(try client.call("DECRBY", "c", "20") == ":-10\r\n")
        #expect(try client.call("GET", "c") == "$3\r\n-10\r\n")
        #expect(try client.call("EXPIRE", "c", "100") == ":1\r\n")
        #expect(try client.call("INCR", "c") == ":-9\r\n")
        #expect(try client.call("TTL", "c") == ":100\r\n")
        #expect(try client.call("SET", "c", "9223372036854775807") == "+OK\r\n")
        #expect(try client.call("INCR", "c") == "-ERR increment or decrement would overflow\r\n")
        #expect(try client.call("SET", "s", " 1") == "+OK\r\n")
        #expect(try client.call("INCR", "s") == "-ERR value is not an integer or out of range\r\n")
        #expect(try client.call("INCRBYFLOAT", "f", "1.5") == "$3\r\n1.5\r\n")
        #expect(try client.call("INCRBYFLOAT", "f", "1.5") == "$1\r\n3\r\n")
        #expect(try client.call("INCRBYFLOAT", "f", "x") == "-ERR value is not a valid float\r\n")
    }

    @Test func multiKeyAndRanges() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("MSET", "a", "1", "b", "2") == "+OK\r\n")
        #expect(try client.call("MSET", "a", "1", "b") == "-ERR wrong number of arguments for 'mset' command\r\n")
        #expect(try client.call("MGET", "a", "b", "c") == "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n")
        #expect(try client.call("MSETNX", "c", "3", "a", "x") == ":0\r\n")
        #expect(try client.call("MSETNX", "c", "3", "d", "4") == ":1\r\n")
        #expect(try client.call("DEL", "a", "b", "a", "zz") == ":2\r\n")
        #expect(try client.call("SET", "s", "Hello World") == "+OK\r\n")
        #expect(try client.call("GETRANGE", "s", "0", "4") == "$5\r\nHello\r\n")
        #expect(try client.call("GETRANGE", "s", "-5", "-1") == "$5\r\nWorld\r\n")
        #expect(try client.call("GETRANGE", "s", "5", "1") == "$0\r\n\r\n")
        #expect(try client.call("APPEND", "s", "!") == ":12\r\n")
        #expect(try client.call("STRLEN", "s") == ":12\r\n")
        #expect(try client.call("SETRANGE", "p", "3", "x") == ":4\r\n")
        #expect(try client.call("GET", "p") == "$4\r\n\0\0\0x\r\n")
        #expect(try client.call("SETRANGE", "p", "-1", "x") == "-ERR offset is out of range\r\n")
    }

    @Test func bitsAndLCS() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("SETBIT", "b", "7", "1") == ":0\r\n")
        #expect(try client.call("GETBIT", "b", "7") == ":1\r\n")
        #expect(try client.call("GETBIT", "b", "100") == ":0\r\n")
        #expect(try client.call("SETBIT", "b", "1", "2") == "-ERR bit is not an integer or out of range\r\n")
        #expect(try client.call("SET", "f", "foobar") == "+OK\r\n")
        #expect(try client.call("BITCOUNT", "f") == ":26\r\n")
        #expect(try client.call("BITCOUNT", "f", "1", "1") == ":6\r\n")
        #expect(try client.call("BITCOUNT", "f", "5", "30", "BIT") == ":17\r\n")
        #expect(try client.call("MSET", "k1", "ohmytext", "k2", "mynewtext") == "+OK\r\n")
        #expect(try client.call("LCS", "k1", "k2") == "$6\r\nmytext\r\n")
        #expect(try client.call("LCS", "k1", "k2", "LEN") == ":6\r\n")
        #expect(try client.call("LCS", "k1", "k2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
                == "*4\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n")
    }

    /// A value that fails its CRC check (the disk returned damaged data) is an error reply for
    /// every command that reads it, never a missing key, and nothing is written over it.
    @Test func damagedValueIsAnErrorNotAMissingKey() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("SET", "victim", "12") == "+OK\r\n")
        #expect(try client.call("SET", "other", "fine") == "+OK\r\n")
        try harness.state.store.sync()
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: harness.directory).filter { $0.hasSuffix(".seg") }.sorted().last)
        let file = try #require(FileHandle(forUpdatingAtPath: harness.directory + "/" + segment))
        // The first record is victim's: segment header (32), record header (20), key, value.
        try file.seek(toOffset: 32 + 20 + 6)
        file.write(Data([0x39]))
        try file.close()
        let damaged = "-ERR the record at offset 32 of "
        for command in [["GET", "victim"], ["INCR", "victim"], ["APPEND", "victim", "x"], ["GETSET", "victim", "1"], ["SET", "victim", "1", "GET"]] {
            let reply = try client.raw(TestClient.encode(command))
            #expect(reply.hasPrefix(damaged) && reply.contains("fails its CRC check"), "\(command): \(reply)")
        }
        let mget = try client.call("MGET", "victim", "other")
        #expect(mget.hasPrefix("*2\r\n" + damaged) && mget.hasSuffix("$4\r\nfine\r\n"), "MGET: \(mget)")
        // Nothing replaced the damaged record: it still fails, it did not become "1".
        #expect(try client.call("GET", "victim").hasPrefix(damaged))
    }
}

@Suite struct ReplyEncodingTests {
    @Test func decimalsAtTheIntegerBounds() {
        for value in [0, 7, -1, 10_000, -10_000, Int.max, Int.min] {
            var buffer = ByteBuffer()
            buffer.writeDecimal(value)
            #expect(String(buffer: buffer) == String(value))
        }
    }

    @Test func sharedIntegersAndHeadersMatchComputedOnes() {
        var shared = ByteBuffer(), computed = ByteBuffer()
        shared.writeInteger(SharedReplies.integerCountMax - 1)
        computed.writeInteger(SharedReplies.integerCountMax)
        #expect(String(buffer: shared) == ":\(SharedReplies.integerCountMax - 1)\r\n")
        #expect(String(buffer: computed) == ":\(SharedReplies.integerCountMax)\r\n")
        var header = ByteBuffer()
        header.writeBulkHeader(SharedReplies.headerLengthMax)
        #expect(String(buffer: header) == "$\(SharedReplies.headerLengthMax)\r\n")
    }
}

@Suite struct KeyspaceCommandTests {
    @Test func expiryFamily() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("TTL", "none") == ":-2\r\n")
        #expect(try client.call("EXPIRE", "none", "10") == ":0\r\n")
        #expect(try client.call("SET", "k", "v") == "+OK\r\n")
        #expect(try client.call("TTL", "k") == ":-1\r\n")
        #expect(try client.call("EXPIRE", "k", "100", "XX") == ":0\r\n")
        #expect(try client.call("EXPIRE", "k", "100", "NX") == ":1\r\n")
        #expect(try client.call("EXPIRE", "k", "50", "GT") == ":0\r\n")
        #expect(try client.call("EXPIRE", "k", "50", "LT") == ":1\r\n")
        #expect(try client.call("TTL", "k") == ":50\r\n")
        #expect(try client.call("EXPIRE", "k", "10", "NX", "XX") == "-ERR NX and XX, GT or LT options at the same time are not compatible\r\n")
        #expect(try client.call("EXPIRE", "k", "10", "GT", "LT") == "-ERR GT and LT options at the same time are not compatible\r\n")
        #expect(try client.call("PERSIST", "k") == ":1\r\n")
        #expect(try client.call("PERSIST", "k") == ":0\r\n")
        #expect(try client.call("EXPIREAT", "k", "4102444800") == ":1\r\n")
        #expect(try client.call("EXPIRETIME", "k") == ":4102444800\r\n")
        #expect(try client.call("PEXPIRETIME", "k") == ":4102444800000\r\n")
        #expect(try client.call("EXPIRE", "k", "-1") == ":1\r\n")
        #expect(try client.call("EXISTS", "k") == ":0\r\n")
    }

    @Test func renameCopyMoveAndTypes() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        #expect(try client.call("RENAME", "none", "x") == "-ERR no such key\r\n")
        #expect(try client.call("SET", "a", "1") == "+OK\r\n")
        #expect(try client.call("RENAME", "a", "b") == "+OK\r\n")
        #expect(try client.call("TYPE", "b") == "+string\r\n")
        #expect(try client.call("TYPE", "a") == "+none\r\n")
        #expect(try client.call("SET", "c", "3") == "+OK\r\n")
        #expect(try client.call("RENAMENX", "b", "c") == ":0\r\n")
        #expect(try client.call("COPY", "b", "d") == ":1\r\n")
        #expect(try client.call("COPY", "b", "d") == ":0\r\n")
        #expect(try client.call("COPY", "b", "d", "REPLACE") == ":1\r\n")
        #expect(try client.call("COPY", "b", "b") == "-ERR source and destination objects are the same\r\n")
        #expect(try client.call("MOVE", "d", "0") == "-ERR source and destination objects are the same\r\n")
        #expect(try client.call("MOVE", "d", "1") == ":1\r\n")
        #expect(try client.call("SELECT", "1") == "+OK\r\n")
        #expect(try client.call("GET", "d") == "$1\r\n1\r\n")
        #expect(try client.call("SELECT", "16") == "-ERR DB index is out of range\r\n")
        #expect(try client.call("OBJECT", "ENCODING", "d") == "$3\r\nint\r\n")
    }

    @Test func swapdbIsPersistedAndSeenByOtherClients() throws {
        let harness = try TestHarness()
        let first = try harness.client()
        let second = try harness.client()
        #expect(try first.call("SET", "k", "in0") == "+OK\r\n")
        #expect(try first.call("SWAPDB", "0", "1") == "+OK\r\n")
        #expect(try second.call("GET", "k") == "$-1\r\n")
        #expect(try second.call("SELECT", "1") == "+OK\r\n")
        #expect(try second.call("GET", "k") == "$3\r\nin0\r\n")
        #expect(try first.call("SWAPDB", "0", "x") == "-ERR invalid second DB index\r\n")
    }

    @Test func keysScanAndFlush() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        for index in 0..<25 { _ = try client.call("SET", "user:\(index)", "x") }
        _ = try client.call("SET", "other", "y")
        #expect(try client.call("DBSIZE") == ":26\r\n")
        #expect(try client.call("KEYS", "other") == "*1\r\n$5\r\nother\r\n")
        var cursor = "0"
        var seen: Set<String> = []
        for _ in 0..<100 {
            let reply = try client.call("SCAN", cursor, "MATCH", "user:*", "COUNT", "7")
            let lines = reply.split(separator: "\r\n").map(String.init)
            cursor = lines[2]
            for line in lines.dropFirst(4) where !line.hasPrefix("$") { seen.insert(line) }
            if cursor == "0" { break }
        }
        #expect(cursor == "0")
        #expect(seen.count == 25)
        #expect(try client.call("SCAN", "x") == "-ERR invalid cursor\r\n")
        #expect(try client.call("SCAN", "0", "COUNT", "0") == "-ERR syntax error\r\n")
        #expect(try client.call("FLUSHDB") == "+OK\r\n")
        #expect(try client.call("DBSIZE") == ":0\r\n")
        #expect(try client.call("RANDOMKEY") == "$-1\r\n")
    }
}
