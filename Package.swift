// swift-tools-version: 6.2
import PackageDescription

// Every piece of mutable engine state is guarded by the store lock or owned by one thread,
// and server session state by its event loop; runtime exclusivity checks cost ~15% of a get or
// put (callgrind) and 12-15% of the server's CPU per request. Debug builds (the tests) keep them.
// Tools version 6.2 or later: below it SwiftPM refuses a version-pinned dependency whose targets
// carry unsafe flags ("contains unsafe build flags"), so no application could depend on a
// release of this package (Tests/integration/test_packaging.py builds one that does).
let releaseWithoutExclusivityChecks: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
]

let package = Package(
    name: "Swiftcask",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Swiftcask", targets: ["Swiftcask"]),
        .library(name: "SwiftcaskServer", targets: ["SwiftcaskServer"]),
        .executable(name: "swiftcask-server", targets: ["swiftcask-server"]),
        .executable(name: "swiftcask", targets: ["swiftcask"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    ],
    targets: [
        // Thin C wrappers: liburing, mmap, fallocate, flock, CRC32C. No logic beyond dispatch.
        .target(
            name: "CShims",
            path: "CShims",
            linkerSettings: [.linkedLibrary("uring")]
        ),
        // The embeddable engine. Never imports NIO.
        .target(
            name: "Swiftcask",
            dependencies: ["CShims", .product(name: "Logging", package: "swift-log")],
            swiftSettings: releaseWithoutExclusivityChecks
        ),
        .target(
            name: "SwiftcaskServer",
            dependencies: [
                "Swiftcask",
                "CShims",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: releaseWithoutExclusivityChecks
        ),
        .executableTarget(
            name: "swiftcask-server",
            dependencies: [
                "SwiftcaskServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "swiftcask",
            dependencies: [
                "Swiftcask",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The README's embedded example, compiled (and run by the tests) so it cannot rot.
        .executableTarget(
            name: "swiftcask-example",
            dependencies: ["Swiftcask"]
        ),
        .testTarget(
            name: "SwiftcaskTests",
            dependencies: ["Swiftcask", "CShims"]
        ),
        .testTarget(
            name: "SwiftcaskServerTests",
            dependencies: [
                "SwiftcaskServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
        // Crash-torture worker for the embedded API (Tests/integration/test_reliability.py).
        .executableTarget(
            name: "swiftcask-torture",
            dependencies: ["Swiftcask", .product(name: "Logging", package: "swift-log")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
