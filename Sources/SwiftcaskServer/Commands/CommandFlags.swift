/// The Redis command flags dispatch acts on (the full list is kept as text for COMMAND INFO).
struct CommandFlags: OptionSet, Sendable {
    let rawValue: UInt16

    /// Allowed before AUTH (AUTH, HELLO, QUIT, …).
    static let noAuth = CommandFlags(rawValue: 1 << 0)
    /// Refused inside MULTI (SAVE, SHUTDOWN).
    static let noMulti = CommandFlags(rawValue: 1 << 1)

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init(names: [String]) {
        self = []
        if names.contains("no_auth") { insert(.noAuth) }
        if names.contains("no_multi") { insert(.noMulti) }
    }
}
