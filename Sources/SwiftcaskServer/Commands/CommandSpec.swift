/// One command's Redis 7 metadata: what COMMAND INFO/DOCS report and what dispatch checks.
struct CommandSpec: Sendable {
    /// Lower-case, `container|sub` for subcommands.
    let name: String
    /// Positive: exact argument count including the name; negative: at least `-arity`.
    let arity: Int
    let flagNames: [String]
    let flags: CommandFlags
    let firstKey: Int
    let lastKey: Int
    let keyStep: Int
    let categories: [String]
    let group: String
    let since: String
    let summary: String

    init(_ name: String, arity: Int, flags: [String], keys: (Int, Int, Int), categories: [String], group: String, since: String, summary: String) {
        self.name = name
        self.arity = arity
        self.flagNames = flags
        self.flags = CommandFlags(names: flags)
        (self.firstKey, self.lastKey, self.keyStep) = keys
        self.categories = categories
        self.group = group
        self.since = since
        self.summary = summary
    }

    var isSubcommand: Bool { name.contains("|") }

    func acceptsArgumentCount(_ count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }
}
