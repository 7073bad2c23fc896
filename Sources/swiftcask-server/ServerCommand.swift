import ArgumentParser
import Foundation
import Logging
import SwiftcaskServer

/// `swiftcask-server [config-file] [--flag value …]`: flags override the config file, which
/// overrides the defaults. Every flag has the name of the matching redis.conf option.
struct ServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftcask-server",
        abstract: "A Redis-compatible (RESP2/RESP3) server on the Swiftcask storage engine.",
        discussion: "A config file holds redis.conf-style lines ('port 6380', 'appendfsync always'); flags override it. SIGTERM or SIGINT shut down gracefully.")

    @Argument(help: "Optional config file in redis.conf style (name value lines).")
    var configFile: String?

    @Option(help: "Addresses to listen on, space separated (default: 127.0.0.1).") var bind: String?
    @Option(help: "TCP port; 0 picks a free one (default: 6379).") var port: String?
    @Option(help: "Data directory (default: ./data).") var dir: String?
    @Option(help: "Durability: always (reply after fsync), everysec or no (default: everysec).") var appendfsync: String?
    @Option(name: .customLong("fsync-on-event-loop"), help: "With appendfsync always: yes makes the event loop run each group fsync itself, as Redis does (faster at -P 1, but the loop stops for every flush); no leaves it to the engine's committer thread, so the loop never waits for the disk (default: no).") var fsyncOnEventLoop: String?
    @Option(help: "Event loop threads (default: 1, fastest on 2 cores).") var threads: String?
    @Option(help: "Most simultaneous clients (default: 10000).") var maxclients: String?
    @Option(help: "Password clients must AUTH with (default: none).") var requirepass: String?
    @Option(help: "Number of logical databases, 1...255 (default: 16).") var databases: String?
    @Option(name: .customLong("proto-max-bulk-len"), help: "Largest bulk string accepted (default: 512mb).") var protoMaxBulkLen: String?
    @Option(name: .customLong("client-query-buffer-limit"), help: "Largest single command (default: 1gb).") var clientQueryBufferLimit: String?
    @Option(name: .customLong("client-output-buffer-limit"), help: "Pending reply bytes after which a client is closed, '256mb' or 'normal <hard> <soft> <seconds>' (default: 256mb).") var clientOutputBufferLimit: String?
    @Option(name: .customLong("io-backend"), help: "Engine IO: automatic, io_uring or posix (default: automatic).") var ioBackend: String?
    @Option(name: .customLong("segment-size"), help: "Engine segment file size (default: 64mb).") var segmentSize: String?
    @Option(help: "Log level: debug, verbose, notice or warning (default: notice).") var loglevel: String?
    @Option(name: .customLong("protected-mode"), help: "yes: refuse non-loopback clients when no password is set (default: yes).") var protectedMode: String?
    @Option(name: .customLong("slowlog-log-slower-than"), help: "Microseconds above which commands enter the slow log; -1 disables (default: 10000).") var slowlogLogSlowerThan: String?
    @Option(name: .customLong("slowlog-max-len"), help: "Entries kept in the slow log (default: 128).") var slowlogMaxLen: String?
    @Option(name: .customLong("auto-aof-rewrite-percentage"), help: "Merge automatically once sealed segments have grown this many percent over their live data; 0 disables (default: 100).") var autoAofRewritePercentage: String?
    @Option(name: .customLong("auto-aof-rewrite-min-size"), help: "... and hold at least this many dead bytes (default: 64mb).") var autoAofRewriteMinSize: String?

    func run() async throws {
        var configuration = ServerConfiguration()
        do {
            if let configFile {
                let text: String
                do {
                    text = try String(contentsOfFile: configFile, encoding: .utf8)
                } catch {
                    throw ConfigError("cannot read config file \(configFile): \(error.localizedDescription)")
                }
                try ConfigFile.apply(text, to: &configuration)
            }
            let flags: [(String, String?)] = [
                ("bind", bind), ("port", port), ("dir", dir), ("appendfsync", appendfsync),
                ("fsync-on-event-loop", fsyncOnEventLoop), ("threads", threads),
                ("maxclients", maxclients), ("requirepass", requirepass), ("databases", databases),
                ("proto-max-bulk-len", protoMaxBulkLen), ("client-query-buffer-limit", clientQueryBufferLimit),
                ("client-output-buffer-limit", clientOutputBufferLimit), ("io-backend", ioBackend),
                ("segment-size", segmentSize), ("loglevel", loglevel), ("protected-mode", protectedMode),
                ("slowlog-log-slower-than", slowlogLogSlowerThan), ("slowlog-max-len", slowlogMaxLen),
                ("auto-aof-rewrite-percentage", autoAofRewritePercentage), ("auto-aof-rewrite-min-size", autoAofRewriteMinSize),
            ]
            for case let (name, value?) in flags {
                try ConfigParameter.named(name)!.apply(value, to: &configuration)
            }
            try configuration.validate()
        } catch let error as ConfigError {
            Self.fail("invalid configuration: \(error.description)")
        }

        let level = LevelFilteredLogHandler.Level(configuration.logLevel)
        LoggingSystem.bootstrap { label in
            LevelFilteredLogHandler(level: level, wrapped: StreamLogHandler.standardError(label: label))
        }
        let logger = Logger(label: "swiftcask-server")

        let server: SwiftcaskServer
        do {
            server = try SwiftcaskServer(configuration: configuration, logger: logger)
        } catch {
            Self.fail("cannot open data directory '\(configuration.directory)': \(error). "
                + "Check that no other swiftcask process uses it, that it is readable and writable, "
                + "and that it was written by a compatible version; or choose another one with --dir.")
        }
        server.onConfigurationChange { updated in level.value.withLock { $0 = updated.logLevel } }
        do {
            try await server.start()
        } catch {
            await server.shutdown(save: false)
            Self.fail("cannot listen on \(configuration.bind.joined(separator: " ")) port \(configuration.port): \(error). "
                + "Is another server using the port? Choose another with --port.")
        }
        let signals = Self.installSignalHandlers { signalName in
            logger.notice("received \(signalName), shutting down")
            Task { await server.shutdown(save: true) }
        }
        await server.waitUntilShutdown()
        withExtendedLifetime(signals) {}
    }

    /// SIGTERM and SIGINT start a graceful shutdown instead of killing the process.
    static func installSignalHandlers(_ handler: @escaping @Sendable (String) -> Void) -> [DispatchSourceSignal] {
        [(SIGTERM, "SIGTERM"), (SIGINT, "SIGINT")].map { signalNumber, name in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { handler(name) }
            source.resume()
            return source
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("swiftcask-server: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
