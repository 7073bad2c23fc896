/// Which clients WATCH which keys, so a write can flag their transactions dirty.
/// Keys are per physical keyspace, so SWAPDB cannot make a watch miss a change.
struct WatchRegistry: Sendable {
    struct Key: Hashable, Sendable {
        let keyspace: UInt8
        let bytes: [UInt8]
    }

    private var watchers: [Key: Set<ClientID>] = [:]

    var isEmpty: Bool { watchers.isEmpty }

    mutating func watch(_ key: Key, by client: ClientID) {
        watchers[key, default: []].insert(client)
    }

    mutating func unwatch(_ keys: [Key], by client: ClientID) {
        for key in keys {
            watchers[key]?.remove(client)
            if watchers[key]?.isEmpty == true { watchers[key] = nil }
        }
    }

    func watchers(of key: Key) -> Set<ClientID> { watchers[key] ?? [] }

    func keys(inKeyspace keyspace: UInt8) -> [[UInt8]] {
        watchers.keys.filter { $0.keyspace == keyspace }.map(\.bytes)
    }

    func watchers(inKeyspace keyspace: UInt8) -> Set<ClientID> {
        var result: Set<ClientID> = []
        for (key, clients) in watchers where key.keyspace == keyspace { result.formUnion(clients) }
        return result
    }
}

/// Redis's client id: unique for the process lifetime.
typealias ClientID = UInt64
