/// The fallback backend: pwrite each chunk (continuing short writes, retrying EINTR and EAGAIN),
/// then fdatasync each file.
final class PosixAppendBackend: AppendBackend {
    let name = "posix"
    private let calls: IOSystemCalls

    init(calls: IOSystemCalls = .live) { self.calls = calls }

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32], for caller: AppendCaller) throws(IOFailure) {
        try calls.writeAndSynchronize(chunks, synchronizing: descriptors)
    }

    func synchronizeDirectory(_ path: String) throws(IOFailure) {
        try FileSystem.synchronizeDirectory(path)
    }
}
