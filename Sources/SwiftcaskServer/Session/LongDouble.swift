import Glibc

/// INCRBYFLOAT's number as Redis handles it: a C `long double` (80-bit on x86-64) read with
/// `strtold` and printed with `%.17Lf` less its trailing zeros, so 0.1 + 0.2 reads "0.3" and
/// 1.7e308 + 1.7e308 is still finite, exactly as in Redis.
enum LongDouble {
    #if arch(x86_64) || arch(i386)
    typealias Value = Float80
    #else
    typealias Value = Double
    #endif

    /// Redis's MAX_LONG_DOUBLE_CHARS: longer arguments are not numbers, and every finite value
    /// prints within it.
    static let textBytesMax = 5 * 1024

    /// Redis's `string2ld`: the whole text is the number (no leading space, nothing after it),
    /// not NaN, and it neither overflows nor underflows to zero.
    static func parse<C: Collection<UInt8>>(_ bytes: C) -> Value? {
        guard !bytes.isEmpty, bytes.count < textBytesMax else { return nil }
        var text = bytes.map { CChar(bitPattern: $0) }
        text.append(0)
        guard isspace(Int32(text[0])) == 0 else { return nil }
        return text.withUnsafeBufferPointer { buffer -> Value? in
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            #if arch(x86_64) || arch(i386)
            let value = strtold(buffer.baseAddress!, &end)
            #else
            let value = strtod(buffer.baseAddress!, &end)
            #endif
            // Every byte must be read: an embedded NUL ends `strtold` early, and Redis rejects that.
            guard let end, UnsafePointer(end) == buffer.baseAddress! + (buffer.count - 1),
                  errno != EINVAL, !value.isNaN else { return nil }
            if errno == ERANGE && (value.isInfinite || value == 0) { return nil }
            return value
        }
    }

    /// Redis's `ld2string` in human mode, for a finite value.
    static func format(_ value: Value) -> String {
        var buffer = [CChar](repeating: 0, count: textBytesMax)
        #if arch(x86_64) || arch(i386)
        let format = "%.17Lf"
        #else
        let format = "%.17f"
        #endif
        let written = withVaList([value]) { vsnprintf(&buffer, buffer.count, format, $0) }
        var digits = buffer[..<min(Int(written), buffer.count - 1)].map { UInt8(bitPattern: $0) }
        if digits.contains(UInt8(ascii: ".")) {
            while digits.last == UInt8(ascii: "0") { digits.removeLast() }
            if digits.last == UInt8(ascii: ".") { digits.removeLast() }
        }
        if digits == Array("-0".utf8) { digits = [UInt8(ascii: "0")] }
        return String(decoding: digits, as: UTF8.self)
    }
}
