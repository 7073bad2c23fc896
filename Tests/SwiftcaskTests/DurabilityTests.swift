import Glibc
import Testing
@testable import Swiftcask

@Suite struct DurabilityTests {
    @Test(arguments: allBackends)
    func concurrentAlwaysWritersAreAllPresentAfterACrash(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        let options = testOptions(backend: backend, durability: .always, segmentBytes: 256 << 10)
        let store = try Store(directory: directory.path, options: options)
        let threads = 4
        let putsPerThread = 150
        let acknowledged = TestLock<[String]>([])
        let workers = (0..<threads).map { thread in
            BackgroundThread(name: "writer-\(thread)") {
                for index in 0..<putsPerThread {
                    let key = "t\(thread)-k\(index)"
                    do {
                        try store.put(key.utf8, [UInt8](repeating: UInt8(index % 256), count: 300))
                        acknowledged.withLock { $0.append(key) }
                    } catch {
                        Issue.record("put failed: \(error)")
                    }
                }
            }
        }
        for worker in workers { worker.join() }
        let statistics = store.statistics
        #expect(statistics.syncs > 0)
        // Group commit: fewer fsyncs than puts when writers overlap (not asserted: timing).
        // The page cache as a crash leaves it (power-loss simulation is the crash-torture suite's job).
        let image = try crashImage(of: directory.path)
        try store.close()
        let recovered = try Store(directory: image.path, options: options)
        let keys = acknowledged.withLock { $0 }
        #expect(keys.count == threads * putsPerThread)
        for key in keys { #expect(recovered.contains(key), "acknowledged \(key) lost") }
        try recovered.close()
    }

    /// A blocking `.always` writer with no round running writes and syncs its group on its own
    /// thread (no hand-off to the committer and back), while deferred writes still complete
    /// through the committer.
    @Test(arguments: allBackends)
    func loneAlwaysWriterLeadsItsOwnRounds(backend: IOBackendChoice) async throws {
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, durability: .always)
        let writingThreads = TestLock<[pthread_t]>([])
        options.wrapBackend = { inner in ThreadRecordingBackend(wrapping: inner, into: writingThreads) }
        let store = try Store(directory: directory.path, options: options)
        let puts = 20
        var batch = WriteBatch()
        batch.put("batch-a", "1")
        batch.put("batch-b", "2")
        // Blocking calls, all on one thread (no suspension point in between).
        func writeBlocking() throws -> pthread_t {
            for index in 0..<puts { try store.put("k\(index)", "v\(index)") }
            let _: WriteResult = try store.write(batch)
            return pthread_self()
        }
        let writer = try writeBlocking()
        let rounds = writingThreads.withLock { $0 }
        #expect(rounds.count == puts + 1, "one synced round per blocking write")
        #expect(rounds.allSatisfy { pthread_equal($0, writer) != 0 }, "every round ran on the writer's thread")
        #expect(store.statistics.syncs == UInt64(puts + 1))

        let deferred = try store.writeDeferred(batch)
        try await store.waitUntilDurable(deferred.ticket)
        #expect(writingThreads.withLock { $0.count } == puts + 2)
        try store.close()
        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend))
        for index in 0..<puts { #expect(try reopened.get("k\(index)") == bytes("v\(index)")) }
        #expect(try reopened.get("batch-b") == bytes("2"))
        try reopened.close()
    }

    /// The committer asks for plain calls for a round that syncs fewer than
    /// `ringSyncRoundRecordsMin` records and for the ring from that size on.
    @Test(arguments: allBackends)
    func committerRoutesSyncRoundsBySize(backend: IOBackendChoice) async throws {
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, durability: .always)
        let recorder = ThreadRecordingBackend.install(in: &options)
        let store = try Store(directory: directory.path, options: options)
        func writeDurably(records: Int) async throws {
            var batch = WriteBatch()
            for index in 0..<records { batch.put("r\(records)-\(index)", "v") }
            try await store.waitUntilDurable(try store.writeDeferred(batch).ticket)
        }
        let threshold = StoreCore.ringSyncRoundRecordsMin
        try await writeDurably(records: threshold - 1)
        try await writeDurably(records: threshold)
        let callers = try #require(recorder.withLock { $0 }).dataSyncCallers.withLock { $0 }
        #expect(callers == [.committerSmallSyncRound, .committer])
        try store.close()
    }

    @Test(arguments: allBackends)
    func deferredWritesReportDurability(backend: IOBackendChoice) async throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions(backend: backend, durability: .always))
        var batch = WriteBatch()
        batch.put("a", "1")
        let result = try store.writeDeferred(batch)
        #expect(try store.get("a") == bytes("1"))  // visible before durable
        try await store.waitUntilDurable(result.ticket)
        #expect(store.statistics.syncs >= 1)
        try await store.put("b".utf8, "2".utf8)
        #expect(try store.get("b") == bytes("2"))
        try store.close()
    }

    /// `putDeferred`: visible at once, no fsync asked for by the call itself (`.always` rounds are
    /// led or asked for), durable once `whenDurable` says so; limits checked at the boundary.
    @Test(arguments: allBackends)
    func deferredPutIsVisibleAtOnceAndDurableWhenReported(backend: IOBackendChoice) async throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions(backend: backend, durability: .always))
        // In `.always` an append does not wake the committer: once idle, it syncs nothing unasked.
        #expect(PausingBackend.poll { store.core.monitor.withLock { store.core.committerIsIdle } })
        let ticket = try Array("key".utf8).withUnsafeBytes { key in
            try Array("value".utf8).withUnsafeBytes { value in try store.putDeferred(key: key, value: value, expiresAtMillis: nil) }
        }
        #expect(try store.get("key") == bytes("value"))
        #expect(store.statistics.syncs == 0, "the deferred put asked for no fsync")
        try await store.waitUntilDurable(ticket)
        #expect(store.statistics.syncs >= 1)

        let keyAtLimit = [UInt8](repeating: 0x6B, count: Limits.keyBytesMax)
        _ = try keyAtLimit.withUnsafeBytes { key in try store.putDeferred(key: key, value: UnsafeRawBufferPointer(start: nil, count: 0)) }
        let keyPastLimit = [UInt8](repeating: 0x6B, count: Limits.keyBytesMax + 1)
        let keyError = #expect(throws: StoreError.self) {
            try keyPastLimit.withUnsafeBytes { key in try store.putDeferred(key: key, value: UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
        #expect(keyError?.code == .keyTooLarge)
        try store.close()

        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend))
        #expect(try reopened.get("key") == bytes("value"))
        #expect(try reopened.get(keyAtLimit) == [])
        #expect(try reopened.get(keyPastLimit) == nil)
        try reopened.close()
    }

    /// A server's writer (deferred writes, `.always`) that rotates into new segments never
    /// syncs anything on its own thread: each new segment's header and directory entry are
    /// synced by the committer's round, before the segment's records are acknowledged.
    @Test(arguments: allBackends)
    func rotationLeavesEverySyncToTheCommitter(backend: IOBackendChoice) async throws {
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, durability: .always, segmentBytes: Limits.segmentBytesMin)
        let recorder = ThreadRecordingBackend.install(in: &options)
        let store = try Store(directory: directory.path, options: options)
        let writes = 12
        let value = [UInt8](repeating: 0x3C, count: 20_000)  // three per 64 KiB segment
        func writeDeferred() throws -> (pthread_t, CommitTicket) {
            var ticket: CommitTicket?
            for index in 0..<writes {
                var batch = WriteBatch()
                batch.put(bytes("k\(index)"), value)
                ticket = try store.writeDeferred(batch).ticket
            }
            return (pthread_self(), ticket!)
        }
        let (writer, last) = try writeDeferred()
        try await store.waitUntilDurable(last)
        let backendSeen = try #require(recorder.withLock { $0 })
        let segments = try segmentFiles(in: directory.path).count
        #expect(segments >= writes / 3)
        #expect(backendSeen.directorySyncs.withLock { $0 } >= segments, "each new segment's directory entry is synced")
        let syncing = backendSeen.syncingThreads.withLock { $0 }
        #expect(!syncing.isEmpty)
        #expect(syncing.allSatisfy { pthread_equal($0, writer) == 0 }, "no sync ran on the writer's thread")
        try store.close()
        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend))
        for index in 0..<writes { #expect(try reopened.get(bytes("k\(index)")) == value) }
        try reopened.close()
    }

    /// A directory fsync that fails (here: the one that makes a new segment's name durable) is
    /// as sticky as a failed fdatasync, and the write it covered is never acknowledged.
    @Test(arguments: allBackends)
    func failedDirectorySyncIsSticky(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        let (store, faults) = try storeWithFaults(directory, testOptions(backend: backend, durability: .always, segmentBytes: Limits.segmentBytesMin))
        let value = [UInt8](repeating: 7, count: 40_000)
        try store.put(bytes("first"), value)
        faults.injectDirectorySyncFailure(.ioError)
        let error = #expect(throws: StoreError.self) { try store.put(bytes("second"), value) }  // rotates
        #expect(error?.code == .writesDisabled)
        #expect(error?.message.contains("directory fsync") == true)
        #expect(throws: StoreError.self) { try store.put("later", "no") }
        #expect(try store.get(bytes("first")) == value)
        #expect(throws: StoreError.self) { try store.close() }
        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend, segmentBytes: Limits.segmentBytesMin))
        #expect(try reopened.get(bytes("first")) == value)
        try reopened.close()
    }

    /// The last record cut at every byte (file truncated, or the tail zeroed as a torn write
    /// into a preallocated segment): earlier records survive, the cut one is gone, and the store
    /// keeps working after the repair.
    @Test(arguments: [false, true])
    func tornLastRecordAtEveryOffset(zeroFillInsteadOfTruncate: Bool) throws {
        let directory = TemporaryDirectory()
        let options = testOptions()
        do {
            let store = try Store(directory: directory.path, options: options)
            for index in 0..<10 { try store.put(bytes("key\(index)"), bytes("value\(index)")) }
            try store.close()
        }
        let segment = try #require(try segmentFiles(in: directory.path).last)
        let original = readFile(segment)
        let lastLength = RecordHeader.recordLength(keyLength: 4, valueLength: 6)
        var end = SegmentFormat.headerBytes
        for index in 0..<10 { end += RecordHeader.recordLength(keyLength: "key\(index)".count, valueLength: "value\(index)".count) }
        let lastStart = end - lastLength
        for cut in lastStart..<end {
            let image = TemporaryDirectory("swiftcask-torn")
            let path = image.path + "/" + String(segment.split(separator: "/").last!)
            if zeroFillInsteadOfTruncate {
                var damaged = original
                for index in cut..<end { damaged[index] = 0 }
                writeFile(path, damaged)
            } else {
                writeFile(path, Array(original[..<cut]))
            }
            let store = try Store(directory: image.path, options: options)
            for index in 0..<9 { #expect(try store.get(bytes("key\(index)")) == bytes("value\(index)"), "cut at \(cut)") }
            #expect(try store.get("key9") == nil, "cut at \(cut)")
            try store.put("after", "repair")
            try store.close()
            let again = try Store(directory: image.path, options: options)
            #expect(try again.get("after") == bytes("repair"), "cut at \(cut)")
            #expect(again.count == 10)
            try again.close()
        }
    }

    /// A batch is all or nothing: cut anywhere inside it, none of it survives.
    /// `syncIfIdle` (the server's event-loop round) leads a round on the caller's thread when
    /// none runs, and returns false at once, without waiting, while another round runs.
    @Test(arguments: allBackends)
    func syncIfIdleLeadsARoundOrStepsAside(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        var options = testOptions(backend: backend, durability: .always)
        let pausing = TestLock<PausingBackend?>(nil)
        options.wrapBackend = { inner in
            let wrapped = PausingBackend(wrapping: inner)
            pausing.withLock { $0 = wrapped }
            return wrapped
        }
        let store = try Store(directory: directory.path, options: options)
        // In `.always` an append does not wake the committer: once idle, it stays out of the way.
        let committerIdle = { store.core.monitor.withLock { store.core.committerIsIdle } }
        #expect(PausingBackend.poll(committerIdle))
        var batch = WriteBatch()
        batch.put("first", "1")
        let first = try store.writeDeferred(batch).ticket
        let syncsBefore = store.statistics.syncs
        #expect(try store.syncIfIdle(first))
        #expect(store.statistics.syncs == syncsBefore + 1)

        let backendInUse = pausing.withLock { $0! }
        backendInUse.pauseNextWrite()
        let leader = BackgroundThread(name: "leader") {
            do { try store.put("second", "2") } catch { Issue.record("the leading put failed: \(error)") }
        }
        #expect(backendInUse.waitUntilPaused())
        batch.removeAll()
        batch.put("third", "3")
        let third = try store.writeDeferred(batch).ticket
        #expect(try store.syncIfIdle(third) == false)
        backendInUse.resume()
        leader.join()
        #expect(PausingBackend.poll(committerIdle))
        #expect(try store.syncIfIdle(third))
        try store.close()

        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend))
        for (key, value) in [("first", "1"), ("second", "2"), ("third", "3")] {
            #expect(try reopened.get(key.utf8) == Array(value.utf8))
        }
        try reopened.close()
    }

    @Test func batchIsAllOrNothingAfterACrash() throws {
        let directory = TemporaryDirectory()
        let options = testOptions()
        var batchStart = 0
        do {
            let store = try Store(directory: directory.path, options: options)
            try store.put("before", "x")
            try store.put("b2", "old")
            batchStart = store.statistics.diskBytes
            var batch = WriteBatch()
            for index in 0..<5 { batch.put(bytes("b\(index)"), bytes("new\(index)")) }
            batch.delete("before")
            try store.write(batch)
            try store.close()
        }
        let segment = try #require(try segmentFiles(in: directory.path).last)
        let original = readFile(segment)
        let batchEnd = original.count - original.reversed().prefix { $0 == 0 }.count
        for cut in stride(from: batchStart, through: batchEnd, by: 3) {
            let image = TemporaryDirectory("swiftcask-batch")
            var damaged = original
            for index in cut..<batchEnd { damaged[index] = 0 }
            writeFile(image.path + "/" + String(segment.split(separator: "/").last!), damaged)
            let store = try Store(directory: image.path, options: options)
            let complete = cut == batchEnd
            #expect(try store.get("before") == (complete ? nil : bytes("x")), "cut at \(cut)")
            #expect(try store.get("b2") == (complete ? bytes("new2") : bytes("old")), "cut at \(cut)")
            #expect(try store.get("b4") == (complete ? bytes("new4") : nil), "cut at \(cut)")
            try store.close()
        }
    }

    @Test(arguments: allBackends)
    func failedFsyncIsStickyAndNeverAcknowledged(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        let (store, faults) = try storeWithFaults(directory, testOptions(backend: backend, durability: .always))
        try store.put("durable", "yes")
        faults.inject(.syncFails(.ioError))
        let error = #expect(throws: StoreError.self) { try store.put("doomed", "no") }
        #expect(error?.code == .writesDisabled)
        #expect(error?.message.contains("fdatasync") == true)
        // Sticky: the next write is refused even though the disk would now succeed.
        #expect(throws: StoreError.self) { try store.put("later", "no") }
        #expect(throws: StoreError.self) { try store.sync() }
        // Reads keep working.
        #expect(try store.get("durable") == bytes("yes"))
        #expect(store.statistics.writeFailure != nil)
        #expect(throws: StoreError.self) { try store.close() }
        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend, durability: .always))
        #expect(try reopened.get("durable") == bytes("yes"))
        try reopened.put("again", "works")
        try reopened.close()
    }

    @Test func failedWriteFailsEveryWriterOfTheGroup() throws {
        let directory = TemporaryDirectory()
        let (store, faults) = try storeWithFaults(directory, testOptions(durability: .always))
        faults.inject(.writeFails(.ioError))
        let failures = TestLock(0)
        let workers = (0..<3).map { index in
            BackgroundThread(name: "w\(index)") {
                do { try store.put(bytes("k\(index)"), bytes("v")) } catch { failures.withLock { $0 += 1 } }
            }
        }
        for worker in workers { worker.join() }
        #expect(failures.withLock { $0 } == 3)
        try? store.close()
    }

    @Test func unsupportedFormatVersionIsRefused() throws {
        let directory = TemporaryDirectory()
        var header = [UInt8](repeating: 0, count: 4096)
        var stamped = [UInt8](repeating: 0, count: SegmentFormat.headerBytes)
        SegmentHeader(segmentID: 1, version: 2).encode(into: &stamped)
        header.replaceSubrange(0..<stamped.count, with: stamped)
        writeFile(directory.file(SegmentFormat.fileName(segmentID: 1)), header)
        let error = #expect(throws: StoreError.self) { try Store(directory: directory.path, options: testOptions()) }
        #expect(error?.code == .unsupportedFormatVersion)
        #expect(error?.message.contains("version 2") == true)
    }

    @Test func damageInsideAnOlderSegmentIsReportedWithSegmentAndOffset() throws {
        let directory = TemporaryDirectory()
        let options = testOptions(segmentBytes: Limits.segmentBytesMin)
        do {
            let store = try Store(directory: directory.path, options: options)
            for index in 0..<2000 { try store.put(bytes("key\(index)"), [UInt8](repeating: 7, count: 100)) }
            try store.close()
        }
        // Without hints, so the open scans (and CRC-checks) every record.
        for name in try FileSystem.contentsOfDirectory(directory.path) where name.hasSuffix(".hint") { unlink(directory.file(name)) }
        let first = try #require(try segmentFiles(in: directory.path).first)
        var contents = readFile(first)
        contents[1000] ^= 0xFF
        writeFile(first, contents)
        let error = #expect(throws: StoreError.self) { try Store(directory: directory.path, options: options) }
        #expect(error?.code == .corruptData)
        #expect(error?.message.contains("0000000001.seg") == true)
        #expect(error?.message.contains("offset") == true)
    }

    /// A real full disk: a 2 MiB tmpfs (needs root; skipped with a reason otherwise).
    @Test func diskFullFailsCleanlyAndRecovers() throws {
        let mountPoint = TemporaryDirectory("swiftcask-full")
        // mount(2) directly: a fork here (system()) would briefly share other tests' locked
        // descriptors with the child.
        guard getuid() == 0, mount("tmpfs", mountPoint.path, "tmpfs", 0, "size=2m") == 0 else {
            print("skipped diskFullFailsCleanlyAndRecovers: mounting a tmpfs needs root (\(Errno.current))")
            return
        }
        defer { umount2(mountPoint.path, 0) }
        let options = testOptions(segmentBytes: 256 << 10)
        let store = try Store(directory: mountPoint.path + "/db", options: options)
        // Fill the disk with a ballast file, leaving room for a few segments.
        let ballast = try SystemFile.open(mountPoint.path + "/ballast", writable: true, create: true)
        try ballast.preallocate(length: 1200 << 10)
        ballast.close()
        var written = 0
        var failure: StoreError?
        while failure == nil && written < 100_000 {
            do {
                try store.put(bytes("key\(written)"), [UInt8](repeating: 1, count: 1000))
                written += 1
            } catch {
                failure = error
            }
        }
        #expect(failure?.code == .diskFull)
        #expect(failure?.message.contains("disk full") == true)
        #expect(written > 0)
        // Reads keep working; the failed key is not visible.
        #expect(try store.get(bytes("key0")) == [UInt8](repeating: 1, count: 1000))
        #expect(try store.get(bytes("key\(written)")) == nil)
        // Free space: writes work again.
        unlink(mountPoint.path + "/ballast")
        try store.put("after", "space")
        try store.close()
        let reopened = try Store(directory: mountPoint.path + "/db", options: options)
        #expect(reopened.count == written + 1)
        try reopened.close()
    }
}

extension DurabilityTests {
    /// Damage that appears after open (the disk returns a flipped bit) is an error, not a value.
    @Test func damagedRecordReadsAsAnErrorNotAValue() throws {
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions())
        try store.put("victim", "precious value")
        try store.sync()
        try damageFirstRecord(in: directory.path, key: "victim", valueOffset: 3, with: 0x58)
        let error = #expect(throws: StoreError.self) { try store.get("victim") }
        #expect(error?.code == .corruptData)
        #expect(error?.message.contains("offset \(SegmentFormat.headerBytes)") == true)
        #expect(throws: StoreError.self) { try store.withValue(forKey: "victim".utf8) { _ in () } }
        try store.close()
    }
}

/// Records the thread of every backend call that writes something, and of every call that
/// syncs something (an fdatasync or a directory fsync).
final class ThreadRecordingBackend: AppendBackend, @unchecked Sendable {
    let inner: AppendBackend
    let threads: TestLock<[pthread_t]>
    let syncingThreads = TestLock<[pthread_t]>([])
    /// The caller of every call that writes records and syncs them.
    let dataSyncCallers = TestLock<[AppendCaller]>([])
    let directorySyncs = TestLock(0)
    var name: String { inner.name }

    init(wrapping inner: AppendBackend, into threads: TestLock<[pthread_t]>) {
        self.inner = inner
        self.threads = threads
    }

    /// Wraps the backend `options` open with in a recorder, which the returned lock holds once
    /// a store opened.
    static func install(in options: inout StoreOptions) -> TestLock<ThreadRecordingBackend?> {
        let recorder = TestLock<ThreadRecordingBackend?>(nil)
        options.wrapBackend = { inner in
            let wrapped = ThreadRecordingBackend(wrapping: inner, into: TestLock([]))
            recorder.withLock { $0 = wrapped }
            return wrapped
        }
        return recorder
    }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure) {
        if !chunks.isEmpty { threads.withLock { $0.append(pthread_self()) } }
        if !descriptors.isEmpty { syncingThreads.withLock { $0.append(pthread_self()) } }
        if !chunks.isEmpty && !descriptors.isEmpty { dataSyncCallers.withLock { $0.append(caller) } }
        try inner.write(chunks, synchronizing: descriptors, for: caller)
    }

    func synchronizeDirectory(_ path: String) throws(IOFailure) {
        syncingThreads.withLock { $0.append(pthread_self()) }
        directorySyncs.withLock { $0 += 1 }
        try inner.synchronizeDirectory(path)
    }
}
