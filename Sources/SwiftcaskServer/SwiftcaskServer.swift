import Logging
import NIOCore
import NIOPosix
import Swiftcask
import Synchronization

/// The RESP server: opens the store, listens on every `bind` address and serves until
/// `shutdown` (SIGTERM/SIGINT in the executable, or the SHUTDOWN command).
public final class SwiftcaskServer: Sendable {
    public let configuration: ServerConfiguration
    let state: ServerState
    private let group: MultiThreadedEventLoopGroup
    /// One per event loop, by the loop's identity.
    private let durableReplyGates: [ObjectIdentifier: DurableReplyGate]
    private let channels = Mutex<[Channel]>([])
    /// Set once shutdown completed; holds the waiters until then. Not an event-loop promise:
    /// the loops are gone by the time shutdown completes.
    private let completion = Mutex<(isComplete: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))
    private let isShuttingDown = Atomic<Bool>(false)

    /// Watermarks of each client socket's outbound buffer: reading pauses above the high mark.
    static let writeBufferLowBytes = 64 * 1024
    static let writeBufferHighBytes = 256 * 1024
    static let listenBacklog = 511

    /// Opens the store. Fails with the engine's reason (lock held, bad format, …).
    public init(configuration: ServerConfiguration, logger: Logger) throws {
        try configuration.validate()
        var options = StoreOptions()
        options.durability = configuration.appendfsync
        options.segmentBytes = configuration.segmentSizeBytes
        options.ioBackend = configuration.ioBackend
        options.mergeTriggers = configuration.mergeTriggers
        options.logger = logger
        let store = try Store(directory: configuration.directory, options: options)
        self.configuration = configuration
        self.state = try ServerState(store: store, configuration: configuration, logger: logger)
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: configuration.threads)
        var gates: [ObjectIdentifier: DurableReplyGate] = [:]
        for eventLoop in group.makeIterator() {
            gates[ObjectIdentifier(eventLoop)] = DurableReplyGate(eventLoop: eventLoop, store: store, leadsRounds: configuration.fsyncOnEventLoop)
        }
        self.durableReplyGates = gates
    }

    /// Called with the new configuration after each successful CONFIG SET.
    public func onConfigurationChange(_ observer: @escaping @Sendable (ServerConfiguration) -> Void) {
        state.configurationObserver.withLock { $0 = observer }
    }

    /// Binds every address; throws if any cannot be bound.
    public func start() async throws {
        let handler: @Sendable (Bool) -> Void = { [weak self] save in
            guard let self else { return }
            Task { await self.shutdown(save: save) }
        }
        state.shutdownHandler.withLock { $0 = handler }
        let state = self.state
        let gates = durableReplyGates
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: Int32(Self.listenBacklog))
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: Self.writeBufferLowBytes, high: Self.writeBufferHighBytes))
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let gate = gates[ObjectIdentifier(channel.eventLoop)]!
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(state: state, durableReplyGate: gate))
                }
            }
        for address in configuration.bind {
            let channel = try await bootstrap.bind(host: address, port: configuration.port).get()
            channels.withLock { $0.append(channel) }
            state.logger.notice("ready to accept connections", metadata: [
                "address": "\(address)", "port": "\(channel.localAddress?.port ?? configuration.port)",
                "appendfsync": "\(configuration.appendfsync.rawValue)", "threads": "\(configuration.threads)",
            ])
        }
    }

    /// Returns once shutdown has completed.
    public func waitUntilShutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = completion.withLock { completion in
                if completion.isComplete { return true }
                completion.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Stops accepting, closes clients, syncs (unless `save` is false) and closes the store.
    public func shutdown(save: Bool = true) async {
        guard !isShuttingDown.exchange(true, ordering: .acquiringAndReleasing) else {
            await waitUntilShutdown()
            return
        }
        state.logger.notice("shutting down", metadata: ["save": "\(save)"])
        let listeners = channels.withLock { $0 }
        for channel in listeners { try? await channel.close() }
        let clients = state.clients.withLock { Array($0.values) }
        for client in clients { try? await client.channel.close() }
        do {
            if save { try state.store.sync() }
            try state.store.close()
        } catch {
            state.logger.error("closing the store failed: \(error)")
        }
        try? await group.shutdownGracefully()
        state.logger.notice("shutdown complete")
        let waiters = completion.withLock { completion in
            completion.isComplete = true
            defer { completion.waiters.removeAll() }
            return completion.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
