// swift-tools-version: 6.1
// VFSKit's benchmarks, a package of their own so the root package does not depend on
// package-benchmark. Run from this directory:
//   swift package --scratch-path ../.build-bench --disable-sandbox benchmark --filter ".* host"
//   (rows are named "<family> <params> <config>"; see Benchmarks/VFSBenchmarks/VFSBenchmarks.swift)
//   swift run -c release inode-memory          (bytes per inode, 1,000,000 empty files)
import PackageDescription

let package = Package(
    name: "VFSKitBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "VFSBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "VFSCore", package: "main"),
                .product(name: "TmpfsBackend", package: "main"),
                .product(name: "Syscalls", package: "main"),
                .product(name: "GoferBackend", package: "main"),
                .product(name: "GoferServer", package: "main"),
                .product(name: "HostBackend", package: "main"),
            ],
            path: "Benchmarks/VFSBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "inode-memory",
            dependencies: [
                .product(name: "VFSCore", package: "main"),
                .product(name: "TmpfsBackend", package: "main"),
                .product(name: "Syscalls", package: "main"),
            ],
            path: "Sources/InodeMemory"
        ),
    ],
    swiftLanguageModes: [.v6]
)
