// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "VFSKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VFSCore", targets: ["VFSCore"]),
        .library(name: "TmpfsBackend", targets: ["TmpfsBackend"]),
        .executable(name: "mount-tour", targets: ["MountTour"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1")
    ],
    targets: [
        .target(
            name: "VFSCore",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(name: "TmpfsBackend", dependencies: ["VFSCore"]),
        .executableTarget(
            name: "MountTour",
            dependencies: ["VFSCore", "TmpfsBackend"],
            path: "Examples/MountTour"
        ),
        .testTarget(name: "VFSCoreTests", dependencies: ["VFSCore", "TmpfsBackend"]),
        .testTarget(name: "TmpfsBackendTests", dependencies: ["VFSCore", "TmpfsBackend"]),
    ],
    swiftLanguageModes: [.v6]
)
