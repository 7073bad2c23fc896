/// Parser bounds, named after Redis's (`networking.c`), units last.
public struct RESPLimits: Sendable, Equatable {
    /// Longest inline command line, and longest `*n` / `$n` header line (Redis PROTO_INLINE_MAX_SIZE).
    public static let inlineBytesMax = 64 * 1024
    /// Most arguments in one multibulk command (Redis caps at INT_MAX; we keep it bounded).
    public static let multibulkCountMax = 1024 * 1024
    /// Before AUTH, Redis accepts at most 10 arguments ...
    public static let unauthenticatedMultibulkCountMax = 10
    /// ... and bulk strings of at most 16 KiB.
    public static let unauthenticatedBulkBytesMax = 16 * 1024

    /// `proto-max-bulk-len`: the largest bulk string accepted (Redis default 512 MiB).
    public var bulkBytesMax: Int
    /// `client-query-buffer-limit`: the largest single command, in bytes (Redis default 1 GiB).
    public var queryBufferBytesMax: Int
    /// False until the client authenticated when a password is required; selects the tight limits.
    public var isAuthenticated: Bool

    public init(bulkBytesMax: Int = 512 * 1024 * 1024, queryBufferBytesMax: Int = 1024 * 1024 * 1024, isAuthenticated: Bool = true) {
        precondition(bulkBytesMax > 0 && queryBufferBytesMax > 0)
        self.bulkBytesMax = bulkBytesMax
        self.queryBufferBytesMax = queryBufferBytesMax
        self.isAuthenticated = isAuthenticated
    }
}
