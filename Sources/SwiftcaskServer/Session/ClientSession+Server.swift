import NIOCore
import Swiftcask

/// Server commands: TIME, CONFIG, SAVE, SHUTDOWN, SLOWLOG, and the admin commands clients
/// send at connect time (FUNCTION, SCRIPT), answered as Redis does when there is nothing to do.
extension ClientSession {
    func time() {
        let micros = SystemClock.wallMicros()
        output.writeArrayHeader(2)
        output.writeBulkString(String(micros / 1_000_000))
        output.writeBulkString(String(micros % 1_000_000))
    }

    func config() {
        let sub = argv.slice(at: 1)
        if sub.equalsIgnoringCase("GET") && argv.count >= 3 {
            configGet()
        } else if sub.equalsIgnoringCase("SET") && argv.count >= 4 {
            configSet()
        } else if sub.equalsIgnoringCase("RESETSTAT") && argv.count == 2 {
            state.resetStatistics()
            counters = ServerCounters()
            output.writeOK()
        } else if sub.equalsIgnoringCase("REWRITE") && argv.count == 2 {
            replyError("ERR The server is running without a config file")
        } else if sub.equalsIgnoringCase("HELP") && argv.count == 2 {
            let lines = ["CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                         "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                         "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
                         "RESETSTAT", "    Reset statistics reported by the INFO command.",
                         "REWRITE", "    Rewrite the configuration file.", "HELP", "    Prints this help."]
            output.writeArrayHeader(lines.count)
            for line in lines { output.writeSimpleString(line) }
        } else {
            replySubcommandRejected(container: "config")
        }
    }

    private func configGet() {
        let configuration = state.configuration.withLock { $0 }
        var pairs: [(String, String)] = []
        var seen: Set<String> = []
        for argument in argv.dropFirst(2) {
            let pattern = GlobPattern(argument.text.lowercased().utf8)
            let candidates = ConfigParameter.all.map { ($0.name, $0.value(in: configuration)) } + ConfigParameter.compatibilityValues
            for (name, value) in candidates where !seen.contains(name) && pattern.matches(Array(name.utf8)) {
                seen.insert(name)
                pairs.append((name, value))
            }
        }
        output.writeMapHeader(pairs.count, protocolVersion)
        for (name, value) in pairs {
            output.writeBulkString(name)
            output.writeBulkString(value)
        }
    }

    /// CONFIG SET name value [name value …]: all or nothing, as in Redis 7.
    private func configSet() {
        guard argv.count % 2 == 0 else {
            replyError(ErrorReply.wrongArity("config|set"))
            return
        }
        var updated = state.configuration.withLock { $0 }
        for pair in stride(from: 2, to: argv.count, by: 2) {
            let name = argv.slice(at: pair).text
            guard let parameter = ConfigParameter.named(name) else {
                if let fixed = ConfigParameter.compatibilityValue(named: name) {
                    // Accepted when it changes nothing; anything else would be a silent no-op
                    // (a maxmemory that never evicts), so it is refused.
                    if argv.slice(at: pair + 1).text.lowercased() == fixed { continue }
                    replyError("ERR CONFIG SET failed (possibly related to argument '\(name.lowercased())') - not supported by swiftcask, which keeps it at '\(fixed)'")
                    return
                }
                replyError("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
                return
            }
            guard parameter.isMutable else {
                replyError("ERR CONFIG SET failed (possibly related to argument '\(parameter.name)') - can't set immutable config")
                return
            }
            do {
                try parameter.apply(argv.slice(at: pair + 1).text, to: &updated)
                try updated.validate()
            } catch {
                replyError("ERR CONFIG SET failed (possibly related to argument '\(parameter.name)') - \(error.description)")
                return
            }
        }
        do {
            try store.setMergeTriggers(updated.mergeTriggers)
        } catch {
            replyError("ERR CONFIG SET failed (possibly related to argument 'auto-aof-rewrite-percentage') - \(error.message)")
            return
        }
        state.configuration.withLock { $0 = updated }
        state.slowlogThresholdMicros.store(updated.slowlogLogSlowerThanMicros, ordering: .relaxed)
        state.slowLog.withLock { $0.trim(to: updated.slowlogMaxLen) }
        state.configurationChanged(updated)
        output.writeOK()
    }

    /// SAVE replies once everything written is fsynced: the connection handler holds the reply
    /// and runs the fsync off the event loop. BGSAVE replies at once and fsyncs in the background.
    func save(background: Bool) {
        guard background else {
            pendingSave = true
            output.writeOK()
            return
        }
        if state.saveInBackground() {
            output.writeSimpleString("Background saving started")
        } else {
            replyError("ERR Background save already in progress")
        }
    }

    /// BGREWRITEAOF starts an engine merge in the background (dropping dead records).
    func rewriteLog() {
        if store.requestMerge() {
            output.writeSimpleString("Background append only file rewriting started")
        } else {
            replyError("ERR Background append only file rewriting already in progress")
        }
    }

    /// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT]: no reply, the connection closes.
    func shutdown() {
        var save = true
        for option in argv.dropFirst() {
            if option.equalsIgnoringCase("NOSAVE") {
                save = false
            } else if option.equalsIgnoringCase("ABORT") {
                replyError("ERR No shutdown in progress.")
                return
            } else if !option.equalsIgnoringCase("SAVE") && !option.equalsIgnoringCase("NOW") && !option.equalsIgnoringCase("FORCE") {
                replyError(ErrorReply.syntax)
                return
            }
        }
        closeAfterFlush = true
        state.requestShutdown(save: save)
    }

    func slowlog() {
        let sub = argv.slice(at: 1)
        if sub.equalsIgnoringCase("GET") && argv.count <= 3 {
            var count = 10
            if argv.count == 3 {
                guard let number = argv.slice(at: 2).integerValue, number >= -1 else {
                    replyError("ERR count should be greater than or equal to -1")
                    return
                }
                count = number == -1 ? Int.max : number
            }
            let entries = state.slowLog.withLock { $0.entries.prefix(count) }
            output.writeArrayHeader(entries.count)
            for entry in entries {
                output.writeArrayHeader(6)
                output.writeInteger(entry.id)
                output.writeInteger(entry.timestampSeconds)
                output.writeInteger(entry.durationMicros)
                output.writeArrayHeader(entry.arguments.count)
                for argument in entry.arguments { output.writeBulk(argument) }
                output.writeBulkString(entry.peer)
                output.writeBulkString(entry.clientName)
            }
        } else if sub.equalsIgnoringCase("LEN") && argv.count == 2 {
            output.writeInteger(state.slowLog.withLock { $0.entries.count })
        } else if sub.equalsIgnoringCase("RESET") && argv.count == 2 {
            state.slowLog.withLock { $0.reset() }
            output.writeOK()
        } else if sub.equalsIgnoringCase("HELP") && argv.count == 2 {
            let lines = ["SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                         "GET [<count>]", "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                         "    Entries are made of:", "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                         "    client name", "LEN", "    Return the length of the slowlog.", "RESET",
                         "    Reset the slowlog.", "HELP", "    Prints this help."]
            output.writeArrayHeader(lines.count)
            for line in lines { output.writeSimpleString(line) }
        } else {
            replySubcommandRejected(container: "slowlog")
        }
    }

    /// FUNCTION FLUSH | LIST | STATS: there are never any functions; arguments are checked as
    /// Redis checks them.
    func function() {
        let sub = argv.slice(at: 1)
        if sub.equalsIgnoringCase("FLUSH") && argv.count <= 3 {
            guard argv.count == 2 || argv.slice(at: 2).equalsIgnoringCase("SYNC") || argv.slice(at: 2).equalsIgnoringCase("ASYNC") else {
                replyError("ERR FUNCTION FLUSH only supports SYNC|ASYNC option")
                return
            }
            output.writeOK()
        } else if sub.equalsIgnoringCase("LIST") {
            functionList()
        } else if sub.equalsIgnoringCase("STATS") && argv.count == 2 {
            output.writeMapHeader(2, protocolVersion)
            output.writeBulkString("running_script")
            output.writeNull(protocolVersion)
            output.writeBulkString("engines")
            output.writeMapHeader(0, protocolVersion)
        } else {
            replySubcommandRejected(container: "function")
        }
    }

    /// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], each option at most once.
    private func functionList() {
        var withCode = false, hasLibraryName = false
        var index = 2
        while index < argv.count {
            if !withCode && argv.slice(at: index).equalsIgnoringCase("WITHCODE") {
                withCode = true
            } else if !hasLibraryName && argv.slice(at: index).equalsIgnoringCase("LIBRARYNAME") {
                guard index + 1 < argv.count else {
                    replyError("ERR library name argument was not given")
                    return
                }
                hasLibraryName = true
                index += 1
            } else {
                replyError(ErrorReply.sanitized("ERR Unknown argument \(argv.slice(at: index).text)"))
                return
            }
            index += 1
        }
        output.writeArrayHeader(0)
    }

    /// SCRIPT FLUSH | EXISTS: there are never any scripts.
    func script() {
        let sub = argv.slice(at: 1)
        if sub.equalsIgnoringCase("FLUSH") {
            guard argv.count == 2 || (argv.count == 3 && (argv.slice(at: 2).equalsIgnoringCase("SYNC") || argv.slice(at: 2).equalsIgnoringCase("ASYNC"))) else {
                replyError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
                return
            }
            output.writeOK()
        } else if sub.equalsIgnoringCase("EXISTS") && argv.count >= 3 {
            output.writeArrayHeader(argv.count - 2)
            for _ in 2..<argv.count { output.writeInteger(0) }
        } else {
            replySubcommandRejected(container: "script")
        }
    }
}
