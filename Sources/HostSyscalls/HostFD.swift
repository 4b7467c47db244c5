import CLinuxSupport
import SystemPackage

/// A host file descriptor this process owns: closed exactly once, when the last reference goes.
///
/// The type is a class so that a dentry, a file description and a cache can share one fd
/// without any of them closing it under the others. `rawValue` stays valid for as long as the
/// `HostFD` is alive; never close it by hand.
public final class HostFD: Sendable, CustomStringConvertible {
    public let rawValue: Int32

    /// Takes ownership of `rawValue` (closed in `deinit`).
    public init(adopting rawValue: Int32) {
        self.rawValue = rawValue
    }

    /// A new descriptor for the same open file (F_DUPFD_CLOEXEC), owned by the result: for
    /// taking over an fd someone else keeps owning (stdin, a caller's pipe).
    public static func duplicating(_ fd: Int32) throws(Errno) -> HostFD {
        // fcntl(fd, F_DUPFD_CLOEXEC = 1030, 0)
        HostFD(adopting: Int32(truncatingIfNeeded: try HostSyscall.call(72, Int(fd), 1030, 0)))
    }

    deinit {
        // close(2) is never retried on EINTR on Linux: the fd is gone either way.
        _ = vfs_raw_syscall6(3, Int(rawValue), 0, 0, 0, 0, 0)
    }

    /// The path of the fd in /proc, for the calls Linux offers no fd form of on an O_PATH fd
    /// (the xattr family): the non-`l` forms follow that magic link to exactly this file.
    public var procPath: [UInt8] { Array("/proc/self/fd/\(rawValue)".utf8) }

    public var description: String { "HostFD(\(rawValue))" }
}

/// Thin wrappers over host syscalls: raw x86-64 system calls (through `vfs_raw_syscall6`, so
/// calls Glibc's Swift module does not declare — openat2, statx, renameat2, the xattr calls —
/// work the same way as the rest), host errnos passed through unchanged, EINTR retried.
///
/// Paths are byte arrays without the terminating NUL (names are bytes, never `String`); a
/// path holding a NUL is EINVAL here, where the kernel would have cut it short.
public enum HostSyscall {
    /// AT_FDCWD.
    public static let currentDirectory: Int32 = -100

    /// One raw syscall, EINTR retried; returns the non-negative result or throws the errno.
    @inline(__always)
    public static func call(
        _ number: Int, _ a0: Int = 0, _ a1: Int = 0, _ a2: Int = 0, _ a3: Int = 0,
        _ a4: Int = 0, _ a5: Int = 0
    ) throws(Errno) -> Int {
        while true {
            let result = vfs_raw_syscall6(number, a0, a1, a2, a3, a4, a5)
            if result >= 0 { return result }
            if result == -4 { continue }  // EINTR
            throw Errno(rawValue: Int32(truncatingIfNeeded: -result))
        }
    }

    /// Runs `body` with a NUL-terminated copy of `path` (as a raw address for `call`).
    @inline(__always)
    public static func withCPath<R>(
        _ path: some Collection<UInt8>, _ body: (Int) throws(Errno) -> R
    ) throws(Errno) -> R {
        var bytes = [UInt8]()
        bytes.reserveCapacity(path.count + 1)
        bytes.append(contentsOf: path)
        if bytes.contains(0) { throw .invalidArgument }
        bytes.append(0)
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(Errno) -> R in
                try body(Int(bitPattern: buffer.baseAddress))
            }
        }
        return try result.get()
    }

    /// Two paths at once (linkat, renameat2, symlinkat).
    @inline(__always)
    static func withCPaths<R>(
        _ first: some Collection<UInt8>, _ second: some Collection<UInt8>,
        _ body: (Int, Int) throws(Errno) -> R
    ) throws(Errno) -> R {
        try withCPath(first) { (a) throws(Errno) -> R in
            try withCPath(second) { (b) throws(Errno) -> R in try body(a, b) }
        }
    }
}

/// x86-64 syscall numbers used by this module.
enum HostSyscallNumber {
    static let read = 0
    static let write = 1
    static let lseek = 8
    static let pread64 = 17
    static let pwrite64 = 18
    static let fsync = 74
    static let fdatasync = 75
    static let ftruncate = 77
    static let fchmod = 91
    static let fchown = 93
    static let statfs = 137
    static let fstatfs = 138
    static let setxattr = 188
    static let lsetxattr = 189
    static let fsetxattr = 190
    static let getxattr = 191
    static let lgetxattr = 192
    static let fgetxattr = 193
    static let listxattr = 194
    static let llistxattr = 195
    static let flistxattr = 196
    static let removexattr = 197
    static let lremovexattr = 198
    static let fremovexattr = 199
    static let getdents64 = 217
    static let openat = 257
    static let mkdirat = 258
    static let mknodat = 259
    static let fchownat = 260
    static let newfstatat = 262
    static let unlinkat = 263
    static let linkat = 265
    static let symlinkat = 266
    static let readlinkat = 267
    static let fchmodat = 268
    static let utimensat = 280
    static let fallocate = 285
    static let renameat2 = 316
    static let statx = 332
    static let openat2 = 437
    static let fchmodat2 = 452
}

extension HostSyscall {
    /// `Array.withUnsafeMutableBytes` with a typed-throws body.
    @inline(__always)
    public static func withMutableBytes<R>(
        _ array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(Errno) -> R
    ) throws(Errno) -> R {
        try array.withUnsafeMutableBytes { raw in
            Result { () throws(Errno) -> R in try body(raw) }
        }.get()
    }

    /// `Array.withUnsafeBytes` with a typed-throws body.
    @inline(__always)
    public static func withBytes<R>(
        _ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(Errno) -> R
    ) throws(Errno) -> R {
        try array.withUnsafeBytes { raw in
            Result { () throws(Errno) -> R in try body(raw) }
        }.get()
    }
}
