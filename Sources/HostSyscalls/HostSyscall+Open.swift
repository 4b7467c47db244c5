import SystemPackage

/// openat2's RESOLVE_* flags (`struct open_how.resolve`).
public struct HostResolveFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let noXDev = HostResolveFlags(rawValue: 0x01)
    public static let noMagicLinks = HostResolveFlags(rawValue: 0x02)
    public static let noSymlinks = HostResolveFlags(rawValue: 0x04)
    public static let beneath = HostResolveFlags(rawValue: 0x08)
    public static let inRoot = HostResolveFlags(rawValue: 0x10)
    public static let cached = HostResolveFlags(rawValue: 0x20)

    /// What a confined walk step uses: the kernel follows no symlink at all (ELOOP instead),
    /// and nothing — `..`, an absolute path — leaves the directory fd (EXDEV).
    public static let confined: HostResolveFlags = [.beneath, .noMagicLinks, .noSymlinks]
}

/// Host O_* flags (x86-64 values).
public enum HostOpenFlags {
    public static let readOnly: Int32 = 0
    public static let writeOnly: Int32 = 0o1
    public static let readWrite: Int32 = 0o2
    public static let accessMode: Int32 = 0o3
    public static let create: Int32 = 0o100
    public static let exclusive: Int32 = 0o200
    public static let noControllingTerminal: Int32 = 0o400
    public static let truncate: Int32 = 0o1000
    public static let append: Int32 = 0o2000
    public static let nonBlocking: Int32 = 0o4000
    public static let directory: Int32 = 0o200000
    public static let noFollow: Int32 = 0o400000
    public static let noAccessTime: Int32 = 0o1000000
    public static let closeOnExec: Int32 = 0o2000000
    public static let path: Int32 = 0o10000000
    public static let temporaryFile: Int32 = 0o20200000
}

/// Host AT_* flags.
public enum HostAtFlags {
    public static let symlinkNoFollow: Int32 = 0x100
    public static let removeDirectory: Int32 = 0x200
    public static let symlinkFollow: Int32 = 0x400
    public static let emptyPath: Int32 = 0x1000
}

extension HostSyscall {
    /// openat2(2) with `struct open_how { u64 flags; u64 mode; u64 resolve; }`. O_CLOEXEC is
    /// always added: no host fd of ours leaks into a child process.
    public static func openat2(
        _ directory: Int32, _ path: some Collection<UInt8>, flags: Int32, mode: UInt32 = 0,
        resolve: HostResolveFlags
    ) throws(Errno) -> HostFD {
        var how: (UInt64, UInt64, UInt64) = (
            UInt64(UInt32(bitPattern: flags | HostOpenFlags.closeOnExec)), UInt64(mode),
            resolve.rawValue
        )
        let fd = try withCPath(path) { (p) throws(Errno) -> Int in
            try withUnsafeMutableBytes(of: &how) { (raw) throws(Errno) -> Int in
                try call(
                    HostSyscallNumber.openat2, Int(directory), p,
                    Int(bitPattern: raw.baseAddress), 24)
            }
        }
        return HostFD(adopting: Int32(truncatingIfNeeded: fd))
    }

    /// openat(2); O_CLOEXEC always added.
    public static func openat(
        _ directory: Int32, _ path: some Collection<UInt8>, flags: Int32, mode: UInt32 = 0
    ) throws(Errno) -> HostFD {
        let fd = try withCPath(path) { (p) throws(Errno) -> Int in
            try call(
                HostSyscallNumber.openat, Int(directory), p,
                Int(flags | HostOpenFlags.closeOnExec), Int(mode))
        }
        return HostFD(adopting: Int32(truncatingIfNeeded: fd))
    }

    /// Reopens the file an O_PATH fd stands for with real access `flags`, through its
    /// /proc/self/fd magic link (the one way Linux offers to turn an O_PATH fd into an open
    /// file; the link names exactly that inode, so no path is resolved again).
    public static func reopen(_ fd: HostFD, flags: Int32) throws(Errno) -> HostFD {
        try openat(currentDirectory, fd.procPath, flags: flags & ~HostOpenFlags.noFollow)
    }
}
