import Glibc
import Testing
@testable import Swiftcask

@Suite struct SpareSegmentTests {
    static let segmentBytes = 1 << 20
    /// How long a test waits for the maintenance thread to make the next spare.
    static let spareDeadlineNanos: UInt64 = 30_000_000_000

    @Test(arguments: allBackends)
    func alwaysModeRotatesIntoZeroFilledSpares(backend: IOBackendChoice) throws {
        let directory = TemporaryDirectory()
        let sparePath = directory.file(SpareSegmentFile.fileName)
        let value = [UInt8](repeating: 0xA5, count: 10_000)
        do {
            let store = try Store(directory: directory.path, options: testOptions(backend: backend, durability: .always, segmentBytes: Self.segmentBytes))
            // Made at open, because the first write is about to create a segment.
            #expect(fileSize(sparePath) == Self.segmentBytes)
            #expect(readFile(sparePath).allSatisfy { $0 == 0 })
            let spareInode = inode(of: sparePath)

            try store.put(bytes("first"), value)
            let firstSegment = try #require(try segmentFiles(in: directory.path).first)
            #expect(inode(of: firstSegment) == spareInode, "the first segment is the renamed spare")

            for index in 0..<300 { try store.put(bytes("key\(index)"), value) }
            #expect(try segmentFiles(in: directory.path).count >= 3)
            #expect(waitForFile(sparePath, size: Self.segmentBytes), "the maintenance thread makes the next spare")
            try store.close()
            #expect(!FileSystem.fileExists(sparePath), "close removes the spare")
        }
        let reopened = try Store(directory: directory.path, options: testOptions(backend: backend, segmentBytes: Self.segmentBytes))
        #expect(reopened.count == 301)
        #expect(try reopened.get(bytes("first")) == value)
        for index in 0..<300 { #expect(try reopened.get(bytes("key\(index)")) == value) }
        try reopened.close()
    }

    @Test func staleSpareFromACrashIsRemovedAtOpen() throws {
        let directory = TemporaryDirectory()
        let sparePath = directory.file(SpareSegmentFile.fileName)
        writeFile(sparePath, [UInt8](repeating: 0x5A, count: 4096))
        let store = try Store(directory: directory.path, options: testOptions(segmentBytes: Self.segmentBytes))
        // The stale file went; the spare there now is a fresh one, made at open.
        #expect(fileSize(sparePath) == Self.segmentBytes)
        #expect(readFile(sparePath).allSatisfy { $0 == 0 })
        try store.put("alpha", "1")
        #expect(try store.get("alpha") == bytes("1"))
        try store.close()
    }

    /// In the other modes the spare is only preallocated; rotation renames it just the same.
    @Test(arguments: [Durability.everysec, .no])
    func otherModesRotateIntoPreallocatedSpares(durability: Durability) throws {
        let directory = TemporaryDirectory()
        let sparePath = directory.file(SpareSegmentFile.fileName)
        let store = try Store(directory: directory.path, options: testOptions(durability: durability, segmentBytes: Self.segmentBytes))
        let value = [UInt8](repeating: 1, count: 10_000)
        // Made at open, like the zero-filled one, and again once the first is taken.
        #expect(fileSize(sparePath) == Self.segmentBytes)
        try store.put(bytes("key0"), value)
        #expect(waitForFile(sparePath, size: Self.segmentBytes), "the maintenance thread makes the next spare")
        for index in 1..<80 { try store.put(bytes("key\(index)"), value) }
        let spareInode = inode(of: sparePath)
        for index in 80..<120 { try store.put(bytes("key\(index)"), value) }
        try store.sync()
        let segments = try segmentFiles(in: directory.path)
        #expect(segments.count == 2)
        #expect(inode(of: segments[1]) == spareInode, "the second segment is the renamed spare")
        try store.close()
        #expect(!FileSystem.fileExists(sparePath))
        let reopened = try Store(directory: directory.path, options: testOptions(segmentBytes: Self.segmentBytes))
        for index in 0..<120 { #expect(try reopened.get(bytes("key\(index)")) == value) }
        try reopened.close()
    }

    /// Reopening a store and only reading it makes no spare (the CLI's `get` and `dump` should
    /// not create 64 MiB files); the first write does.
    @Test func anOpenThatOnlyReadsMakesNoSpare() throws {
        let directory = TemporaryDirectory()
        let sparePath = directory.file(SpareSegmentFile.fileName)
        do {
            let store = try Store(directory: directory.path, options: testOptions(segmentBytes: Self.segmentBytes))
            try store.put("alpha", "1")
            try store.close()
        }
        let reopened = try Store(directory: directory.path, options: testOptions(segmentBytes: Self.segmentBytes))
        #expect(try reopened.get("alpha") == bytes("1"))
        // A requested merge runs on the maintenance thread, after its spare check: once it
        // returns, that thread has decided about the spare.
        _ = try reopened.merge()
        #expect(!FileSystem.fileExists(sparePath), "no spare after reads only")
        try reopened.put("beta", "2")
        #expect(waitForFile(sparePath, size: Self.segmentBytes), "the first write brings the spare")
        try reopened.close()
    }

    /// Where the kernel keeps a file written in 2 MiB writes in 2 MiB folios and maps it with
    /// 2 MiB pages (ext4 from Linux 6.16, XFS), a segment made from a preallocated spare is read
    /// that way: its page cache was loaded in huge folios before records went there in small
    /// writes.
    @Test(.enabled(if: HugePageMapping.kernelMapsFilesWrittenInHugeChunks()), arguments: [Durability.everysec, .no])
    func segmentsMadeFromSparesAreMappedWithHugePages(durability: Durability) throws {
        let segmentBytes = 2 * HugePageMapping.hugePageBytes
        let directory = TemporaryDirectory()
        let store = try Store(directory: directory.path, options: testOptions(durability: durability, segmentBytes: segmentBytes))
        let value = [UInt8](repeating: 7, count: 1000)
        // About 3 MiB: the first huge page of segment 1 (the spare made at open) fills.
        let keys = 3000
        for index in 0..<keys { try store.put(bytes("key\(index)"), value) }
        try store.sync()
        for index in 0..<keys { #expect(try store.get(bytes("key\(index)")) == value) }
        let path = directory.file(SegmentFormat.fileName(segmentID: 1))
        #expect(HugePageMapping.kilobytesMappedWithHugePages(path) >= HugePageMapping.hugePageBytes / 1024)
        try store.close()
    }

    private func inode(of path: String) -> UInt {
        var status = stat()
        return stat(path, &status) == 0 ? UInt(status.st_ino) : 0
    }

    /// Polls (bounded) until `path` exists with `size` bytes.
    private func waitForFile(_ path: String, size: Int) -> Bool {
        let deadline = Clock.monotonicNanos() + Self.spareDeadlineNanos
        while Clock.monotonicNanos() < deadline {
            if fileSize(path) == size { return true }
            Clock.sleep(nanoseconds: 10_000_000)
        }
        return false
    }
}
