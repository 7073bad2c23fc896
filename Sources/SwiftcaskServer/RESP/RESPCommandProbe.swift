/// The server's per-command argument handling (`CommandArguments.load`), opened to the
/// package-benchmark suite only (`@_spi(Benchmarks)`) so its cost and allocations can be gated
/// on their own.
@_spi(Benchmarks)
public struct RESPCommandProbe {
    private var arguments = CommandArguments(reservingCapacity: 4)

    public init() {}

    /// Takes `command` apart as a session does before dispatching it; returns its argument count.
    public mutating func load(_ command: inout RESPCommand) -> Int {
        arguments.load(&command)
        return arguments.count
    }
}
