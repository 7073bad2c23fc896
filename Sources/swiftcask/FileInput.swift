import Foundation

/// Buffered reads from standard input or a file, by CRLF-terminated line or by length, with
/// the offset of every byte known for error messages.
final class FileInput {
    /// Bytes asked of each read(2).
    static let chunkBytes = 256 * 1024

    let name: String
    /// Size of a regular file (for a progress bar), nil for a pipe or terminal.
    let sizeBytes: Int?
    /// Offset in the stream of the next unconsumed byte.
    private(set) var offset = 0
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var isAtEnd = false

    private init(descriptor: Int32, name: String, ownsDescriptor: Bool) {
        self.descriptor = descriptor
        self.name = name
        self.ownsDescriptor = ownsDescriptor
        var status = stat()
        sizeBytes = fstat(descriptor, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG ? Int(status.st_size) : nil
    }

    deinit {
        if ownsDescriptor { Foundation.close(descriptor) }
    }

    static func standardInput() -> FileInput {
        FileInput(descriptor: STDIN_FILENO, name: "standard input", ownsDescriptor: false)
    }

    static func open(_ path: String) throws -> FileInput {
        let descriptor = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CLIFailure("cannot open \(path): \(String(cString: strerror(errno)))") }
        return FileInput(descriptor: descriptor, name: path, ownsDescriptor: true)
    }

    /// The next line without its CRLF; nil when the stream ends before any byte of it. A line
    /// longer than `bytesMax` or cut off by the end of the stream is an error.
    func readLine(bytesMax: Int) throws -> [UInt8]? {
        // Bytes already searched for the newline, so a refill does not rescan them.
        var scannedCount = 0
        while true {
            if let newline = buffer[(start + scannedCount)...].firstIndex(of: UInt8(ascii: "\n")) {
                guard newline > start && buffer[newline - 1] == UInt8(ascii: "\r") else {
                    throw CLIFailure("\(name): a line ends without \\r\\n at offset \(offset + newline - start)")
                }
                let line = Array(buffer[start..<newline - 1])
                consume(newline + 1 - start)
                return line
            }
            scannedCount = buffer.count - start
            guard buffer.count - start <= bytesMax + 2 else {
                throw CLIFailure("\(name): a line longer than \(bytesMax) bytes at offset \(offset)")
            }
            if try !fill() {
                if buffer.count == start { return nil }
                throw CLIFailure("\(name): the stream ends in the middle of a line at offset \(offset)")
            }
        }
    }

    /// Exactly `count` bytes.
    func read(count: Int) throws -> [UInt8] {
        while buffer.count - start < count {
            if try !fill() { throw CLIFailure("\(name): the stream ends \(count - (buffer.count - start)) bytes early at offset \(offset + buffer.count - start)") }
        }
        let bytes = Array(buffer[start..<start + count])
        consume(count)
        return bytes
    }

    private func consume(_ count: Int) {
        start += count
        offset += count
    }

    /// Appends one read's worth to the buffer (dropping consumed bytes first); false at the end.
    private func fill() throws -> Bool {
        if isAtEnd { return false }
        if start > 0 {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        let before = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: Self.chunkBytes))
        while true {
            let result = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress! + before, Self.chunkBytes) }
            if result < 0 && errno == EINTR { continue }
            guard result >= 0 else {
                buffer.removeSubrange(before...)
                throw CLIFailure("cannot read \(name): \(String(cString: strerror(errno)))")
            }
            buffer.removeSubrange((before + result)...)
            if result == 0 { isAtEnd = true }
            return result > 0
        }
    }
}
