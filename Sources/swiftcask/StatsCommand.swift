import ArgumentParser
import Swiftcask

/// `swiftcask stats`: what the store holds and what it costs, on disk and in memory.
struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Show keys, segments, live and dead bytes, index memory and space amplification.")

    @OptionGroup var location: StoreLocation

    func run() throws {
        let lines = try location.withStore { store in
            let statistics = store.statistics
            let databases = try DatabaseMap(store: store).populatedDatabases(of: store)
            var lines: [(String, String)] = [
                ("directory", location.dir),
                ("keys", Formatting.grouped(statistics.keys)),
            ]
            for (database, keyspace) in databases {
                lines.append(("  db\(database)", Formatting.grouped(store.count(in: keyspace))))
            }
            let indexBytesPerKey = statistics.keys > 0 ? Double(statistics.indexBytes) / Double(statistics.keys) : 0
            lines += [
                ("segments", Formatting.grouped(statistics.segmentCount)),
                ("disk bytes", Formatting.bytes(statistics.diskBytes)),
                ("live bytes", Formatting.bytes(statistics.liveBytes)),
                ("dead bytes", Formatting.bytes(statistics.deadBytes)),
                ("space amplification", Formatting.fixed(statistics.spaceAmplification, digits: 2)),
                ("index memory", Formatting.bytes(statistics.indexBytes) + ", \(Formatting.fixed(indexBytesPerKey, digits: 1)) bytes a key"),
                ("opened from hints", "\(statistics.segmentsLoadedFromHints) segments (\(statistics.segmentsScanned) scanned)"),
                ("io backend", statistics.ioBackendName),
            ]
            return lines
        }
        let width = lines.map(\.0.count).max() ?? 0
        for (name, value) in lines {
            print(name + String(repeating: " ", count: width - name.count) + "  " + value)
        }
    }
}
