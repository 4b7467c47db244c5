/// What one step did on one side: an errno, or a success with what the call reported.
public enum Outcome: Codable, Hashable, Sendable, CustomStringConvertible {
    case failure(errno: Int32)
    /// A call returning 0.
    case done
    /// A call returning a number: a byte count, an offset, flags, an old umask, a size.
    case value(Int64)
    /// A new descriptor number (comparable: both sides allocate from the same numbers).
    case descriptor(Int32)
    /// Bytes read, a link target, an attribute value.
    case bytes([UInt8])
    case stat(StatRecord)
    /// A directory's entries, sorted by name.
    case entries([EntryRecord])
    /// Extended attribute names, sorted.
    case names([String])
    /// statx's answer (`StatxRecord`).
    case statx(StatxRecord)
    /// What F_GETLK / F_OFD_GETLK wrote back.
    case lock(LockRecord)
    /// Several new descriptors (pipe2's two ends).
    case descriptors([Int32])
    /// The executor could not run the step at all (a harness limitation, never a result).
    case unsupported(String)

    public var description: String {
        switch self {
        case .failure(let code): "-1 \(ErrnoNames.name(code))"
        case .done: "0"
        case .value(let value): "\(value)"
        case .descriptor(let fd): "fd \(fd)"
        case .bytes(let bytes): "\(bytes.count) bytes \(quoted(bytes))"
        case .stat(let stat): "\(stat)"
        case .entries(let entries): "[\(entries.map(\.description).joined(separator: ", "))]"
        case .names(let names): "[\(names.map { quoted($0) }.joined(separator: ", "))]"
        case .statx(let statx): "\(statx)"
        case .lock(let lock): "\(lock)"
        case .descriptors(let fds): "fds \(fds.map(String.init).joined(separator: ", "))"
        case .unsupported(let why): "unsupported: \(why)"
        }
    }

    public var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

/// What statx(2) reported, as far as it is comparable on tmpfs: stx_mask, stx_attributes
/// (STATX_ATTR_MOUNT_ROOT is the one that varies), stx_blksize, the basic fields, st_blocks
/// for regular files, the device numbers of device nodes, and which of btime, mtime and ctime
/// came back non-zero (a time left out of the mask is zero). Not compared: times themselves,
/// stx_ino, stx_dev_*, stx_mnt_id, and stx_attributes_mask (Linux's tmpfs also declares
/// APPEND, IMMUTABLE and NODUMP, inode flags no backend here supports).
public struct StatxRecord: Codable, Hashable, Sendable, CustomStringConvertible {
    public var mask: UInt32
    public var attributes: UInt64
    public var blockSize: UInt32
    public var mode: UInt16
    public var nlink: UInt32
    public var uid: UInt32
    public var gid: UInt32
    public var size: UInt64
    public var blocks: UInt64?
    public var rdevMajor: UInt32
    public var rdevMinor: UInt32
    public var hasBirthTime: Bool
    public var hasModificationTime: Bool
    public var hasChangeTime: Bool

    public var description: String {
        var text =
            "{mask=0x\(String(mask, radix: 16)) attrs=0x\(String(attributes, radix: 16)) blksize=\(blockSize) \(FlagNames.fileMode(UInt32(mode))) nlink=\(nlink) size=\(size) uid=\(uid) gid=\(gid)"
        if let blocks { text += " blocks=\(blocks)" }
        if rdevMajor != 0 || rdevMinor != 0 { text += " rdev=\(rdevMajor):\(rdevMinor)" }
        text += " times:\(hasBirthTime ? "b" : "-")\(hasModificationTime ? "m" : "-")\(hasChangeTime ? "c" : "-")}"
        return text
    }
}

/// A `struct flock` as F_GETLK wrote it back. For a conflicting lock, `pid` is 0 for "this
/// process" (both sides' own process ids differ, and 0 is never a lock owner) and -1 for an
/// OFD lock; with F_UNLCK (no conflict) it is the caller's l_pid, untouched.
public struct LockRecord: Codable, Hashable, Sendable, CustomStringConvertible {
    public var type: Int16
    public var whence: Int16
    public var start: Int64
    public var length: Int64
    public var pid: Int32

    public init(type: Int16, whence: Int16, start: Int64, length: Int64, pid: Int32) {
        self.type = type
        self.whence = whence
        self.start = start
        self.length = length
        self.pid = pid
    }

    public var description: String {
        let owner = pid == 0 ? "self" : pid == -1 ? "ofd" : "\(pid)"
        return
            "{\(FlagNames.lockType(type)), \(FlagNames.whence(Int32(whence))), start \(start), len \(length), pid \(owner)}"
    }
}

/// A directory entry as getdents64 reports it, without d_ino and d_off (not comparable).
public struct EntryRecord: Codable, Hashable, Sendable, CustomStringConvertible, Comparable {
    public var name: String
    /// d_type (DT_DIR 4, DT_REG 8, DT_LNK 10, DT_FIFO 1, DT_SOCK 12, DT_CHR 2...).
    public var type: UInt8

    public init(name: String, type: UInt8) {
        self.name = name
        self.type = type
    }

    public var description: String {
        let names: [UInt8: String] = [
            0: "?", 1: "fifo", 2: "chr", 4: "dir", 6: "blk", 8: "reg", 10: "lnk", 12: "sock",
            14: "wht",
        ]
        return "\(quoted(name)):\(names[type] ?? "\(type)")"
    }

    public static func < (a: EntryRecord, b: EntryRecord) -> Bool {
        let x = Array(a.name.utf8)
        let y = Array(b.name.utf8)
        return x != y ? x.lexicographicallyPrecedes(y) : a.type < b.type
    }
}

/// Whether a timestamp moved since the previous stat of the same inode on the same side.
public enum TimeMark: String, Codable, Hashable, Sendable {
    /// The first stat of this inode.
    case first
    case same
    case changed
}

/// The stat fields Linux defines for tmpfs, and the *movement* of the three times.
public struct StatRecord: Codable, Hashable, Sendable, CustomStringConvertible {
    public var mode: UInt32
    public var nlink: UInt64
    public var size: Int64
    public var uid: UInt32
    public var gid: UInt32
    /// st_blocks, for regular files only (nil otherwise).
    public var blocks: Int64?
    /// st_rdev, for character and block devices only (nil otherwise).
    public var rdev: UInt64?
    public var accessTime: TimeMark
    public var modificationTime: TimeMark
    public var changeTime: TimeMark
    /// Hints for comparing `accessTime` (never compared themselves): at the previous stat of
    /// this inode, would `relatime` have updated atime on access (atime <= mtime or ctime)?
    /// Linux stamps atime with a coarse clock, so atime can equal mtime there when it is
    /// later in the VFS; where the two sides disagree on this, atime's movement is not
    /// comparable until the next stat.
    public var accessWasStale: Bool?
    /// Kernel only: at the previous stat, were all three times older than the coarse clock?
    /// Linux stamps many changes with CLOCK_REALTIME_COARSE (atime always; mtime and ctime of
    /// a directory when link, unlink or rename copy them from another inode), so a change in
    /// the same tick as the previous value can write the same value, and "same" proves
    /// nothing. The kernel executor waits for the next tick after each stat, so this is false
    /// only for times in the future.
    public var wasSettled: Bool?

    public init(
        mode: UInt32, nlink: UInt64, size: Int64, uid: UInt32, gid: UInt32, blocks: Int64?,
        accessTime: TimeMark = .first, modificationTime: TimeMark = .first,
        changeTime: TimeMark = .first
    ) {
        self.mode = mode
        self.nlink = nlink
        self.size = size
        self.uid = uid
        self.gid = gid
        self.blocks = blocks
        self.accessTime = accessTime
        self.modificationTime = modificationTime
        self.changeTime = changeTime
    }

    public var description: String {
        var text =
            "{\(FlagNames.fileMode(mode)) nlink=\(nlink) size=\(size) uid=\(uid) gid=\(gid)"
        if let blocks { text += " blocks=\(blocks)" }
        if let rdev { text += " rdev=0x\(String(rdev, radix: 16))" }
        text += " a:\(accessTime.rawValue) m:\(modificationTime.rawValue) c:\(changeTime.rawValue)}"
        return text
    }
}

/// A moment as a stat reports it.
struct Stamp: Hashable, Comparable {
    var seconds: Int64
    var nanoseconds: Int64

    static func < (a: Stamp, b: Stamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }
}

/// Per side: the times each inode showed at its previous stat, to turn absolute times
/// (never comparable) into `TimeMark`s (comparable).
struct TimeTracker {
    private struct Seen {
        var access: Stamp
        var modification: Stamp
        var change: Stamp
        var settled: Bool
    }
    /// By (st_dev, st_ino): inode numbers repeat across file systems (a mount, a pipe, a
    /// memfd).
    private var seen: [[UInt64]: Seen] = [:]

    /// Fills `record`'s marks for a stat of `inode` with these times. `coarseNow` (kernel
    /// only) is CLOCK_REALTIME_COARSE just after the stat.
    mutating func mark(
        _ record: inout StatRecord, device: UInt64, inode: UInt64, access: Stamp,
        modification: Stamp, change: Stamp, coarseNow: Stamp?
    ) {
        let inode = [device, inode]
        if let previous = seen[inode] {
            record.accessTime = previous.access == access ? .same : .changed
            record.modificationTime = previous.modification == modification ? .same : .changed
            record.changeTime = previous.change == change ? .same : .changed
            record.accessWasStale =
                previous.access <= previous.modification || previous.access <= previous.change
            record.wasSettled = coarseNow == nil ? nil : previous.settled
        }
        seen[inode] = Seen(
            access: access, modification: modification, change: change,
            settled: coarseNow.map { access < $0 && modification < $0 && change < $0 } ?? true)
    }
}

/// errno names for reports.
public enum ErrnoNames {
    static let table: [Int32: String] = [
        1: "EPERM", 2: "ENOENT", 5: "EIO", 6: "ENXIO", 7: "E2BIG", 9: "EBADF", 11: "EAGAIN",
        12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 16: "EBUSY", 17: "EEXIST", 18: "EXDEV",
        19: "ENODEV", 20: "ENOTDIR", 21: "EISDIR", 22: "EINVAL", 23: "ENFILE", 24: "EMFILE",
        26: "ETXTBSY", 27: "EFBIG", 28: "ENOSPC", 29: "ESPIPE", 30: "EROFS", 31: "EMLINK",
        32: "EPIPE", 34: "ERANGE", 35: "EDEADLK", 36: "ENAMETOOLONG", 38: "ENOSYS",
        39: "ENOTEMPTY", 40: "ELOOP", 61: "ENODATA", 65: "ENOPKG", 75: "EOVERFLOW",
        95: "EOPNOTSUPP",
    ]

    public static func name(_ code: Int32) -> String { table[code] ?? "errno \(code)" }
}
