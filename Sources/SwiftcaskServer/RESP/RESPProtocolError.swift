/// Malformed input. The texts are Redis 7's; the connection is closed after the reply.
public struct RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    /// False for limits Redis enforces by closing silently (the query buffer limit).
    public let repliesBeforeClosing: Bool

    init(_ message: String, repliesBeforeClosing: Bool = true) {
        self.message = message
        self.repliesBeforeClosing = repliesBeforeClosing
    }

    public var description: String { "Protocol error: \(message)" }

    public static let invalidMultibulkLength = RESPProtocolError("invalid multibulk length")
    public static let invalidBulkLength = RESPProtocolError("invalid bulk length")
    public static let tooBigMultibulkCount = RESPProtocolError("too big mbulk count string")
    public static let tooBigBulkCount = RESPProtocolError("too big bulk count string")
    public static let unauthenticatedMultibulkLength = RESPProtocolError("unauthenticated multibulk length")
    public static let unauthenticatedBulkLength = RESPProtocolError("unauthenticated bulk length")
    public static let tooBigInlineRequest = RESPProtocolError("too big inline request")
    public static let unbalancedQuotes = RESPProtocolError("unbalanced quotes in request")
    public static let queryBufferLimit = RESPProtocolError("query buffer limit reached", repliesBeforeClosing: false)

    static func expectedDollar(got byte: UInt8) -> RESPProtocolError {
        RESPProtocolError("expected '$', got '\(Character(Unicode.Scalar(byte)))'")
    }
}
