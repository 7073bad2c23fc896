import CShims
import Glibc

/// Directory-level calls: listing, creating, renaming, removing and fsyncing directories.
enum FileSystem {
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
