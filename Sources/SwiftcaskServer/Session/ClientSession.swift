import NIOCore
import Swiftcask

/// One client's state and command execution. Confined to the connection's event loop;
/// replies are appended to `output`, which the connection handler flushes once per read.
final class ClientSession {
    let state: ServerState
    let store: Store
    let handle: ClientHandle
    let durability: Durability

    /// Replies of the current read batch.
    var output: ByteBuffer
    /// The current command's arguments.
    var argv = CommandArguments(reservingCapacity: argumentsReservedCount)
    var protocolVersion = RESPVersion.resp2 { didSet { detailsChanged = true } }
    var isAuthenticated: Bool
    /// Logical database (SELECT) and the physical keyspace it maps to right now.
    var database = 0 { didSet { detailsChanged = true } }
    var keyspace = Keyspace.default
    private var databaseMapVersion = -1

    var transaction: Transaction? { didSet { detailsChanged = true } }
    var watchedKeys: [WatchRegistry.Key] = [] { didSet { detailsChanged = true } }
    /// Reused for every write; emptied after each commit.
    var batch = WriteBatch()
    /// Set while EXEC runs: staged writes, visible to the transaction's own reads.
    var overlay: Overlay?
    /// The newest write of the current read batch, for `--appendfsync always`.
    var pendingTicket: CommitTicket?
    /// Set by SAVE: the batch's replies leave after an fsync of everything written.
    var pendingSave = false

    var clientName = "" { didSet { detailsChanged = true } }
    var libraryName = "" { didSet { detailsChanged = true } }
    var libraryVersion = "" { didSet { detailsChanged = true } }
    /// Set by QUIT, protocol errors and CLIENT KILL of oneself: close after the flush.
    var closeAfterFlush = false
    /// Set when a field of `ClientHandle.Details` changed since `finishBatch` last published them.
    private var detailsChanged = true

    var counters = ServerCounters()
    var commandCounters: CommandStatistics
    /// `CommandRegistry.specs` index of the last command (a subcommand's own row), for CLIENT
    /// LIST's `cmd`; nil after an unknown command (`cmd=NULL`).
    private var lastCommandIndex: Int?
    /// Error replies sent on this connection: tells whether a command failed. Unlike
    /// `counters`, not reset when CLIENT LIST or INFO publish the counters mid-batch; EXEC
    /// sets it back after its queued commands.
    var errorRepliesSent = 0
    /// Times commands for commandstats and SLOWLOG.
    let commandClock: CommandClock
    /// `commandClock` at the end of the previous command, or at the start of the read.
    var commandClockTicks: UInt64 = 0

    struct Transaction {
        var queued: [RESPCommand] = []
        var hasErrors = false
    }

    init(state: ServerState, handle: ClientHandle, allocator: ByteBufferAllocator) {
        self.state = state
        self.store = state.store
        self.handle = handle
        self.durability = state.startup.appendfsync
        self.output = allocator.buffer(capacity: Self.outputInitialBytes)
        self.isAuthenticated = !state.configuration.withLock { $0.requiresPassword }
        self.commandClock = state.commandClock
        self.commandCounters = CommandStatistics(commandCount: state.registry.specs.count)
        refreshKeyspace()
    }

    static let outputInitialBytes = 4 * 1024
    static let argumentsReservedCount = 16

    var now: Int64 { SystemClock.wallMillis() }

    // MARK: execution

    /// Runs one request: lookup, arity, auth and MULTI checks, then the command itself.
    /// Takes `command`'s frame over, leaving the previous command's in its place for the caller
    /// to drop: a swap, where a copy would cost a retain and a release per command.
    func execute(_ command: inout RESPCommand) {
        argv.load(&command)
        guard let entry = argv.withBytes(at: 0, state.registry.entry(named:)) else {
            lastCommandIndex = nil
            rejectUnknown()
            return
        }
        if state.serializesCommands {
            state.executionLock.withLock { _ in run(entry) }
        } else {
            run(entry)
        }
    }

    private func run(_ entry: CommandRegistry.Entry) {
        let index = entry.index
        // Redis 7 counts a container's calls under their subcommand (`cmdstat_config|get`) and
        // checks the subcommand's own arity before it runs; an unknown subcommand stays under
        // the container.
        let statisticsIndex = entry.hasSubcommands && argv.count > 1
            ? argv.withBytes(at: 1) { state.registry.subcommandIndex(of: entry, named: $0) } ?? index
            : index
        // Set before any check and before the command runs, as Redis does: CLIENT LIST shows
        // `cmd=client|list`, and a rejected command its own name.
        lastCommandIndex = statisticsIndex
        guard entry.acceptsArgumentCount(argv.count) else {
            if entry.id == .exec {
                // As in Redis, a malformed EXEC discards the transaction and the watches, in MULTI or not.
                transaction = nil
                unwatchAll()
                reject(index, ErrorReply.execAbort(because: ErrorReply.wrongArityReason(state.registry.name(of: entry))))
            } else {
                reject(index, ErrorReply.wrongArity(state.registry.name(of: entry)))
            }
            return
        }
        if statisticsIndex != index, case let subcommand = state.registry.specs[statisticsIndex], !subcommand.acceptsArgumentCount(argv.count) {
            reject(statisticsIndex, ErrorReply.wrongArity(subcommand.name))
            return
        }
        if !isAuthenticated && !entry.flags.contains(.noAuth) {
            reject(statisticsIndex, ErrorReply.noAuth)
            return
        }
        if transaction != nil && entry.flags.contains(.noMulti) {
            reject(statisticsIndex, ErrorReply.notInMulti)
            return
        }
        if transaction != nil && !Self.runsInsideMulti.contains(entry.id) {
            guard transaction!.queued.count < Self.queuedCommandsMax else {
                reject(statisticsIndex, "ERR too many commands queued in MULTI (the limit is \(Self.queuedCommandsMax))")
                return
            }
            transaction!.queued.append(argv.command)
            output.writeQueued()
            return
        }
        refreshKeyspace()
        let errorsBefore = errorRepliesSent
        dispatchReportingDamage(entry.id)
        // One clock read per command: each duration runs from the previous command's end
        // (or the read's start), so it includes this command's decoding.
        let finished = commandClock.now()
        let micros = commandClock.micros(from: commandClockTicks, to: finished)
        commandClockTicks = finished
        commandCounters.recordCall(at: statisticsIndex, micros: micros, failed: errorRepliesSent != errorsBefore)
        counters.totalCommandsProcessed += 1
        let threshold = state.slowlogThresholdMicros.load(ordering: .relaxed)
        if threshold >= 0 && micros >= threshold { recordSlow(micros: micros) }
    }

    /// Commands that act at once inside MULTI instead of being queued.
    static let runsInsideMulti: Set<CommandID> = [.exec, .discard, .multi, .watch, .quit, .reset]

    /// Errors for commands that never ran (unknown name, arity, auth): Redis counts them as rejected.
    private func reject(_ index: Int, _ text: String) {
        if transaction != nil { transaction!.hasErrors = true }
        commandCounters.recordRejection(at: index)
        replyError(text)
    }

    private func rejectUnknown() {
        if transaction != nil { transaction!.hasErrors = true }
        let name = argv.slice(at: 0).text
        if Self.otherTypeCommands.contains(name.lowercased()) {
            replyError(ErrorReply.unsupportedType(name.lowercased()))
        } else {
            replyError(ErrorReply.unknownCommand(name, arguments: argv.dropFirst().map(\.text)[...]))
        }
    }

    private func recordSlow(micros: Int) {
        let arguments = argv.map(\.bytes)
        let maxLength = state.configuration.withLock { $0.slowlogMaxLen }
        let peer = handle.peer
        let name = clientName
        state.slowLog.withLock {
            $0.record(durationMicros: micros, arguments: arguments, peer: peer, clientName: name,
                      timestampSeconds: Int(SystemClock.wallMillis() / 1000), maxLength: maxLength)
        }
    }

    func refreshKeyspace() {
        let version = state.databaseMapVersion.load(ordering: .acquiring)
        guard version != databaseMapVersion else { return }
        databaseMapVersion = version
        keyspace = state.physicalKeyspace(ofDatabase: database)
    }

    // MARK: batch boundaries

    /// Publishes this batch's counters (a lock each) and the client's last command and time
    /// (relaxed atomic stores); its other details only when a command changed them.
    func finishBatch() {
        // Both merges take the session's counters in place (`inout`): passed by value they
        // were copied, retaining their arrays and dictionary, once per batch.
        if !commandCounters.touched.isEmpty {
            state.commandStatistics.withLock { $0.absorb(&self.commandCounters) }
        }
        state.counters.withLock { $0.absorb(&self.counters) }
        handle.lastCommandIndex.store(lastCommandIndex ?? ClientHandle.noCommand, ordering: .relaxed)
        handle.lastInteractionTicks.store(commandClockTicks, ordering: .relaxed)
        guard detailsChanged else { return }
        detailsChanged = false
        let snapshot = (clientName, database, transaction != nil, watchedKeys.count, protocolVersion.rawValue, libraryName, libraryVersion)
        handle.details.withLock { details in
            (details.name, details.database, details.inTransaction, details.watchedKeys,
             details.protocolVersion, details.libraryName, details.libraryVersion) = snapshot
        }
    }

    /// Removes this client's watches; called on UNWATCH, EXEC, DISCARD, RESET and disconnect.
    func unwatchAll() {
        guard !watchedKeys.isEmpty else { return }
        let keys = watchedKeys
        let id = handle.id
        state.watches.withLock { $0.unwatch(keys, by: id) }
        state.watchedKeyCount.subtract(keys.count, ordering: .relaxed)
        watchedKeys.removeAll()
        handle.isWatchDirty.store(false, ordering: .relaxed)
    }

    // MARK: replies

    func replyError(_ text: String) {
        errorRepliesSent += 1
        counters.recordError(text)
        output.writeError(text)
    }

    /// The engine refused a command's write or read (a full disk, a failed fsync, a damaged
    /// record): its reason, which names the limit or the file.
    func replyStoreFailure(_ error: StoreError) {
        replyError("ERR \(error.message)")
    }

    func replyWrongArity() {
        replyError(ErrorReply.wrongArity(argv.slice(at: 0).text.lowercased()))
    }

    /// A container's subcommand that its command did not serve, told apart as Redis does: a
    /// syntax error of the subcommand when it exists, else an unknown subcommand. (A count the
    /// subcommand's table arity refuses never gets here: `run` rejects it first.)
    func replySubcommandRejected(container: String) {
        let sub = argv.slice(at: 1).text
        if CommandTable.spec(named: container + "|" + sub.lowercased()) != nil {
            replyError(ErrorReply.subcommandSyntax(sub, container))
        } else {
            replyError(ErrorReply.unknownSubcommand(sub, container))
        }
    }

    /// Commands of data types this server does not store.
    static let otherTypeCommands: Set<String> = Set("""
        lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset lrem linsert ltrim lmove blpop brpop brpoplpush rpoplpush lpos lmpop blmpop blmove \
        sadd srem smembers sismember smismember scard spop srandmember smove sinter sinterstore sintercard sunion sunionstore sdiff sdiffstore sscan \
        hset hget hmset hmget hgetall hdel hexists hincrby hincrbyfloat hkeys hvals hlen hsetnx hstrlen hscan hrandfield \
        zadd zrem zrange zrangebyscore zrevrange zrevrangebyscore zrank zrevrank zscore zmscore zcard zcount zincrby zpopmin zpopmax bzpopmin bzpopmax zscan zrangestore zunion zunionstore zinter zinterstore zdiff zdiffstore zlexcount zrangebylex zrevrangebylex zremrangebyrank zremrangebyscore zremrangebylex zrandmember zmpop bzmpop \
        xadd xrange xrevrange xlen xread xreadgroup xgroup xack xdel xtrim xinfo xpending xclaim xautoclaim \
        pfadd pfcount pfmerge geoadd geodist geohash geopos georadius geosearch geosearchstore \
        subscribe unsubscribe psubscribe punsubscribe publish pubsub ssubscribe sunsubscribe spublish
        """.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
}
