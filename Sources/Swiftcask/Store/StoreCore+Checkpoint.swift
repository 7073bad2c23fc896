/// Online checkpoints: a consistent copy of a live store.
extension StoreCore {
    /// Without the lock.
    func checkpoint(to destination: String) throws(StoreError) {
        do {
            if FileSystem.fileExists(destination) {
                guard try FileSystem.contentsOfDirectory(destination).isEmpty else {
                    throw StoreError(.invalidOptions, "checkpoint destination \(destination) is not empty")
                }
            } else {
                try FileSystem.createDirectory(destination)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.directoryNotWritable, "cannot create checkpoint directory: \(error)")
        }
        // The cut: everything appended so far, handed to the OS. Merges wait until the files
        // are linked, so none of them disappears meanwhile.
        let snapshot = try monitor.withLock { () throws(StoreError) -> [(segment: Segment, end: Int, isFinal: Bool)] in
            if isClosed || isClosing { throw StoreError.closed }
            while mergeInProgress || checkpointInProgress { monitor.waitForProgress() }
            checkpointInProgress = true
            enqueueCurrent()
            do throws(StoreError) {
                try waitUntilWritten(appendedPosition)
            } catch {
                checkpointInProgress = false
                throw error
            }
            return segmentIDs.compactMap { id in segmentsByID[Int(id)].map { ($0, $0.appendEnd, $0.isFinal) } }
        }
        defer {
            monitor.withLock {
                checkpointInProgress = false
                monitor.broadcastProgress()
                monitor.signalMaintenance()
            }
        }
        do {
            for (segment, end, isFinal) in snapshot {
                let target = destination + "/" + SegmentFormat.fileName(segmentID: segment.id)
                if isFinal {
                    try linkOrCopy(segment.path, to: target)
                    let hint = hintPath(forSegment: segment.id)
                    if FileSystem.fileExists(hint) {
                        try linkOrCopy(hint, to: destination + "/" + HintFile.fileName(segmentID: segment.id))
                    }
                } else {
                    // Bytes below `end` never change: copy them without the lock, as a sealed segment.
                    let bytes = UnsafeRawBufferPointer(rebasing: segment.map.bytes[0..<end])
                    try writeDurably(Array(bytes), to: target, directory: destination)
                    guard let hint = HintFile.encode(segmentID: segment.id, segment: bytes, hasher: hasher) else { continue }
                    try writeDurably(hint, to: destination + "/" + HintFile.fileName(segmentID: segment.id), directory: destination)
                }
            }
            try backend.synchronizeDirectory(destination)
        } catch {
            throw StoreError(.ioFailure, "checkpoint failed: \(error)")
        }
        logger.info("checkpoint of \(snapshot.count) segments written to \(destination)")
    }

    private func linkOrCopy(_ source: String, to target: String) throws(IOFailure) {
        do {
            try FileSystem.link(source, to: target)
        } catch {
            // EXDEV: another file system. Copy, durably.
            let file = try SystemFile.open(source, writable: false)
            defer { file.close() }
            let size = try file.size()
            var contents = [UInt8](repeating: 0, count: size)
            _ = try contents.withUnsafeMutableBytes { buffer in
                Result { () throws(IOFailure) in try file.read(into: buffer.baseAddress!, count: size, at: 0) }
            }.get()
            try writeDurably(contents, to: target, directory: String(target[..<target.lastIndex(of: "/")!]))
        }
    }
}
