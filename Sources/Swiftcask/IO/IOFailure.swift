/// A system call that failed, with the file it concerned: the operating-error side of the IO layer.
struct IOFailure: Error, Sendable, CustomStringConvertible {
    var operation: String
    var path: String
    var errno: Errno

    var description: String { "\(operation) \(path): \(errno)" }
}
