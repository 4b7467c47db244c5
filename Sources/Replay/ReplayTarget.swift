import CLinuxSupport
import Glibc
import HostBackend
import Syscalls
import TmpfsBackend
import VFSCore

/// A path argument prepared once by the replayer, outside the timed region: the bytes (for
/// in-process file systems) and a NUL-terminated copy (for the kernel).
public struct ReplayPath: Sendable {
    public let bytes: [UInt8]
    public let cString: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.cString = bytes + [0]
    }

    public init(_ string: String) { self.init(Array(string.utf8)) }
}

/// The two stat fields a replay compares with the recording.
public struct StatSummary: Sendable, Equatable {
    public var mode: UInt32 = 0
    public var size: Int64 = 0
    public init(mode: UInt32 = 0, size: Int64 = 0) {
        self.mode = mode
        self.size = size
    }
}

/// A configuration a workload is replayed against: one process context (one fd table, one
/// cwd) reached through raw-syscall-shaped calls that return the syscall's value or -errno.
/// The replayer keeps the recorded processes' fd tables and cwds itself and maps them onto
/// this one context, so a target needs no notion of processes.
///
/// Extension point: the gofer ("root"/"bind" modes) and host backends plug in as further
/// conformances — a `Syscalls.Task` over their mount, like `TmpfsTarget` — and report their
/// RPCs through `rpcCount`.
public protocol ReplayTarget: AnyObject {
    /// The configuration's name in reports ("kernel", "tmpfs", ...).
    var name: String { get }
    /// RPCs (or messages) issued to a file server so far; nil when the backend has none.
    var rpcCount: UInt64? { get }
    /// Called once before the tree is built.
    func setUp() throws
    /// Called once after the replay; undoes `setUp`.
    func tearDown()

    func openat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ mode: UInt32) -> Int
    func close(_ fd: Int32) -> Int
    func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) -> Int
    func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int
    func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ offset: Int64) -> Int
    func lseek(_ fd: Int32, _ offset: Int64, _ whence: Int32) -> Int
    func fstatat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ stat: inout StatSummary) -> Int
    func statx(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ mask: UInt32, _ stat: inout StatSummary)
        -> Int
    func faccessat2(_ dirfd: Int32, _ path: ReplayPath, _ mode: Int32, _ flags: Int32) -> Int
    func readlinkat(_ dirfd: Int32, _ path: ReplayPath, _ buffer: UnsafeMutableRawBufferPointer) -> Int
    func getdents64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int
    func mkdirat(_ dirfd: Int32, _ path: ReplayPath, _ mode: UInt32) -> Int
    func unlinkat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32) -> Int
    func renameat2(_ olddirfd: Int32, _ oldpath: ReplayPath, _ newdirfd: Int32, _ newpath: ReplayPath,
        _ flags: UInt32) -> Int
    func symlinkat(_ target: ReplayPath, _ dirfd: Int32, _ path: ReplayPath) -> Int
    func linkat(_ olddirfd: Int32, _ oldpath: ReplayPath, _ newdirfd: Int32, _ newpath: ReplayPath,
        _ flags: Int32) -> Int
    func fchmodat(_ dirfd: Int32, _ path: ReplayPath, _ mode: UInt32) -> Int
    func fchmod(_ fd: Int32, _ mode: UInt32) -> Int
    /// utimensat with both times "now" (the replay compares results, not timestamps).
    func utimensat(_ dirfd: Int32, _ path: ReplayPath?, _ flags: Int32) -> Int
    func ftruncate(_ fd: Int32, _ length: Int64) -> Int
    func truncate(_ path: ReplayPath, _ length: Int64) -> Int
    func chdir(_ path: ReplayPath) -> Int
    func fchdir(_ fd: Int32) -> Int
    /// getcwd(2)'s raw value: the length including the NUL.
    func getcwd(_ buffer: UnsafeMutableRawBufferPointer) -> Int
    func dup(_ fd: Int32) -> Int
    func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int) -> Int
}

extension ReplayTarget {
    public var rpcCount: UInt64? { nil }

    func mkdirat(_ dirfd: Int32, _ path: [UInt8], _ mode: UInt32) -> Int {
        mkdirat(dirfd, ReplayPath(path), mode)
    }
    func symlinkat(_ target: [UInt8], _ dirfd: Int32, _ path: [UInt8]) -> Int {
        symlinkat(ReplayPath(target), dirfd, ReplayPath(path))
    }
    func openat(_ dirfd: Int32, _ path: [UInt8], _ flags: Int32, _ mode: UInt32) -> Int {
        openat(dirfd, ReplayPath(path), flags, mode)
    }
    func fchmodat(_ dirfd: Int32, _ path: [UInt8], _ mode: UInt32) -> Int {
        fchmodat(dirfd, ReplayPath(path), mode)
    }
    func chdir(_ path: [UInt8]) -> Int { chdir(ReplayPath(path)) }
}

// MARK: - Linux

/// The Linux kernel: real syscalls (raw, so results are -errno without touching `errno`) on a
/// scratch directory. `setUp` makes the directory and chroots the whole process into it, so
/// absolute paths and absolute symlink targets in the workload resolve inside it exactly as
/// they did on the recording machine; `tearDown` leaves the chroot through a descriptor of the
/// old root (the process must be root; do not use from a process running other work
/// concurrently, such as a parallel test runner) and removes the directory.
public final class KernelTarget: ReplayTarget {
    public let name: String
    public let scratch: String
    private var oldRoot: Int32 = -1
    private var oldCwd: Int32 = -1

    /// `scratchParent` should be on the file system to compare with (tmpfs: /dev/shm).
    public init(name: String = "kernel", scratchParent: String = "/dev/shm") {
        self.name = name
        self.scratch = "\(scratchParent)/vfs-replay-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    public func setUp() throws {
        guard Glibc.mkdir(scratch, 0o755) == 0 else {
            throw ReplaySetupError("kernel: mkdir \(scratch): errno \(errno)")
        }
        oldRoot = Glibc.open("/", 0o10000000 | O_DIRECTORY | O_CLOEXEC)
        oldCwd = Glibc.open(".", 0o10000000 | O_DIRECTORY | O_CLOEXEC)
        guard Glibc.chroot(scratch) == 0, Glibc.chdir("/") == 0 else {
            throw ReplaySetupError("kernel: chroot \(scratch): errno \(errno) (the kernel target needs root)")
        }
        Glibc.umask(0o022)
    }

    public func tearDown() {
        guard oldRoot >= 0 else { return }
        _ = Glibc.fchdir(oldRoot)
        _ = Glibc.chroot(".")
        _ = Glibc.fchdir(oldCwd)
        Glibc.close(oldRoot)
        Glibc.close(oldCwd)
        oldRoot = -1
        Self.removeTree(scratch)
    }

    /// rm -rf, without following symlinks.
    static func removeTree(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return }
        if st.st_mode & S_IFMT == S_IFDIR {
            _ = Glibc.chmod(path, 0o700)
            if let dir = opendir(path) {
                var names: [String] = []
                while let entry = readdir(dir) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(dir)
                for name in names { removeTree(path + "/" + name) }
            }
            Glibc.rmdir(path)
        } else {
            Glibc.unlink(path)
        }
    }

    @inline(__always)
    private func sys(_ number: Int, _ a: Int = 0, _ b: Int = 0, _ c: Int = 0, _ d: Int = 0, _ e: Int = 0)
        -> Int
    {
        vfs_raw_syscall6(number, a, b, c, d, e, 0)
    }

    @inline(__always)
    private func address(_ pointer: UnsafeRawPointer?) -> Int { Int(bitPattern: pointer) }

    private func withPath(_ path: ReplayPath, _ body: (Int) -> Int) -> Int {
        path.cString.withUnsafeBufferPointer { body(address($0.baseAddress)) }
    }

    public func openat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ mode: UInt32) -> Int {
        withPath(path) { sys(257, Int(dirfd), $0, Int(flags), Int(mode)) }
    }
    public func close(_ fd: Int32) -> Int { sys(3, Int(fd)) }
    public func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        sys(0, Int(fd), address(buffer.baseAddress), buffer.count)
    }
    public func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) -> Int {
        sys(17, Int(fd), address(buffer.baseAddress), buffer.count, Int(offset))
    }
    public func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
        sys(1, Int(fd), address(buffer.baseAddress), buffer.count)
    }
    public func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ offset: Int64) -> Int {
        sys(18, Int(fd), address(buffer.baseAddress), buffer.count, Int(offset))
    }
    public func lseek(_ fd: Int32, _ offset: Int64, _ whence: Int32) -> Int {
        sys(8, Int(fd), Int(offset), Int(whence))
    }
    public func fstatat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ stat: inout StatSummary) -> Int {
        var buffer = Glibc.stat()
        let result = withUnsafeMutableBytes(of: &buffer) { raw in
            withPath(path) { sys(262, Int(dirfd), $0, address(raw.baseAddress), Int(flags)) }
        }
        if result == 0 { stat = StatSummary(mode: buffer.st_mode, size: Int64(buffer.st_size)) }
        return result
    }
    public func statx(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ mask: UInt32,
        _ stat: inout StatSummary) -> Int
    {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
            UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
            UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
            UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &buffer) { raw in
            let result = withPath(path) {
                sys(332, Int(dirfd), $0, Int(flags), Int(mask), address(raw.baseAddress))
            }
            if result == 0 {
                // struct statx: stx_mode (u16) at offset 28, stx_size (u64) at offset 40.
                stat = StatSummary(
                    mode: UInt32(raw.load(fromByteOffset: 28, as: UInt16.self)),
                    size: Int64(bitPattern: raw.load(fromByteOffset: 40, as: UInt64.self)))
            }
            return result
        }
    }
    public func faccessat2(_ dirfd: Int32, _ path: ReplayPath, _ mode: Int32, _ flags: Int32) -> Int {
        withPath(path) { sys(439, Int(dirfd), $0, Int(mode), Int(flags)) }
    }
    public func readlinkat(_ dirfd: Int32, _ path: ReplayPath, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        withPath(path) { sys(267, Int(dirfd), $0, address(buffer.baseAddress), buffer.count) }
    }
    public func getdents64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        sys(217, Int(fd), address(buffer.baseAddress), buffer.count)
    }
    public func mkdirat(_ dirfd: Int32, _ path: ReplayPath, _ mode: UInt32) -> Int {
        withPath(path) { sys(258, Int(dirfd), $0, Int(mode)) }
    }
    public func unlinkat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32) -> Int {
        withPath(path) { sys(263, Int(dirfd), $0, Int(flags)) }
    }
    public func renameat2(_ olddirfd: Int32, _ oldpath: ReplayPath, _ newdirfd: Int32, _ newpath: ReplayPath,
        _ flags: UInt32) -> Int
    {
        withPath(oldpath) { old in withPath(newpath) { sys(316, Int(olddirfd), old, Int(newdirfd), $0, Int(flags)) } }
    }
    public func symlinkat(_ target: ReplayPath, _ dirfd: Int32, _ path: ReplayPath) -> Int {
        withPath(target) { t in withPath(path) { sys(266, t, Int(dirfd), $0) } }
    }
    public func linkat(_ olddirfd: Int32, _ oldpath: ReplayPath, _ newdirfd: Int32, _ newpath: ReplayPath,
        _ flags: Int32) -> Int
    {
        withPath(oldpath) { old in withPath(newpath) { sys(265, Int(olddirfd), old, Int(newdirfd), $0, Int(flags)) } }
    }
    public func fchmodat(_ dirfd: Int32, _ path: ReplayPath, _ mode: UInt32) -> Int {
        withPath(path) { sys(268, Int(dirfd), $0, Int(mode)) }
    }
    public func fchmod(_ fd: Int32, _ mode: UInt32) -> Int { sys(91, Int(fd), Int(mode)) }
    public func utimensat(_ dirfd: Int32, _ path: ReplayPath?, _ flags: Int32) -> Int {
        guard let path else { return sys(280, Int(dirfd), 0, 0, Int(flags)) }
        return withPath(path) { sys(280, Int(dirfd), $0, 0, Int(flags)) }
    }
    public func ftruncate(_ fd: Int32, _ length: Int64) -> Int { sys(77, Int(fd), Int(length)) }
    public func truncate(_ path: ReplayPath, _ length: Int64) -> Int {
        withPath(path) { sys(76, $0, Int(length)) }
    }
    public func chdir(_ path: ReplayPath) -> Int { withPath(path) { sys(80, $0) } }
    public func fchdir(_ fd: Int32) -> Int { sys(81, Int(fd)) }
    public func getcwd(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        sys(79, address(buffer.baseAddress), buffer.count)
    }
    public func dup(_ fd: Int32) -> Int { sys(32, Int(fd)) }
    public func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int) -> Int {
        sys(72, Int(fd), Int(command), argument)
    }
}

// MARK: - VFSKit through the syscall layer

/// A VFSKit configuration reached through `Syscalls.Task` (the path a sandbox's syscall
/// handler takes): by default a fresh `TmpfsFilesystem` as the root. Other backends (gofer,
/// host) reuse this class with their own root file system and an `rpcCounter`.
public final class TaskTarget: ReplayTarget {
    public let name: String
    public let task: Task
    private let rpcCounter: (@Sendable () -> UInt64)?
    private let cleanup: (() -> Void)?

    public var rpcCount: UInt64? { rpcCounter?() }

    /// `rpcCounter` reports the backend's RPCs so far (the gofer's hook); `cleanup` runs at
    /// `tearDown` (a host backend removes its scratch directory).
    public init(name: String, root: any FilesystemImpl, rootDentry: Dentry,
        rpcCounter: (@Sendable () -> UInt64)? = nil, cleanup: (() -> Void)? = nil)
    {
        self.name = name
        let kernel = Kernel()
        self.task = Task(kernel: kernel, namespace: kernel.vfs.makeNamespace(root: root, rootDentry: rootDentry))
        self.rpcCounter = rpcCounter
        self.cleanup = cleanup
    }

    /// The host backend (HostBackend's `HostFilesystem`, in the given caching mode) over a
    /// fresh scratch directory under `scratchParent`, removed at `tearDown`.
    public static func host(name: String = "host", caching: HostCachingMode = .exclusive,
        scratchParent: String = "/dev/shm") throws -> TaskTarget
    {
        let scratch = "\(scratchParent)/vfs-replay-host-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard Glibc.mkdir(scratch, 0o755) == 0 else { throw ReplaySetupError("host: mkdir \(scratch): errno \(errno)") }
        let filesystem: HostFilesystem
        do throws(Errno) {
            filesystem = try HostFilesystem(rootPath: scratch, options: HostOptions(caching: caching))
        } catch {
            KernelTarget.removeTree(scratch)
            throw ReplaySetupError("host: \(error)")
        }
        return TaskTarget(name: name, root: filesystem, rootDentry: filesystem.root,
            cleanup: { KernelTarget.removeTree(scratch) })
    }

    /// VFSKit's tmpfs as the root file system.
    public static func tmpfs(name: String = "tmpfs", options: TmpfsOptions = TmpfsOptions()) -> TaskTarget {
        let tmpfs = TmpfsFilesystem(options: options)
        return TaskTarget(name: name, root: tmpfs, rootDentry: tmpfs.root)
    }

    public func setUp() throws {}
    public func tearDown() { cleanup?() }

    @inline(__always)
    private func run(_ body: () throws(Errno) -> Int) -> Int {
        do throws(Errno) {
            return try body()
        } catch {
            return -Int(error.rawValue)
        }
    }

    @inline(__always)
    private func argument(_ path: ReplayPath) -> PathArgument { PathArgument(bytes: path.bytes) }

    public func openat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ mode: UInt32) -> Int {
        run { () throws(Errno) in Int(try task.openat(dirfd, argument(path), flags, mode)) }
    }
    public func close(_ fd: Int32) -> Int { run { () throws(Errno) in try task.close(fd); return 0 } }
    public func read(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        run { () throws(Errno) in try task.read(fd, buffer) }
    }
    public func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, _ offset: Int64) -> Int {
        run { () throws(Errno) in try task.pread64(fd, buffer, offset) }
    }
    public func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer) -> Int {
        run { () throws(Errno) in try task.write(fd, buffer) }
    }
    public func pwrite(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, _ offset: Int64) -> Int {
        run { () throws(Errno) in try task.pwrite64(fd, buffer, offset) }
    }
    public func lseek(_ fd: Int32, _ offset: Int64, _ whence: Int32) -> Int {
        run { () throws(Errno) in Int(try task.lseek(fd, offset, whence)) }
    }
    public func fstatat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ stat: inout StatSummary) -> Int {
        var summary = stat
        let result = run { () throws(Errno) in
            let value = try task.newfstatat(dirfd, argument(path), flags)
            summary = StatSummary(mode: value.mode, size: value.size)
            return 0
        }
        stat = summary
        return result
    }
    public func statx(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32, _ mask: UInt32,
        _ stat: inout StatSummary) -> Int
    {
        var summary = stat
        let result = run { () throws(Errno) in
            let value = try task.statx(dirfd, argument(path), flags, mask)
            summary = StatSummary(mode: UInt32(value.mode), size: Int64(bitPattern: value.size))
            return 0
        }
        stat = summary
        return result
    }
    public func faccessat2(_ dirfd: Int32, _ path: ReplayPath, _ mode: Int32, _ flags: Int32) -> Int {
        run { () throws(Errno) in try task.faccessat2(dirfd, argument(path), mode, flags); return 0 }
    }
    public func readlinkat(_ dirfd: Int32, _ path: ReplayPath, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        run { () throws(Errno) in
            let bytes = try task.readlinkat(dirfd, argument(path), Int32(clamping: buffer.count))
            let count = min(bytes.count, buffer.count)
            if count > 0, let base = buffer.baseAddress { bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: count) } }
            return count
        }
    }
    public func getdents64(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        run { () throws(Errno) in try task.getdents64(fd, buffer) }
    }
    public func mkdirat(_ dirfd: Int32, _ path: ReplayPath, _ mode: UInt32) -> Int {
        run { () throws(Errno) in try task.mkdirat(dirfd, argument(path), mode); return 0 }
    }
    public func unlinkat(_ dirfd: Int32, _ path: ReplayPath, _ flags: Int32) -> Int {
        run { () throws(Errno) in try task.unlinkat(dirfd, argument(path), flags); return 0 }
    }
    public func renameat2(_ olddirfd: Int32, _ oldpath: ReplayPath, _ newdirfd: Int32, _ newpath: ReplayPath,
        _ flags: UInt32) -> Int
    {
        run { () throws(Errno) in
            try task.renameat2(olddirfd, argument(oldpath), newdirfd, argument(newpath), flags)
            return 0
        }
    }
    public func symlinkat(_ target: ReplayPath, _ dirfd: Int32, _ path: ReplayPath) -> Int {
        run { () throws(Errno) in try task.symlinkat(argument(target), dirfd, argument(path)); return 0 }
    }
    public func linkat(_ olddirfd: Int32, _ oldpath: ReplayPath, _ newdirfd: Int32, _ newpath: ReplayPath,
        _ flags: Int32) -> Int
    {
        run { () throws(Errno) in
            try task.linkat(olddirfd, argument(oldpath), newdirfd, argument(newpath), flags)
            return 0
        }
    }
    public func fchmodat(_ dirfd: Int32, _ path: ReplayPath, _ mode: UInt32) -> Int {
        run { () throws(Errno) in try task.fchmodat(dirfd, argument(path), mode); return 0 }
    }
    public func fchmod(_ fd: Int32, _ mode: UInt32) -> Int {
        run { () throws(Errno) in try task.fchmod(fd, mode); return 0 }
    }
    public func utimensat(_ dirfd: Int32, _ path: ReplayPath?, _ flags: Int32) -> Int {
        run { () throws(Errno) in
            try task.utimensat(dirfd, path.map { argument($0) }, nil, flags)
            return 0
        }
    }
    public func ftruncate(_ fd: Int32, _ length: Int64) -> Int {
        run { () throws(Errno) in try task.ftruncate(fd, length); return 0 }
    }
    public func truncate(_ path: ReplayPath, _ length: Int64) -> Int {
        run { () throws(Errno) in try task.truncate(argument(path), length); return 0 }
    }
    public func chdir(_ path: ReplayPath) -> Int {
        run { () throws(Errno) in try task.chdir(argument(path)); return 0 }
    }
    public func fchdir(_ fd: Int32) -> Int { run { () throws(Errno) in try task.fchdir(fd); return 0 } }
    public func getcwd(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        run { () throws(Errno) in
            let bytes = try task.getcwd(buffer.count)
            return bytes.count
        }
    }
    public func dup(_ fd: Int32) -> Int { run { () throws(Errno) in Int(try task.dup(fd)) } }
    public func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int) -> Int {
        run { () throws(Errno) in Int(try task.fcntl(fd, command, argument)) }
    }
}
