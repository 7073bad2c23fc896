import Logging
import NIOCore
import NIOPosix
import Swiftcask

/// Drives one client: decodes every complete command of a read, executes it into the
/// session's output buffer, and flushes once per read batch. With `appendfsync always`,
/// a batch that wrote is held until the engine reports its fsync; later batches queue
/// behind it so replies stay in order. Reading pauses while the socket is not writable; a
/// client whose unread replies pass `client-output-buffer-limit` is closed.
///
/// An inbound handler only: it pauses reading by turning the channel's `autoRead` off, rarely,
/// instead of intercepting every read request (one more pipeline hop per read, with its
/// retains and releases).
final class ConnectionHandler: ChannelInboundHandler, DurableReplyHolder {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Replies are handed to the socket in chunks of this size within a long batch.
    static let outputChunkBytes = 64 * 1024
    /// Capacity of the buffer that follows a chunk handed over mid-batch: a chunk plus the
    /// reply that ends it, usually, without growing.
    static let chunkBufferBytes = 2 * outputChunkBytes
    /// A drained cumulation buffer is compacted once this much of it is consumed.
    static let compactThresholdBytes = 64 * 1024

    private struct HeldReply {
        var buffer: ByteBuffer
        var isDurable: Bool
        let sequence: UInt64
    }

    private let state: ServerState
    /// Releases this loop's replies held behind `appendfsync always`.
    private let durableReplyGate: DurableReplyGate
    private var context: ChannelHandlerContext?
    private var session: ClientSession?
    private var decoder: RESPCommandDecoder
    private var cumulation: ByteBuffer?
    private var held = CircularBuffer<HeldReply>()
    private var heldBytes = 0
    private var nextSequence: UInt64 = 0
    private let holdsUntilDurable: Bool
    private let outputLimitBytes: Int
    private var isReadingPaused = false
    /// The channel's writability as of its last `channelWritabilityChanged` (NIO fires that
    /// inside the write or flush that flips it): read per batch without going through
    /// `context.channel`, which retained and released the channel each time.
    private var isWritable = true
    private var isClosing = false
    private var isRegistered = false
    /// Scratch for `prefetchKeys`: its pointers are only valid during the pass that fills them.
    private let prefetchedKeys = UnsafeMutableBufferPointer<UnsafeRawBufferPointer>.allocate(capacity: Store.prefetchKeysMax)

    init(state: ServerState, durableReplyGate: DurableReplyGate) {
        self.state = state
        self.durableReplyGate = durableReplyGate
        let configuration = state.configuration.withLock { $0 }
        self.decoder = RESPCommandDecoder(limits: RESPLimits(
            bulkBytesMax: configuration.protoMaxBulkLenBytes,
            queryBufferBytesMax: configuration.clientQueryBufferLimitBytes,
            isAuthenticated: !configuration.requiresPassword))
        self.holdsUntilDurable = state.startup.appendfsync == .always
        self.outputLimitBytes = configuration.clientOutputBufferLimitBytes
    }

    deinit {
        prefetchedKeys.deallocate()
    }

    // MARK: lifecycle

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        let configuration = state.configuration.withLock { $0 }
        let connected = state.connectedClients.add(1, ordering: .relaxed).newValue
        isRegistered = true
        state.counters.withLock { $0.totalConnectionsReceived += 1 }
        if connected > configuration.maxClients {
            state.counters.withLock { $0.rejectedConnections += 1 }
            refuse(context, ErrorReply.maxClients)
            return
        }
        if configuration.protectedMode && !configuration.requiresPassword && !Self.isLoopback(context.channel.remoteAddress) {
            refuse(context, ErrorReply.protectedMode)
            return
        }
        let id = state.nextClientID.add(1, ordering: .relaxed).oldValue
        let handle = ClientHandle(id: id, channel: context.channel, createdAtMillis: SystemClock.wallMillis(), createdAtTicks: state.commandClock.now())
        state.clients.withLock { $0[id] = handle }
        session = ClientSession(state: state, handle: handle, allocator: context.channel.allocator)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let session {
            session.unwatchAll()
            session.finishBatch()
            let id = session.handle.id
            state.clients.withLock { $0[id] = nil }
            self.session = nil
        }
        if isRegistered {
            state.connectedClients.subtract(1, ordering: .relaxed)
            isRegistered = false
        }
        held.removeAll()
        self.context = nil
        context.fireChannelInactive()
    }

    private func refuse(_ context: ChannelHandlerContext, _ text: String) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count + 3)
        buffer.writeError(text)
        isClosing = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    static func isLoopback(_ address: SocketAddress?) -> Bool {
        guard let address else { return true }
        switch address {
        case .v4: return address.ipAddress?.hasPrefix("127.") ?? false
        case .v6: return address.ipAddress == "::1" || (address.ipAddress?.hasPrefix("::ffff:127.") ?? false)
        case .unixDomainSocket: return true
        }
    }

    // MARK: reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var input = unwrapInboundIn(data)
        guard let session, !isClosing else { return }
        session.counters.inputBytes += input.readableBytes
        session.commandClockTicks = session.commandClock.now()
        reuseOutput(session)
        if var buffer = cumulation {
            cumulation = nil
            buffer.writeBuffer(&input)
            process(&buffer, context: context)
        } else {
            process(&input, context: context)
        }
    }

    /// Executes every complete command in `buffer`; keeps the rest for the next read.
    private func process(_ buffer: inout ByteBuffer, context: ChannelHandlerContext) {
        guard let session else { return }
        prefetchKeys(of: buffer, session)
        while !isClosing {
            decoder.limits.isAuthenticated = session.isAuthenticated
            var command: RESPCommand
            do {
                guard let next = try decoder.next(from: &buffer) else { break }
                command = next
            } catch {
                if error.repliesBeforeClosing { session.replyError("ERR \(error.description)") }
                state.logger.debug("closing client: \(error.description)", metadata: ["client": "\(session.handle.peer)"])
                isClosing = true
                break
            }
            session.execute(&command)
            if session.closeAfterFlush { isClosing = true }
            if session.output.readableBytes > outputLimitBytes {
                closeForOutputLimit(context)
                return
            }
            if session.output.readableBytes >= Self.outputChunkBytes {
                emit(context: context, flush: false)
                guard checkOutputLimit(context) else { return }
            }
        }
        if buffer.readableBytes > 0 && !isClosing {
            if buffer.readerIndex >= Self.compactThresholdBytes { buffer.discardReadBytes() }
            cumulation = buffer
        }
    }

    /// Lets the store load the keys of a pipelined read from memory together, before the
    /// commands run one by one (see `PipelineKeyScanner`). A lone command gains nothing.
    private func prefetchKeys(of buffer: ByteBuffer, _ session: ClientSession) {
        buffer.withUnsafeReadableBytes { bytes in
            let count = PipelineKeyScanner.firstArguments(in: bytes, into: prefetchedKeys)
            if count > 1 {
                state.store.prefetch(keys: UnsafeBufferPointer(rebasing: prefetchedKeys[..<count]), in: session.keyspace)
            }
        }
    }

    /// Rewinds the drained output buffer; `clear` allocates only if the socket still holds it.
    private func reuseOutput(_ session: ClientSession) {
        if session.output.readableBytes == 0 && session.output.writerIndex > 0 { session.output.clear() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard let session else { return }
        session.finishBatch()
        emit(context: context, flush: true)
        guard checkOutputLimit(context) else { return }
        if isClosing { closeWhenDrained(context) }
    }

    /// Stops reading while the socket is not writable, so no new commands arrive, and closes
    /// the client, as Redis does, once replies it has not read pass `client-output-buffer-limit`.
    private func checkOutputLimit(_ context: ChannelHandlerContext) -> Bool {
        guard !isWritable else { return true }
        setReadingPaused(true, context)
        let buffered = (try? context.channel.syncOptions?.getOption(.bufferedWritableBytes)) ?? 0
        guard buffered + heldBytes <= outputLimitBytes else {
            closeForOutputLimit(context)
            return false
        }
        return true
    }

    // MARK: writing

    /// Hands the session's output to the socket, or holds it behind an fsync: the group fsync
    /// covering its writes (`appendfsync always`) or the one SAVE asked for.
    private func emit(context: ChannelHandlerContext, flush: Bool) {
        guard let session else { return }
        let ticket = holdsUntilDurable ? session.pendingTicket : nil
        let saves = session.pendingSave
        session.pendingTicket = nil
        session.pendingSave = false
        let waits = ticket != nil || saves
        if session.output.readableBytes == 0 && !waits {
            if flush && held.isEmpty { context.flush() }
            return
        }
        let buffer = session.output
        if flush {
            // Mark the bytes as handed over without touching the storage; `reuseOutput` rewinds
            // it before the next batch, which costs no allocation once the socket released it.
            session.output.moveReaderIndex(to: session.output.writerIndex)
        } else {
            // Mid-batch, the socket still holds this chunk while the batch goes on: a fresh
            // buffer. Appending to the shared one made the next write copy the whole batch's
            // output so far, once per chunk (60 MB of pipelined GET replies took 17 s).
            session.output = context.channel.allocator.buffer(capacity: Self.chunkBufferBytes)
        }
        session.counters.outputBytes += buffer.readableBytes
        guard waits || !held.isEmpty else {
            context.write(wrapOutboundOut(buffer), promise: nil)
            if flush { context.flush() }
            return
        }
        let sequence = nextSequence
        nextSequence += 1
        held.append(HeldReply(buffer: buffer, isDurable: !waits, sequence: sequence))
        heldBytes += buffer.readableBytes
        if heldBytes > outputLimitBytes {
            closeForOutputLimit(context)
            return
        }
        if saves {
            // The fsync runs on NIO's blocking-IO pool; it covers this batch's writes too.
            let state = self.state
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { try state.saveNow() }.whenComplete { result in
                let reported = result.mapError { error in error as? StoreError ?? StoreError(.ioFailure, "\(error)") }
                loopBound.value.durabilityReported(sequence: sequence, result: reported)
            }
        } else if let ticket {
            durableReplyGate.hold(ticket, sequence: sequence, for: self)
        } else {
            drainHeld(context: context)
        }
    }

    func durabilityReported(sequence: UInt64, result: Result<Void, StoreError>) {
        guard let context else { return }
        if case .failure(let error) = result {
            // The write may not be durable: never acknowledge it. The client sees a closed connection.
            state.logger.error("fsync failed, closing client without acknowledging: \(error.description)")
            held.removeAll()
            heldBytes = 0
            context.close(promise: nil)
            return
        }
        if let index = held.firstIndex(where: { $0.sequence == sequence }) { held[index].isDurable = true }
        drainHeld(context: context)
    }

    /// Writes every held reply whose fsync completed, in order, with one flush.
    private func drainHeld(context: ChannelHandlerContext) {
        var wrote = false
        while let first = held.first, first.isDurable {
            held.removeFirst()
            heldBytes -= first.buffer.readableBytes
            context.write(wrapOutboundOut(first.buffer), promise: nil)
            wrote = true
        }
        if wrote { context.flush() }
        if isClosing { closeWhenDrained(context) }
    }

    private func closeWhenDrained(_ context: ChannelHandlerContext) {
        guard held.isEmpty, context.channel.isActive else { return }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }

    private func closeForOutputLimit(_ context: ChannelHandlerContext) {
        state.logger.warning("closing client over client-output-buffer-limit", metadata: ["limit": "\(outputLimitBytes)"])
        held.removeAll()
        heldBytes = 0
        isClosing = true
        context.close(promise: nil)
    }

    // MARK: back-pressure

    /// NIO stops asking the socket for input while `autoRead` is off, and reads again at once
    /// when it is turned back on.
    private func setReadingPaused(_ paused: Bool, _ context: ChannelHandlerContext) {
        guard paused != isReadingPaused else { return }
        isReadingPaused = paused
        _ = try? context.channel.syncOptions?.setOption(.autoRead, value: !paused)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        isWritable = context.channel.isWritable
        if isWritable { setReadingPaused(false, context) }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        state.logger.debug("client error: \(error)")
        context.close(promise: nil)
    }
}
