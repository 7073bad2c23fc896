/// Per-command counters for INFO commandstats, indexed like `CommandRegistry.specs`: the
/// server's totals, and each session's own since it last published them.
struct CommandStatistics: Sendable {
    struct Counters: Sendable {
        var calls = 0
        var micros = 0
        var rejectedCalls = 0
        var failedCalls = 0
    }

    private(set) var counters: [Counters]
    /// Indexes whose counters are not zero in a session's statistics, so publishing them
    /// visits only the commands the batch ran.
    private(set) var touched: [Int] = []

    init(commandCount: Int) {
        counters = Array(repeating: Counters(), count: commandCount)
    }

    /// Counts one call of the command at `index` that ran for `micros`.
    mutating func recordCall(at index: Int, micros: Int, failed: Bool) {
        touch(index)
        counters[index].calls += 1
        counters[index].micros += micros
        if failed { counters[index].failedCalls += 1 }
    }

    /// Counts a call refused before it ran (unknown arity, authentication): Redis's rejected_calls.
    mutating func recordRejection(at index: Int) {
        touch(index)
        counters[index].rejectedCalls += 1
    }

    private mutating func touch(_ index: Int) {
        if counters[index].calls == 0 && counters[index].rejectedCalls == 0 { touched.append(index) }
    }

    /// Adds a session's counters to these totals and zeroes them, in place: nothing is copied
    /// or allocated per batch.
    mutating func absorb(_ session: inout CommandStatistics) {
        for index in session.touched {
            counters[index].calls += session.counters[index].calls
            counters[index].micros += session.counters[index].micros
            counters[index].rejectedCalls += session.counters[index].rejectedCalls
            counters[index].failedCalls += session.counters[index].failedCalls
            session.counters[index] = Counters()
        }
        session.touched.removeAll(keepingCapacity: true)
    }

    mutating func reset() {
        for index in counters.indices { counters[index] = Counters() }
        touched.removeAll(keepingCapacity: true)
    }
}
