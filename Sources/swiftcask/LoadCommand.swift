import ArgumentParser
import Swiftcask

/// `swiftcask load [--in FILE]`: applies a RESP command stream (what `dump` writes).
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Apply a stream of RESP commands (as `dump` writes) from standard input or a file.",
        discussion: """
            Understands SET (EX, PX, EXAT, PXAT, KEEPTTL, NX, XX, GET), MSET, DEL, UNLINK, SELECT, \
            EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST, FLUSHDB, FLUSHALL and PING; any other command \
            (or malformed input) stops the load with its offset, keeping every command before it. \
            Writes are applied in batches and fsynced at the end; creates the data directory when it \
            does not exist.
            """)

    @OptionGroup var location: StoreLocation
    @Option(name: .customLong("in"), help: "Read this file instead of standard input.") var input: String?

    func run() throws {
        let source = try input.map(FileInput.open) ?? FileInput.standardInput()
        var reader = RESPStreamReader(input: source)
        let summary = try location.withStore(createIfMissing: true, durability: .no) { store in
            var loader = try StreamLoader(store: store)
            let progress = ProgressBar("loading", total: source.sizeBytes, unit: " bytes")
            defer { progress.finish() }
            do {
                while true {
                    let offset = reader.offset
                    guard let command = try reader.next() else { break }
                    do {
                        try loader.apply(command)
                    } catch let failure as CLIFailure {
                        throw CLIFailure("\(source.name): command at offset \(offset): \(failure.message ?? "failed")")
                    }
                    progress.advance(by: reader.offset - offset)
                }
            } catch {
                // Every command before the bad one stays applied, as with redis-cli --pipe.
                try? loader.finish()
                throw error
            }
            try loader.finish()
            return loader.summary
        }
        print("loaded \(summary) from \(source.name)")
    }
}
