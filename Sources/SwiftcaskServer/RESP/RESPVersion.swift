/// The reply protocol a client negotiated with HELLO.
public enum RESPVersion: Int, Sendable {
    case resp2 = 2
    case resp3 = 3
}
