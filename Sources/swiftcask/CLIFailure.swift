import Foundation
import Swiftcask

/// Why a subcommand stopped: a message for people (nil when the exit status says it all) and
/// the exit status for scripts.
struct CLIFailure: Error {
    /// Exit statuses, grep-style: a negative answer is not an error.
    enum Status: Int32 {
        /// `get` found no such key; `verify` found damage.
        case negativeAnswer = 1
        /// The operation failed; the message says why.
        case error = 2
    }

    var message: String?
    var status: Status

    init(_ message: String?, status: Status = .error) {
        self.message = message
        self.status = status
    }

    /// An engine error, with advice where the engine's message calls for an action here.
    init(_ error: StoreError) {
        switch error.code {
        case .directoryLocked:
            self.init(error.message + " (a swiftcask-server serving it? talk to it with redis-cli instead)")
        case .corruptData:
            self.init(error.message + ". `swiftcask verify --repair` cuts a damaged segment at its first bad record.")
        default:
            self.init(error.message)
        }
    }

    func exit() -> Never {
        if let message { Terminal.writeError("swiftcask: \(message)\n") }
        Foundation.exit(status.rawValue)
    }
}
