/// The fallback backend: pwrite each chunk (retrying short writes and EINTR), then fdatasync.
final class PosixAppendBackend: AppendBackend {
    let name = "posix"

    func write(_ chunks: [WriteChunk], synchronizing descriptors: [Int32]) throws(IOFailure) {
        for chunk in chunks {
            try SystemFile(descriptor: chunk.descriptor, path: chunk.path)
                .write(chunk.bytes, count: chunk.count, at: chunk.offset)
        }
        for descriptor in descriptors {
            let path = chunks.first { $0.descriptor == descriptor }?.path ?? "fd \(descriptor)"
            try SystemFile(descriptor: descriptor, path: path).synchronizeData()
        }
    }
}
