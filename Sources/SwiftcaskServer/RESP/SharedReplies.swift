/// Precomputed reply bytes, built once (Redis's `shared` object): small integers and
/// aggregate/bulk headers, so hot replies are a single copy into the output buffer. Written
/// through `withUnsafeBytes` on the element: passing `integers[n]` itself copied the array out,
/// a retain and a release per reply.
enum SharedReplies {
    /// Integers `0..<integerCountMax` and headers up to this length are precomputed.
    static let integerCountMax = 10_000
    static let headerLengthMax = 64

    static let integers: [[UInt8]] = (0..<integerCountMax).map { Array(":\($0)\r\n".utf8) }
    static let bulkHeaders: [[UInt8]] = (0..<headerLengthMax).map { Array("$\($0)\r\n".utf8) }
    static let arrayHeaders: [[UInt8]] = (0..<headerLengthMax).map { Array("*\($0)\r\n".utf8) }
}
