/// The Redis command flags dispatch acts on (the full list is kept as text for COMMAND INFO).
struct CommandFlags: OptionSet, Sendable {
    let rawValue: UInt16

    /// Allowed before AUTH (AUTH, HELLO, QUIT, …).
    static let noAuth = CommandFlags(rawValue: 1 << 0)

    init(rawValue: UInt16) { self.rawValue = rawValue }

    init(names: [String]) {
        self = names.contains("no_auth") ? .noAuth : []
    }
}
