/// Linux x86-64 constants the syscall layer takes and returns, named as in the kernel's
/// headers (`fcntl.h`, `stat.h`, `mount.h`...), for callers that speak the raw ABI.
public enum Linux {
    public static let AT_FDCWD: Int32 = -100
    public static let AT_SYMLINK_NOFOLLOW: Int32 = 0x100
    public static let AT_REMOVEDIR: Int32 = 0x200
    public static let AT_EACCESS: Int32 = 0x200
    public static let AT_SYMLINK_FOLLOW: Int32 = 0x400
    public static let AT_NO_AUTOMOUNT: Int32 = 0x800
    public static let AT_EMPTY_PATH: Int32 = 0x1000
    public static let AT_STATX_SYNC_TYPE: Int32 = 0x6000

    public static let UTIME_NOW: Int64 = (1 << 30) - 1
    public static let UTIME_OMIT: Int64 = (1 << 30) - 2

    public static let F_DUPFD: Int32 = 0
    public static let F_GETFD: Int32 = 1
    public static let F_SETFD: Int32 = 2
    public static let F_GETFL: Int32 = 3
    public static let F_SETFL: Int32 = 4
    public static let F_GETLK: Int32 = 5
    public static let F_SETLK: Int32 = 6
    public static let F_SETLKW: Int32 = 7
    public static let F_OFD_GETLK: Int32 = 36
    public static let F_OFD_SETLK: Int32 = 37
    public static let F_OFD_SETLKW: Int32 = 38
    public static let F_DUPFD_CLOEXEC: Int32 = 1030
    public static let FD_CLOEXEC: Int32 = 1

    public static let F_RDLCK: Int16 = 0
    public static let F_WRLCK: Int16 = 1
    public static let F_UNLCK: Int16 = 2

    public static let LOCK_SH: Int32 = 1
    public static let LOCK_EX: Int32 = 2
    public static let LOCK_NB: Int32 = 4
    public static let LOCK_UN: Int32 = 8

    public static let SEEK_SET: Int32 = 0
    public static let SEEK_CUR: Int32 = 1
    public static let SEEK_END: Int32 = 2
    public static let SEEK_DATA: Int32 = 3
    public static let SEEK_HOLE: Int32 = 4

    public static let RENAME_NOREPLACE: UInt32 = 1
    public static let RENAME_EXCHANGE: UInt32 = 2
    public static let RENAME_WHITEOUT: UInt32 = 4

    public static let CLOSE_RANGE_UNSHARE: UInt32 = 2
    public static let CLOSE_RANGE_CLOEXEC: UInt32 = 4

    public static let MS_RDONLY: UInt64 = 1
    public static let MS_NOSUID: UInt64 = 2
    public static let MS_NODEV: UInt64 = 4
    public static let MS_NOEXEC: UInt64 = 8
    public static let MS_REMOUNT: UInt64 = 32
    public static let MS_NOATIME: UInt64 = 1024
    public static let MS_BIND: UInt64 = 4096
    public static let MS_REC: UInt64 = 16384
    public static let MS_STRICTATIME: UInt64 = 1 << 24
    public static let MNT_FORCE: Int32 = 1
    public static let MNT_DETACH: Int32 = 2
    public static let MNT_EXPIRE: Int32 = 4
    public static let UMOUNT_NOFOLLOW: Int32 = 8

    public static let MFD_CLOEXEC: UInt32 = 1
    public static let MFD_ALLOW_SEALING: UInt32 = 2

    public static let PATH_MAX = 4096
    public static let RLIMIT_NOFILE_DEFAULT = 1024
    /// fs.nr_open: the largest RLIMIT_NOFILE may be set to.
    public static let NR_OPEN = 1_048_576
}
