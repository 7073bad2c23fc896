// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Swiftcask",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Swiftcask", targets: ["Swiftcask"]),
        .executable(name: "swiftcask", targets: ["swiftcask"]),
    ],
    dependencies: [
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
            dependencies: ["CShims", .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "swiftcask",
            dependencies: [
                "Swiftcask",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "SwiftcaskTests",
            dependencies: ["Swiftcask", "CShims"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
