// swift-tools-version: 6.1
// The benchmark package: `swiftcask-bench` (the embedded-engine benchmark behind `make bench`)
// and `EngineBenchmarks` (package-benchmark: malloc counts per operation against the committed
// Thresholds/, checked by `make bench-check`; wall clock reported, not gated).
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
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
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
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Swiftcask", package: "Swiftcask"),
                .product(name: "SwiftcaskServer", package: "Swiftcask"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/EngineBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
