/// What `statx` reports about a file. Every backend fills every field it knows; `mask` says
/// which ones (STATX_* bits), so a backend that cannot know a birth time leaves it out.
public struct FileStat: Sendable, Hashable {
    public var mask: StatxMask = .basicStats
    public var blockSize: UInt32 = 4096
    public var nlink: UInt32 = 1
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var mode: FileMode = FileMode(rawValue: 0)
    public var inode: UInt64 = 0
    public var size: Int64 = 0
    /// 512-byte blocks allocated.
    public var blocks: Int64 = 0
    public var accessTime: Timespec = .zero
    public var birthTime: Timespec = .zero
    public var changeTime: Timespec = .zero
    public var modificationTime: Timespec = .zero
    /// The device a device node stands for (major/minor encoded as Linux's `new_encode_dev`).
    public var rdev: UInt64 = 0
    /// The device of the file system holding the file.
    public var dev: UInt64 = 0
    /// The mount's id (STATX_MNT_ID).
    public var mountID: UInt64 = 0

    public init() {}
}

/// STATX_* request and result bits.
public struct StatxMask: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let type = StatxMask(rawValue: 0x1)
    public static let mode = StatxMask(rawValue: 0x2)
    public static let nlink = StatxMask(rawValue: 0x4)
    public static let uid = StatxMask(rawValue: 0x8)
    public static let gid = StatxMask(rawValue: 0x10)
    public static let atime = StatxMask(rawValue: 0x20)
    public static let mtime = StatxMask(rawValue: 0x40)
    public static let ctime = StatxMask(rawValue: 0x80)
    public static let ino = StatxMask(rawValue: 0x100)
    public static let size = StatxMask(rawValue: 0x200)
    public static let blocks = StatxMask(rawValue: 0x400)
    public static let basicStats = StatxMask(rawValue: 0x7FF)
    public static let btime = StatxMask(rawValue: 0x800)
    public static let mountID = StatxMask(rawValue: 0x1000)
}

/// `struct statfs` as a file system reports it.
public struct FilesystemStat: Sendable, Hashable {
    public var type: UInt64 = 0
    public var blockSize: Int64 = 4096
    public var blocks: UInt64 = 0
    public var freeBlocks: UInt64 = 0
    public var availableBlocks: UInt64 = 0
    public var files: UInt64 = 0
    public var freeFiles: UInt64 = 0
    public var fsid: UInt64 = 0
    public var nameLength: Int64 = 255
    public var fragmentSize: Int64 = 4096
    /// ST_* flags (ST_RDONLY, ST_NOSUID, ...), from the mount and the file system.
    public var flags: UInt64 = 0

    public init() {}
}
