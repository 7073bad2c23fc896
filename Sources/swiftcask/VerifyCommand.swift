import ArgumentParser
import Swiftcask

/// `swiftcask verify [--repair]`: CRC-checks every record and hint of a closed store.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record and hint file; with --repair, cut damaged segments at their first bad record.",
        discussion: """
            Prints one line per segment file. On damage it names the file and the byte offset and exits \
            with status 1. --repair first prints what it will drop, then truncates each damaged segment \
            at that offset and removes unusable hints, then verifies again (exit status 0 when clean).
            """)

    /// Repair passes before giving up (each cut can expose at most one more problem).
    static let repairPassesMax = 3

    @OptionGroup var location: StoreLocation
    @Flag(help: "Truncate damaged segments at their first bad record and remove unusable hints.") var repair = false

    func run() throws {
        try location.requireExisting()
        let report = try ProgressBar.spinning("verifying") { try Store.verify(directory: location.dir) }
        Self.printReport(report)
        if report.isHealthy {
            print("OK: \(report.segments.count) segments, \(Formatting.grouped(report.segments.reduce(0) { $0 + $1.records })) records verified")
            return
        }
        guard repair else {
            print("DAMAGED: run `swiftcask verify --repair --dir \(location.dir)` to cut the damaged segments at the offsets above (back up the directory first)")
            throw CLIFailure(nil, status: .negativeAnswer)
        }
        var damaged = report
        // A cut can expose more damage behind it (a batch left without its end record), so
        // repair until clean, within a bound.
        for _ in 1...Self.repairPassesMax {
            for segment in damaged.segments where !segment.isHealthy {
                let offset = segment.damageOffset ?? segment.validBytes
                print("repair: truncating \(segment.path) at offset \(offset), dropping \(Formatting.grouped(segment.fileBytes - offset)) bytes")
            }
            for segment in damaged.segments where segment.isHealthy && segment.hint != "ok" && segment.hint != "missing" {
                print("repair: removing the hint of \(segment.path) (\(segment.hint))")
            }
            _ = try ProgressBar.spinning("repairing") { try Store.verify(directory: location.dir, repair: true) }
            damaged = try ProgressBar.spinning("verifying") { try Store.verify(directory: location.dir) }
            if damaged.isHealthy {
                print("repaired: \(damaged.segments.count) segments, \(Formatting.grouped(damaged.segments.reduce(0) { $0 + $1.records })) records verify clean")
                return
            }
            Self.printReport(damaged)
        }
        throw CLIFailure("the directory still fails verification after \(Self.repairPassesMax) repair passes", status: .negativeAnswer)
    }

    static func printReport(_ report: VerificationReport) {
        for segment in report.segments {
            var line = "\(segment.path): \(Formatting.grouped(segment.records)) records, \(Formatting.grouped(segment.validBytes)) of \(Formatting.grouped(segment.fileBytes)) bytes valid, hint \(segment.hint)"
            if let damage = segment.damage {
                line += "; DAMAGED at offset \(segment.damageOffset ?? segment.validBytes): \(damage)"
            }
            print(line)
        }
    }
}
