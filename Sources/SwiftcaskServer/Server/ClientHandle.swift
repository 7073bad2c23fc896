import NIOCore
import Synchronization

/// The part of a client that other clients may see or touch: CLIENT LIST/KILL, WATCH flags.
/// The owning session publishes once per read batch, never per command: the last command and
/// the time without a lock (relaxed atomic stores), `details` only when they changed.
final class ClientHandle: Sendable {
    /// What changes only on commands like CLIENT SETNAME, SELECT, MULTI or HELLO: published
    /// under the lock when one of them ran.
    struct Details: Sendable {
        var name = ""
        var database = 0
        var inTransaction = false
        var watchedKeys = 0
        var protocolVersion = 2
        var libraryName = ""
        var libraryVersion = ""
    }

    let id: ClientID
    let channel: Channel
    let peer: String
    let local: String
    let createdAtMillis: Int64
    /// Set by any writer that changes a key this client watches; checked by EXEC.
    let isWatchDirty = Atomic<Bool>(false)
    let details = Mutex(Details())
    /// `CommandRegistry.specs` index of the last command, `noCommand` before the first and after
    /// an unknown one (CLIENT LIST shows `cmd=NULL`).
    let lastCommandIndex = Atomic<Int>(ClientHandle.noCommand)
    /// `CommandClock` reading at the end of the last batch: the session already has it, where
    /// a wall-clock time cost a `clock_gettime` per batch.
    let lastInteractionTicks: Atomic<UInt64>
    static let noCommand = -1

    init(id: ClientID, channel: Channel, createdAtMillis: Int64, createdAtTicks: UInt64) {
        self.id = id
        self.channel = channel
        self.peer = channel.remoteAddress.map(Self.format) ?? "?:0"
        self.local = channel.localAddress.map(Self.format) ?? "?:0"
        self.createdAtMillis = createdAtMillis
        self.lastInteractionTicks = Atomic(createdAtTicks)
    }

    private static func format(_ address: SocketAddress) -> String {
        switch address {
        case .v6: "[\(address.ipAddress ?? "?")]:\(address.port ?? 0)"
        default: "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
        }
    }

    /// One line of CLIENT LIST / CLIENT INFO, with Redis's field names.
    func describe(nowMillis: Int64, clock: CommandClock, registry: CommandRegistry) -> String {
        let details = details.withLock { $0 }
        let commandIndex = lastCommandIndex.load(ordering: .relaxed)
        let lastCommand = commandIndex == Self.noCommand ? "NULL" : registry.specs[commandIndex].name
        let ageSeconds = (nowMillis - createdAtMillis) / 1000
        let idleSeconds = clock.micros(from: lastInteractionTicks.load(ordering: .relaxed), to: clock.now()) / 1_000_000
        let flags = details.inTransaction ? "x" : "N"
        return "id=\(id) addr=\(peer) laddr=\(local) fd=0 name=\(details.name) age=\(ageSeconds) idle=\(idleSeconds) "
            + "flags=\(flags) db=\(details.database) sub=0 psub=0 ssub=0 multi=\(details.inTransaction ? 0 : -1) "
            + "qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 "
            + "tot-mem=0 events=r cmd=\(lastCommand) user=default redir=-1 resp=\(details.protocolVersion) "
            + "lib-name=\(details.libraryName) lib-ver=\(details.libraryVersion)"
    }
}
