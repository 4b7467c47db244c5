// swift-tools-version: 6.1
// libFuzzer target for the LISAFS frame decoders. Kept out of the root package so `swift test`
// stays fast; build and run it with `Fuzz/run-lisafs-fuzz [seconds]`.
import PackageDescription

let package = Package(
    name: "LISAFSFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "VFSKit", path: "..")
    ],
    targets: [
        .executableTarget(
            name: "LISAFSFuzz",
            dependencies: [.product(name: "LISAFS", package: "VFSKit")]
        )
    ],
    swiftLanguageModes: [.v6]
)
