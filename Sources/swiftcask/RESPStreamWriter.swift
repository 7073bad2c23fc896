/// Writes commands as RESP arrays of bulk strings: the request format of every Redis client,
/// so `redis-cli --pipe` and `swiftcask load` both accept the stream.
struct RESPStreamWriter {
    let output: FileOutput

    /// `*count\r\n`: the next `count` arguments form one command.
    func beginCommand(arguments count: Int) throws {
        try output.write("*\(count)\r\n")
    }

    func argument(_ bytes: UnsafeRawBufferPointer) throws {
        try output.write("$\(bytes.count)\r\n")
        try output.write(bytes)
        try output.write("\r\n")
    }

    func argument(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try argument($0) }
    }

    func argument(_ text: String) throws {
        try argument(Array(text.utf8))
    }

    func command(_ arguments: String...) throws {
        try beginCommand(arguments: arguments.count)
        for argument in arguments { try self.argument(argument) }
    }
}
