/// redis.conf-style configuration: `name value…` lines, `#` comments, optional quotes.
public enum ConfigFile {
    /// Largest config file read, a bound on memory and on loop iterations.
    public static let bytesMax = 1024 * 1024

    /// Applies every line of `text` to `configuration`; errors name the line.
    public static func apply(_ text: String, to configuration: inout ServerConfiguration) throws(ConfigError) {
        guard text.utf8.count <= bytesMax else { throw ConfigError("config file is larger than \(bytesMax) bytes") }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let name: Substring
            let value: Substring
            if let space = line.firstIndex(where: { $0 == " " || $0 == "\t" }) {
                name = line[..<space]
                value = line[space...].trimmingWhitespace()
            } else {
                name = line
                value = ""
            }
            guard let parameter = ConfigParameter.named(String(name)) else {
                if ConfigParameter.compatibilityValue(named: name) != nil { continue }
                throw ConfigError("line \(number + 1): unknown option '\(name)'")
            }
            do {
                try parameter.apply(unquoted(value), to: &configuration)
            } catch {
                throw ConfigError("line \(number + 1): \(error.description)")
            }
        }
    }

    private static func unquoted(_ value: Substring) -> String {
        if value.count >= 2, let first = value.first, first == value.last, first == "\"" || first == "'" {
            return String(value.dropFirst().dropLast())
        }
        return String(value)
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first.isWhitespace { result.removeFirst() }
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return result
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> Substring { self[...].trimmingWhitespace() }
}
