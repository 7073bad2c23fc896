/// Global counters for INFO stats and errorstats, merged from each session once per read batch.
struct ServerCounters: Sendable {
    var totalConnectionsReceived = 0
    var totalCommandsProcessed = 0
    var rejectedConnections = 0
    var keyspaceHits = 0
    var keyspaceMisses = 0
    var inputBytes = 0
    var outputBytes = 0
    var errorReplies = 0
    /// Error replies by code (ERR, WRONGTYPE, EXECABORT, …): INFO errorstats.
    var errorRepliesByCode: [String: Int] = [:]

    /// Distinct error codes tracked at most (Redis 7.2's ERROR_STATS_NUMBER); replies with a
    /// code beyond them still count in `errorReplies`.
    static let errorCodesMax = 128
    /// How far into an error text its code may end, as in Redis (32 bytes with the leading '-').
    static let errorCodeSearchBytes = 31

    /// Counts one error reply under its code.
    mutating func recordError(_ text: String) {
        errorReplies += 1
        add(Self.errorCode(of: text), 1)
    }

    /// Redis's rule: the text up to its first space, if that comes early enough; else ERR.
    static func errorCode(of text: String) -> String {
        guard let space = text.utf8.prefix(errorCodeSearchBytes).firstIndex(of: UInt8(ascii: " ")) else { return "ERR" }
        return String(text[..<space])
    }

    private mutating func add(_ code: String, _ count: Int) {
        if errorRepliesByCode[code] == nil && errorRepliesByCode.count >= Self.errorCodesMax { return }
        errorRepliesByCode[code, default: 0] += count
    }

    /// Adds a session's counters to these and zeroes them: the per-batch publication. Taking
    /// them `inout` copies nothing (passed by value they were copied, dictionary retained).
    mutating func absorb(_ session: inout ServerCounters) {
        merge(session)
        session = ServerCounters()
    }

    mutating func merge(_ other: ServerCounters) {
        totalConnectionsReceived += other.totalConnectionsReceived
        totalCommandsProcessed += other.totalCommandsProcessed
        rejectedConnections += other.rejectedConnections
        keyspaceHits += other.keyspaceHits
        keyspaceMisses += other.keyspaceMisses
        inputBytes += other.inputBytes
        outputBytes += other.outputBytes
        errorReplies += other.errorReplies
        for (code, count) in other.errorRepliesByCode { add(code, count) }
    }
}
