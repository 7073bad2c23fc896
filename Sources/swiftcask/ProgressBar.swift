import Dispatch
import Synchronization

/// A one-line progress display on standard error for long operations. It draws only when
/// standard error is a terminal, so piped or logged runs stay quiet, and at most every
/// `redrawIntervalNanos`, so a loop can report every item (a clock read and a lock: ~50 ns).
final class ProgressBar: Sendable {
    static let redrawIntervalNanos: UInt64 = 100_000_000
    static let barCells = 30

    private struct State {
        var done = 0
        var lastDrawNanos: UInt64 = 0
        var frame = 0
        var isFinished = false
    }

    private let label: String
    /// nil: the amount of work is unknown; a count and a spinner are shown instead.
    private let total: Int?
    private let unit: String
    private let isEnabled: Bool
    private let startNanos = DispatchTime.now().uptimeNanoseconds
    private let state = Mutex(State())

    init(_ label: String, total: Int?, unit: String = "", isEnabled: Bool = Terminal.standardErrorIsTerminal) {
        self.label = label
        self.total = total
        self.unit = unit
        self.isEnabled = isEnabled
    }

    func advance(by count: Int = 1) {
        guard isEnabled else { return }
        state.withLock { state in
            state.done += count
            redrawIfDue(&state)
        }
    }

    /// Clears the line, leaving the terminal as it was.
    func finish() {
        guard isEnabled else { return }
        state.withLock { state in
            guard !state.isFinished else { return }
            state.isFinished = true
            Terminal.writeError("\r\u{1B}[2K")
        }
    }

    /// Runs `body`, whose progress cannot be observed, under a spinner with the elapsed time.
    static func spinning<Result>(_ label: String, _ body: () throws -> Result) rethrows -> Result {
        let bar = ProgressBar(label, total: nil)
        guard bar.isEnabled else { return try body() }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        timer.schedule(deadline: .now(), repeating: .nanoseconds(Int(redrawIntervalNanos)))
        timer.setEventHandler { bar.state.withLock { bar.redrawIfDue(&$0) } }
        timer.resume()
        defer {
            timer.cancel()
            bar.finish()
        }
        return try body()
    }

    private func redrawIfDue(_ state: inout State) {
        let now = DispatchTime.now().uptimeNanoseconds
        guard !state.isFinished, now - state.lastDrawNanos >= Self.redrawIntervalNanos else { return }
        state.lastDrawNanos = now
        state.frame += 1
        let seconds = Formatting.fixed(Double(now - startNanos) / 1e9, digits: 1)
        var line: String
        if let total, total > 0 {
            let fraction = min(1, Double(state.done) / Double(total))
            let filled = Int(fraction * Double(Self.barCells))
            line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: Self.barCells - filled) + "] "
            line += "\(Int(fraction * 100))%  \(Formatting.grouped(state.done))/\(Formatting.grouped(total))\(unit)"
        } else {
            let spinner = Array("|/-\\")
            line = "\(spinner[state.frame % spinner.count]) " + (state.done > 0 ? Formatting.grouped(state.done) + unit : "")
        }
        Terminal.writeError("\r\u{1B}[2K\(label) \(line)  \(seconds) s")
    }
}
