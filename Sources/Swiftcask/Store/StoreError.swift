/// Every error the engine reports. `code` is for programs, `description` for people: it names
/// the limit, file, offset or cause and, where there is one, what to do.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case keyTooLarge
        case valueTooLarge
        case batchTooLarge
        /// The disk is full: the write was refused before anything became visible; retry later.
        case diskFull
        /// An earlier write or fsync failed; the store refuses writes until reopened (sticky).
        case writesDisabled
        case directoryLocked
        case directoryNotWritable
        case unsupportedFormatVersion
        /// A record or file failed its checks (CRC, length, header) outside a torn tail.
        case corruptData
        case ioFailure
        case ioUringUnavailable
        case invalidOptions
        case closed
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    static func keyTooLarge(_ length: Int) -> StoreError {
        StoreError(.keyTooLarge, "key too large: \(length) bytes, the limit is \(Limits.keyBytesMax) bytes")
    }

    static func valueTooLarge(_ length: Int) -> StoreError {
        StoreError(.valueTooLarge, "value too large: \(length) bytes, the limit is \(Limits.valueBytesMax) bytes (512 MiB)")
    }

    static let closed = StoreError(.closed, "the store is closed")

    /// Maps a failed system call during a write to the error writers see.
    static func writeFailure(_ failure: IOFailure) -> StoreError {
        if failure.errno == .noSpace {
            return StoreError(.diskFull, "disk full: \(failure); the write was not applied")
        }
        return StoreError(.writesDisabled, "writes disabled after a failed write or fsync (\(failure)); data acknowledged before it is safe; reopen the store after fixing the disk")
    }
}
