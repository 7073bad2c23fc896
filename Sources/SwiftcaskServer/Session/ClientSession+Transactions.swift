import NIOCore
import Swiftcask

/// MULTI / EXEC / DISCARD / WATCH. EXEC runs the queue against an overlay and writes all its
/// changes as one engine batch: atomic for other clients and after a crash.
extension ClientSession {
    /// Most commands one MULTI may queue; a bound on the client's memory.
    static let queuedCommandsMax = 1_000_000

    func multi() {
        guard transaction == nil else {
            replyError(ErrorReply.nestedMulti)
            return
        }
        transaction = Transaction()
        output.writeOK()
    }

    func discard() {
        guard transaction != nil else {
            replyError(ErrorReply.discardWithoutMulti)
            return
        }
        transaction = nil
        unwatchAll()
        output.writeOK()
    }

    func watch() {
        guard transaction == nil else {
            replyError(ErrorReply.watchInsideMulti)
            return
        }
        let id = handle.id
        var added: [WatchRegistry.Key] = []
        for key in argv.dropFirst() {
            let watched = WatchRegistry.Key(keyspace: keyspace.rawValue, bytes: key.bytes)
            if !watchedKeys.contains(watched) && !added.contains(watched) { added.append(watched) }
        }
        if !added.isEmpty {
            state.watches.withLock { registry in
                for key in added { registry.watch(key, by: id) }
            }
            state.watchedKeyCount.add(added.count, ordering: .relaxed)
            watchedKeys.append(contentsOf: added)
        }
        output.writeOK()
    }

    func exec() {
        guard let queued = transaction else {
            replyError(ErrorReply.execWithoutMulti)
            return
        }
        transaction = nil
        if queued.hasErrors {
            unwatchAll()
            replyError(ErrorReply.execAbort)
            return
        }
        let dirty = handle.isWatchDirty.load(ordering: .relaxed)
        unwatchAll()
        if dirty {
            output.writeNullArray(protocolVersion)
            return
        }
        let replyStart = output.writerIndex
        let errorsBefore = (counters.errorReplies, counters.errorRepliesByCode)
        let databaseMapBefore = state.databaseMap.withLock { $0 }
        overlay = Overlay()
        output.writeArrayHeader(queued.queued.count)
        var execCommand = argv.command
        let errorsSentBefore = errorRepliesSent
        for var command in queued.queued {
            argv.load(&command)
            // Queued commands passed lookup and arity checks when they were queued.
            guard let entry = argv.withBytes(at: 0, state.registry.entry(named:)) else { continue }
            dispatchReportingDamage(entry.id)
            counters.totalCommandsProcessed += 1
        }
        // EXEC's own arguments again (for SLOWLOG), and an error of a queued command does not
        // make EXEC a failed call, as in Redis.
        argv.load(&execCommand)
        errorRepliesSent = errorsSentBefore
        let staged = overlay!.batch
        overlay = nil
        guard !staged.isEmpty else { return }
        do {
            pendingTicket = try store.writeDeferred(staged).ticket
        } catch {
            // Nothing was applied: replace the optimistic replies with the engine's reason.
            output.moveWriterIndex(to: replyStart)
            (counters.errorReplies, counters.errorRepliesByCode) = errorsBefore
            // A SWAPDB of the transaction changed the mapping in memory only.
            if state.databaseMap.withLock({ $0 }) != databaseMapBefore {
                state.setDatabaseMap(databaseMapBefore)
                refreshKeyspace()
            }
            replyError("EXECABORT Transaction discarded: \(error.description)")
        }
    }
}
