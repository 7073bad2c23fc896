/// Offline verification of a data directory (`swiftcask verify`): every record of every
/// segment CRC-checked, every hint checked against its segment.
public struct VerificationReport: Sendable {
    public struct SegmentReport: Sendable {
        public var path: String
        public var records: Int
        /// Bytes of valid data (header and records).
        public var validBytes: Int
        public var fileBytes: Int
        /// The first invalid position and why, if any.
        public var damageOffset: Int?
        public var damage: String?
        /// "ok", "missing", or why the hint is unusable.
        public var hint: String

        public var isHealthy: Bool { damage == nil }
    }

    public var segments: [SegmentReport]
    public var isHealthy: Bool { segments.allSatisfy(\.isHealthy) && segments.allSatisfy { $0.hint == "ok" || $0.hint == "missing" } }
}

extension Store {
    /// Checks every segment and hint of a closed store. With `repair`, cuts each damaged
    /// segment at its first invalid byte (what follows is lost: the report says how much)
    /// and deletes unusable hints. Takes the directory lock, so it refuses a directory a
    /// running store or server holds.
    public static func verify(directory: String, repair: Bool = false) throws(StoreError) -> VerificationReport {
        let lock: SystemFile
        do {
            lock = try SystemFile.open(directory + "/" + SegmentFormat.lockFileName, writable: true, create: true)
            guard try lock.lockExclusively() else {
                lock.close()
                throw StoreError(.directoryLocked, "\(directory) is in use by a running store or server (flock on its LOCK file); stop it first")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.ioFailure, "cannot lock \(directory): \(error)")
        }
        defer { lock.close() }
        do {
            let ids = try FileSystem.contentsOfDirectory(directory).compactMap(SegmentFormat.segmentID(fromFileName:)).sorted()
            var reports: [VerificationReport.SegmentReport] = []
            for id in ids {
                var report = try verifySegment(directory: directory, id: id)
                if repair && !report.isHealthy, let offset = report.damageOffset {
                    let file = try SystemFile.open(report.path, writable: true)
                    try file.truncate(to: offset)
                    try file.synchronize()
                    file.close()
                    try FileSystem.removeFile(directory + "/" + HintFile.fileName(segmentID: id))
                    report.hint = "removed (segment repaired)"
                } else if repair && report.hint != "ok" && report.hint != "missing" {
                    try FileSystem.removeFile(directory + "/" + HintFile.fileName(segmentID: id))
                    report.hint = "removed (\(report.hint))"
                }
                reports.append(report)
            }
            if repair { try FileSystem.synchronizeDirectory(directory) }
            return VerificationReport(segments: reports)
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.ioFailure, "verification failed: \(error)")
        }
    }

    private static func verifySegment(directory: String, id: UInt32) throws -> VerificationReport.SegmentReport {
        let path = directory + "/" + SegmentFormat.fileName(segmentID: id)
        let file = try SystemFile.open(path, writable: false)
        defer { file.close() }
        let size = try file.size()
        var report = VerificationReport.SegmentReport(path: path, records: 0, validBytes: 0, fileBytes: size, hint: "missing")
        guard size > 0 else {
            report.damageOffset = 0
            report.damage = "empty file"
            return report
        }
        let map = try MappedRegion(file: file, length: size)
        map.adviseSequential()
        if case .failure(let problem) = SegmentHeader.decode(map.bytes) {
            report.damageOffset = 0
            report.damage = "bad header: \(problem)"
            return report
        }
        var offset = SegmentFormat.headerBytes
        var openBatch: Int?
        var openBatchRecords = 0
        scanning: while offset < size {
            switch RecordHeader.decode(map.bytes, at: offset) {
            case .endOfData:
                break scanning
            case .invalid(let reason):
                report.damage = reason
                // The records of an unfinished batch before the damage go with it.
                if let start = openBatch {
                    offset = start
                    openBatch = nil
                }
                break scanning
            case .record(let header):
                if header.flags.contains(.batchMember) {
                    if openBatch == nil { openBatch = offset }
                    openBatchRecords += 1
                    if header.flags.contains(.batchEnd) {
                        openBatch = nil
                        report.records += openBatchRecords
                        openBatchRecords = 0
                    }
                    offset += header.recordLength
                    continue
                } else if let start = openBatch {
                    report.damage = "a batch starting at offset \(start) has no end record"
                    offset = start
                    break scanning
                }
                report.records += 1
                offset += header.recordLength
            }
        }
        if let start = openBatch, report.damage == nil {
            report.damage = "a batch starting at offset \(start) has no end record"
            offset = start
        }
        let garbageEnd = StoreCore.endOfNonzeroBytes(map.bytes, from: offset)
        if report.damage == nil && garbageEnd > offset { report.damage = "nonzero bytes after the last record" }
        if report.damage != nil {
            report.damageOffset = offset
            report.damage! += " (\(garbageEnd - offset) bytes from offset \(offset) would be dropped)"
        }
        report.validBytes = offset
        let hintPath = directory + "/" + HintFile.fileName(segmentID: id)
        if FileSystem.fileExists(hintPath) {
            let hint = try SystemFile.open(hintPath, writable: false)
            defer { hint.close() }
            let hintSize = try hint.size()
            if hintSize == 0 {
                report.hint = "empty"
            } else {
                let hintMap = try MappedRegion(file: hint, length: hintSize)
                // Checked against its own seed: which seed an open adopts is a store-level choice.
                let hasher = KeyHasher(seed: HintFile.hashSeed(of: hintMap.bytes) ?? 0)
                switch HintFile.validate(hintMap.bytes, segmentID: id, segmentBytes: size, hashSeed: hasher.seed) {
                case .failure(let rejection): report.hint = rejection.description
                case .success:
                    var mismatch: String?
                    HintFile.forEachEntry(hintMap.bytes) { entry in
                        guard mismatch == nil else { return }
                        guard case .record(let header) = RecordHeader.decode(map.bytes, at: entry.offset), header == entry.header else {
                            mismatch = "entry for offset \(entry.offset) does not match the record there"
                            return
                        }
                        let key = UnsafeRawBufferPointer(rebasing: map.bytes[(entry.offset + SegmentFormat.recordHeaderBytes)...].prefix(header.keyLength))
                        if hasher.hash(key, keyspace: header.keyspace) != entry.hash {
                            mismatch = "entry for offset \(entry.offset) has the wrong key hash"
                        }
                    }
                    report.hint = mismatch ?? "ok"
                }
            }
        }
        return report
    }
}
