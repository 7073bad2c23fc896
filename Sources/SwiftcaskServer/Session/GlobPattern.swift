/// Redis's glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^a-z]` and `\` escapes.
/// Iterative with one backtrack point, so time is bounded by pattern × subject length and
/// there is no recursion to blow the stack.
struct GlobPattern {
    let pattern: [UInt8]

    init<C: Collection<UInt8>>(_ pattern: C) {
        self.pattern = Array(pattern)
    }

    /// True when the pattern is `*`: KEYS and SCAN then skip matching entirely.
    var matchesEverything: Bool { pattern == [UInt8(ascii: "*")] }

    func matches(_ subject: [UInt8]) -> Bool {
        // Redis's matcher never reads a pattern against an empty string: only the empty pattern
        // matches it, and `*` through the KEYS and SCAN shortcut; `**` or `*?*` do not.
        guard !subject.isEmpty else { return pattern.isEmpty || matchesEverything }
        var p = 0, s = 0
        var starP = -1, starS = 0
        while s < subject.count {
            if p < pattern.count {
                switch pattern[p] {
                case UInt8(ascii: "*"):
                    while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
                    if p == pattern.count { return true }
                    starP = p
                    starS = s
                    continue
                case UInt8(ascii: "?"):
                    p += 1
                    s += 1
                    continue
                case UInt8(ascii: "["):
                    if let next = matchClass(at: p, byte: subject[s]) {
                        p = next
                        s += 1
                        continue
                    }
                default:
                    var literal = pattern[p]
                    var width = 1
                    if literal == UInt8(ascii: "\\") && p + 1 < pattern.count {
                        literal = pattern[p + 1]
                        width = 2
                    }
                    if literal == subject[s] {
                        p += width
                        s += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            starS += 1
            s = starS
            p = starP
        }
        while p < pattern.count && pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    /// Matches `byte` against the class opening at `start`; returns the index after the class.
    private func matchClass(at start: Int, byte: UInt8) -> Int? {
        var p = start + 1
        let negate = p < pattern.count && pattern[p] == UInt8(ascii: "^")
        if negate { p += 1 }
        var matched = false
        while p < pattern.count && pattern[p] != UInt8(ascii: "]") {
            if pattern[p] == UInt8(ascii: "\\") && p + 1 < pattern.count {
                if pattern[p + 1] == byte { matched = true }
                p += 2
            } else if p + 2 < pattern.count && pattern[p + 1] == UInt8(ascii: "-") {
                // As in Redis, `]` can end a range: `[a-]` is the range from `]` to `a`.
                let low = min(pattern[p], pattern[p + 2])
                let high = max(pattern[p], pattern[p + 2])
                if byte >= low && byte <= high { matched = true }
                p += 3
            } else {
                if pattern[p] == byte { matched = true }
                p += 1
            }
        }
        // An unterminated class ends at the end of the pattern, as in Redis.
        if p < pattern.count { p += 1 }
        return matched != negate ? p : nil
    }
}
