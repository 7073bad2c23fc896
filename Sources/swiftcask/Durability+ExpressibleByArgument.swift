import ArgumentParser
import Swiftcask

/// `--durability always|everysec|no`, by the engine's (Redis's) names.
extension Durability: ExpressibleByArgument {}
