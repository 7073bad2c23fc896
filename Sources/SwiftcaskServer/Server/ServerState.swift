import Logging
import NIOCore
import NIOPosix
import Swiftcask
import Synchronization

/// What all connections share: the store, configuration, statistics, client registry,
/// slow log, WATCH registry and the SWAPDB mapping. Hot paths touch it at most once per
/// read batch (merging counters), except writes while some key is watched.
final class ServerState: Sendable {
    let store: Store
    let registry = CommandRegistry()
    let logger: Logger
    /// Startup values that cannot change at runtime (databases, appendfsync, threads, …).
    let startup: ServerConfiguration
    let configuration: Mutex<ServerConfiguration>
    let startedAtMillis = SystemClock.wallMillis()
    let runID: String
    let counters = Mutex(ServerCounters())
    let commandStatistics: Mutex<CommandStatistics>
    /// Chosen and calibrated here, at startup, not by the first client on its event loop.
    let commandClock = CommandClock.shared
    let slowLog = Mutex(SlowLog())
    /// Cached from the configuration so each command reads it without a lock.
    let slowlogThresholdMicros: Atomic<Int>
    let clients = Mutex([ClientID: ClientHandle]())
    let connectedClients = Atomic<Int>(0)
    let nextClientID = Atomic<UInt64>(1)
    let watches = Mutex(WatchRegistry())
    /// Number of WATCHed keys across clients; writes skip the registry when it is zero.
    let watchedKeyCount = Atomic<Int>(0)
    /// Logical database → physical keyspace, persisted for SWAPDB.
    let databaseMap: Mutex<[UInt8]>
    let databaseMapVersion = Atomic<Int>(0)
    /// Taken around every command when more than one event loop runs, so read-modify-write
    /// commands and EXEC stay atomic. One loop needs no lock.
    let executionLock = Mutex(())
    let lastSaveSeconds = Atomic<Int>(Int(SystemClock.wallMillis() / 1000))
    /// Set while a BGSAVE's fsync runs.
    let isBackgroundSaveRunning = Atomic<Bool>(false)
    /// Engine totals at the last CONFIG RESETSTAT: INFO reports expired keys and merges since.
    let statisticsBaseline = Mutex<(expiredKeys: UInt64, merges: UInt64)>((0, 0))
    let shutdownHandler = Mutex<(@Sendable (_ save: Bool) -> Void)?>(nil)
    /// Applies runtime effects of CONFIG SET that live outside the state (the log level).
    let configurationObserver = Mutex<(@Sendable (ServerConfiguration) -> Void)?>(nil)

    /// Where the SWAPDB mapping lives: keyspace 255 is reserved for server metadata.
    static let metadataKeyspace = Keyspace.metadata
    static let databaseMapKey = Array("swiftcask:databases".utf8)

    init(store: Store, configuration: ServerConfiguration, logger: Logger) throws(StoreError) {
        self.store = store
        self.startup = configuration
        self.configuration = Mutex(configuration)
        self.logger = logger
        self.slowlogThresholdMicros = Atomic(configuration.slowlogLogSlowerThanMicros)
        self.commandStatistics = Mutex(CommandStatistics(commandCount: registry.specs.count))
        logger.debug("command timing: \(commandClock.readsTimestampCounter ? "time-stamp counter, \(commandClock.nanosPerTick) ns per tick" : "CLOCK_MONOTONIC")")
        var generator = SystemRandomNumberGenerator()
        self.runID = (0..<40).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }.joined()
        var map = (0..<configuration.databases).map { UInt8($0) }
        if let stored = try store.get(Self.databaseMapKey, in: Self.metadataKeyspace),
           stored.count == map.count, Set(stored) == Set(map) {
            map = stored
        }
        self.databaseMap = Mutex(map)
    }

    var serializesCommands: Bool { startup.threads > 1 }

    /// Expired keys the engine removed, by its active cycle or on access (INFO `expired_keys`).
    static func expiredKeys(_ statistics: StoreStatistics) -> UInt64 {
        statistics.expiredKeysCollected + statistics.expiredKeysOnAccess
    }

    /// SAVE's work: fsync everything written (the engine also writes its index hints). Blocks:
    /// call it on a blocking-IO thread, never on an event loop.
    func saveNow() throws(StoreError) {
        try store.sync()
        lastSaveSeconds.store(Int(SystemClock.wallMillis() / 1000), ordering: .relaxed)
    }

    /// BGSAVE: `saveNow` on NIO's blocking-IO pool. False when one is already running.
    func saveInBackground() -> Bool {
        guard !isBackgroundSaveRunning.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        NIOThreadPool.singleton.submit { work in
            if case .active = work {
                do {
                    try self.saveNow()
                } catch {
                    self.logger.error("background save failed: \(error)")
                }
            }
            self.isBackgroundSaveRunning.store(false, ordering: .releasing)
        }
        return true
    }

    /// CONFIG RESETSTAT: zeroes the server's counters and moves the engine baselines.
    func resetStatistics() {
        let statistics = store.statistics
        counters.withLock { $0 = ServerCounters() }
        commandStatistics.withLock { $0.reset() }
        statisticsBaseline.withLock { $0 = (Self.expiredKeys(statistics), statistics.mergesCompleted) }
    }

    /// Publishes a new logical→physical mapping; sessions pick it up before their next command.
    func setDatabaseMap(_ map: [UInt8]) {
        databaseMap.withLock { $0 = map }
        databaseMapVersion.add(1, ordering: .releasing)
    }

    func physicalKeyspace(ofDatabase database: Int) -> Keyspace {
        Keyspace(rawValue: databaseMap.withLock { $0[database] })
    }

    /// Flags every client watching `key` in `keyspace`.
    func touchWatched(keyspace: Keyspace, key: ByteBuffer) {
        let key = WatchRegistry.Key(keyspace: keyspace.rawValue, bytes: Array(key.readableBytesView))
        let flagged = watches.withLock { $0.watchers(of: key) }
        guard !flagged.isEmpty else { return }
        clients.withLock { clients in
            for id in flagged { clients[id]?.isWatchDirty.store(true, ordering: .relaxed) }
        }
    }

    func touchAllWatched(keyspace: Keyspace) {
        let flagged = watches.withLock { $0.watchers(inKeyspace: keyspace.rawValue) }
        clients.withLock { clients in
            for id in flagged { clients[id]?.isWatchDirty.store(true, ordering: .relaxed) }
        }
    }

    func configurationChanged(_ configuration: ServerConfiguration) {
        let observer = configurationObserver.withLock { $0 }
        observer?(configuration)
    }

    func requestShutdown(save: Bool) {
        let handler = shutdownHandler.withLock { $0 }
        handler?(save)
    }
}

