import Glibc
import NIOCore
@testable import Swiftcask
import Testing
@testable import SwiftcaskServer

/// `appendfsync always`: replies to writes wait for the fdatasync that covers them, which the
/// event loop runs itself once per tick (`DurableReplyGate`).
@Suite struct DurableReplyTests {
    @Test func writeReplyWaitsForTheLoopsSync() throws {
        let harness = try Self.alwaysHarness()
        let client = try harness.client()
        let syncsBefore = harness.state.store.statistics.syncs
        #expect(try client.call("SET", "k", "v") == "")
        harness.loop.run()
        #expect(try client.drain() == "+OK\r\n")
        #expect(harness.state.store.statistics.syncs > syncsBefore)
        // A read with nothing to wait for is answered at once.
        #expect(try client.call("GET", "k") == "$1\r\nv\r\n")
    }

    /// One commit task of the loop releases every client that wrote in the tick.
    @Test func oneLoopTaskReleasesEveryWriterOfTheTick() throws {
        let harness = try Self.alwaysHarness()
        let clients = try (0..<3).map { _ in try harness.client() }
        for (index, client) in clients.enumerated() {
            #expect(try client.call("SET", "k\(index)", "v") == "")
        }
        harness.loop.run()
        for client in clients { #expect(try client.drain() == "+OK\r\n") }
    }

    /// Replies stay in order when a read follows a held write in one pipeline.
    @Test func pipelinedReadAfterHeldWriteKeepsOrder() throws {
        let harness = try Self.alwaysHarness()
        let client = try harness.client()
        let pipeline = TestClient.encode(["SET", "k", "v"]) + TestClient.encode(["GET", "k"])
        #expect(try client.raw(pipeline) == "")
        harness.loop.run()
        #expect(try client.drain() == "+OK\r\n$1\r\nv\r\n")
    }

    /// How long the committer may take to go idle after the store opened.
    static let committerIdleWaitNanos: UInt64 = 10_000_000_000

    /// A harness in `always` mode whose committer thread is idle: it then stays out of the
    /// loop's rounds (an `.always` append does not wake it), so the loop leads every round and
    /// no callback arrives from another thread, which an embedded loop does not allow.
    static func alwaysHarness() throws -> TestHarness {
        let harness = try TestHarness { $0.appendfsync = .always }
        let core = harness.state.store.core
        let deadline = Clock.monotonicNanos() + committerIdleWaitNanos
        while !core.monitor.withLock({ core.committerIsIdle }) && Clock.monotonicNanos() < deadline { sched_yield() }
        #expect(core.monitor.withLock { core.committerIsIdle }, "the committer never went idle")
        return harness
    }
}
