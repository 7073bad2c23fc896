// swift-tools-version: 6.1
// libFuzzer targets for Swiftcask's decoders. A separate package so that `-sanitize=fuzzer`
// (which replaces `main` with libFuzzer's) never touches the main build. Build and run with
// `Fuzz/run.sh [seconds-per-target]`; it builds in debug so `@testable import` reaches the
// engine's internal codecs.
import Foundation
import PackageDescription

// A path dependency's identity is its directory name, whatever the checkout is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let rootIdentity = root.lastPathComponent.lowercased()

let package = Package(
    name: "SwiftcaskFuzz",
    dependencies: [
        .package(path: root.path),
    ],
    targets: [
        .executableTarget(
            name: "FuzzRecordDecoder",
            dependencies: [.product(name: "Swiftcask", package: rootIdentity)]
        ),
        .executableTarget(
            name: "FuzzHintFile",
            dependencies: [.product(name: "Swiftcask", package: rootIdentity)]
        ),
        .executableTarget(
            name: "FuzzRESPDecoder",
            dependencies: [.product(name: "SwiftcaskServer", package: rootIdentity)]
        ),
    ],
    swiftLanguageModes: [.v6]
)
