import NIOCore

/// COMMAND, COMMAND COUNT / INFO / DOCS / LIST / GETKEYS, from `CommandTable`.
extension ClientSession {
    func command() {
        guard argv.count >= 2 else {
            writeCommandInfos(CommandTable.topLevel)
            return
        }
        let sub = argv.slice(at: 1)
        if sub.equalsIgnoringCase("COUNT") && argv.count == 2 {
            output.writeInteger(CommandTable.topLevel.count)
        } else if sub.equalsIgnoringCase("INFO") {
            if argv.count == 2 {
                writeCommandInfos(CommandTable.topLevel)
                return
            }
            let names = argv.dropFirst(2).map { $0.text.lowercased() }
            output.writeArrayHeader(names.count)
            for name in names {
                if let spec = CommandTable.spec(named: name) {
                    writeCommandInfo(spec)
                } else {
                    // Redis answers an unknown name with a null bulk string, not a null array.
                    output.writeNull(protocolVersion)
                }
            }
        } else if sub.equalsIgnoringCase("DOCS") {
            let specs = argv.count == 2 ? CommandTable.topLevel : argv.dropFirst(2).compactMap { CommandTable.spec(named: $0.text) }
            output.writeMapHeader(specs.count, protocolVersion)
            for spec in specs {
                output.writeBulkString(spec.name)
                writeCommandDoc(spec)
            }
        } else if sub.equalsIgnoringCase("LIST") {
            commandList()
        } else if sub.equalsIgnoringCase("GETKEYS") && argv.count >= 4 {
            commandGetKeys()
        } else if sub.equalsIgnoringCase("HELP") && argv.count == 2 {
            let lines = ["COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                         "(no subcommand)", "    Return details about all Redis commands.", "COUNT",
                         "    Return the total number of commands in this Redis server.", "LIST",
                         "    Return a list of all commands in this Redis server.", "INFO [<command-name> ...]",
                         "    Return details about multiple Redis commands.",
                         "    If no command names are given, documentation details for all", "    commands are returned.",
                         "DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
                         "    If no command names are given, documentation details for all", "    commands are returned.",
                         "GETKEYS <full-command>",
                         "    Return the keys from a full Redis command.", "HELP", "    Prints this help."]
            output.writeArrayHeader(lines.count)
            for line in lines { output.writeSimpleString(line) }
        } else {
            replySubcommandRejected(container: "command")
        }
    }

    private func writeCommandInfos(_ specs: [CommandSpec]) {
        output.writeArrayHeader(specs.count)
        for spec in specs { writeCommandInfo(spec) }
    }

    /// Redis 7's ten-element entry: name, arity, flags, first/last/step, categories, tips,
    /// key specs, subcommands.
    private func writeCommandInfo(_ spec: CommandSpec) {
        output.writeArrayHeader(10)
        output.writeBulkString(spec.name)
        output.writeInteger(spec.arity)
        output.writeSetHeader(spec.flagNames.count, protocolVersion)
        for flag in spec.flagNames { output.writeSimpleString(flag) }
        output.writeInteger(spec.firstKey)
        output.writeInteger(spec.lastKey)
        output.writeInteger(spec.keyStep)
        output.writeSetHeader(spec.categories.count, protocolVersion)
        for category in spec.categories { output.writeSimpleString(category) }
        output.writeArrayHeader(0)
        output.writeArrayHeader(0)
        let subcommands = spec.isSubcommand ? [] : CommandTable.subcommands(of: spec.name)
        output.writeArrayHeader(subcommands.count)
        for subcommand in subcommands { writeCommandInfo(subcommand) }
    }

    private func writeCommandDoc(_ spec: CommandSpec) {
        let subcommands = spec.isSubcommand ? [] : CommandTable.subcommands(of: spec.name)
        output.writeMapHeader(subcommands.isEmpty ? 3 : 4, protocolVersion)
        output.writeBulkString("summary")
        output.writeBulkString(spec.summary)
        output.writeBulkString("since")
        output.writeBulkString(spec.since)
        output.writeBulkString("group")
        output.writeBulkString(spec.group)
        if !subcommands.isEmpty {
            output.writeBulkString("subcommands")
            output.writeMapHeader(subcommands.count, protocolVersion)
            for subcommand in subcommands {
                output.writeBulkString(subcommand.name)
                writeCommandDoc(subcommand)
            }
        }
    }

    /// COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern]
    private func commandList() {
        var specs = CommandTable.topLevel
        if argv.count == 5 && argv.slice(at: 2).equalsIgnoringCase("FILTERBY") {
            let value = argv.slice(at: 4).text.lowercased()
            if argv.slice(at: 3).equalsIgnoringCase("ACLCAT") {
                specs = specs.filter { $0.categories.contains("@" + value) }
            } else if argv.slice(at: 3).equalsIgnoringCase("PATTERN") {
                let pattern = GlobPattern(value.utf8)
                specs = CommandTable.specs.filter { pattern.matches(Array($0.name.utf8)) }
            } else if argv.slice(at: 3).equalsIgnoringCase("MODULE") {
                specs = []
            } else {
                replyError(ErrorReply.syntax)
                return
            }
        } else if argv.count != 2 {
            replyError(ErrorReply.syntax)
            return
        }
        output.writeArrayHeader(specs.count)
        for spec in specs { output.writeBulkString(spec.name) }
    }

    /// COMMAND GETKEYS, from the first/last/step key positions.
    private func commandGetKeys() {
        let arguments = Array(argv.dropFirst(2))
        guard let spec = CommandTable.spec(named: arguments[0].text), !spec.isSubcommand else {
            replyError("ERR Invalid command specified")
            return
        }
        guard spec.acceptsArgumentCount(arguments.count) else {
            replyError("ERR Invalid number of arguments specified for command")
            return
        }
        guard spec.firstKey > 0 else {
            replyError("ERR The command has no key arguments")
            return
        }
        let last = spec.lastKey < 0 ? arguments.count + spec.lastKey : spec.lastKey
        let keys = stride(from: spec.firstKey, through: min(last, arguments.count - 1), by: max(1, spec.keyStep)).map { arguments[$0] }
        output.writeArrayHeader(keys.count)
        for key in keys { output.writeBulk(key) }
    }
}
