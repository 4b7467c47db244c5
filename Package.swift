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
        .library(name: "GoferServer", targets: ["GoferServer"]),
        .library(name: "Replay", targets: ["Replay"]),
        .library(name: "HostSyscalls", targets: ["HostSyscalls"]),
        .library(name: "HostBackend", targets: ["HostBackend"]),
        .library(name: "GoferBackend", targets: ["GoferBackend"]),
        .library(name: "LISAFS", targets: ["LISAFS"]),
        .library(name: "Sandbox", targets: ["Sandbox"]),
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
        .target(
            name: "LISAFS",
            dependencies: ["CLinuxSupport", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(name: "CLinuxSupport"),
        .target(name: "Syscalls", dependencies: ["VFSCore", "TmpfsBackend", "CLinuxSupport"]),
        .target(
            name: "HostSyscalls",
            dependencies: ["CLinuxSupport", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(name: "HostBackend", dependencies: ["VFSCore", "HostSyscalls"]),
        .target(
            name: "GoferBackend",
            dependencies: [
                "VFSCore", "LISAFS", "HostSyscalls", .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .target(
            name: "DifferentialHarness",
            dependencies: [
                "Syscalls", "VFSCore", "TmpfsBackend", "CLinuxSupport", "HostBackend", "GoferBackend",
                "GoferServer",
            ]
        ),
        .target(
            name: "Replay", dependencies: ["Syscalls", "VFSCore", "TmpfsBackend", "HostBackend", "CLinuxSupport"]),
        .target(
            name: "CGoferSupport",
            linkerSettings: [.linkedLibrary("cap"), .linkedLibrary("seccomp")]
        ),
        .target(
            name: "GoferServer",
            dependencies: ["CGoferSupport", "LISAFS", .product(name: "SystemPackage", package: "swift-system")]
        ),
        .target(name: "CSandboxSupport", linkerSettings: [.linkedLibrary("seccomp")]),
        .target(
            name: "Sandbox",
            dependencies: [
                "CSandboxSupport", "Syscalls", "VFSCore", "TmpfsBackend", "HostBackend", "GoferBackend",
                "HostSyscalls", .product(name: "SystemPackage", package: "swift-system"),
            ]
        ),
        .executableTarget(
            name: "vfs",
            dependencies: [
                "Syscalls", "VFSCore", "TmpfsBackend", "DifferentialHarness", "Replay", "GoferServer",
                "GoferBackend", "Sandbox",
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
        .testTarget(
            name: "HostBackendTests", dependencies: ["HostBackend", "HostSyscalls", "VFSCore", "Syscalls"]
        ),
        .testTarget(
            name: "ReplayTests", dependencies: ["Replay", "Syscalls", "VFSCore", "TmpfsBackend"],
            resources: [.copy("Resources/py_imports.strace"), .copy("Resources/py_imports.manifest.json")]),
        .testTarget(
            name: "GoferServerTests",
            dependencies: ["GoferServer", "CGoferSupport", "LISAFS"]
        ),
        .testTarget(
            name: "GoferBackendTests",
            dependencies: ["GoferBackend", "GoferServer", "LISAFS", "VFSCore", "Syscalls", "TmpfsBackend"]
        ),
        .testTarget(name: "VFSToolTests", dependencies: ["vfs", "VFSCore", "Replay"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox"]),
        .testTarget(
            name: "LISAFSTests",
            dependencies: ["LISAFS", .product(name: "SystemPackage", package: "swift-system")],
            resources: [.copy("Vectors")]
        ),
        .testTarget(
            name: "DifferentialTests",
            dependencies: [
                "DifferentialHarness", "Syscalls", "VFSCore", "TmpfsBackend", "vfs", "HostBackend",
                "GoferBackend", "GoferServer",
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
