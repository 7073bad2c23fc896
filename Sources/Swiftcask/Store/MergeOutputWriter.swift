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
    /// Records are staged here and written in large pwrites.
    static let stagingBytes = 1 << 20

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
        if staging.count >= Self.stagingBytes { try flushStaging() }
        return (outputs[index].id, offset)
    }

    /// Writes what is staged, trims every output to its records, fsyncs it, and returns them.
    func finish() throws(IOFailure) -> [Output] {
        try flushStaging()
        for output in outputs {
            try output.file.truncate(to: output.size)
            try output.file.synchronize()
        }
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
        // Like a spare segment: the copies are read at random for as long as they live, so
        // their page cache is loaded in huge folios first (`finish` trims the file to its
        // records). Without the space for that, the output is written as it comes.
        if (try? file.preallocate(length: segmentBytes)) != nil {
            MappedRegion.loadPageCacheInHugeFolios(of: file, length: segmentBytes)
        }
        var header = [UInt8](repeating: 0, count: SegmentFormat.headerBytes)
        SegmentHeader(segmentID: id, replayAfter: anchor).encode(into: &header)
        outputs.append(Output(id: id, temporaryPath: temporaryPath, finalPath: finalPath, file: file, size: 0))
        staging.append(contentsOf: header)
        outputs[outputs.count - 1].size = header.count
    }

    private func flushStaging() throws(IOFailure) {
        guard let output = outputs.last, !staging.isEmpty else { return }
        let offset = output.size - staging.count
        try staging.withUnsafeBytes { bytes in
            Result { () throws(IOFailure) in try output.file.write(bytes.baseAddress!, count: bytes.count, at: offset) }
        }.get()
        staging.removeAll(keepingCapacity: true)
    }
}
