/// The fallback backend: pwrite each chunk (continuing short writes, retrying EINTR and EAGAIN),
/// then fdatasync each file.
final class PosixAppendBackend: AppendBackend {
    let name = "posix"
    private let calls: IOSystemCalls

    init(calls: IOSystemCalls = .live) { self.calls = calls }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32]) throws(IOFailure) {
        for chunk in chunks {
            try calls.writeAll(chunk.descriptor, path: chunk.path, chunk.bytes, count: chunk.count, at: chunk.offset)
        }
        for descriptor in descriptors {
            let path = chunks.first { $0.descriptor == descriptor }?.path ?? "fd \(descriptor)"
            try calls.synchronize(descriptor, path: path)
        }
    }
}
