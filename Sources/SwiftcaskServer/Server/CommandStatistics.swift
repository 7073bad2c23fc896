/// Per-command counters for INFO commandstats, indexed like `CommandRegistry.specs`.
struct CommandStatistics: Sendable {
    struct Counters: Sendable {
        var calls = 0
        var micros = 0
        var rejectedCalls = 0
        var failedCalls = 0
    }

    var counters: [Counters]

    init(commandCount: Int) {
        counters = Array(repeating: Counters(), count: commandCount)
    }

    mutating func merge(_ other: CommandStatistics, touched: [Int]) {
        for index in touched {
            counters[index].calls += other.counters[index].calls
            counters[index].micros += other.counters[index].micros
            counters[index].rejectedCalls += other.counters[index].rejectedCalls
            counters[index].failedCalls += other.counters[index].failedCalls
        }
    }

    mutating func reset() {
        for index in counters.indices { counters[index] = Counters() }
    }
}
