import Glibc
import Logging
import Testing
@testable import Swiftcask

/// A fresh directory under /tmp, removed when the test is done with it.
final class TemporaryDirectory {
    let path: String

    init(_ label: String = "swiftcask-test") {
        var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { fatalError("mkdtemp failed: \(Errno.current)") }
        path = String(cString: created)
    }

    deinit { removeTree(path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// rm -rf, for test directories only.
func removeTree(_ path: String) {
    guard let directory = opendir(path) else {
        unlink(path)
        return
    }
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self)) }
        if name == "." || name == ".." { continue }
        let child = path + "/" + name
        var status = stat()
        if lstat(child, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR { removeTree(child) } else { unlink(child) }
    }
    closedir(directory)
    rmdir(path)
}

/// Options for tests: quiet logger, the given backend and durability, small segments.
func testOptions(
    backend: IOBackendChoice = .posix, durability: Durability = .no, segmentBytes: Int = 1 << 20
) -> StoreOptions {
    var options = StoreOptions()
    options.ioBackend = backend
    options.durability = durability
    options.segmentBytes = segmentBytes
    options.writeBufferBytes = min(options.writeBufferBytes, segmentBytes)
    var logger = Logger(label: "swiftcask-test")
    logger.logLevel = .critical
    options.logger = logger
    return options
}

/// Both append backends; every store test runs against each.
let allBackends: [IOBackendChoice] = [.posix, .ioUring]

func bytes(_ string: String) -> [UInt8] { Array(string.utf8) }

/// The segment files of a store directory, in id order.
func segmentFiles(in directory: String) throws -> [String] {
    try FileSystem.contentsOfDirectory(directory)
        .filter { SegmentFormat.segmentID(fromFileName: $0) != nil }
        .sorted()
        .map { directory + "/" + $0 }
}

func fileSize(_ path: String) -> Int {
    var status = stat()
    return stat(path, &status) == 0 ? Int(status.st_size) : -1
}

func readFile(_ path: String) -> [UInt8] {
    let file = try! SystemFile.open(path, writable: false)
    defer { file.close() }
    let size = try! file.size()
    var contents = [UInt8](repeating: 0, count: size)
    _ = contents.withUnsafeMutableBytes { try! file.read(into: $0.baseAddress!, count: size, at: 0) }
    return contents
}

func writeFile(_ path: String, _ contents: [UInt8]) {
    let file = try! SystemFile.open(path, writable: true, create: true)
    defer { file.close() }
    try! file.truncate(to: 0)
    if !contents.isEmpty { contents.withUnsafeBytes { try! file.write($0.baseAddress!, count: $0.count, at: 0) } }
    try! file.synchronize()
}

/// Damages the first record of the newest segment behind the store's back (through the file,
/// seen through the map, as a disk returning a flipped bit): `byte` replaces the value byte at
/// `valueOffset` of a record whose key is `key`.
func damageFirstRecord(in directory: String, key: String, valueOffset: Int, with byte: UInt8) throws {
    let segment = try #require(try segmentFiles(in: directory).last)
    let file = try SystemFile.open(segment, writable: true)
    defer { file.close() }
    var byte = byte
    try file.write(&byte, count: 1, at: SegmentFormat.headerBytes + SegmentFormat.recordHeaderBytes + key.utf8.count + valueOffset)
}

func truncateFile(_ path: String, to length: Int) {
    let file = try! SystemFile.open(path, writable: true)
    defer { file.close() }
    try! file.truncate(to: length)
}

/// Copies the files of a live store directory (except its lock), as a crash at this moment
/// would leave them. Temporary files that a background thread renames away meanwhile are
/// skipped, as they would be absent in some crash images too.
func crashImage(of directory: String) throws -> TemporaryDirectory {
    let image = TemporaryDirectory("swiftcask-image")
    for name in try FileSystem.contentsOfDirectory(directory) where name != SegmentFormat.lockFileName {
        guard let file = try? SystemFile.open(directory + "/" + name, writable: false) else { continue }
        defer { file.close() }
        let size = try file.size()
        var contents = [UInt8](repeating: 0, count: size)
        _ = try contents.withUnsafeMutableBytes { try file.read(into: $0.baseAddress!, count: size, at: 0) }
        writeFile(image.file(name), contents)
    }
    return image
}

/// SplitMix64: a small deterministic generator, so a failing run replays from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A pthread mutex around a value. Tests use it instead of `Synchronization.Mutex`, whose Linux
/// implementation (raw futex calls) ThreadSanitizer cannot see, so that `swift test
/// --sanitize=thread` reports no false races.
final class TestLock<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
