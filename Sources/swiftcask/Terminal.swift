import Foundation

/// Standard error and whether it is a terminal (the only place the CLI asks).
enum Terminal {
    /// Progress is drawn only for a person watching: never into a pipe or a log file.
    static let standardErrorIsTerminal = isatty(STDERR_FILENO) == 1

    static func writeError(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
