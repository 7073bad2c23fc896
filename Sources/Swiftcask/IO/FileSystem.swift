import CShims
import Glibc

/// Directory-level calls: listing, creating, renaming, removing and fsyncing directories;
/// reading one-line settings of the kernel (`/proc/sys`, `/sys`), for the server too.
package enum FileSystem {
    /// The first line-sized piece (at most 64 bytes) of a small file such as
    /// `/proc/sys/kernel/io_uring_disabled`, without surrounding whitespace; nil when it
    /// cannot be read.
    package static func readSmallFile(_ path: String) -> String? {
        guard let file = try? SystemFile.open(path, writable: false) else { return nil }
        defer { file.close() }
        var bytes = [UInt8](repeating: 0, count: 64)
        let read = bytes.withUnsafeMutableBytes { buffer in
            Result { () throws(IOFailure) in try file.read(into: buffer.baseAddress!, count: buffer.count, at: 0) }
        }
        guard case .success(let count) = read else { return nil }
        var text = Substring(decoding: bytes[..<count], as: UTF8.self)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        return String(text)
    }

    static func fileExists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Creates `path` (and missing parents) with mode 0755.
    static func createDirectory(_ path: String) throws(IOFailure) {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += component
            if mkdir(prefix, 0o755) != 0, Errno.current != Errno(rawValue: EEXIST) {
                throw IOFailure(operation: "mkdir", path: prefix, errno: .current)
            }
            prefix += "/"
        }
    }

    static func isWritableDirectory(_ path: String) -> Bool {
        access(path, W_OK | X_OK) == 0
    }

    /// The names in `path`, without "." and "..".
    static func contentsOfDirectory(_ path: String) throws(IOFailure) -> [String] {
        guard let directory = opendir(path) else {
            throw IOFailure(operation: "opendir", path: path, errno: .current)
        }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    static func removeFile(_ path: String) throws(IOFailure) {
        if unlink(path) != 0, Errno.current != .noEntry {
            throw IOFailure(operation: "unlink", path: path, errno: .current)
        }
    }

    static func rename(_ source: String, to destination: String) throws(IOFailure) {
        if Glibc.rename(source, destination) != 0 {
            throw IOFailure(operation: "rename", path: "\(source) -> \(destination)", errno: .current)
        }
    }

    static func link(_ source: String, to destination: String) throws(IOFailure) {
        if Glibc.link(source, destination) != 0 {
            throw IOFailure(operation: "link", path: "\(source) -> \(destination)", errno: .current)
        }
    }

    /// fsyncs a directory so that files created, renamed or removed in it survive a power cut.
    static func synchronizeDirectory(_ path: String) throws(IOFailure) {
        let directory = try SystemFile.openDirectory(path)
        defer { directory.close() }
        try directory.synchronize()
    }
}
