// The benchmark tree, and the scratch directories on /dev/shm that hold it for the kernel,
// host and gofer fixtures.
//
// Every configuration builds the same tree, so every row of a family does the same work:
// one file per path depth (`f1`, `t2/f`, `t3/d/f`, ... `t100/d/.../f`), `io` (1 MiB, for
// pread/pwrite), `big` (10,000 empty files, for readdir), `scratch` (empty, for
// create+unlink) and `thread0/a`, `thread1/a` (disjoint paths for the concurrency rows).
//
// Cleanup: package-benchmark runs this executable once to list the benchmarks and once per
// benchmark; fixtures are built in a benchmark's setup hook (so listing builds nothing) and
// removed by the global teardown hook. A scratch directory is also removed at exit (atexit),
// which covers a run whose teardown did not happen, and a directory left by a run that was
// killed (its pid no longer alive) is removed when the next run makes its first one.
import Foundation
import Glibc
import Synchronization
import VFSCore

let depths = [1, 2, 3, 8, 64, 100]
let ioSizes = [4 << 10, 64 << 10, 1 << 20]
let bigDirectoryEntries = 10_000

/// "f1" for depth 1; "t8/d/d/d/d/d/d/f" for depth 8 (components = depth).
func relativePath(depth: Int) -> String {
    depth == 1 ? "f1" : (["t\(depth)"] + Array(repeating: "d", count: depth - 2) + ["f"]).joined(separator: "/")
}

/// 1 MiB of a fixed byte pattern (the content of `io`, and the buffer pwrite writes from).
func makePatternBuffer() -> UnsafeMutableRawBufferPointer {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
    for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: index) }
    return buffer
}

enum Scratch {
    static let parent = "/dev/shm"
    static let prefix = "vfskit-bench-"
    private static let made = Mutex<[String]>([])
    private static let exitHookInstalled = Mutex<Bool>(false)

    /// A new empty directory /dev/shm/vfskit-bench-<label>-<pid>, removed at exit.
    static func make(_ label: String) throws(Errno) -> String {
        let install = exitHookInstalled.withLock { installed in
            defer { installed = true }
            return !installed
        }
        if install {
            sweepAbandoned()
            atexit { Scratch.removeAll() }
        }
        let path = "\(parent)/\(prefix)\(label)-\(getpid())"
        guard mkdir(path, 0o755) == 0 else { throw Errno(rawValue: errno) }
        made.withLock { $0.append(path) }
        return path
    }

    /// Removes one directory made by `make` (and forgets it).
    static func remove(_ path: String) {
        made.withLock { paths in paths.removeAll { $0 == path } }
        _ = try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes every directory this process made and has not removed yet.
    static func removeAll() {
        for path in made.withLock({ $0 }) { remove(path) }
    }

    /// Removes vfskit-bench-*-<pid> directories whose process is gone.
    private static func sweepAbandoned() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pidText = name.split(separator: "-").last, let pid = pid_t(pidText), pid > 0 else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                _ = try? FileManager.default.removeItem(atPath: "\(parent)/\(name)")
            }
        }
    }

    /// Builds the benchmark tree (see the top of this file) in `root` with host calls.
    static func buildTree(at root: String) throws(Errno) {
        func check(_ result: Int32) throws(Errno) {
            if result < 0 { throw Errno(rawValue: errno) }
        }
        func createFile(_ path: String) throws(Errno) {
            let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
            try check(fd)
            close(fd)
        }
        for depth in depths {
            var prefix = root
            let components = relativePath(depth: depth).split(separator: "/")
            for component in components.dropLast() {
                prefix += "/" + component
                try check(mkdir(prefix, 0o755))
            }
            try createFile(root + "/" + components.joined(separator: "/"))
        }
        let fd = open(root + "/io", O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        try check(fd)
        let pattern = makePatternBuffer()
        let written = pwrite(fd, pattern.baseAddress, pattern.count, 0)
        pattern.deallocate()
        close(fd)
        guard written == 1 << 20 else { throw .ioError }
        try check(mkdir(root + "/big", 0o755))
        for index in 0..<bigDirectoryEntries { try createFile(root + "/big/entry-\(index)") }
        try check(mkdir(root + "/scratch", 0o755))
        for thread in 0..<2 {
            try check(mkdir(root + "/thread\(thread)", 0o755))
            try createFile(root + "/thread\(thread)/a")
        }
    }
}
