import Glibc
import Testing
@testable import Swiftcask

/// Short writes, EINTR, EAGAIN and EBUSY injected at the system calls of the real append
/// backends (`SystemCallFaults` around `IOSystemCalls.live`), never above them: the backends'
/// own retry code must write every byte, sync it, and acknowledge nothing before that.
@Suite struct SystemCallFaultTests {
    /// Writers on several threads (puts, large values that rotate segments, batches), which
    /// lead their own rounds, an asynchronous writer, whose rounds the committer runs, then one
    /// blocking writer alone, through a backend whose calls misbehave every third call. A power
    /// cut (`PowerCutBackend`: only what was fdatasynced survives) must hold every acknowledged
    /// write, intact; so must the store reopened after a clean close.
    @Test(arguments: allBackends)
    func everyAcknowledgedWriteSurvivesShortWritesAndInterrupts(backend: IOBackendChoice) async throws {
        guard let makeBackend = realBackend(backend) else { return }
        let faults = SystemCallFaults(period: 3)
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, durability: .always, segmentBytes: Limits.segmentBytesMin)
        options.writeBufferBytes = 16 * 1024
        options.autoMerge = false
        let powerCut = TestLock<PowerCutBackend?>(nil)
        var faulty = options
        let directoryPath = directory.path
        faulty.wrapBackend = { _ in
            let wrapped = PowerCutBackend(wrapping: makeBackend(faults.calls), directory: directoryPath)
            powerCut.withLock { $0 = wrapped }
            return wrapped
        }
        let store = try Store(directory: directory.path, options: faulty)
        let acknowledged = TestLock<[(key: String, large: Bool)]>([])
        let workers = (0..<Self.writers).map { writer in
            BackgroundThread(name: "writer-\(writer)") {
                for index in 0..<Self.operationsPerWriter {
                    do {
                        if index % 10 == 9 {
                            var batch = WriteBatch()
                            let keys = (0..<4).map { "w\(writer)-\(index)-b\($0)" }
                            for key in keys { batch.put(key.utf8, powerCutValue(key)) }
                            try store.write(batch)
                            acknowledged.withLock { $0.append(contentsOf: keys.map { ($0, false) }) }
                        } else {
                            let key = "w\(writer)-\(index)"
                            let large = index % 13 == 0
                            try store.put(key.utf8, powerCutValue(key, large: large))
                            acknowledged.withLock { $0.append((key, large)) }
                        }
                    } catch {
                        Issue.record("writer \(writer) operation \(index) failed: \(error)")
                    }
                }
            }
        }
        for index in 0..<Self.asynchronousBatches {
            var batch = WriteBatch()
            let keys = (0..<Self.asynchronousBatchKeys).map { "async-\(index)-b\($0)" }
            for key in keys { batch.put(key.utf8, powerCutValue(key)) }
            try await store.write(batch)
            acknowledged.withLock { $0.append(contentsOf: keys.map { ($0, false) }) }
        }
        for worker in workers { worker.join() }
        // A lone blocking writer leads every round itself (plain pwrite + fdatasync under
        // io_uring too): however the concurrent phase split its rounds, that path gets faults.
        let blockingPut: (String) throws -> Void = { key in try store.put(key.utf8, powerCutValue(key)) }
        for index in 0..<Self.serialPuts {
            let key = "serial-\(index)"
            try blockingPut(key)
            acknowledged.withLock { $0.append((key, false)) }
        }
        let written = acknowledged.withLock { $0 }
        #expect(written.count == Self.writers * Self.operationsPerWriter * 13 / 10 + Self.asynchronousBatches * Self.asynchronousBatchKeys + Self.serialPuts)
        var generator = SplitMix(seed: 7)
        let image = powerCut.withLock { $0! }.cut(tearing: true, using: &generator)
        try expectAll(written, in: image.path, options: options, "after a power cut")
        try store.close()
        try expectAll(written, in: directory.path, options: options, "after close and reopen")

        let injected = faults.injected
        for call in Self.calls(of: backend) {
            for fault in SystemCallFaults.faultsByCall[call]! {
                #expect(injected[call]?[fault] ?? 0 > 0, "\(call.rawValue): no \(fault.rawValue) injected")
            }
        }
        print("system call faults (\(backend.rawValue)): \(written.count) acknowledged writes checked after a power cut and a reopen, lost 0; \(faults.totalInjected) faults injected: \(faults.summary())")
    }

    /// EAGAIN from pwrite is retried `busyRetriesMax` times in a row; one more is reported.
    @Test(arguments: [IOSystemCalls.busyRetriesMax, IOSystemCalls.busyRetriesMax + 1])
    func posixWriteRetriesBusyUpToItsLimit(busyInARow: Int) throws {
        let streak = TestLock(busyInARow)
        var calls = IOSystemCalls.live
        calls.positionedWrite = { descriptor, bytes, count, offset in
            let busy = streak.withLock { remaining in
                defer { remaining -= 1 }
                return remaining > 0
            }
            return busy ? -Int(EAGAIN) : IOSystemCalls.live.positionedWrite(descriptor, bytes, count, offset)
        }
        try expectWrite(through: PosixAppendBackend(calls: calls), succeeds: busyInARow <= IOSystemCalls.busyRetriesMax, failingWith: .tryAgain)
    }

    /// EBUSY from io_uring_submit is retried `busyRetriesMax` times in a row; one more is reported.
    @Test(arguments: [IOSystemCalls.busyRetriesMax, IOSystemCalls.busyRetriesMax + 1])
    func ringSubmitRetriesBusyUpToItsLimit(busyInARow: Int) throws {
        guard let makeBackend = realBackend(.ioUring) else { return }
        let streak = TestLock(busyInARow)
        var calls = IOSystemCalls.live
        calls.submitAndWait = { ring, waitCount in
            let busy = streak.withLock { remaining in
                defer { remaining -= 1 }
                return remaining > 0
            }
            return busy ? -EBUSY : IOSystemCalls.live.submitAndWait(ring, waitCount)
        }
        try expectWrite(through: makeBackend(calls), succeeds: busyInARow <= IOSystemCalls.busyRetriesMax, failingWith: .busy)
    }

    /// Ring writes that make no progress (0 bytes written) are resubmitted; the
    /// `stalledRoundsMax`-th such round in a row is an error.
    @Test(arguments: [UringAppendBackend.stalledRoundsMax - 1, UringAppendBackend.stalledRoundsMax])
    func ringWriteWithoutProgressFailsAtItsLimit(stalledRounds: Int) throws {
        guard let makeBackend = realBackend(.ioUring) else { return }
        let streak = TestLock(stalledRounds)
        var calls = IOSystemCalls.live
        calls.prepareRingWrite = { entry, descriptor, bytes, count, offset in
            // Each round resubmits the first chunk (at offset 0) until it makes progress.
            let stall = offset == 0 && streak.withLock { remaining in
                defer { remaining -= 1 }
                return remaining > 0
            }
            IOSystemCalls.live.prepareRingWrite(entry, descriptor, bytes, stall ? 0 : count, offset)
        }
        try expectWrite(through: makeBackend(calls), succeeds: stalledRounds < UringAppendBackend.stalledRoundsMax, failingWith: .ioError)
    }

    /// The io_uring backend issues a committer round on the ring, and a blocked writer's round
    /// or a small committer round that syncs as plain pwrite + fdatasync (see `UringAppendBackend`).
    @Test(arguments: [AppendCaller.committer, .committerSmallSyncRound, .blockedWriter])
    func ringBackendGivesBlockedWritersAndSmallRoundsPlainCalls(caller: AppendCaller) throws {
        guard let makeBackend = realBackend(.ioUring) else { return }
        let counts = TestLock((plain: 0, ring: 0))
        var calls = IOSystemCalls.live
        calls.positionedWrite = { descriptor, bytes, count, offset in
            counts.withLock { $0.plain += 1 }
            return IOSystemCalls.live.positionedWrite(descriptor, bytes, count, offset)
        }
        calls.synchronizeData = { descriptor in
            counts.withLock { $0.plain += 1 }
            return IOSystemCalls.live.synchronizeData(descriptor)
        }
        calls.submitAndWait = { ring, waitCount in
            counts.withLock { $0.ring += 1 }
            return IOSystemCalls.live.submitAndWait(ring, waitCount)
        }
        try expectWrite(through: makeBackend(calls), for: caller, succeeds: true, failingWith: .ioError)
        let (plain, ring) = counts.withLock { $0 }
        // Two chunks and one sync: three plain calls, or one submission.
        #expect(plain == (caller == .committer ? 0 : 3))
        #expect(ring == (caller == .committer ? 1 : 0))
    }

    private static let writers = 3
    private static let operationsPerWriter = 200
    private static let asynchronousBatches = 60
    /// Big enough for the committer to sync each on the ring (smaller rounds take plain calls).
    private static let asynchronousBatchKeys = StoreCore.ringSyncRoundRecordsMin
    private static let serialPuts = 60

    private static func calls(of backend: IOBackendChoice) -> [SystemCallFaults.Call] {
        backend == .posix ? [.write, .sync] : [.write, .sync, .ringWrite, .submit, .reap]
    }

    /// A maker of the real backend `choice` over given calls; nil (with the reason printed)
    /// when the kernel refuses io_uring here.
    private func realBackend(_ choice: IOBackendChoice) -> (@Sendable (IOSystemCalls) -> AppendBackend)? {
        guard choice == .ioUring else { return { PosixAppendBackend(calls: $0) } }
        do {
            _ = try UringAppendBackend()
        } catch {
            print("skipped io_uring system call faults: \(AppendBackendFactory.explain(error))")
            return nil
        }
        return { try! UringAppendBackend(calls: $0) }
    }

    private func expectAll(_ written: [(key: String, large: Bool)], in path: String, options: StoreOptions, _ moment: String) throws {
        let store = try Store(directory: path, options: options)
        for (key, large) in written {
            #expect(try store.get(key.utf8) == powerCutValue(key, large: large), "\(moment): \(key) lost or damaged")
        }
        #expect(store.count == written.count, "\(moment)")
        try store.close()
    }

    /// One write of two chunks and a sync through `backend` into a fresh file: either the file
    /// holds both chunks afterwards, or the write throws `errno`.
    private func expectWrite(through backend: AppendBackend, for caller: AppendCaller = .committer, succeeds: Bool, failingWith errno: Errno) throws {
        let directory = TemporaryDirectory()
        let path = directory.file("chunks")
        let file = try SystemFile.open(path, writable: true, create: true)
        defer { file.close() }
        let first = powerCutValue("first", large: true)
        let second = powerCutValue("second", large: true)
        let write = {
            try first.withUnsafeBytes { firstBytes in
                try second.withUnsafeBytes { secondBytes in
                    try backend.write([
                        WriteChunk(descriptor: file.descriptor, path: path, bytes: firstBytes.baseAddress!, count: first.count, offset: 0),
                        WriteChunk(descriptor: file.descriptor, path: path, bytes: secondBytes.baseAddress!, count: second.count, offset: first.count),
                    ], synchronizing: [file.descriptor], for: caller)
                }
            }
        }
        if succeeds {
            try write()
            #expect(readFile(path) == first + second)
        } else {
            let failure = #expect(throws: IOFailure.self) { try write() }
            #expect(failure?.errno == errno)
        }
    }
}
