import Foundation
import Swiftcask

/// Applies Redis write commands to a store in atomic batches, for `swiftcask load`.
struct StreamLoader {
    /// Operations gathered before a batch is written.
    static let batchOperationsMax = 1024
    /// Key and value bytes gathered before a batch is written: well inside a segment.
    static let batchPayloadBytesMax = 4 * 1024 * 1024

    private let store: Store
    private let databases: DatabaseMap
    private var keyspace: Keyspace
    private var batch = WriteBatch()
    private var batchPayloadBytes = 0
    private var commands = 0
    private var keysSet = 0
    private var keysDeleted = 0

    init(store: Store) throws {
        self.store = store
        databases = try DatabaseMap(store: store)
        keyspace = databases.keyspace(ofDatabase: 0)
    }

    var summary: String {
        "\(Formatting.grouped(commands)) commands (\(Formatting.grouped(keysSet)) keys set, \(Formatting.grouped(keysDeleted)) deleted)"
    }

    mutating func apply(_ arguments: [[UInt8]]) throws {
        let name = String(decoding: arguments[0], as: UTF8.self).uppercased()
        let rest = arguments.dropFirst()
        commands += 1
        switch name {
        case "SET":
            try set(rest)
        case "MSET":
            guard !rest.isEmpty && rest.count % 2 == 0 else { throw Self.arity(name) }
            for pair in stride(from: rest.startIndex, to: rest.endIndex, by: 2) {
                try put(rest[pair], rest[pair + 1], expiresAtMillis: nil)
            }
        case "DEL", "UNLINK":
            guard !rest.isEmpty else { throw Self.arity(name) }
            for key in rest { try delete(key) }
        case "SELECT":
            guard rest.count == 1 else { throw Self.arity(name) }
            let database = try Self.integer(rest.first!, "database number")
            guard (0...DatabaseMap.databaseMax).contains(database) else {
                throw CLIFailure("database \(database) is out of range: databases are 0...\(DatabaseMap.databaseMax)")
            }
            keyspace = databases.keyspace(ofDatabase: database)
        case "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT":
            guard rest.count == 2 else { throw Self.arity(name) }
            let time = try Self.integer(rest.last!, "expire time")
            let expiresAtMillis = Self.absoluteMillis(time, isMillis: name.hasPrefix("P"), isAbsolute: name.hasSuffix("AT"))
            let key = rest.first!
            // Redis deletes a key whose new expiry is already past.
            if expiresAtMillis <= Self.nowMillis() {
                try delete(key)
            } else {
                try setExpiry(key, expiresAtMillis)
            }
        case "PERSIST":
            guard rest.count == 1 else { throw Self.arity(name) }
            try setExpiry(rest.first!, nil)
        case "FLUSHDB":
            try writeBatch()
            try store.removeAll(in: keyspace)
        case "FLUSHALL":
            try writeBatch()
            for database in 0...DatabaseMap.databaseMax {
                let keyspace = databases.keyspace(ofDatabase: database)
                if store.count(in: keyspace) > 0 { try store.removeAll(in: keyspace) }
            }
        case "PING":
            break
        default:
            throw CLIFailure("unsupported command '\(Formatting.printable(arguments[0]))' (load applies SET, MSET, DEL, UNLINK, SELECT, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST, FLUSHDB, FLUSHALL and PING)")
        }
    }

    /// Writes what is pending and fsyncs everything.
    mutating func finish() throws {
        try writeBatch()
        try store.sync()
    }

    /// SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
    private mutating func set(_ arguments: ArraySlice<[UInt8]>) throws {
        guard arguments.count >= 2 else { throw Self.arity("SET") }
        let key = arguments[arguments.startIndex]
        let value = arguments[arguments.startIndex + 1]
        var expiresAtMillis: Int64?
        var condition: String?
        var keepsTTL = false
        var index = arguments.startIndex + 2
        while index < arguments.endIndex {
            let option = String(decoding: arguments[index], as: UTF8.self).uppercased()
            switch option {
            case "NX", "XX":
                guard condition == nil else { throw CLIFailure("syntax error in SET: NX and XX together") }
                condition = option
            case "GET":
                break
            case "KEEPTTL":
                keepsTTL = true
            case "EX", "PX", "EXAT", "PXAT":
                guard expiresAtMillis == nil, index + 1 < arguments.endIndex else { throw CLIFailure("syntax error in SET near \(option)") }
                index += 1
                let time = try Self.integer(arguments[index], "expire time")
                guard time > 0 else { throw CLIFailure("invalid expire time in SET: \(time)") }
                expiresAtMillis = Self.absoluteMillis(time, isMillis: option.hasPrefix("P"), isAbsolute: option.hasSuffix("AT"))
            default:
                throw CLIFailure("syntax error in SET: unknown option '\(Formatting.printable(arguments[index]))'")
            }
            index += 1
        }
        guard !(keepsTTL && expiresAtMillis != nil) else { throw CLIFailure("syntax error in SET: KEEPTTL with an expire time") }
        if condition != nil || keepsTTL {
            // These read the key, so what is pending must be in the store first.
            try writeBatch()
            let existing = store.info(forKey: key, in: keyspace)
            if condition == "NX" && existing != nil || condition == "XX" && existing == nil { return }
            if keepsTTL { expiresAtMillis = existing?.expiresAtMillis }
        }
        try put(key, value, expiresAtMillis: expiresAtMillis)
    }

    private mutating func put(_ key: [UInt8], _ value: [UInt8], expiresAtMillis: Int64?) throws {
        batch.put(key, value, expiresAtMillis: expiresAtMillis, in: keyspace)
        keysSet += 1
        try added(payloadBytes: key.count + value.count)
    }

    private mutating func delete(_ key: [UInt8]) throws {
        batch.delete(key, in: keyspace)
        try added(payloadBytes: key.count)
    }

    private mutating func setExpiry(_ key: [UInt8], _ expiresAtMillis: Int64?) throws {
        batch.setExpiry(key, expiresAtMillis: expiresAtMillis, in: keyspace)
        try added(payloadBytes: key.count)
    }

    /// Writes the batch once it is full, so memory stays bounded whatever the stream's length.
    private mutating func added(payloadBytes: Int) throws {
        batchPayloadBytes += payloadBytes
        if batch.count >= Self.batchOperationsMax || batchPayloadBytes >= Self.batchPayloadBytesMax { try writeBatch() }
    }

    private mutating func writeBatch() throws {
        guard !batch.isEmpty else { return }
        keysDeleted += try store.write(batch).deletedCount
        batch.removeAll()
        batchPayloadBytes = 0
    }

    private static func arity(_ name: String) -> CLIFailure {
        CLIFailure("wrong number of arguments for '\(name.lowercased())'")
    }

    private static func integer(_ bytes: [UInt8], _ what: String) throws -> Int {
        guard let value = RESPStreamReader.integer(bytes[...]) else {
            throw CLIFailure("\(what) is not an integer: \(Formatting.printable(bytes))")
        }
        return value
    }

    private static func nowMillis() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }

    /// Unix milliseconds from a Redis time argument (relative or absolute, seconds or ms).
    private static func absoluteMillis(_ time: Int, isMillis: Bool, isAbsolute: Bool) -> Int64 {
        let millis = Int64(time) * (isMillis ? 1 : 1000)
        return isAbsolute ? millis : nowMillis() + millis
    }
}
