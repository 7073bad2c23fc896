import NIOCore
import Swiftcask

/// Keyspace commands: DEL, EXISTS, RENAME, COPY, MOVE, SWAPDB, KEYS, SCAN, FLUSH*, OBJECT.
extension ClientSession {
    /// Keys fetched per engine scan call by KEYS and SCAN.
    static let scanStepKeys = 1024
    /// SCAN's default COUNT, as in Redis.
    static let scanDefaultCount = 10

    func delete() {
        var removed = 0
        for key in argv.dropFirst() where exists(key) {
            stageDelete(key)
            removed += 1
        }
        if overlay != nil {
            output.writeInteger(removed)
            return
        }
        guard !batch.isEmpty else {
            output.writeInteger(0)
            return
        }
        defer { batch.removeAll() }
        do {
            let result = try store.writeDeferred(batch)
            pendingTicket = result.ticket
            // The engine counts repeated keys once, like Redis.
            output.writeInteger(result.deletedCount)
        } catch {
            replyStoreFailure(error)
        }
    }

    /// EXISTS and TOUCH: repeated keys count each time, as in Redis.
    func existsCount() {
        var count = 0
        for key in argv.dropFirst() where exists(key) { count += 1 }
        output.writeInteger(count)
    }

    func rename(onlyIfAbsent: Bool) throws(StoreError) {
        let source = argv.slice(at: 1), destination = argv.slice(at: 2)
        guard let current = try lookup(source) else {
            replyError(ErrorReply.noSuchKey)
            return
        }
        if source == destination {
            output.writeOK(onlyIfAbsent: onlyIfAbsent, value: 0)
            return
        }
        if onlyIfAbsent && exists(destination) {
            output.writeInteger(0)
            return
        }
        guard checkSizes(key: destination, valueLength: current.value.count) else { return }
        stagePut(destination, current.value, expiresAtMillis: current.expiresAtMillis)
        stageDelete(source)
        guard commit() else { return }
        output.writeOK(onlyIfAbsent: onlyIfAbsent, value: 1)
    }

    /// COPY source destination [DB db] [REPLACE]
    func copy() throws(StoreError) {
        let source = argv.slice(at: 1), destination = argv.slice(at: 2)
        var target = keyspace
        var targetDatabase = database
        var replace = false
        var index = 3
        while index < argv.count {
            if argv.slice(at: index).equalsIgnoringCase("REPLACE") {
                replace = true
            } else if argv.slice(at: index).equalsIgnoringCase("DB") && index + 1 < argv.count {
                guard let number = databaseArgument(index + 1) else { return }
                targetDatabase = number
                target = state.physicalKeyspace(ofDatabase: number)
                index += 1
            } else {
                replyError(ErrorReply.syntax)
                return
            }
            index += 1
        }
        if targetDatabase == database && source == destination {
            replyError(ErrorReply.sameObject)
            return
        }
        guard let current = try lookup(source) else {
            output.writeInteger(0)
            return
        }
        if !replace && exists(destination, in: target) {
            output.writeInteger(0)
            return
        }
        guard checkSizes(key: destination, valueLength: current.value.count) else { return }
        stagePut(destination, current.value, expiresAtMillis: current.expiresAtMillis, in: target)
        if commit() { output.writeInteger(1) }
    }

    func move() throws(StoreError) {
        let key = argv.slice(at: 1)
        guard let number = databaseArgument(2) else { return }
        if number == database {
            replyError(ErrorReply.sameObject)
            return
        }
        let target = state.physicalKeyspace(ofDatabase: number)
        guard let current = try lookup(key), !exists(key, in: target) else {
            output.writeInteger(0)
            return
        }
        stagePut(key, current.value, expiresAtMillis: current.expiresAtMillis, in: target)
        stageDelete(key)
        if commit() { output.writeInteger(1) }
    }

    /// A database number as Redis reads one (a C int, then the range check); nil after replying.
    func databaseArgument(_ index: Int) -> Int? {
        guard let number = int32Argument(index) else { return nil }
        guard number >= 0 && number < state.startup.databases else {
            replyError(ErrorReply.databaseOutOfRange)
            return nil
        }
        return number
    }

    /// An argument Redis reads with getIntFromObjectOrReply: nil after replying `message`, or else
    /// Redis's own texts, when it is not an integer or does not fit 32 bits.
    func int32Argument(_ index: Int, orReply message: String? = nil) -> Int? {
        guard let number = argv.slice(at: index).integerValue else {
            replyError(message ?? ErrorReply.notInteger)
            return nil
        }
        guard Int(Int32.min)...Int(Int32.max) ~= number else {
            replyError(message ?? ErrorReply.notInt32)
            return nil
        }
        return number
    }

    /// SWAPDB swaps the logical→physical mapping and persists it in the metadata keyspace.
    func swapDatabases() {
        guard let first = int32Argument(1, orReply: "ERR invalid first DB index"),
              let second = int32Argument(2, orReply: "ERR invalid second DB index") else { return }
        let databases = state.startup.databases
        guard (0..<databases).contains(first) && (0..<databases).contains(second) else {
            replyError(ErrorReply.databaseOutOfRange)
            return
        }
        var map = state.databaseMap.withLock { $0 }
        map.swapAt(first, second)
        if overlay != nil {
            // Inside EXEC the mapping record joins the transaction's batch; EXEC restores the
            // in-memory mapping if the engine refuses that batch.
            overlay!.batch.put(ServerState.databaseMapKey, map, in: ServerState.metadataKeyspace)
        } else {
            var record = WriteBatch()
            record.put(ServerState.databaseMapKey, map, in: ServerState.metadataKeyspace)
            do {
                pendingTicket = try store.writeDeferred(record).ticket
            } catch {
                replyStoreFailure(error)
                return
            }
        }
        state.setDatabaseMap(map)
        if state.watchedKeyCount.load(ordering: .relaxed) > 0 {
            state.touchAllWatched(keyspace: Keyspace(rawValue: map[first]))
            state.touchAllWatched(keyspace: Keyspace(rawValue: map[second]))
        }
        refreshKeyspace()
        output.writeOK()
    }

    func keys() {
        let pattern = GlobPattern(argv.slice(at: 1).readableBytesView)
        var matched: [[UInt8]] = []
        forEachEngineKey(in: keyspace) { key in
            if (pattern.matchesEverything || pattern.matches(key)) && isVisible(engineKey: key, in: keyspace) { matched.append(key) }
            return true
        }
        for key in stagedAdditions(in: keyspace) where pattern.matchesEverything || pattern.matches(key) { matched.append(key) }
        output.writeArrayHeader(matched.count)
        for key in matched { output.writeBulk(key) }
    }

    /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]
    func scan() {
        guard let cursor = Self.scanCursor(argv.slice(at: 1)) else {
            replyError(ErrorReply.invalidCursor)
            return
        }
        var pattern: GlobPattern?
        var count = Self.scanDefaultCount
        var typeMatches = true
        var index = 2
        while index < argv.count {
            guard index + 1 < argv.count else {
                replyError(ErrorReply.syntax)
                return
            }
            let option = argv.slice(at: index), value = argv.slice(at: index + 1)
            if option.equalsIgnoringCase("MATCH") {
                pattern = GlobPattern(value.readableBytesView)
            } else if option.equalsIgnoringCase("COUNT") {
                guard let number = value.integerValue else {
                    replyError(ErrorReply.notInteger)
                    return
                }
                guard number >= 1 else {
                    replyError(ErrorReply.syntax)
                    return
                }
                count = number
            } else if option.equalsIgnoringCase("TYPE") {
                typeMatches = value.equalsIgnoringCase("string")
            } else {
                replyError(ErrorReply.syntax)
                return
            }
            index += 2
        }
        let step = store.scan(in: keyspace, cursor: cursor, count: min(count, Self.scanCountMax))
        // Inside EXEC, keys the transaction created come with the first step.
        let candidates = overlay == nil ? step.keys
            : step.keys.filter { isVisible(engineKey: $0, in: keyspace) } + (cursor == 0 ? stagedAdditions(in: keyspace) : [])
        let keys = candidates.filter { key in typeMatches && (pattern.map { $0.matchesEverything || $0.matches(key) } ?? true) }
        output.writeArrayHeader(2)
        output.writeBulkString(String(step.nextCursor))
        output.writeArrayHeader(keys.count)
        for key in keys { output.writeBulk(key) }
    }

    /// Redis's cursor parsing, C's `strtoul` on the argument up to its first NUL: an optional
    /// sign and decimal digits, nothing around them; a minus wraps as in C, and an empty
    /// argument is cursor 0.
    static func scanCursor(_ argument: ByteBuffer) -> UInt64? {
        let text = argument.readableBytesView.prefix { $0 != 0 }
        guard let first = text.first else { return 0 }
        let hasSign = first == UInt8(ascii: "-") || first == UInt8(ascii: "+")
        let digits = hasSign ? text.dropFirst() : text[...]
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return first == UInt8(ascii: "-") ? 0 &- value : value
    }

    /// Keys returned by one SCAN call at most, whatever COUNT says.
    static let scanCountMax = 100_000
    /// Scan steps a full iteration may take beyond one per `scanStepKeys` keys.
    static let scanExtraStepsMax = 1_000

    func randomKey() {
        if let key = overlay == nil ? store.randomKey(in: keyspace) : randomVisibleKey(in: keyspace) {
            output.writeBulk(key)
        } else {
            output.writeNull(protocolVersion)
        }
    }

    /// FLUSHDB / FLUSHALL [ASYNC | SYNC]
    func flush(all: Bool) {
        if argv.count > 2 || (argv.count == 2 && !argv.slice(at: 1).equalsIgnoringCase("ASYNC") && !argv.slice(at: 1).equalsIgnoringCase("SYNC")) {
            replyError(ErrorReply.syntax)
            return
        }
        let targets = all ? state.databaseMap.withLock { $0.map { Keyspace(rawValue: $0) } } : [keyspace]
        for target in targets {
            if overlay != nil {
                // Each key it deletes flags its own watchers.
                stageFlush(of: target)
            } else {
                if state.watchedKeyCount.load(ordering: .relaxed) > 0 { touchWatchedKeysPresent(in: target) }
                do {
                    // Not `removeAll`: with appendfsync always it would wait for the fsync on the event loop.
                    pendingTicket = try store.removeAllDeferred(in: target)
                } catch {
                    replyStoreFailure(error)
                    return
                }
            }
        }
        output.writeOK()
    }

    /// Before a flush: as in Redis, it fails only the transactions watching a key that exists,
    /// not those watching keys that are absent anyway.
    private func touchWatchedKeysPresent(in keyspace: Keyspace) {
        let watched = state.watches.withLock { $0.keys(inKeyspace: keyspace.rawValue) }
        for key in watched {
            let buffer = ByteBuffer(bytes: key)
            if exists(buffer, in: keyspace) { state.touchWatched(keyspace: keyspace, key: buffer) }
        }
    }

    /// OBJECT ENCODING | FREQ | IDLETIME | REFCOUNT | HELP
    func object() throws(StoreError) {
        let sub = argv.slice(at: 1)
        guard let spec = CommandTable.spec(named: "object|" + sub.text.lowercased()) else {
            replyError(ErrorReply.unknownSubcommand(sub.text, "object"))
            return
        }
        guard spec.acceptsArgumentCount(argv.count) else {
            replyError(ErrorReply.wrongArity(spec.name))
            return
        }
        if sub.equalsIgnoringCase("HELP") {
            let lines = [
                "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
                "    associated with a <key>.",
                "FREQ <key>", "    Return the access frequency index of the <key>. The returned integer is",
                "    proportional to the logarithm of the recent access frequency of the key.",
                "IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
                "    seconds elapsed since the last access to the key.",
                "REFCOUNT <key>", "    Return the number of references of the value associated with the specified",
                "    <key>.",
                "HELP", "    Prints this help.",
            ]
            output.writeArrayHeader(lines.count)
            for line in lines { output.writeSimpleString(line) }
            return
        }
        // As in Redis, a missing key is nil for every subcommand, before any other check.
        guard let value = try lookup(argv.slice(at: 2))?.value else {
            output.writeNull(protocolVersion)
            return
        }
        if sub.equalsIgnoringCase("ENCODING") {
            // Redis's string encodings: integers that fit a long, short strings, the rest.
            let encoding = value.count <= 20 && RESPInteger.parse(value) != nil ? "int" : value.count <= 44 ? "embstr" : "raw"
            output.writeBulkString(encoding)
        } else if sub.equalsIgnoringCase("FREQ") {
            replyError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
        } else if sub.equalsIgnoringCase("REFCOUNT") {
            // Redis shares one object for each small integer and reports it as never freed.
            let isShared = RESPInteger.parse(value).map { (0..<Self.sharedIntegersCount).contains($0) } ?? false
            output.writeInteger(isShared ? Self.sharedObjectRefcount : 1)
        } else {
            output.writeInteger(0)
        }
    }

    /// Redis's OBJ_SHARED_INTEGERS (0...9999) and OBJ_SHARED_REFCOUNT.
    static let sharedIntegersCount = 10_000
    static let sharedObjectRefcount = Int(Int32.max)
}

extension ByteBuffer {
    /// RENAME replies +OK, RENAMENX replies an integer.
    fileprivate mutating func writeOK(onlyIfAbsent: Bool, value: Int) {
        if onlyIfAbsent { writeInteger(value) } else { writeOK() }
    }
}
