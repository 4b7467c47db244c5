// swift-tools-version: 6.1
// libFuzzer targets: the LISAFS frame decoders (`Fuzz/run-lisafs-fuzz [seconds]`), the gofer
// server facing a hostile client on its socket (`Fuzz/run-gofer-server-fuzz [seconds]`) and on a
// flipcall channel's shared window (`Fuzz/run-gofer-channel-fuzz [seconds]`). Kept out of the
// root package so `swift test` stays fast.
import PackageDescription

let package = Package(
    name: "LISAFSFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "VFSKit", path: "..")
    ],
    targets: [
        // What the fuzzers share: libFuzzer's driver, the gofer fuzzers' served scratch tree.
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "GoferServer", package: "VFSKit")]
        ),
        .executableTarget(
            name: "LISAFSFuzz",
            dependencies: ["FuzzSupport", .product(name: "LISAFS", package: "VFSKit")]
        ),
        .executableTarget(
            name: "GoferServerFuzz",
            dependencies: [
                "FuzzSupport",
                .product(name: "LISAFS", package: "VFSKit"),
                .product(name: "GoferServer", package: "VFSKit"),
            ]
        ),
        .executableTarget(
            name: "GoferChannelFuzz",
            dependencies: [
                "FuzzSupport",
                .product(name: "LISAFS", package: "VFSKit"),
                .product(name: "GoferServer", package: "VFSKit"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
