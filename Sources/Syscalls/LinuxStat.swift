import VFSCore

/// Linux x86-64 `struct stat` (arch/x86/include/uapi/asm/stat.h), 144 bytes, as stat(2),
/// lstat(2), fstat(2) and newfstatat(2) write it. `bytes` is the exact little-endian image;
/// offsets were checked with `offsetof` against glibc's `struct stat` (which on x86-64 is the
/// kernel's): st_dev 0, st_ino 8, st_nlink 16, st_mode 24, st_uid 28, st_gid 32, __pad0 36,
/// st_rdev 40, st_size 48, st_blksize 56, st_blocks 64, st_atim 72, st_mtim 88, st_ctim 104,
/// __unused[3] 120.
public struct LinuxStat: Sendable, Hashable {
    public static let size = 144

    public var dev: UInt64
    public var ino: UInt64
    public var nlink: UInt64
    public var mode: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var rdev: UInt64
    public var size: Int64
    public var blksize: Int64
    public var blocks: Int64
    public var atime: Timespec
    public var mtime: Timespec
    public var ctime: Timespec

    /// `cp_new_stat`: device numbers go out in `new_encode_dev` form, which is how `FileStat`
    /// already holds them.
    public init(_ stat: FileStat) {
        dev = stat.dev
        ino = stat.inode
        nlink = UInt64(stat.nlink)
        mode = stat.mode.rawValue
        uid = stat.uid
        gid = stat.gid
        rdev = stat.rdev
        size = stat.size
        blksize = Int64(stat.blockSize)
        blocks = stat.blocks
        atime = stat.accessTime
        mtime = stat.modificationTime
        ctime = stat.changeTime
    }

    /// Decodes a 144-byte image (nil for another length).
    public init?(bytes: [UInt8]) {
        guard bytes.count == LinuxStat.size else { return nil }
        let reader = LittleEndianReader(bytes)
        dev = reader.u64(0)
        ino = reader.u64(8)
        nlink = reader.u64(16)
        mode = reader.u32(24)
        uid = reader.u32(28)
        gid = reader.u32(32)
        rdev = reader.u64(40)
        size = reader.i64(48)
        blksize = reader.i64(56)
        blocks = reader.i64(64)
        atime = reader.timespec(72)
        mtime = reader.timespec(88)
        ctime = reader.timespec(104)
    }

    /// The 144 bytes the kernel copies out; padding and `__unused` are zero.
    public var bytes: [UInt8] {
        var writer = LittleEndianWriter(count: LinuxStat.size)
        writer.put(dev, at: 0)
        writer.put(ino, at: 8)
        writer.put(nlink, at: 16)
        writer.put(mode, at: 24)
        writer.put(uid, at: 28)
        writer.put(gid, at: 32)
        writer.put(rdev, at: 40)
        writer.put(size, at: 48)
        writer.put(blksize, at: 56)
        writer.put(blocks, at: 64)
        writer.put(atime, at: 72)
        writer.put(mtime, at: 88)
        writer.put(ctime, at: 104)
        return writer.bytes
    }
}

/// Linux `struct statx` (include/uapi/linux/stat.h), 256 bytes: stx_mask 0, stx_blksize 4,
/// stx_attributes 8, stx_nlink 16, stx_uid 20, stx_gid 24, stx_mode 28 (u16), stx_ino 32,
/// stx_size 40, stx_blocks 48, stx_attributes_mask 56, stx_atime 64, stx_btime 80,
/// stx_ctime 96, stx_mtime 112 (each `statx_timestamp` {i64 tv_sec, u32 tv_nsec, i32 pad}),
/// stx_rdev_major 128, stx_rdev_minor 132, stx_dev_major 136, stx_dev_minor 140,
/// stx_mnt_id 144; the fields after it (direct-I/O alignment, subvolume, atomic writes) are
/// zero, as tmpfs leaves them.
public struct LinuxStatx: Sendable, Hashable {
    public static let size = 256

    public static let STATX_TYPE: UInt32 = 0x1
    public static let STATX_MODE: UInt32 = 0x2
    public static let STATX_NLINK: UInt32 = 0x4
    public static let STATX_UID: UInt32 = 0x8
    public static let STATX_GID: UInt32 = 0x10
    public static let STATX_ATIME: UInt32 = 0x20
    public static let STATX_MTIME: UInt32 = 0x40
    public static let STATX_CTIME: UInt32 = 0x80
    public static let STATX_INO: UInt32 = 0x100
    public static let STATX_SIZE: UInt32 = 0x200
    public static let STATX_BLOCKS: UInt32 = 0x400
    public static let STATX_BASIC_STATS: UInt32 = 0x7FF
    public static let STATX_BTIME: UInt32 = 0x800
    public static let STATX_MNT_ID: UInt32 = 0x1000
    public static let STATX_MNT_ID_UNIQUE: UInt32 = 0x4000
    /// Reserved for a future larger struct: EINVAL when requested.
    public static let STATX__RESERVED: UInt32 = 0x8000_0000

    public static let STATX_ATTR_AUTOMOUNT: UInt64 = 0x1000
    public static let STATX_ATTR_MOUNT_ROOT: UInt64 = 0x2000
    public static let STATX_ATTR_DAX: UInt64 = 0x20_0000

    public var mask: UInt32
    public var blksize: UInt32
    public var attributes: UInt64
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var mode: UInt16
    public var ino: UInt64
    public var size: UInt64
    public var blocks: UInt64
    public var attributesMask: UInt64
    public var atime: Timespec
    public var btime: Timespec
    public var ctime: Timespec
    public var mtime: Timespec
    public var rdevMajor: UInt32
    public var rdevMinor: UInt32
    public var devMajor: UInt32
    public var devMinor: UInt32
    public var mountID: UInt64

    /// What statx(2) reports for `stat` when `requested` was asked, as Linux 6.18 does on
    /// tmpfs (checked with statx on /dev/shm):
    /// - the basic stats always come back, except that mtime and ctime are left out (and
    ///   zero) unless STATX_MTIME or STATX_CTIME was asked: tmpfs has multigrain timestamps,
    ///   and `fill_mg_cmtime` skips both when neither is wanted. Asking for none (mask 0)
    ///   gives 0x173f.
    /// - the birth time only when asked (and known to the file system).
    /// - STATX_MNT_ID always, unless STATX_MNT_ID_UNIQUE was asked, which replaces it (our
    ///   mount ids are never reused, so both carry the same number).
    /// - STATX_ATTR_MOUNT_ROOT on a mount's root. The attribute mask is the VFS's own
    ///   (AUTOMOUNT, MOUNT_ROOT, DAX); Linux's tmpfs adds APPEND, IMMUTABLE and NODUMP, inode
    ///   flags no backend here supports.
    /// `multigrain`: whether the file system has multigrain timestamps (tmpfs, memfds; not
    /// pipes: Linux 6.18 gives mask 0x17ff for statx of a pipe with mask 0).
    public init(_ stat: FileStat, requested: UInt32, isMountRoot: Bool, multigrain: Bool = true) {
        let known = stat.mask.rawValue
        var result = LinuxStatx.STATX_BASIC_STATS & known
        let wantsChangeTimes =
            requested & (LinuxStatx.STATX_MTIME | LinuxStatx.STATX_CTIME) != 0
        if multigrain && !wantsChangeTimes {
            result &= ~(LinuxStatx.STATX_MTIME | LinuxStatx.STATX_CTIME)
        }
        if requested & LinuxStatx.STATX_BTIME != 0 {
            result |= known & LinuxStatx.STATX_BTIME
        }
        result |=
            requested & LinuxStatx.STATX_MNT_ID_UNIQUE != 0
            ? LinuxStatx.STATX_MNT_ID_UNIQUE : LinuxStatx.STATX_MNT_ID
        mask = result
        blksize = stat.blockSize
        attributes = isMountRoot ? LinuxStatx.STATX_ATTR_MOUNT_ROOT : 0
        attributesMask =
            LinuxStatx.STATX_ATTR_AUTOMOUNT | LinuxStatx.STATX_ATTR_MOUNT_ROOT
            | LinuxStatx.STATX_ATTR_DAX
        nlink = stat.nlink
        uid = stat.uid
        gid = stat.gid
        mode = UInt16(truncatingIfNeeded: stat.mode.rawValue)
        ino = stat.inode
        size = UInt64(bitPattern: stat.size)
        blocks = UInt64(bitPattern: stat.blocks)
        atime = stat.accessTime
        btime = result & LinuxStatx.STATX_BTIME != 0 ? stat.birthTime : .zero
        ctime = result & LinuxStatx.STATX_CTIME != 0 ? stat.changeTime : .zero
        mtime = result & LinuxStatx.STATX_MTIME != 0 ? stat.modificationTime : .zero
        rdevMajor = DeviceNumber.major(stat.rdev)
        rdevMinor = DeviceNumber.minor(stat.rdev)
        devMajor = DeviceNumber.major(stat.dev)
        devMinor = DeviceNumber.minor(stat.dev)
        mountID = stat.mountID
    }

    /// Decodes a 256-byte image (nil for another length).
    public init?(bytes: [UInt8]) {
        guard bytes.count == LinuxStatx.size else { return nil }
        let reader = LittleEndianReader(bytes)
        mask = reader.u32(0)
        blksize = reader.u32(4)
        attributes = reader.u64(8)
        nlink = reader.u32(16)
        uid = reader.u32(20)
        gid = reader.u32(24)
        mode = UInt16(truncatingIfNeeded: reader.u32(28))
        ino = reader.u64(32)
        size = reader.u64(40)
        blocks = reader.u64(48)
        attributesMask = reader.u64(56)
        atime = reader.statxTimestamp(64)
        btime = reader.statxTimestamp(80)
        ctime = reader.statxTimestamp(96)
        mtime = reader.statxTimestamp(112)
        rdevMajor = reader.u32(128)
        rdevMinor = reader.u32(132)
        devMajor = reader.u32(136)
        devMinor = reader.u32(140)
        mountID = reader.u64(144)
    }

    public var bytes: [UInt8] {
        var writer = LittleEndianWriter(count: LinuxStatx.size)
        writer.put(mask, at: 0)
        writer.put(blksize, at: 4)
        writer.put(attributes, at: 8)
        writer.put(nlink, at: 16)
        writer.put(uid, at: 20)
        writer.put(gid, at: 24)
        writer.put(mode, at: 28)
        writer.put(ino, at: 32)
        writer.put(size, at: 40)
        writer.put(blocks, at: 48)
        writer.put(attributesMask, at: 56)
        writer.putStatxTimestamp(atime, at: 64)
        writer.putStatxTimestamp(btime, at: 80)
        writer.putStatxTimestamp(ctime, at: 96)
        writer.putStatxTimestamp(mtime, at: 112)
        writer.put(rdevMajor, at: 128)
        writer.put(rdevMinor, at: 132)
        writer.put(devMajor, at: 136)
        writer.put(devMinor, at: 140)
        writer.put(mountID, at: 144)
        return writer.bytes
    }
}

/// Linux x86-64 `struct statfs` (asm-generic/statfs.h with 64-bit words), 120 bytes: f_type 0,
/// f_bsize 8, f_blocks 16, f_bfree 24, f_bavail 32, f_files 40, f_ffree 48, f_fsid 56
/// (two i32), f_namelen 64, f_frsize 72, f_flags 80, f_spare[4] 88.
public struct LinuxStatfs: Sendable, Hashable {
    public static let size = 120
    /// Set in every f_flags Linux reports (`calculate_f_flags`): the field is meaningful.
    public static let ST_VALID: UInt64 = 0x20

    public var type: UInt64
    public var bsize: Int64
    public var blocks: UInt64
    public var bfree: UInt64
    public var bavail: UInt64
    public var files: UInt64
    public var ffree: UInt64
    /// `f_fsid`: `val[0]` holds the low half, `val[1]` the high half.
    public var fsid: UInt64
    public var namelen: Int64
    public var frsize: Int64
    public var flags: UInt64

    public init(_ stat: FilesystemStat) {
        type = stat.type
        bsize = stat.blockSize
        blocks = stat.blocks
        bfree = stat.freeBlocks
        bavail = stat.availableBlocks
        files = stat.files
        ffree = stat.freeFiles
        fsid = stat.fsid
        namelen = stat.nameLength
        frsize = stat.fragmentSize
        flags = stat.flags | LinuxStatfs.ST_VALID
    }

    public init?(bytes: [UInt8]) {
        guard bytes.count == LinuxStatfs.size else { return nil }
        let reader = LittleEndianReader(bytes)
        type = reader.u64(0)
        bsize = reader.i64(8)
        blocks = reader.u64(16)
        bfree = reader.u64(24)
        bavail = reader.u64(32)
        files = reader.u64(40)
        ffree = reader.u64(48)
        fsid = UInt64(reader.u32(56)) | UInt64(reader.u32(60)) << 32
        namelen = reader.i64(64)
        frsize = reader.i64(72)
        flags = reader.u64(80)
    }

    public var bytes: [UInt8] {
        var writer = LittleEndianWriter(count: LinuxStatfs.size)
        writer.put(type, at: 0)
        writer.put(bsize, at: 8)
        writer.put(blocks, at: 16)
        writer.put(bfree, at: 24)
        writer.put(bavail, at: 32)
        writer.put(files, at: 40)
        writer.put(ffree, at: 48)
        writer.put(UInt32(truncatingIfNeeded: fsid), at: 56)
        writer.put(UInt32(truncatingIfNeeded: fsid >> 32), at: 60)
        writer.put(namelen, at: 64)
        writer.put(frsize, at: 72)
        writer.put(flags, at: 80)
        return writer.bytes
    }
}

/// `struct timeval` (futimesat, utimes): seconds and microseconds.
public struct LinuxTimeval: Sendable, Hashable {
    public var seconds: Int64
    public var microseconds: Int64

    public init(seconds: Int64, microseconds: Int64) {
        self.seconds = seconds
        self.microseconds = microseconds
    }
}

/// Device numbers as the ABI carries them. `stat`'s st_dev and st_rdev hold Linux's
/// `new_encode_dev` form (minor's low byte, 12 bits of major, then the rest of the minor);
/// statx splits them into major and minor. Decoding uses glibc's `gnu_dev_major`/`minor`,
/// which agree with `new_decode_dev` on every 32-bit value and also read the 64-bit form.
public enum DeviceNumber {
    public static func major(_ device: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ((device >> 8) & 0xFFF) | ((device >> 32) & ~0xFFF))
    }

    public static func minor(_ device: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: (device & 0xFF) | ((device >> 12) & ~0xFF))
    }

    /// `new_encode_dev(MKDEV(major, minor))` (major below 4096, minor below 2^20).
    public static func encode(major: UInt32, minor: UInt32) -> UInt64 {
        let major = UInt64(major)
        let minor = UInt64(minor)
        return (minor & 0xFF) | ((major & 0xFFF) << 8) | ((minor & ~0xFF) << 12)
            | ((major & ~0xFFF) << 32)
    }
}

/// Little-endian field access at fixed offsets of a C struct image.
struct LittleEndianWriter {
    private(set) var bytes: [UInt8]

    init(count: Int) { bytes = [UInt8](repeating: 0, count: count) }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        var little = value.littleEndian
        withUnsafeBytes(of: &little) { raw in
            for index in 0..<raw.count { bytes[offset + index] = raw[index] }
        }
    }

    /// `struct timespec` {i64 tv_sec, i64 tv_nsec}.
    mutating func put(_ time: Timespec, at offset: Int) {
        put(time.seconds, at: offset)
        put(time.nanoseconds, at: offset + 8)
    }

    /// `struct statx_timestamp` {i64 tv_sec, u32 tv_nsec, i32 __reserved}.
    mutating func putStatxTimestamp(_ time: Timespec, at offset: Int) {
        put(time.seconds, at: offset)
        put(UInt32(truncatingIfNeeded: time.nanoseconds), at: offset + 8)
    }
}

struct LittleEndianReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func u64(_ offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in (0..<8).reversed() { value = value << 8 | UInt64(bytes[offset + index]) }
        return value
    }

    func u32(_ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for index in (0..<4).reversed() { value = value << 8 | UInt32(bytes[offset + index]) }
        return value
    }

    func i64(_ offset: Int) -> Int64 { Int64(bitPattern: u64(offset)) }

    func timespec(_ offset: Int) -> Timespec {
        Timespec(seconds: i64(offset), nanoseconds: i64(offset + 8))
    }

    func statxTimestamp(_ offset: Int) -> Timespec {
        Timespec(seconds: i64(offset), nanoseconds: Int64(u32(offset + 8)))
    }
}
