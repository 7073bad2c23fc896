import NIOCore

/// Reading command arguments (slices of the request frame) without copying them.
extension ByteBuffer {
    /// Case-insensitive comparison with an ASCII keyword such as "EX".
    func equalsIgnoringCase(_ keyword: StaticString) -> Bool {
        guard readableBytes == keyword.utf8CodeUnitCount else { return false }
        return withUnsafeReadableBytes { bytes in
            keyword.withUTF8Buffer { expected in
                for index in 0..<bytes.count where CommandRegistry.lowercased(bytes[index]) != CommandRegistry.lowercased(expected[index]) {
                    return false
                }
                return true
            }
        }
    }

    /// Strict integer, Redis's `string2ll` rules.
    var integerValue: Int? { RESPInteger.parse(readableBytesView) }

    var bytes: [UInt8] { Array(readableBytesView) }
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }
}
