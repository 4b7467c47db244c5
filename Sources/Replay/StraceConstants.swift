import Foundation

/// The symbolic constants strace prints in the arguments a replay decodes, with their Linux
/// x86-64 values, and errno names.
public enum StraceConstants {
    static let values: [String: Int64] = [
        // open(2)
        "O_RDONLY": 0, "O_WRONLY": 1, "O_RDWR": 2, "O_ACCMODE": 3,
        "O_CREAT": 0o100, "O_EXCL": 0o200, "O_NOCTTY": 0o400, "O_TRUNC": 0o1000, "O_APPEND": 0o2000,
        "O_NONBLOCK": 0o4000, "O_NDELAY": 0o4000, "O_DSYNC": 0o10000, "O_ASYNC": 0o20000,
        "FASYNC": 0o20000, "O_DIRECT": 0o40000, "O_LARGEFILE": 0o100000, "O_DIRECTORY": 0o200000,
        "O_NOFOLLOW": 0o400000, "O_NOATIME": 0o1000000, "O_CLOEXEC": 0o2000000,
        "O_SYNC": 0o4010000, "O_RSYNC": 0o4010000, "O_PATH": 0o10000000, "O_TMPFILE": 0o20200000,
        // *at(2)
        "AT_FDCWD": -100, "AT_SYMLINK_NOFOLLOW": 0x100, "AT_REMOVEDIR": 0x200, "AT_EACCESS": 0x200,
        "AT_SYMLINK_FOLLOW": 0x400, "AT_NO_AUTOMOUNT": 0x800, "AT_EMPTY_PATH": 0x1000,
        "AT_STATX_SYNC_AS_STAT": 0, "AT_STATX_FORCE_SYNC": 0x2000, "AT_STATX_DONT_SYNC": 0x4000,
        "AT_RECURSIVE": 0x8000,
        // access(2)
        "F_OK": 0, "X_OK": 1, "W_OK": 2, "R_OK": 4,
        // lseek(2)
        "SEEK_SET": 0, "SEEK_CUR": 1, "SEEK_END": 2, "SEEK_DATA": 3, "SEEK_HOLE": 4,
        // fcntl(2)
        "F_DUPFD": 0, "F_GETFD": 1, "F_SETFD": 2, "F_GETFL": 3, "F_SETFL": 4, "F_GETLK": 5,
        "F_SETLK": 6, "F_SETLKW": 7, "F_DUPFD_CLOEXEC": 1030, "FD_CLOEXEC": 1,
        // statx(2)
        "STATX_TYPE": 0x1, "STATX_MODE": 0x2, "STATX_NLINK": 0x4, "STATX_UID": 0x8, "STATX_GID": 0x10,
        "STATX_ATIME": 0x20, "STATX_MTIME": 0x40, "STATX_CTIME": 0x80, "STATX_INO": 0x100,
        "STATX_SIZE": 0x200, "STATX_BLOCKS": 0x400, "STATX_BASIC_STATS": 0x7ff, "STATX_BTIME": 0x800,
        "STATX_MNT_ID": 0x1000, "STATX_DIOALIGN": 0x2000, "STATX_MNT_ID_UNIQUE": 0x4000, "STATX_ALL": 0xfff,
        // renameat2(2)
        "RENAME_NOREPLACE": 1, "RENAME_EXCHANGE": 2, "RENAME_WHITEOUT": 4,
        // File types and mode bits.
        "S_IFMT": 0o170000, "S_IFSOCK": 0o140000, "S_IFLNK": 0o120000, "S_IFREG": 0o100000,
        "S_IFBLK": 0o60000, "S_IFDIR": 0o40000, "S_IFCHR": 0o20000, "S_IFIFO": 0o10000,
        "S_ISUID": 0o4000, "S_ISGID": 0o2000, "S_ISVTX": 0o1000,
        "UTIME_NOW": 0x3fff_ffff, "UTIME_OMIT": 0x3fff_fffe,
    ]

    public static let errnoValues: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7,
        "ENOEXEC": 8, "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "EWOULDBLOCK": 11, "ENOMEM": 12,
        "EACCES": 13, "EFAULT": 14, "ENOTBLK": 15, "EBUSY": 16, "EEXIST": 17, "EXDEV": 18,
        "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23, "EMFILE": 24,
        "ENOTTY": 25, "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30,
        "EMLINK": 31, "EPIPE": 32, "EDOM": 33, "ERANGE": 34, "EDEADLK": 35, "ENAMETOOLONG": 36,
        "ENOLCK": 37, "ENOSYS": 38, "ENOTEMPTY": 39, "ELOOP": 40, "ENOMSG": 42, "ENODATA": 61,
        "EOVERFLOW": 75, "EBADFD": 77, "EOPNOTSUPP": 95, "ENOTSUP": 95, "ENOTSOCK": 88,
        "EAFNOSUPPORT": 97, "EADDRINUSE": 98, "ECONNREFUSED": 111, "ESTALE": 116, "EDQUOT": 122,
    ]

    public static func errnoName(_ value: Int32) -> String {
        var best: String?
        for (name, number) in errnoValues where number == value {
            // Prefer the canonical spelling over aliases.
            if best == nil || ["EWOULDBLOCK", "ENOTSUP"].contains(best ?? "") { best = name }
        }
        return best ?? "errno \(value)"
    }

    /// The value of a strace flags expression (`O_RDONLY|O_CLOEXEC`, `S_IFREG|0644`, `3`),
    /// or nil when a name is not known.
    public static func value(of value: StraceValue) -> Int64? {
        switch value {
        case .int(let number): return number
        case .null: return 0
        case .flags(let parts):
            var total: Int64 = 0
            for part in parts {
                if let number = StraceParser.parseInteger(Substring(part)) {
                    total |= number
                } else if let known = values[part] {
                    if part == "AT_FDCWD" { return known }
                    total |= known
                } else {
                    return nil
                }
            }
            return total
        default: return nil
        }
    }

    /// The unknown name in a flags expression, for skip reasons.
    static func unknownName(in value: StraceValue) -> String? {
        guard case .flags(let parts) = value else { return nil }
        return parts.first { StraceParser.parseInteger(Substring($0)) == nil && values[$0] == nil }
    }

    /// `name=value` inside a struct's text (`st_mode=S_IFREG|0644, st_size=38559, ...`).
    static func field(_ name: String, in text: String) -> Int64? {
        guard let range = text.range(of: name + "=") else { return nil }
        let rest = text[range.upperBound...]
        let token = rest.prefix { $0 != "," && $0 != "}" && $0 != " " }
        if let number = StraceParser.parseInteger(token) { return number }
        return value(of: .flags(token.split(separator: "|").map(String.init)))
    }
}
