import Glibc
@testable import Swiftcask

/// Wraps a real append backend and remembers, for every segment file it writes, what a power
/// cut would leave of it: the file's contents as of the last fdatasync that went through the
/// backend (the "shadow"), and which names the directory held at its last fsync through the
/// backend. `cut()` then builds the directory a power cut at this instant would leave behind:
/// a file created or renamed into place since that directory fsync is gone; segments come
/// from their shadows (so whatever was written but not synced is lost); everything else
/// (files written and fsynced outside the backend: hints, merge outputs) is copied as it is.
/// Not modelled: a file removed or renamed away since the directory fsync is absent, where a
/// real cut may bring it back.
///
/// With `tearing`, each 512-byte sector of the unsynced region independently keeps its new
/// contents or its old one, as a disk that wrote back some dirty pages (in any order) and
/// tore others would leave it.
final class PowerCutBackend: AppendBackend, @unchecked Sendable {
    struct Counters: Sendable {
        /// Backend calls seen (each a group of writes, a sync, or both).
        var calls = 0
        /// fdatasyncs that went through the backend (one per descriptor per call).
        var syncs = 0
        /// Directory fsyncs that went through the backend.
        var directorySyncs = 0
        /// Power cuts simulated.
        var cuts = 0
        /// Files that cuts dropped because no directory fsync had recorded their names yet.
        var namesDropped = 0
        /// Bytes of written-but-unsynced data that the cuts dropped (compared with the page cache).
        var bytesDropped = 0
        /// Unsynced sectors that a tearing cut kept (new contents on the platter).
        var sectorsKept = 0
    }

    static let sectorBytes = 512

    private final class State {
        /// File name → durable contents.
        var shadows: [String: [UInt8]] = [:]
        /// Names the directory held when it was last fsynced (at first: when the store opened).
        var durableNames: Set<String>
        var counters = Counters()
        init(durableNames: Set<String>) { self.durableNames = durableNames }
    }

    let inner: AppendBackend
    let directory: String
    private let state: TestLock<State>
    var name: String { inner.name }

    init(wrapping inner: AppendBackend, directory: String) {
        self.inner = inner
        self.directory = directory
        state = TestLock(State(durableNames: Self.names(in: directory)))
    }

    var counters: Counters { state.withLock { $0.counters } }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure) {
        // The lock is held across the real IO, so a cut never sees a sync done but not recorded:
        // every write acknowledged before a cut started is in the shadows it reads.
        try state.withLock { (state) throws(IOFailure) in
            state.counters.calls += 1
            var synchronizedNames: [(name: String, descriptor: Int32)] = []
            for chunk in chunks {
                let name = Self.fileName(chunk.path)
                if state.shadows[name] == nil { state.shadows[name] = Self.contents(ofDescriptor: chunk.descriptor) }
            }
            for descriptor in descriptors {
                let path = chunks.first { $0.descriptor == descriptor }?.path ?? Self.path(ofDescriptor: descriptor)
                let name = Self.fileName(path)
                if state.shadows[name] == nil { state.shadows[name] = Self.contents(ofDescriptor: descriptor) }
                synchronizedNames.append((name, descriptor))
            }
            try inner.write(chunks, synchronizing: descriptors, for: caller)
            for (name, descriptor) in synchronizedNames {
                state.shadows[name] = Self.contents(ofDescriptor: descriptor)
                state.counters.syncs += 1
            }
        }
    }

    func synchronizeDirectory(_ path: String) throws(IOFailure) {
        try state.withLock { (state) throws(IOFailure) in
            guard path == directory else { return try inner.synchronizeDirectory(path) }
            // Listed before the fsync: a name that appears while it runs may not be covered.
            let names = Self.names(in: directory)
            try inner.synchronizeDirectory(path)
            state.durableNames = names
            state.counters.directorySyncs += 1
        }
    }

    /// The directory a power cut at this instant leaves. Blocks the backend while it copies.
    func cut<Generator: RandomNumberGenerator>(tearing: Bool, using generator: inout Generator) -> TemporaryDirectory {
        let image = TemporaryDirectory("swiftcask-powercut")
        state.withLock { state in
            state.counters.cuts += 1
            for name in Self.names(in: directory) {
                guard state.durableNames.contains(name) else {
                    state.counters.namesDropped += 1
                    continue
                }
                // A file a background thread renamed or deleted meanwhile is absent, as in some crashes.
                guard let current = Self.contents(ofPath: directory + "/" + name) else { continue }
                guard var durable = state.shadows[name] else {
                    writeFile(image.file(name), current)
                    continue
                }
                // The file's size changes only outside the backend (preallocation, the truncation
                // that seals a segment), each followed by an fsync: the current size is durable.
                if durable.count > current.count {
                    durable.removeLast(durable.count - current.count)
                } else if durable.count < current.count {
                    durable.append(contentsOf: repeatElement(0, count: current.count - durable.count))
                }
                var sector = 0
                while sector < current.count {
                    let range = sector..<min(sector + Self.sectorBytes, current.count)
                    if !durable[range].elementsEqual(current[range]) {
                        if tearing && Bool.random(using: &generator) {
                            durable.replaceSubrange(range, with: current[range])
                            state.counters.sectorsKept += 1
                        } else {
                            state.counters.bytesDropped += zip(durable[range], current[range]).count { $0 != $1 }
                        }
                    }
                    sector += Self.sectorBytes
                }
                writeFile(image.file(name), durable)
            }
        }
        return image
    }

    private static func names(in directory: String) -> Set<String> {
        Set(((try? FileSystem.contentsOfDirectory(directory)) ?? []).filter { $0 != SegmentFormat.lockFileName })
    }

    private static func fileName(_ path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path))
    }

    private static func path(ofDescriptor descriptor: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(descriptor)", &buffer, buffer.count - 1)
        precondition(length > 0, "readlink of fd \(descriptor) failed")
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads through the engine's own descriptor (pread: its file offset is untouched).
    private static func contents(ofDescriptor descriptor: Int32) -> [UInt8] {
        let file = SystemFile(descriptor: descriptor, path: "fd \(descriptor)")
        let size = try! file.size()
        var bytes = [UInt8](repeating: 0, count: size)
        if size > 0 {
            let read = bytes.withUnsafeMutableBytes { try! file.read(into: $0.baseAddress!, count: size, at: 0) }
            bytes.removeLast(size - read)
        }
        return bytes
    }

    private static func contents(ofPath path: String) -> [UInt8]? {
        guard let file = try? SystemFile.open(path, writable: false) else { return nil }
        defer { file.close() }
        return contents(ofDescriptor: file.descriptor)
    }
}

/// Reaches the `PowerCutBackend` a store made (the store builds its backend when it opens).
final class PowerCutBackendHolder: Sendable {
    private let backend = TestLock<PowerCutBackend?>(nil)
    var current: PowerCutBackend { backend.withLock { $0! } }

    /// `options` with their backend wrapped in a fresh `PowerCutBackend` for `directory`.
    func wrapping(_ options: StoreOptions, directory: String) -> StoreOptions {
        var options = options
        options.wrapBackend = { inner in
            let wrapped = PowerCutBackend(wrapping: inner, directory: directory)
            self.backend.withLock { $0 = wrapped }
            return wrapped
        }
        return options
    }
}
