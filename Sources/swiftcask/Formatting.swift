import Foundation

/// Numbers for people: digit grouping, binary units, fixed decimals.
enum Formatting {
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(digit)
        }
        return value < 0 ? "-" + result : result
    }

    /// "12,345,678 bytes (11.8 MiB)"; small sizes without the unit in parentheses.
    static func bytes(_ value: Int) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var scaled = Double(value)
        var unit: String?
        for candidate in units where scaled >= 1024 {
            scaled /= 1024
            unit = candidate
        }
        guard let unit else { return "\(grouped(value)) bytes" }
        return "\(grouped(value)) bytes (\(fixed(scaled, digits: 1)) \(unit))"
    }

    static func fixed(_ value: Double, digits: Int) -> String {
        String(format: "%.\(digits)f", value)
    }

    /// A key or value as text: as-is when it is printable UTF-8, else quoted with escapes the
    /// way redis-cli shows binary strings ("\x00", "\n").
    static func printable(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self),
           !text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) && !text.isEmpty {
            return text
        }
        var quoted = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): quoted += "\\\""
            case UInt8(ascii: "\\"): quoted += "\\\\"
            case UInt8(ascii: "\n"): quoted += "\\n"
            case UInt8(ascii: "\r"): quoted += "\\r"
            case UInt8(ascii: "\t"): quoted += "\\t"
            case 0x20..<0x7F: quoted.unicodeScalars.append(Unicode.Scalar(byte))
            default: quoted += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return quoted + "\""
    }
}
