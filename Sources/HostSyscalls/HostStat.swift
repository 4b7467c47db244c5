import SystemPackage

/// `struct statx_timestamp`.
public struct HostTimestamp: Sendable, Hashable {
    public var seconds: Int64
    public var nanoseconds: UInt32
    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }
}

/// What the host's statx (or fstatat) reported, as plain Swift values. Fields the host left
/// out of `mask` are zero.
public struct HostStat: Sendable, Hashable {
    /// STATX_* bits the host filled in.
    public var mask: UInt32 = 0
    public var blockSize: UInt32 = 0
    public var attributes: UInt64 = 0
    public var nlink: UInt32 = 0
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    /// Type and permission bits (`st_mode`).
    public var mode: UInt32 = 0
    public var inode: UInt64 = 0
    public var size: Int64 = 0
    public var blocks: Int64 = 0
    public var accessTime = HostTimestamp(seconds: 0, nanoseconds: 0)
    public var birthTime = HostTimestamp(seconds: 0, nanoseconds: 0)
    public var changeTime = HostTimestamp(seconds: 0, nanoseconds: 0)
    public var modificationTime = HostTimestamp(seconds: 0, nanoseconds: 0)
    public var rdevMajor: UInt32 = 0
    public var rdevMinor: UInt32 = 0
    public var devMajor: UInt32 = 0
    public var devMinor: UInt32 = 0
    public var mountID: UInt64 = 0

    public init() {}

    /// The S_IFMT bits.
    public var fileTypeBits: UInt32 { mode & 0o170000 }
    public var isDirectory: Bool { fileTypeBits == 0o040000 }
    public var isSymlink: Bool { fileTypeBits == 0o120000 }
    public var isRegular: Bool { fileTypeBits == 0o100000 }

    /// `new_encode_dev` of a major:minor pair, as st_rdev / st_dev carry it.
    public static func encodeDevice(major: UInt32, minor: UInt32) -> UInt64 {
        UInt64(minor & 0xff) | UInt64(major) << 8 | UInt64(minor & ~0xff) << 12
    }
    public var rdev: UInt64 { HostStat.encodeDevice(major: rdevMajor, minor: rdevMinor) }
    public var dev: UInt64 { HostStat.encodeDevice(major: devMajor, minor: devMinor) }
}

/// Host STATX_* request bits.
public enum HostStatxMask {
    public static let basicStats: UInt32 = 0x7ff
    public static let birthTime: UInt32 = 0x800
    public static let mountID: UInt32 = 0x1000
    public static let all: UInt32 = basicStats | birthTime | mountID
}

extension HostSyscall {
    /// statx(2). `flags` are AT_* (AT_EMPTY_PATH with an empty path stats the fd itself, which
    /// works on O_PATH fds; AT_SYMLINK_NOFOLLOW).
    public static func statx(
        _ directory: Int32, _ path: some Collection<UInt8>, flags: Int32,
        mask: UInt32 = HostStatxMask.all
    ) throws(Errno) -> HostStat {
        var buffer = [UInt8](repeating: 0, count: 256)
        try withCPath(path) { (p) throws(Errno) in
            try HostSyscall.withMutableBytes(&buffer) { (raw) throws(Errno) in
                _ = try call(
                    HostSyscallNumber.statx, Int(directory), p, Int(flags), Int(mask),
                    Int(bitPattern: raw.baseAddress))
            }
        }
        return buffer.withUnsafeBytes { raw in
            func u16(_ o: Int) -> UInt16 { raw.loadUnaligned(fromByteOffset: o, as: UInt16.self) }
            func u32(_ o: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
            func u64(_ o: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
            func time(_ o: Int) -> HostTimestamp {
                HostTimestamp(seconds: Int64(bitPattern: u64(o)), nanoseconds: u32(o + 8))
            }
            var s = HostStat()
            s.mask = u32(0)
            s.blockSize = u32(4)
            s.attributes = u64(8)
            s.nlink = u32(16)
            s.uid = u32(20)
            s.gid = u32(24)
            s.mode = UInt32(u16(28))
            s.inode = u64(32)
            s.size = Int64(bitPattern: u64(40))
            s.blocks = Int64(bitPattern: u64(48))
            s.accessTime = time(64)
            s.birthTime = time(80)
            s.changeTime = time(96)
            s.modificationTime = time(112)
            s.rdevMajor = u32(128)
            s.rdevMinor = u32(132)
            s.devMajor = u32(136)
            s.devMinor = u32(140)
            s.mountID = u64(144)
            return s
        }
    }

    /// statx of the fd itself (AT_EMPTY_PATH; an O_PATH fd of a symlink stats the link).
    public static func statx(_ fd: Int32, mask: UInt32 = HostStatxMask.all) throws(Errno)
        -> HostStat
    {
        try statx(fd, [], flags: HostAtFlags.emptyPath | HostAtFlags.symlinkNoFollow, mask: mask)
    }

    /// newfstatat(2) (`struct stat`, x86-64 layout), as a `HostStat` with the basic mask.
    public static func fstatat(_ directory: Int32, _ path: some Collection<UInt8>, flags: Int32)
        throws(Errno) -> HostStat
    {
        var buffer = [UInt8](repeating: 0, count: 144)
        try withCPath(path) { (p) throws(Errno) in
            try HostSyscall.withMutableBytes(&buffer) { (raw) throws(Errno) in
                _ = try call(
                    HostSyscallNumber.newfstatat, Int(directory), p,
                    Int(bitPattern: raw.baseAddress), Int(flags))
            }
        }
        return buffer.withUnsafeBytes { raw in
            func u32(_ o: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: o, as: UInt32.self) }
            func u64(_ o: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
            func time(_ o: Int) -> HostTimestamp {
                HostTimestamp(
                    seconds: Int64(bitPattern: u64(o)),
                    nanoseconds: UInt32(truncatingIfNeeded: u64(o + 8)))
            }
            func split(_ dev: UInt64) -> (UInt32, UInt32) {
                // new_decode_dev's inverse of encodeDevice, for glibc's 64-bit dev_t.
                let major = UInt32(truncatingIfNeeded: (dev >> 8) & 0xfff | (dev >> 32) & ~0xfff)
                let minor = UInt32(truncatingIfNeeded: dev & 0xff | (dev >> 12) & ~0xff)
                return (major, minor)
            }
            var s = HostStat()
            s.mask = HostStatxMask.basicStats
            (s.devMajor, s.devMinor) = split(u64(0))
            s.inode = u64(8)
            s.nlink = UInt32(truncatingIfNeeded: u64(16))
            s.mode = u32(24)
            s.uid = u32(28)
            s.gid = u32(32)
            (s.rdevMajor, s.rdevMinor) = split(u64(40))
            s.size = Int64(bitPattern: u64(48))
            s.blockSize = UInt32(truncatingIfNeeded: u64(56))
            s.blocks = Int64(bitPattern: u64(64))
            s.accessTime = time(72)
            s.modificationTime = time(88)
            s.changeTime = time(104)
            return s
        }
    }
}

/// `struct statfs` (x86-64).
public struct HostFilesystemStat: Sendable, Hashable {
    public var type: Int64 = 0
    public var blockSize: Int64 = 0
    public var blocks: UInt64 = 0
    public var freeBlocks: UInt64 = 0
    public var availableBlocks: UInt64 = 0
    public var files: UInt64 = 0
    public var freeFiles: UInt64 = 0
    public var fsid: UInt64 = 0
    public var nameLength: Int64 = 0
    public var fragmentSize: Int64 = 0
    /// ST_* flags.
    public var flags: Int64 = 0
    public init() {}
}

extension HostSyscall {
    /// fstatfs(2); works on O_PATH fds.
    public static func fstatfs(_ fd: Int32) throws(Errno) -> HostFilesystemStat {
        var buffer = [UInt8](repeating: 0, count: 120)
        try HostSyscall.withMutableBytes(&buffer) { (raw) throws(Errno) in
            _ = try call(HostSyscallNumber.fstatfs, Int(fd), Int(bitPattern: raw.baseAddress))
        }
        return decodeStatfs(buffer)
    }

    /// statfs(2) of a path (follows symlinks, as statfs does).
    public static func statfs(_ path: some Collection<UInt8>) throws(Errno) -> HostFilesystemStat {
        var buffer = [UInt8](repeating: 0, count: 120)
        try withCPath(path) { (p) throws(Errno) in
            try HostSyscall.withMutableBytes(&buffer) { (raw) throws(Errno) in
                _ = try call(HostSyscallNumber.statfs, p, Int(bitPattern: raw.baseAddress))
            }
        }
        return decodeStatfs(buffer)
    }

    private static func decodeStatfs(_ buffer: [UInt8]) -> HostFilesystemStat {
        buffer.withUnsafeBytes { raw in
            func u64(_ o: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: o, as: UInt64.self) }
            var s = HostFilesystemStat()
            s.type = Int64(bitPattern: u64(0))
            s.blockSize = Int64(bitPattern: u64(8))
            s.blocks = u64(16)
            s.freeBlocks = u64(24)
            s.availableBlocks = u64(32)
            s.files = u64(40)
            s.freeFiles = u64(48)
            s.fsid = u64(56)
            s.nameLength = Int64(bitPattern: u64(64))
            s.fragmentSize = Int64(bitPattern: u64(72))
            s.flags = Int64(bitPattern: u64(80))
            return s
        }
    }
}
