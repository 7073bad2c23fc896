import Glibc
@testable import Swiftcask

/// What /proc/self/smaps tells about files mapped with 2 MiB pages, for tests of the huge
/// page-cache folios of spare segments (`SpareSegmentFile`) and merge outputs (`MergeOutputWriter`).
enum HugePageMapping {
    static let hugePageBytes = 2 << 20

    /// Kilobytes of this process's maps of `path` that are mapped with 2 MiB pages.
    static func kilobytesMappedWithHugePages(_ path: String) -> Int {
        let smaps = readProcFile("/proc/self/smaps")
        var inFile = false
        var kilobytes = 0
        for line in smaps.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), first.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                inFile = fields.count >= 6 && fields[5...].joined(separator: " ") == path
            } else if inFile, fields.first == "FilePmdMapped:", fields.count >= 2, let value = Int(fields[1]) {
                kilobytes += value
            }
        }
        return kilobytes
    }

    /// A /proc file's text (its size reads as 0, so it is read until the end; Foundation's
    /// `String(contentsOfFile:)` came back without smaps' mappings, which skipped these tests).
    private static func readProcFile(_ path: String) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            contents.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: contents, as: UTF8.self)
    }

    /// Whether this kernel and the temporary directory's file system keep a file written in
    /// 2 MiB writes in 2 MiB folios and map it so (the tests that expect it are skipped if not).
    static func kernelMapsFilesWrittenInHugeChunks() -> Bool {
        let directory = TemporaryDirectory("swiftcask-probe")
        let path = directory.file("probe")
        let length = 2 * hugePageBytes
        writeFile(path, [UInt8](repeating: 1, count: length))
        guard let file = try? SystemFile.open(path, writable: false, create: false),
              let map = try? MappedRegion(file: file, length: length) else { return false }
        defer { file.close() }
        var sum = 0
        for offset in stride(from: 0, to: length, by: 4096) { sum &+= Int(map.base.load(fromByteOffset: offset, as: UInt8.self)) }
        return sum > 0 && kilobytesMappedWithHugePages(path) > 0
    }
}
