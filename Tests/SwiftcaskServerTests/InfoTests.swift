import NIOCore
import Swiftcask
import Testing
@testable import SwiftcaskServer

/// INFO keyspace, stats and errorstats, and CONFIG RESETSTAT.
@Suite struct InfoTests {
    /// The `name:value` fields of an INFO reply.
    static func fields(_ reply: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in reply.split(separator: "\r\n") where !line.hasPrefix("#") && !line.hasPrefix("$") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }

    @Test func keyspaceCountsKeysWithAnExpiryAndEstimatesTheirTTL() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("SET", "plain", "v")
        _ = try client.call("SET", "a", "v", "EX", "100")
        _ = try client.call("SET", "b", "v", "PX", "300000")
        _ = try client.call("SELECT", "2")
        _ = try client.call("SET", "other", "v")
        let keyspace = Self.fields(try client.call("INFO", "keyspace"))
        #expect(keyspace["db2"] == "keys=1,expires=0,avg_ttl=0")
        let db0 = try #require(keyspace["db0"])
        #expect(db0.hasPrefix("keys=3,expires=2,avg_ttl="))
        let averageTTL = try #require(Int(db0.split(separator: "=").last!))
        // Both keys are in the sample: the mean of 100 s and 300 s, less the time since SET.
        #expect(averageTTL <= 200_000 && averageTTL > 190_000)
        _ = try client.call("SELECT", "0")
        _ = try client.call("PERSIST", "a")
        #expect(Self.fields(try client.call("INFO", "keyspace"))["db0"]?.hasPrefix("keys=3,expires=1,") == true)
    }

    @Test func errorRepliesAreCountedByCodeAndResetStatClearsThem() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        _ = try client.call("SET", "text", "abc")
        #expect(try client.call("INCR", "text") == "-ERR value is not an integer or out of range\r\n")
        _ = try client.call("NOSUCHCOMMAND")
        _ = try client.call("MULTI")
        _ = try client.call("GET")
        #expect(try client.call("EXEC").hasPrefix("-EXECABORT "))
        let info = Self.fields(try client.call("INFO", "errorstats", "stats"))
        #expect(info["errorstat_ERR"] == "count=3")
        #expect(info["errorstat_EXECABORT"] == "count=1")
        #expect(info["total_error_replies"] == "4")
        #expect(try client.call("CONFIG", "RESETSTAT") == "+OK\r\n")
        let reset = Self.fields(try client.call("INFO", "errorstats", "stats"))
        #expect(reset["errorstat_ERR"] == nil)
        #expect(reset["total_error_replies"] == "0")
    }

    @Test func expiredKeysCountsLazyExpiryAndResetStatMovesItsBaseline() throws {
        let harness = try TestHarness()
        let client = try harness.client()
        let past = SystemClock.wallMillis() - 1
        for key in ["gone1", "gone2"] { try harness.state.store.put(Array(key.utf8), [1], expiresAtMillis: past) }
        #expect(try client.call("GET", "gone1") == "$-1\r\n")
        #expect(try client.call("EXISTS", "gone2") == ":0\r\n")
        #expect(Self.fields(try client.call("INFO", "stats"))["expired_keys"] == "2")
        _ = try client.call("CONFIG", "RESETSTAT")
        #expect(Self.fields(try client.call("INFO", "stats"))["expired_keys"] == "0")
    }

    @Test func errorCodesFollowRedisRules() {
        #expect(ServerCounters.errorCode(of: "ERR value is not an integer") == "ERR")
        #expect(ServerCounters.errorCode(of: "WRONGTYPE Operation against a key") == "WRONGTYPE")
        #expect(ServerCounters.errorCode(of: "NOSPACEINTHEFIRSTTHIRTYONEBYTES at all") == "ERR")
        #expect(ServerCounters.errorCode(of: String(repeating: "A", count: 30) + " x") == String(repeating: "A", count: 30))
        #expect(ServerCounters.errorCode(of: String(repeating: "A", count: 31) + " x") == "ERR")
    }

    @Test func distinctErrorCodesStopAtTheLimitButStillCount() {
        var counters = ServerCounters()
        for index in 0..<ServerCounters.errorCodesMax { counters.recordError("CODE\(index) text") }
        #expect(counters.errorRepliesByCode.count == ServerCounters.errorCodesMax)
        counters.recordError("ONEMORE text")
        counters.recordError("CODE0 again")
        #expect(counters.errorRepliesByCode["ONEMORE"] == nil)
        #expect(counters.errorRepliesByCode["CODE0"] == 2)
        #expect(counters.errorReplies == ServerCounters.errorCodesMax + 2)
        var merged = ServerCounters()
        merged.recordError("EARLIER text")
        merged.merge(counters)
        #expect(merged.errorRepliesByCode.count == ServerCounters.errorCodesMax)
        #expect(merged.errorReplies == ServerCounters.errorCodesMax + 3)
    }
}
