import ArgumentParser
import Swiftcask

/// `swiftcask compact`: a merge of every sealed segment, now.
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Merge the segments now, dropping overwritten, deleted and expired records.",
        discussion: "Prints the merge report and the space before and after.")

    @OptionGroup var location: StoreLocation

    func run() throws {
        try location.withStore { store in
            let before = store.statistics
            let report = try ProgressBar.spinning("compacting") { try store.merge() }
            let after = store.statistics
            print("merged \(report.inputSegments) segments (\(Formatting.bytes(report.bytesBefore))) into \(report.outputSegments) segments (\(Formatting.bytes(report.bytesAfter)))")
            print("listed by hints    \(report.inputSegmentsListedByHints) of \(report.inputSegments) segments (the rest scanned)")
            print("records copied     \(Formatting.grouped(report.recordsCopied))")
            print("bytes reclaimed    \(Formatting.bytes(report.reclaimedBytes))")
            print("duration           \(Formatting.fixed(report.seconds * 1000, digits: 1)) ms")
            print("disk bytes         \(Formatting.bytes(before.diskBytes)) -> \(Formatting.bytes(after.diskBytes))")
            print("dead bytes         \(Formatting.bytes(before.deadBytes)) -> \(Formatting.bytes(after.deadBytes))")
            print("segments           \(before.segmentCount) -> \(after.segmentCount)")
        }
    }
}
