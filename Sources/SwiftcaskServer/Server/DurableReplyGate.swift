import NIOCore
import Swiftcask

/// A connection whose replies wait behind the fdatasync that covers their writes.
protocol DurableReplyHolder: AnyObject {
    /// `sequence` is durable (or failed); called on the connection's event loop.
    func durabilityReported(sequence: UInt64, result: Result<Void, StoreError>)
}

/// Releases the replies held behind `appendfsync always` for every connection of one event
/// loop. Once the loop has run every command read in one tick, one task asks for the group's
/// fsync and releases every held reply when it is done:
/// - by default the engine's committer thread writes and fdatasyncs the group, and one
///   `whenDurable` callback for the whole loop hops back: the loop never waits for the disk;
/// - with `leadsRounds` (`fsync-on-event-loop yes`) the task writes and fdatasyncs the group
///   on the loop's own thread, as Redis's event loop does: no thread hand-off and no wake-up
///   per round (about 20% more -P 1 SET throughput here), but the loop serves nobody during
///   the flush. When a round is already running (another loop's or the committer's), it
///   waits for that one with a callback instead.
///
/// Confined to its event loop: every method runs there (hence `@unchecked Sendable`, so the
/// server can keep one gate per loop in an immutable table).
final class DurableReplyGate: @unchecked Sendable {
    private struct Waiter {
        let position: CommitTicket
        let holder: DurableReplyHolder
        let sequence: UInt64
    }

    private let eventLoop: EventLoop
    private let store: Store
    private let leadsRounds: Bool
    private var waiters: [Waiter] = []
    /// Scratch for `release`, empty between calls (its capacity is kept).
    private var releasing: [Waiter] = []
    /// A commit task is queued for this tick.
    private var isCommitScheduled = false
    /// The ticket a `whenDurable` callback of this gate is waiting for, if any.
    private var awaitedTicket: CommitTicket?

    init(eventLoop: EventLoop, store: Store, leadsRounds: Bool) {
        self.eventLoop = eventLoop
        self.store = store
        self.leadsRounds = leadsRounds
        waiters.reserveCapacity(64)
        releasing.reserveCapacity(64)
    }

    /// Holds `sequence` of `holder` until `ticket` is durable.
    func hold(_ ticket: CommitTicket, sequence: UInt64, for holder: DurableReplyHolder) {
        eventLoop.assertInEventLoop()
        waiters.append(Waiter(position: ticket, holder: holder, sequence: sequence))
        guard !isCommitScheduled else { return }
        isCommitScheduled = true
        // Runs after the IO events of this tick: every command read in it joins the group.
        eventLoop.execute { self.commit() }
    }

    private func commit() {
        isCommitScheduled = false
        guard let highest = waiters.lazy.map(\.position).max() else { return }
        do {
            if leadsRounds, try store.syncIfIdle(highest) {
                release(upTo: highest, .success(()))
            } else if awaitedTicket.map({ $0 < highest }) ?? true {
                awaitedTicket = highest
                let eventLoop = self.eventLoop
                store.whenDurable(highest) { result in
                    eventLoop.execute { self.durabilityReported(highest, result) }
                }
            }
        } catch {
            release(upTo: highest, .failure(error))
        }
    }

    private func durabilityReported(_ ticket: CommitTicket, _ result: Result<Void, StoreError>) {
        if awaitedTicket == ticket { awaitedTicket = nil }
        release(upTo: ticket, result)
        // Replies held after the callback was registered may not be covered by it.
        if !waiters.isEmpty && awaitedTicket == nil && !isCommitScheduled {
            isCommitScheduled = true
            commit()
        }
    }

    /// Reports every waiter whose ticket is at or below `ticket` (all of them on failure).
    private func release(upTo ticket: CommitTicket, _ result: Result<Void, StoreError>) {
        swap(&waiters, &releasing)
        for waiter in releasing {
            if result.isFailure || waiter.position <= ticket {
                waiter.holder.durabilityReported(sequence: waiter.sequence, result: result)
            } else {
                waiters.append(waiter)
            }
        }
        releasing.removeAll(keepingCapacity: true)
    }
}

extension Result {
    fileprivate var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
