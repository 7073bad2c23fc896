import Logging
import Swiftcask

/// One named tunable: how to read it for CONFIG GET and how to set it from text
/// (config file lines, command-line flags and CONFIG SET share this parser).
public struct ConfigParameter: Sendable {
    public let name: String
    /// False for values that only take effect at startup; CONFIG SET refuses them.
    public let isMutable: Bool
    let get: @Sendable (ServerConfiguration) -> String
    let set: @Sendable (inout ServerConfiguration, String) throws -> Void

    public static let all: [ConfigParameter] = [
        ConfigParameter("bind", false, { $0.bind.joined(separator: " ") }) { config, text in
            config.bind = text.split(separator: " ").map(String.init)
        },
        ConfigParameter("port", false, { String($0.port) }) { config, text in config.port = try integer(text, "port") },
        ConfigParameter("dir", false, { $0.directory }) { config, text in config.directory = text },
        ConfigParameter("appendfsync", false, { $0.appendfsync.rawValue }) { config, text in
            guard let value = Durability(rawValue: text.lowercased()) else { throw ConfigError("appendfsync must be always, everysec or no, got '\(text)'") }
            config.appendfsync = value
        },
        ConfigParameter("fsync-on-event-loop", false, { $0.fsyncOnEventLoop ? "yes" : "no" }) { config, text in
            config.fsyncOnEventLoop = try yesNo(text, "fsync-on-event-loop")
        },
        ConfigParameter("threads", false, { String($0.threads) }) { config, text in config.threads = try integer(text, "threads") },
        ConfigParameter("maxclients", true, { String($0.maxClients) }) { config, text in config.maxClients = try integer(text, "maxclients") },
        ConfigParameter("requirepass", true, { $0.requirePass }) { config, text in config.requirePass = text },
        ConfigParameter("databases", false, { String($0.databases) }) { config, text in config.databases = try integer(text, "databases") },
        ConfigParameter("proto-max-bulk-len", true, { String($0.protoMaxBulkLenBytes) }) { config, text in
            config.protoMaxBulkLenBytes = try memory(text, "proto-max-bulk-len")
        },
        ConfigParameter("client-query-buffer-limit", true, { String($0.clientQueryBufferLimitBytes) }) { config, text in
            config.clientQueryBufferLimitBytes = try memory(text, "client-query-buffer-limit")
        },
        ConfigParameter("client-output-buffer-limit", true, { config in
            "normal \(config.clientOutputBufferLimitBytes) 0 0 replica 268435456 67108864 60 pubsub 33554432 8388608 60"
        }) { config, text in
            let words = text.split(separator: " ").map(String.init)
            if words.count == 1 {
                config.clientOutputBufferLimitBytes = try memory(words[0], "client-output-buffer-limit")
                return
            }
            guard words.count % 4 == 0 else { throw ConfigError("client-output-buffer-limit needs 'class hard soft seconds' groups") }
            for group in stride(from: 0, to: words.count, by: 4) where words[group].lowercased() == "normal" {
                config.clientOutputBufferLimitBytes = try memory(words[group + 1], "client-output-buffer-limit")
            }
        },
        ConfigParameter("io-backend", false, { $0.ioBackend.rawValue }) { config, text in
            guard let value = IOBackendChoice(rawValue: text.lowercased()) else { throw ConfigError("io-backend must be automatic, io_uring or posix, got '\(text)'") }
            config.ioBackend = value
        },
        ConfigParameter("segment-size", false, { String($0.segmentSizeBytes) }) { config, text in
            config.segmentSizeBytes = try memory(text, "segment-size")
        },
        ConfigParameter("loglevel", true, { config in
            switch config.logLevel {
            case .trace, .debug: "debug"
            case .info: "verbose"
            case .notice: "notice"
            default: "warning"
            }
        }) { config, text in
            switch text.lowercased() {
            case "debug", "trace": config.logLevel = .debug
            case "verbose", "info": config.logLevel = .info
            case "notice": config.logLevel = .notice
            case "warning", "error": config.logLevel = .warning
            default: throw ConfigError("loglevel must be debug, verbose, notice or warning, got '\(text)'")
            }
        },
        ConfigParameter("protected-mode", true, { $0.protectedMode ? "yes" : "no" }) { config, text in
            config.protectedMode = try yesNo(text, "protected-mode")
        },
        ConfigParameter("slowlog-log-slower-than", true, { String($0.slowlogLogSlowerThanMicros) }) { config, text in
            config.slowlogLogSlowerThanMicros = try integer(text, "slowlog-log-slower-than")
        },
        ConfigParameter("auto-aof-rewrite-percentage", true, { String($0.autoAofRewritePercentage) }) { config, text in
            config.autoAofRewritePercentage = try integer(text, "auto-aof-rewrite-percentage")
        },
        ConfigParameter("auto-aof-rewrite-min-size", true, { String($0.autoAofRewriteMinSizeBytes) }) { config, text in
            config.autoAofRewriteMinSizeBytes = try memory(text, "auto-aof-rewrite-min-size")
        },
        ConfigParameter("slowlog-max-len", true, { String($0.slowlogMaxLen) }) { config, text in
            config.slowlogMaxLen = try integer(text, "slowlog-max-len")
        },
    ]

    /// Fixed values that clients and tools query at connect time (redis-benchmark asks for
    /// `save` and `appendonly`). CONFIG SET accepts only the value shown; a config file may
    /// name them with any value (a redis.conf copied over still loads), which is ignored.
    static let compatibilityValues: [(String, String)] = [
        ("appendonly", "yes"), ("save", ""), ("maxmemory", "0"), ("maxmemory-policy", "noeviction"),
        ("io-threads", "1"), ("cluster-enabled", "no"), ("hz", "10"), ("tcp-keepalive", "300"),
        ("timeout", "0"),
    ]

    init(_ name: String, _ isMutable: Bool,
         _ get: @escaping @Sendable (ServerConfiguration) -> String,
         _ set: @escaping @Sendable (inout ServerConfiguration, String) throws -> Void) {
        self.name = name
        self.isMutable = isMutable
        self.get = get
        self.set = set
    }

    public static func named(_ name: String) -> ConfigParameter? {
        let lower = name.lowercased()
        return all.first { $0.name == lower }
    }

    /// The fixed value of a compatibility name (any case), or nil for any other name.
    static func compatibilityValue(named name: some StringProtocol) -> String? {
        let lower = name.lowercased()
        return compatibilityValues.first { $0.0 == lower }?.1
    }

    public func value(in configuration: ServerConfiguration) -> String { get(configuration) }

    public func apply(_ text: String, to configuration: inout ServerConfiguration) throws(ConfigError) {
        do {
            try set(&configuration, text)
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError("\(name): \(error)")
        }
    }

    static func integer(_ text: String, _ name: String) throws(ConfigError) -> Int {
        guard let value = Int(text) else { throw ConfigError("\(name) must be an integer, got '\(text)'") }
        return value
    }

    static func yesNo(_ text: String, _ name: String) throws(ConfigError) -> Bool {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw ConfigError("\(name) must be yes or no, got '\(text)'")
        }
    }

    /// Redis's `memtoll`: `1k` = 1000, `1kb` = 1024, likewise m/mb and g/gb.
    static func memory(_ text: String, _ name: String) throws(ConfigError) -> Int {
        let lower = text.lowercased()
        let units: [(String, Int)] = [("gb", 1 << 30), ("mb", 1 << 20), ("kb", 1 << 10), ("g", 1_000_000_000), ("m", 1_000_000), ("k", 1000), ("b", 1)]
        for (suffix, multiplier) in units where lower.hasSuffix(suffix) {
            guard let number = Int(lower.dropLast(suffix.count)), number >= 0 else { break }
            return number * multiplier
        }
        guard let number = Int(lower), number >= 0 else { throw ConfigError("\(name) must be a size like 512mb, got '\(text)'") }
        return number
    }
}
