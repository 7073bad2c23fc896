/// Global counters for INFO stats, merged from each session once per read batch.
struct ServerCounters: Sendable {
    var totalConnectionsReceived = 0
    var totalCommandsProcessed = 0
    var rejectedConnections = 0
    var keyspaceHits = 0
    var keyspaceMisses = 0
    var inputBytes = 0
    var outputBytes = 0
    var errorReplies = 0

    mutating func merge(_ other: ServerCounters) {
        totalConnectionsReceived += other.totalConnectionsReceived
        totalCommandsProcessed += other.totalCommandsProcessed
        rejectedConnections += other.rejectedConnections
        keyspaceHits += other.keyspaceHits
        keyspaceMisses += other.keyspaceMisses
        inputBytes += other.inputBytes
        outputBytes += other.outputBytes
        errorReplies += other.errorReplies
    }
}
