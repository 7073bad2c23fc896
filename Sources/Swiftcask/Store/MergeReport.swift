/// What a merge did.
public struct MergeReport: Sendable, CustomStringConvertible {
    public var inputSegments: Int
    /// Inputs whose records to check came from their hint files (the others were scanned).
    public var inputSegmentsListedByHints: Int
    public var outputSegments: Int
    /// Bytes of the input segment files.
    public var bytesBefore: Int
    /// Bytes of the output segment files.
    public var bytesAfter: Int
    public var recordsCopied: Int
    /// Copies that a concurrent write made obsolete before the switch (dead on arrival).
    public var recordsSupersededDuringMerge: Int
    public var seconds: Double

    public var reclaimedBytes: Int { bytesBefore - bytesAfter }

    public var description: String {
        "\(inputSegments) segments (\(bytesBefore) bytes, \(inputSegmentsListedByHints) listed by hints) -> \(outputSegments) segments (\(bytesAfter) bytes), \(recordsCopied) records copied, \(reclaimedBytes) bytes reclaimed in \(Int(seconds * 1000)) ms"
    }
}

/// Steps of a merge at which tests stop it, as a crash there would.
enum MergeStep: Sendable, CaseIterable {
    /// Outputs and their hints written under temporary names.
    case outputsWritten
    /// Outputs renamed into place; inputs still present; the index not switched.
    case outputsCommitted
    /// Index switched, the oldest input deleted, the others not.
    case firstInputDeleted
    /// Every input deleted.
    case inputsDeleted
}
