import Logging
import Swiftcask

/// Every tunable of the server, under Redis's names where the concept exists.
/// Flags, the config file and CONFIG GET/SET all go through `ConfigParameter`.
public struct ServerConfiguration: Sendable, Equatable {
    public var bind: [String] = ["127.0.0.1"]
    public var port: Int = 6379
    public var directory: String = "./data"
    public var appendfsync: Durability = .everysec
    /// `appendfsync always`: false (the default) leaves every group fsync to the engine's
    /// committer thread, so the event loop never waits for the disk; true makes each loop write
    /// and fdatasync its group itself, as Redis does, which measured about 20% more -P 1 SET
    /// throughput here at the price of a loop that stops serving for each flush.
    public var fsyncOnEventLoop: Bool = false
    /// Event loop threads. One measures best on 2 cores: the load tool needs the other.
    public var threads: Int = 1
    public var maxClients: Int = 10_000
    public var requirePass: String = ""
    public var databases: Int = 16
    public var protoMaxBulkLenBytes: Int = 512 * 1024 * 1024
    public var clientQueryBufferLimitBytes: Int = 1024 * 1024 * 1024
    /// Hard output limit for normal clients; a client whose pending replies pass it is closed.
    public var clientOutputBufferLimitBytes: Int = 256 * 1024 * 1024
    public var ioBackend: IOBackendChoice = .automatic
    public var segmentSizeBytes: Int = 64 * 1024 * 1024
    public var logLevel: Logger.Level = .notice
    public var protectedMode: Bool = true
    public var slowlogLogSlowerThanMicros: Int = 10_000
    public var slowlogMaxLen: Int = 128
    /// Redis's AOF rewrite triggers, applied to merges: a merge starts once the sealed segments
    /// have grown this many percent over their live data (0 turns automatic merges off) …
    public var autoAofRewritePercentage: Int = 100
    /// … and hold at least this many dead bytes.
    public var autoAofRewriteMinSizeBytes: Int = 64 * 1024 * 1024

    /// Largest `databases`: keyspaces 0...254 are usable, 255 holds server metadata.
    public static let databasesMax = 255
    public static let threadsMax = 64

    public init() {}

    /// Checks relations between values; the message names the flag and what is allowed.
    public func validate() throws(ConfigError) {
        guard (1...Self.databasesMax).contains(databases) else {
            throw ConfigError("databases must be between 1 and \(Self.databasesMax), got \(databases)")
        }
        guard (1...Self.threadsMax).contains(threads) else {
            throw ConfigError("threads must be between 1 and \(Self.threadsMax), got \(threads)")
        }
        guard (0...65_535).contains(port) else { throw ConfigError("port must be between 0 and 65535, got \(port)") }
        guard maxClients >= 1 else { throw ConfigError("maxclients must be at least 1") }
        guard protoMaxBulkLenBytes >= 1024 * 1024 else { throw ConfigError("proto-max-bulk-len must be at least 1mb") }
        guard clientQueryBufferLimitBytes >= 1024 * 1024 else { throw ConfigError("client-query-buffer-limit must be at least 1mb") }
        guard protoMaxBulkLenBytes <= clientQueryBufferLimitBytes else {
            throw ConfigError("proto-max-bulk-len (\(protoMaxBulkLenBytes)) must not exceed client-query-buffer-limit (\(clientQueryBufferLimitBytes))")
        }
        guard clientOutputBufferLimitBytes >= 64 * 1024 else { throw ConfigError("client-output-buffer-limit must be at least 64kb") }
        guard segmentSizeBytes >= 1024 * 1024 else { throw ConfigError("segment-size must be at least 1mb") }
        guard !bind.isEmpty else { throw ConfigError("bind needs at least one address") }
        guard autoAofRewritePercentage >= 0 else {
            throw ConfigError("auto-aof-rewrite-percentage must not be negative, got \(autoAofRewritePercentage)")
        }
        guard autoAofRewriteMinSizeBytes >= 0 else {
            throw ConfigError("auto-aof-rewrite-min-size must not be negative, got \(autoAofRewriteMinSizeBytes)")
        }
    }

    /// The engine's merge triggers for the two `auto-aof-rewrite-*` values. Growth of p percent
    /// over the live bytes, all of it dead, leaves dead bytes at p / (100 + p) of the total:
    /// Redis's default of 100 % is the engine's default ratio of one half.
    public var mergeTriggers: MergeTriggers {
        let percentage = Double(autoAofRewritePercentage)
        return MergeTriggers(
            isEnabled: autoAofRewritePercentage > 0,
            deadRatio: autoAofRewritePercentage > 0 ? percentage / (100 + percentage) : 0.5,
            deadBytes: autoAofRewriteMinSizeBytes)
    }

    var requiresPassword: Bool { !requirePass.isEmpty }
}
