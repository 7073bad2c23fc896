// swift-tools-version: 6.1
// The benchmark package: `swiftcask-bench` (the embedded-engine benchmark behind `make bench`).
// A package of its own so the engine's package never depends on benchmark tooling; it builds
// into Benchmarks/.build, never into the root .build.
import PackageDescription

let package = Package(
    name: "SwiftcaskBenchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "swiftcask-bench", targets: ["swiftcask-bench"]),
    ],
    dependencies: [
        .package(name: "Swiftcask", path: ".."),
    ],
    targets: [
        // Counts malloc/calloc/realloc/posix_memalign/aligned_alloc/free by interposing them in
        // the executable (forwarding to glibc's __libc_* entry points). No logic beyond counting.
        .target(name: "CMallocCounter"),
        .executableTarget(
            name: "swiftcask-bench",
            dependencies: [
                "CMallocCounter",
                .product(name: "Swiftcask", package: "Swiftcask"),
            ],
            linkerSettings: [
                // Export the interposed allocator symbols so shared libraries (libswiftCore,
                // libc++, Foundation) bind to them too.
                .unsafeFlags(["-Xlinker", "--export-dynamic"]),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
