import Foundation

/// Buffered writes to standard output or a new file: few system calls however small the
/// pieces. A write error (a full disk, a closed pipe) stops the command with the file named.
final class FileOutput {
    /// Bytes gathered before a write(2).
    static let bufferBytes = 64 * 1024

    private let descriptor: Int32
    private let name: String
    private let isFile: Bool
    private var buffer: [UInt8] = []

    private init(descriptor: Int32, name: String, isFile: Bool) {
        self.descriptor = descriptor
        self.name = name
        self.isFile = isFile
        buffer.reserveCapacity(Self.bufferBytes)
    }

    static func standardOutput() -> FileOutput {
        FileOutput(descriptor: STDOUT_FILENO, name: "standard output", isFile: false)
    }

    /// Creates (or truncates) `path`.
    static func create(_ path: String) throws -> FileOutput {
        let descriptor = Foundation.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CLIFailure("cannot create \(path): \(String(cString: strerror(errno)))") }
        return FileOutput(descriptor: descriptor, name: path, isFile: true)
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferBytes { try flush() }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= Self.bufferBytes { try flush() }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func flush() throws {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw CLIFailure("cannot write to \(name): \(String(cString: strerror(errno)))")
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes; a file is also fsynced (so "done" means on disk) and closed.
    func close() throws {
        try flush()
        guard isFile else { return }
        defer { Foundation.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw CLIFailure("cannot fsync \(name): \(String(cString: strerror(errno)))") }
    }
}
