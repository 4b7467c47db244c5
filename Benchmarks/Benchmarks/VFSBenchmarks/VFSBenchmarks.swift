// VFSKit against the Linux kernel, in one run on one machine.
//
// Each figure has a VFSKit row (tmpfs through `Syscalls.Task`, the path a sandbox's syscall
// handler takes) and a kernel row (the same call on a real tmpfs under /dev/shm) measured in
// the same process. Path depth = number of components in the looked-up path; the kernel rows
// use paths relative to the scratch directory (the cwd), so both walk the same components.
//
// EXTENSION POINT (gofer/host rows): add a `Configuration` case below for each new backend
// (gofer exclusive "root", gofer shared "bind", cold and warm; host) that builds the same
// trees in its own mount and answers `stat`, `openClose`, `pread`, `pwrite`, `createUnlink`,
// `readdir`; every benchmark loops over `Configuration.allCases`, and the gofer's RPC count
// can be attached as a custom metric (`BenchmarkMetric.custom("RPCs")`). The gofer's walk rows
// (cold/warm stat, one-RPC vs per-component walk, with the socket round trip as baseline) are
// in GoferBenchmarks.swift.
import Benchmark
import CLinuxSupport
import Foundation
import Glibc
import Syscalls
import TmpfsBackend
import VFSCore

let depths = [1, 2, 3, 8, 64, 100]
let ioSizes = [4 << 10, 64 << 10, 1 << 20]

/// "f1" for depth 1; "t8/d/d/d/d/d/d/f" for depth 8 (components = depth).
func relativePath(depth: Int) -> String {
    depth == 1 ? "f1" : (["t\(depth)"] + Array(repeating: "d", count: depth - 2) + ["f"]).joined(separator: "/")
}

/// VFSKit: a tmpfs root, one task, the trees built through the task.
final class VFSKitFixture: @unchecked Sendable {
    let task: Task
    let paths: [Int: PathArgument]
    let ioFD: Int32
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)

    init() throws(Errno) {
        let kernel = Kernel()
        let tmpfs = TmpfsFilesystem()
        task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root))
        var paths: [Int: PathArgument] = [:]
        for depth in depths {
            let components = relativePath(depth: depth).split(separator: "/")
            var prefix = ""
            for component in components.dropLast() {
                prefix += "/" + component
                try task.mkdirat(Linux.AT_FDCWD, PathArgument(prefix), 0o755)
            }
            let path = "/" + components.joined(separator: "/")
            try task.close(try task.openat(Linux.AT_FDCWD, PathArgument(path), OpenOptions.create | OpenOptions.writeOnly, 0o644))
            paths[depth] = PathArgument(path)
        }
        self.paths = paths
        ioFD = try task.openat(Linux.AT_FDCWD, "/io", OpenOptions.create | OpenOptions.readWrite, 0o644)
        for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: index) }
        _ = try task.pwrite64(ioFD, UnsafeRawBufferPointer(buffer), 0)
        try task.mkdirat(Linux.AT_FDCWD, "/big", 0o755)
        for index in 0..<10_000 {
            try task.mknodat(Linux.AT_FDCWD, PathArgument("/big/entry-\(index)"), 0o100644, 0)
        }
        try task.mkdirat(Linux.AT_FDCWD, "/scratch", 0o755)
        for thread in 0..<2 {
            try task.mkdirat(Linux.AT_FDCWD, PathArgument("/thread\(thread)"), 0o755)
            try task.mknodat(Linux.AT_FDCWD, PathArgument("/thread\(thread)/a"), 0o100644, 0)
        }
    }
}

/// The kernel: the same trees in a scratch directory on /dev/shm, which becomes the cwd.
final class KernelFixture: @unchecked Sendable {
    let root: String
    let paths: [Int: [CChar]]
    let ioFD: Int32
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)

    init() {
        root = "/dev/shm/vfskit-bench-\(getpid())"
        mkdir(root, 0o755)
        chdir(root)
        var paths: [Int: [CChar]] = [:]
        for depth in depths {
            let path = relativePath(depth: depth)
            var prefix = ""
            for component in path.split(separator: "/").dropLast() {
                prefix += (prefix.isEmpty ? "" : "/") + component
                mkdir(prefix, 0o755)
            }
            close(open(path, O_CREAT | O_WRONLY, 0o644))
            paths[depth] = Array(path.utf8CString)
        }
        self.paths = paths
        ioFD = open("io", O_CREAT | O_RDWR, 0o644)
        for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: index) }
        _ = pwrite(ioFD, buffer.baseAddress, buffer.count, 0)
        mkdir("big", 0o755)
        for index in 0..<10_000 { close(open("big/entry-\(index)", O_CREAT | O_WRONLY, 0o644)) }
        mkdir("scratch", 0o755)
        for thread in 0..<2 {
            mkdir("thread\(thread)", 0o755)
            close(open("thread\(thread)/a", O_CREAT | O_WRONLY, 0o644))
        }
    }

    func remove() {
        chdir("/")
        _ = try? FileManager.default.removeItem(atPath: root)
    }
}

/// getdents64 has no Glibc wrapper visible to Swift: the raw syscall (217) through the root
/// package's C shim (a dependency of Syscalls, so its module is visible here).
@inline(__always)
func kernelGetdents64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
    vfs_raw_syscall6(217, Int(fd), Int(bitPattern: buffer.baseAddress), buffer.count, 0, 0, 0)
}

nonisolated(unsafe) var vfskit: VFSKitFixture?
nonisolated(unsafe) var linux: KernelFixture?

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        timeUnits: .nanoseconds,
        warmupIterations: 100,
        maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )
    do throws(Errno) {
        vfskit = try VFSKitFixture()
    } catch {
        fatalError("VFSKit fixture: \(error)")
    }
    linux = KernelFixture()
    Benchmark.teardown = { linux?.remove(); goferFixture?.remove() }
    guard let vfskit, let linux else { return }
    let task = vfskit.task

    // MARK: stat and open+close by path depth

    for depth in depths {
        let path = vfskit.paths[depth] ?? "/"
        Benchmark("stat depth \(depth) tmpfs") { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try? task.newfstatat(Linux.AT_FDCWD, path, 0)) }
        }
        let cPath = linux.paths[depth] ?? []
        Benchmark("stat depth \(depth) kernel") { benchmark in
            var st = stat()
            for _ in benchmark.scaledIterations { blackHole(stat(cPath, &st)) }
        }
        Benchmark("open+close depth \(depth) tmpfs") { benchmark in
            for _ in benchmark.scaledIterations {
                if let fd = try? task.openat(Linux.AT_FDCWD, path, OpenOptions.readOnly, 0) { try? task.close(fd) }
            }
        }
        Benchmark("open+close depth \(depth) kernel") { benchmark in
            for _ in benchmark.scaledIterations { close(open(cPath, O_RDONLY)) }
        }
    }

    // MARK: read/write throughput (one call of the given size at offset 0 per iteration)

    for size in ioSizes {
        let label = size >= 1 << 20 ? "\(size >> 20) MiB" : "\(size >> 10) KiB"
        let vfsRegion = UnsafeMutableRawBufferPointer(rebasing: vfskit.buffer[..<size])
        let kernelBuffer = linux.buffer
        let configuration = Benchmark.Configuration(
            metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 20)
        Benchmark("pread \(label) tmpfs", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(try? task.pread64(vfskit.ioFD, vfsRegion, 0)) }
        }
        Benchmark("pread \(label) kernel", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(pread(linux.ioFD, kernelBuffer.baseAddress, size, 0)) }
        }
        Benchmark("pwrite \(label) tmpfs", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try? task.pwrite64(vfskit.ioFD, UnsafeRawBufferPointer(vfsRegion), 0))
            }
        }
        Benchmark("pwrite \(label) kernel", configuration: configuration) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(pwrite(linux.ioFD, kernelBuffer.baseAddress, size, 0)) }
        }
    }

    // MARK: create + close + unlink of one file

    Benchmark("create+unlink tmpfs") { benchmark in
        for _ in benchmark.scaledIterations {
            if let fd = try? task.openat(Linux.AT_FDCWD, "/scratch/x", OpenOptions.create | OpenOptions.writeOnly, 0o644) {
                try? task.close(fd)
            }
            try? task.unlinkat(Linux.AT_FDCWD, "/scratch/x", 0)
        }
    }
    Benchmark("create+unlink kernel") { benchmark in
        for _ in benchmark.scaledIterations {
            close(open("scratch/x", O_CREAT | O_WRONLY, 0o644))
            unlink("scratch/x")
        }
    }

    // MARK: readdir of 10,000 entries (open, getdents64 with a 32 KiB buffer until 0, close)

    let direntBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 32 << 10, alignment: 8)
    let readdirConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 5)
    Benchmark("readdir 10000 tmpfs", configuration: readdirConfiguration) { benchmark in
        for _ in benchmark.scaledIterations {
            guard let fd = try? task.openat(Linux.AT_FDCWD, "/big", OpenOptions.readOnly | OpenOptions.directory, 0)
            else { continue }
            while let count = try? task.getdents64(fd, direntBuffer), count > 0 {}
            try? task.close(fd)
        }
    }
    Benchmark("readdir 10000 kernel", configuration: readdirConfiguration) { benchmark in
        for _ in benchmark.scaledIterations {
            let fd = open("big", O_RDONLY | O_DIRECTORY)
            while kernelGetdents64(fd, direntBuffer) > 0 {}
            close(fd)
        }
    }

    // MARK: stat on disjoint paths from 1 and 2 threads (10,000 stats per thread per iteration)

    let perThread = 10_000
    let threadConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 3, maxDuration: .seconds(3))
    for threads in [1, 2] {
        let vfsPaths = (0..<threads).map { PathArgument("/thread\($0)/a") }
        Benchmark("stat disjoint \(threads) thread(s) x10000 tmpfs", configuration: threadConfiguration) { benchmark in
            for _ in benchmark.scaledIterations {
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    let path = vfsPaths[thread]
                    for _ in 0..<perThread { blackHole(try? task.newfstatat(Linux.AT_FDCWD, path, 0)) }
                }
            }
        }
        let kernelPaths = (0..<threads).map { Array("thread\($0)/a".utf8CString) }
        Benchmark("stat disjoint \(threads) thread(s) x10000 kernel", configuration: threadConfiguration) { benchmark in
            for _ in benchmark.scaledIterations {
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    var st = stat()
                    for _ in 0..<perThread { blackHole(stat(kernelPaths[thread], &st)) }
                }
            }
        }
    }

    // MARK: gofer walks and the raw socket round trip (GoferBenchmarks.swift)

    goferBenchmarks()
}
