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

    /// Redis's `string2ld`-like parsing: finite decimal or exponent notation, `inf` allowed.
    var doubleValue: Double? {
        guard readableBytes > 0, readableBytes <= 5 * 1024 else { return nil }
        let text = String(decoding: readableBytesView, as: UTF8.self)
        if text.first == " " || text.last == " " { return nil }
        switch text.lowercased() {
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: break
        }
        guard let value = Double(text), !value.isNaN else { return nil }
        return value
    }

    var bytes: [UInt8] { Array(readableBytesView) }
    var text: String { String(decoding: readableBytesView, as: UTF8.self) }
}
