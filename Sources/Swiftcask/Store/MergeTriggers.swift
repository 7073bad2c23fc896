/// When the maintenance thread starts a merge on its own: both thresholds must be met. Set at
/// open from `StoreOptions` and adjustable while the store runs (`Store.setMergeTriggers`),
/// as Redis's `auto-aof-rewrite-*` settings are.
public struct MergeTriggers: Sendable, Equatable {
    /// False: merges run only when asked for (`merge()`, `requestMerge()`).
    public var isEnabled: Bool
    /// Dead bytes as a fraction of the sealed segments' bytes, in (0, 1].
    public var deadRatio: Double
    /// Dead bytes at least, so small stores are not rewritten for nothing.
    public var deadBytes: Int

    public init(isEnabled: Bool, deadRatio: Double, deadBytes: Int) {
        self.isEnabled = isEnabled
        self.deadRatio = deadRatio
        self.deadBytes = deadBytes
    }

    func validate() throws(StoreError) {
        guard deadRatio > 0 && deadRatio <= 1 else {
            throw StoreError(.invalidOptions, "mergeTriggerDeadRatio must be in (0, 1], got \(deadRatio)")
        }
        guard deadBytes >= 0 else {
            throw StoreError(.invalidOptions, "mergeTriggerDeadBytes must not be negative, got \(deadBytes)")
        }
    }

    /// Whether sealed segments holding `dead` of `total` bytes pass both thresholds (whether
    /// automatic merges are enabled at all is `isEnabled`).
    func thresholdsAreMet(deadBytes dead: Int, totalBytes total: Int) -> Bool {
        total > 0 && dead >= deadBytes && Double(dead) >= Double(total) * deadRatio
    }
}
