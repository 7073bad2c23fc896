import ArgumentParser
import Swiftcask

/// `swiftcask dump [--out FILE] [--db N]`: every key as a RESP `SET` command, a stream that
/// `swiftcask load` and `redis-cli --pipe` both accept.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write every key as RESP commands (SELECT n, SET key value [PXAT ms]).",
        discussion: """
            The stream is what Redis clients send, so it loads into swiftcask (`swiftcask load`), a \
            swiftcask-server or a redis-server (`redis-cli --pipe < FILE`). Keys with a time to live \
            carry it as an absolute PXAT time. Databases other than 0 are introduced by SELECT.
            """)

    /// Keys asked of the engine per SCAN step.
    static let keysPerStep = 1024

    @OptionGroup var location: StoreLocation
    @Option(help: "Write to this file instead of standard output.") var out: String?
    @Option(help: "Only this database (default: all).") var db: Int?

    func validate() throws {
        if let db { try DatabaseMap.validate(db) }
    }

    func run() throws {
        let output = try out.map(FileOutput.create) ?? FileOutput.standardOutput()
        let writer = RESPStreamWriter(output: output)
        let written = try location.withStore { store in
            let databases = try DatabaseMap(store: store).populatedDatabases(of: store).filter { db == nil || $0.database == db }
            let progress = ProgressBar("dumping", total: databases.reduce(0) { $0 + store.count(in: $1.keyspace) }, unit: " keys")
            defer { progress.finish() }
            var written = 0
            var selected = 0
            for (database, keyspace) in databases {
                if database != selected {
                    try writer.command("SELECT", String(database))
                    selected = database
                }
                var cursor: UInt64 = 0
                repeat {
                    let step = store.scan(in: keyspace, cursor: cursor, count: Self.keysPerStep)
                    for key in step.keys {
                        if try Self.writeSet(key, in: keyspace, of: store, to: writer) { written += 1 }
                        progress.advance()
                    }
                    cursor = step.nextCursor
                } while cursor != 0
            }
            return written
        }
        try output.close()
        if let out { print("dumped \(Formatting.grouped(written)) keys to \(out)") }
    }

    /// `SET key value [PXAT ms]`, the value lent from the engine's map; false when the key
    /// expired since the scan saw it.
    static func writeSet(_ key: [UInt8], in keyspace: Keyspace, of store: Store, to writer: RESPStreamWriter) throws -> Bool {
        guard let info = store.info(forKey: key, in: keyspace) else { return false }
        let written: Void? = try store.withValue(forKey: key, in: keyspace) { value in
            try writer.beginCommand(arguments: info.expiresAtMillis == nil ? 3 : 5)
            try writer.argument("SET")
            try writer.argument(key)
            try writer.argument(value)
            if let expiresAtMillis = info.expiresAtMillis {
                try writer.argument("PXAT")
                try writer.argument(String(expiresAtMillis))
            }
        }
        return written != nil
    }
}
