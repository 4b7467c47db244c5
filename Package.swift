// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "VFSKit",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "VFSCore", targets: ["VFSCore"]),
        .library(name: "TmpfsBackend", targets: ["TmpfsBackend"]),
        .library(name: "Syscalls", targets: ["Syscalls"]),
        .library(name: "DifferentialHarness", targets: ["DifferentialHarness"]),
        .executable(name: "vfs", targets: ["vfs"]),
        .executable(name: "mount-tour", targets: ["MountTour"]),
        .executable(name: "custom-filesystem", targets: ["CustomFilesystem"]),
        .executable(name: "compat-check", targets: ["CompatCheck"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(
            name: "VFSCore",
            dependencies: [.product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(name: "TmpfsBackend", dependencies: ["VFSCore"]),
        .target(name: "CLinuxSupport"),
        .target(name: "Syscalls", dependencies: ["VFSCore", "TmpfsBackend", "CLinuxSupport"]),
        .target(
            name: "DifferentialHarness",
            dependencies: ["Syscalls", "VFSCore", "TmpfsBackend", "CLinuxSupport"]
        ),
        .executableTarget(
            name: "vfs",
            dependencies: [
                "Syscalls", "VFSCore", "TmpfsBackend", "DifferentialHarness",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "MountTour",
            dependencies: ["VFSCore", "TmpfsBackend"],
            path: "Examples/MountTour"
        ),
        .executableTarget(
            name: "CustomFilesystem",
            dependencies: ["VFSCore", "Syscalls"],
            path: "Examples/CustomFilesystem"
        ),
        .executableTarget(
            name: "CompatCheck",
            dependencies: ["Syscalls", "VFSCore", "TmpfsBackend"],
            path: "Examples/CompatCheck"
        ),
        .testTarget(name: "VFSCoreTests", dependencies: ["VFSCore", "TmpfsBackend"]),
        .testTarget(name: "TmpfsBackendTests", dependencies: ["VFSCore", "TmpfsBackend"]),
        .testTarget(name: "SyscallsTests", dependencies: ["Syscalls", "VFSCore", "TmpfsBackend"]),
        .testTarget(name: "VFSToolTests", dependencies: ["vfs", "VFSCore"]),
        .testTarget(
            name: "DifferentialTests",
            dependencies: ["DifferentialHarness", "Syscalls", "VFSCore", "TmpfsBackend", "vfs"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
