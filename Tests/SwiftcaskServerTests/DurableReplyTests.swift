import Foundation
import Glibc
import NIOCore
import NIOPosix
@testable import Swiftcask
import Synchronization
import Testing
@testable import SwiftcaskServer

/// `appendfsync always`: replies to writes wait for the fdatasync that covers them
/// (`DurableReplyGate`), which the committer thread runs, or with `fsync-on-event-loop yes` the
/// event loop itself once per tick.
@Suite struct DurableReplyTests {
    @Test func writeReplyWaitsForTheLoopsSync() throws {
        let harness = try Self.alwaysHarness()
        let client = try harness.client()
        let before = harness.state.store.statistics
        #expect(try client.call("SET", "k", "v") == "")
        harness.loop.run()
        #expect(try client.drain() == "+OK\r\n")
        let after = harness.state.store.statistics
        #expect(after.syncs > before.syncs)
        #expect(after.roundsLedByCallers > before.roundsLedByCallers)
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

    /// By default the loop never syncs: the committer runs every round, and each tick's held
    /// replies come back with one callback. On a real event loop (the callbacks arrive from
    /// the committer thread), writes held over many ticks are all released, in order per
    /// holder, and no round ran on the loop.
    @Test func defaultModeLeavesEverySyncToTheCommitter() throws {
        let directory = NSTemporaryDirectory() + "swiftcask-gate-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = StoreOptions()
        options.durability = .always
        let store = try Store(directory: directory, options: options)
        defer { try? store.close() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let gate = DurableReplyGate(eventLoop: loop, store: store, leadsRounds: false)
        let holder = RecordingHolder()
        let writes = 40
        for sequence in 1...writes {
            try loop.submit {
                var batch = WriteBatch()
                batch.put("k\(sequence)", "v")
                gate.hold(try store.writeDeferred(batch).ticket, sequence: UInt64(sequence), for: holder)
            }.wait()
        }
        let deadline = Clock.monotonicNanos() + Self.committerIdleWaitNanos
        while holder.reports.withLock({ $0.count }) < writes && Clock.monotonicNanos() < deadline { sched_yield() }
        let reports = holder.reports.withLock { $0 }
        #expect(reports.map(\.sequence) == (1...UInt64(writes)).map { $0 })
        #expect(reports.allSatisfy { $0.succeeded })
        #expect(reports.allSatisfy { $0.onTheLoop })
        let statistics = store.statistics
        #expect(statistics.syncs > 0)
        #expect(statistics.roundsLedByCallers == 0)
    }

    /// Records what the gate reports, and whether it arrived on the loop.
    final class RecordingHolder: DurableReplyHolder, @unchecked Sendable {
        struct Report {
            var sequence: UInt64
            var succeeded: Bool
            var onTheLoop: Bool
        }
        let reports = Mutex<[Report]>([])

        func durabilityReported(sequence: UInt64, result: Result<Void, StoreError>) {
            let succeeded = (try? result.get()) != nil
            let onTheLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            reports.withLock { $0.append(Report(sequence: sequence, succeeded: succeeded, onTheLoop: onTheLoop)) }
        }
    }

    /// A harness in `always` mode with `fsync-on-event-loop yes` whose committer thread is idle:
    /// it then stays out of the loop's rounds (an `.always` append does not wake it), so the loop
    /// leads every round and no callback arrives from another thread, which an embedded loop
    /// does not allow.
    static func alwaysHarness() throws -> TestHarness {
        let harness = try TestHarness {
            $0.appendfsync = .always
            $0.fsyncOnEventLoop = true
        }
        let core = harness.state.store.core
        let deadline = Clock.monotonicNanos() + committerIdleWaitNanos
        while !core.monitor.withLock({ core.committerIsIdle }) && Clock.monotonicNanos() < deadline { sched_yield() }
        #expect(core.monitor.withLock { core.committerIsIdle }, "the committer never went idle")
        return harness
    }
}
