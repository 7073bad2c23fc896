import Logging
import Synchronization

/// Log handler whose level CONFIG SET loglevel can change while the server runs.
struct LevelFilteredLogHandler: LogHandler {
    /// Shared by every copy of the logger, so one change reaches them all.
    final class Level: Sendable {
        let value: Mutex<Logger.Level>
        init(_ level: Logger.Level) { value = Mutex(level) }
    }

    let level: Level
    var wrapped: StreamLogHandler

    var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    var logLevel: Logger.Level {
        get { level.value.withLock { $0 } }
        set { level.value.withLock { $0 = newValue } }
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    func log(event: LogEvent) {
        wrapped.log(event: event)
    }
}
