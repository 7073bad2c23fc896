/// What `Store.update` writes after its body looked at the key's current value.
public enum UpdateDecision: Sendable, Equatable {
    /// Write nothing.
    case keep
    /// Replace the value with the first `length` bytes the body wrote into its replacement
    /// space, with this expiry (nil: never expires).
    case put(length: Int, expiresAtMillis: Int64?)
    /// Delete the key (a tombstone is written only when the key exists).
    case delete
}

/// A live key as `Store.update` shows it to its body: the value is valid only during the call.
public struct BorrowedEntry {
    public let value: UnsafeRawBufferPointer
    /// Unix milliseconds at which the key expires, or nil.
    public let expiresAtMillis: Int64?
}
