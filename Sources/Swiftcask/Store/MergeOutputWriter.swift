/// Writes a merge's surviving records into new segment files under temporary names, starting
/// a new file when one is full. Each output gets a fresh id and replays right after `anchor`.
final class MergeOutputWriter {
    struct Output {
        let id: UInt32
        let temporaryPath: String
        let finalPath: String
        let file: SystemFile
        var size: Int
    }

    static let temporarySuffix = ".tmp"
    /// Records are staged here and written in whole chunks of this size at offsets that are
    /// multiples of it: a 2 MiB write at such an offset fills one huge page-cache folio (ext4
    /// from Linux 6.16, XFS), so the copies are read through 2 MiB pages for as long as they
    /// live (see `MappedRegion.loadPageCacheInHugeFolios`), at no cost beyond the write.
    static let stagingBytes = 2 << 20

    let directory: String
    let segmentBytes: Int
    let anchor: UInt32
    private let allocateID: () -> UInt32
    private(set) var outputs: [Output] = []
    private var staging: [UInt8] = []

    init(directory: String, segmentBytes: Int, anchor: UInt32, allocateID: @escaping () -> UInt32) {
        self.directory = directory
        self.segmentBytes = segmentBytes
        self.anchor = anchor
        self.allocateID = allocateID
        staging.reserveCapacity(Self.stagingBytes)
    }

    /// Appends a verified record, without its batch flags (a merge keeps only some records of a
    /// batch, and each kept record stands alone). Returns (output id, offset).
    func append(_ record: UnsafeRawBufferPointer) throws(IOFailure) -> (id: UInt32, offset: Int) {
        if outputs.isEmpty || outputs[outputs.count - 1].size + record.count > max(segmentBytes, SegmentFormat.headerBytes + record.count) {
            try startOutput()
        }
        let index = outputs.count - 1
        let offset = outputs[index].size
        let start = staging.count
        staging.append(contentsOf: record)
        staging.withUnsafeMutableBytes { raw in
            let flags = RecordFlags(rawValue: raw[start + SegmentFormat.recordFlagsOffset])
            if !flags.isDisjoint(with: [.batchMember, .batchEnd]) {
                raw[start + SegmentFormat.recordFlagsOffset] = flags.subtracting([.batchMember, .batchEnd]).rawValue
                let covered = UnsafeRawBufferPointer(rebasing: raw[(start + SegmentFormat.recordCRCStart)..<(start + record.count)])
                raw.storeBytes(of: CRC32C.checksum(covered).littleEndian, toByteOffset: start, as: UInt32.self)
            }
        }
        outputs[index].size += record.count
        if staging.count >= Self.stagingBytes { try flushStaging(wholeChunksOnly: true) }
        return (outputs[index].id, offset)
    }

    /// Writes what is staged, fsyncs every output, and returns them.
    func finish() throws(IOFailure) -> [Output] {
        try flushStaging()
        for output in outputs { try output.file.synchronize() }
        return outputs
    }

    /// Deletes the temporary files (an abandoned merge).
    func discard() {
        for output in outputs {
            output.file.close()
            try? FileSystem.removeFile(output.temporaryPath)
        }
        outputs.removeAll()
    }

    private func startOutput() throws(IOFailure) {
        try flushStaging()
        let id = allocateID()
        let finalPath = directory + "/" + SegmentFormat.fileName(segmentID: id)
        let temporaryPath = finalPath + Self.temporarySuffix
        let file = try SystemFile.open(temporaryPath, writable: true, create: true)
        try file.truncate(to: 0)
        var header = [UInt8](repeating: 0, count: SegmentFormat.headerBytes)
        SegmentHeader(segmentID: id, replayAfter: anchor).encode(into: &header)
        outputs.append(Output(id: id, temporaryPath: temporaryPath, finalPath: finalPath, file: file, size: 0))
        staging.append(contentsOf: header)
        outputs[outputs.count - 1].size = header.count
    }

    /// Writes the staged bytes, or with `wholeChunksOnly` those up to the last multiple of
    /// `stagingBytes` in the file (the rest, less than a chunk, waits for more records).
    private func flushStaging(wholeChunksOnly: Bool = false) throws(IOFailure) {
        guard let output = outputs.last, !staging.isEmpty else { return }
        let offset = output.size - staging.count
        let end = wholeChunksOnly ? output.size / Self.stagingBytes * Self.stagingBytes : output.size
        guard end > offset else { return }
        let count = end - offset
        try staging.withUnsafeBytes { bytes in
            Result { () throws(IOFailure) in try output.file.write(bytes.baseAddress!, count: count, at: offset) }
        }.get()
        staging.removeFirst(count)
    }
}
