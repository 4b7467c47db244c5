/// Readable forms of operations, close to strace's: a shrunk sequence prints as a list of
/// syscalls that can be pasted into a test.
extension Operation: CustomStringConvertible {
    public var description: String {
        switch self {
        case .mkdir(let l, let mode): "mkdirat(\(l), \(octal(mode)))"
        case .mknod(let l, let mode): "mknodat(\(l), \(FlagNames.fileMode(mode)))"
        case .symlink(let target, let l): "symlinkat(\(quoted(target)), \(l))"
        case .link(let a, let b, let flags): "linkat(\(a), \(b), \(FlagNames.at(flags)))"
        case .unlink(let l, let flags): "unlinkat(\(l), \(FlagNames.at(flags)))"
        case .rmdir(let p): "rmdir(\(quoted(p)))"
        case .rename(let a, let b, let flags):
            "renameat2(\(a), \(b), \(FlagNames.rename(flags)))"
        case .open(let l, let flags, let mode, let slot):
            "fd#\(slot) = openat(\(l), \(FlagNames.open(flags)), \(octal(mode)))"
        case .close(let slot): "close(fd#\(slot))"
        case .dup(let slot, let into): "fd#\(into) = dup(fd#\(slot))"
        case .dup2(let slot, let onto): "dup2(fd#\(slot), fd#\(onto))"
        case .fcntl(let slot, let command, let argument):
            "fcntl(fd#\(slot), \(FlagNames.fcntl(command, argument)))"
        case .read(let slot, let count): "read(fd#\(slot), \(count))"
        case .write(let slot, let data): "write(fd#\(slot), \(quoted(data)))"
        case .pread(let slot, let count, let offset): "pread64(fd#\(slot), \(count), \(offset))"
        case .pwrite(let slot, let data, let offset):
            "pwrite64(fd#\(slot), \(quoted(data)), \(offset))"
        case .lseek(let slot, let offset, let whence):
            "lseek(fd#\(slot), \(offset), \(FlagNames.whence(whence)))"
        case .ftruncate(let slot, let length): "ftruncate(fd#\(slot), \(length))"
        case .truncate(let p, let length): "truncate(\(quoted(p)), \(length))"
        case .fallocate(let slot, let mode, let offset, let length):
            "fallocate(fd#\(slot), \(FlagNames.fallocate(mode)), \(offset), \(length))"
        case .getdents(let slot): "getdents64(fd#\(slot)) until 0"
        case .stat(let l, let flags): "newfstatat(\(l), \(FlagNames.at(flags)))"
        case .fstat(let slot): "fstat(fd#\(slot))"
        case .access(let l, let mode, let flags):
            "faccessat2(\(l), \(FlagNames.access(mode)), \(FlagNames.at(flags)))"
        case .readlink(let l, let size): "readlinkat(\(l), size \(size))"
        case .chmod(let l, let mode, let flags):
            "fchmodat\(flags == 0 ? "" : "2")(\(l), \(octal(mode))\(flags == 0 ? "" : ", \(FlagNames.at(flags))"))"
        case .fchmod(let slot, let mode): "fchmod(fd#\(slot), \(octal(mode)))"
        case .chown(let l, let uid, let gid, let flags):
            "fchownat(\(l), \(FlagNames.id(uid)), \(FlagNames.id(gid)), \(FlagNames.at(flags)))"
        case .fchown(let slot, let uid, let gid):
            "fchown(fd#\(slot), \(FlagNames.id(uid)), \(FlagNames.id(gid)))"
        case .utimens(let l, let access, let modification, let flags):
            "utimensat(\(l), [\(access), \(modification)], \(FlagNames.at(flags)))"
        case .setxattr(let p, let name, let value, let flags, let follow):
            "\(follow ? "" : "l")setxattr(\(quoted(p)), \(quoted(name)), \(quoted(value)), \(FlagNames.xattr(flags)))"
        case .getxattr(let p, let name, let size, let follow):
            "\(follow ? "" : "l")getxattr(\(quoted(p)), \(quoted(name)), size \(size))"
        case .listxattr(let p, let size, let follow):
            "\(follow ? "" : "l")listxattr(\(quoted(p)), size \(size))"
        case .removexattr(let p, let name, let follow):
            "\(follow ? "" : "l")removexattr(\(quoted(p)), \(quoted(name)))"
        case .chdir(let p): "chdir(\(quoted(p)))"
        case .fchdir(let slot): "fchdir(fd#\(slot))"
        case .umask(let mask): "umask(\(octal(mask)))"
        case .become(let identity): "become(\(identity))"
        case .statx(let l, let flags, let mask):
            "statx(\(l), \(FlagNames.at(flags)), 0x\(String(mask, radix: 16)))"
        case .openat2(let l, let how, let slot): "fd#\(slot) = openat2(\(l), \(how))"
        case .readv(let slot, let lengths, let call):
            "\(FlagNames.vectorName(call, reading: true))(fd#\(slot), \(FlagNames.lengths(lengths))\(FlagNames.vectorTail(call)))"
        case .writev(let slot, let chunks, let call):
            "\(FlagNames.vectorName(call, reading: false))(fd#\(slot), \(FlagNames.chunks(chunks))\(FlagNames.vectorTail(call)))"
        case .getcwd(let size): "getcwd(size \(size))"
        case .chroot(let p): "chroot(\(quoted(p)))"
        case .mount(let source, let target, let fstype, let flags, let data):
            "mount(\(source.map { quoted($0) } ?? "NULL"), \(quoted(target)), \(fstype.map { quoted($0) } ?? "NULL"), \(FlagNames.mount(flags)), \(data.map { quoted($0) } ?? "NULL"))"
        case .umount(let p, let flags): "umount2(\(quoted(p)), \(FlagNames.umount(flags)))"
        case .lock(let slot, let command, let request):
            "fcntl(fd#\(slot), \(FlagNames.lockCommand(command)), \(request))"
        case .flock(let slot, let operation): "flock(fd#\(slot), \(FlagNames.flock(operation)))"
        case .pipe2(let flags, let read, let write):
            "[fd#\(read), fd#\(write)] = pipe2(\(FlagNames.descriptorFlags(flags)))"
        case .memfd(let name, let count, let flags, let slot):
            "fd#\(slot) = memfd_create(\(count == 1 ? quoted(name) : "\(quoted(name))×\(count)"), \(FlagNames.memfd(flags)))"
        case .closeRange(let first, let last, let flags):
            "close_range(\(first), \(last == UInt32.max ? "~0U" : "\(last)"), \(FlagNames.closeRange(flags)))"
        case .dup3(let slot, let onto, let flags):
            "dup3(fd#\(slot), fd#\(onto), \(FlagNames.descriptorFlags(flags)))"
        case .mknodDevice(let l, let mode, let device):
            "mknodat(\(l), \(FlagNames.fileMode(mode)), \(device >> 8 & 0xFFF):\(device & 0xFF | device >> 12 & 0xFFF00))"
        }
    }

    /// The syscall's name, for grouping divergences ("renameat2", "openat"...).
    public var name: String {
        switch self {
        case .mkdir: "mkdirat"
        case .mknod: "mknodat"
        case .symlink: "symlinkat"
        case .link: "linkat"
        case .unlink: "unlinkat"
        case .rmdir: "rmdir"
        case .rename: "renameat2"
        case .open: "openat"
        case .close: "close"
        case .dup: "dup"
        case .dup2: "dup2"
        case .fcntl: "fcntl"
        case .read: "read"
        case .write: "write"
        case .pread: "pread64"
        case .pwrite: "pwrite64"
        case .lseek: "lseek"
        case .ftruncate: "ftruncate"
        case .truncate: "truncate"
        case .fallocate: "fallocate"
        case .getdents: "getdents64"
        case .stat: "newfstatat"
        case .fstat: "fstat"
        case .access: "faccessat2"
        case .readlink: "readlinkat"
        case .chmod(_, _, let flags): flags == 0 ? "fchmodat" : "fchmodat2"
        case .fchmod: "fchmod"
        case .chown: "fchownat"
        case .fchown: "fchown"
        case .utimens: "utimensat"
        case .setxattr(_, _, _, _, let follow): follow ? "setxattr" : "lsetxattr"
        case .getxattr(_, _, _, let follow): follow ? "getxattr" : "lgetxattr"
        case .listxattr(_, _, let follow): follow ? "listxattr" : "llistxattr"
        case .removexattr(_, _, let follow): follow ? "removexattr" : "lremovexattr"
        case .chdir: "chdir"
        case .fchdir: "fchdir"
        case .umask: "umask"
        case .become: "become"
        case .statx: "statx"
        case .openat2: "openat2"
        case .readv(_, _, let call): FlagNames.vectorName(call, reading: true)
        case .writev(_, _, let call): FlagNames.vectorName(call, reading: false)
        case .getcwd: "getcwd"
        case .chroot: "chroot"
        case .mount: "mount"
        case .umount: "umount2"
        case .lock: "fcntl"
        case .flock: "flock"
        case .pipe2: "pipe2"
        case .memfd: "memfd_create"
        case .closeRange: "close_range"
        case .dup3: "dup3"
        case .mknodDevice: "mknodat"
        }
    }
}

/// Symbolic names for the flag words in operations and results.
enum FlagNames {
    static func join(_ names: [String], rest: Int64) -> String {
        var parts = names
        if rest != 0 { parts.append(octal(rest)) }
        return parts.isEmpty ? "0" : parts.joined(separator: "|")
    }

    static func bits(_ value: Int64, _ table: [(Int64, String)]) -> String {
        var rest = value
        var names: [String] = []
        for (bit, name) in table where bit != 0 && rest & bit == bit {
            names.append(name)
            rest &= ~bit
        }
        return join(names, rest: rest)
    }

    static func open(_ flags: Int32) -> String {
        let access = ["O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"][Int(flags & 3)]
        let others = bits(
            Int64(flags & ~3),
            [
                (0o20200000, "O_TMPFILE"), (0o10000000, "O_PATH"), (0o100, "O_CREAT"),
                (0o200, "O_EXCL"), (0o1000, "O_TRUNC"), (0o2000, "O_APPEND"),
                (0o4000, "O_NONBLOCK"), (0o200000, "O_DIRECTORY"), (0o400000, "O_NOFOLLOW"),
                (0o1000000, "O_NOATIME"), (0o2000000, "O_CLOEXEC"), (0o40000, "O_DIRECT"),
                (0o100000, "O_LARGEFILE"), (0o4010000, "O_SYNC"), (0o10000, "O_DSYNC"),
            ])
        return others == "0" ? access : access + "|" + others
    }

    static func at(_ flags: Int32) -> String {
        bits(
            Int64(flags),
            [
                (0x100, "AT_SYMLINK_NOFOLLOW"), (0x200, "AT_REMOVEDIR/AT_EACCESS"),
                (0x400, "AT_SYMLINK_FOLLOW"), (0x1000, "AT_EMPTY_PATH"),
            ])
    }

    static func rename(_ flags: UInt32) -> String {
        bits(
            Int64(flags),
            [(1, "RENAME_NOREPLACE"), (2, "RENAME_EXCHANGE"), (4, "RENAME_WHITEOUT")])
    }

    static func access(_ mode: Int32) -> String {
        mode == 0 ? "F_OK" : bits(Int64(mode), [(4, "R_OK"), (2, "W_OK"), (1, "X_OK")])
    }

    static func whence(_ whence: Int32) -> String {
        switch whence {
        case 0: "SEEK_SET"
        case 1: "SEEK_CUR"
        case 2: "SEEK_END"
        case 3: "SEEK_DATA"
        case 4: "SEEK_HOLE"
        default: "\(whence)"
        }
    }

    static func fallocate(_ mode: Int32) -> String {
        bits(
            Int64(mode),
            [
                (1, "FALLOC_FL_KEEP_SIZE"), (2, "FALLOC_FL_PUNCH_HOLE"),
                (0x10, "FALLOC_FL_ZERO_RANGE"), (0x8, "FALLOC_FL_COLLAPSE_RANGE"),
                (0x20, "FALLOC_FL_INSERT_RANGE"),
            ])
    }

    static func fcntl(_ command: Int32, _ argument: Int32) -> String {
        switch command {
        case 1: "F_GETFD"
        case 2: "F_SETFD, \(argument & 1 != 0 ? "FD_CLOEXEC" : "0")"
        case 3: "F_GETFL"
        case 4: "F_SETFL, \(open(argument))"
        default: "\(command), \(argument)"
        }
    }

    /// pipe2's and dup3's flags: open flags without an access mode.
    static func descriptorFlags(_ flags: Int32) -> String {
        guard flags & 3 == 0 else { return open(flags) }
        return flags == 0 ? "0" : String(open(flags).dropFirst("O_RDONLY|".count))
    }

    static func resolve(_ flags: UInt64) -> String {
        bits(
            Int64(bitPattern: flags),
            [
                (1, "RESOLVE_NO_XDEV"), (2, "RESOLVE_NO_MAGICLINKS"), (4, "RESOLVE_NO_SYMLINKS"),
                (8, "RESOLVE_BENEATH"), (0x10, "RESOLVE_IN_ROOT"), (0x20, "RESOLVE_CACHED"),
            ])
    }

    static func vectorName(_ call: VectorCall, reading: Bool) -> String {
        switch call {
        case .plain: reading ? "readv" : "writev"
        case .positioned: reading ? "preadv" : "pwritev"
        case .flagged: reading ? "preadv2" : "pwritev2"
        }
    }

    static func vectorTail(_ call: VectorCall) -> String {
        switch call {
        case .plain: ""
        case .positioned(let offset): ", \(offset)"
        case .flagged(let offset, let flags):
            ", \(offset), "
                + bits(
                    Int64(flags),
                    [
                        (1, "RWF_HIPRI"), (2, "RWF_DSYNC"), (4, "RWF_SYNC"), (8, "RWF_NOWAIT"),
                        (0x10, "RWF_APPEND"), (0x20, "RWF_NOAPPEND"), (0x40, "RWF_ATOMIC"),
                        (0x80, "RWF_DONTCACHE"),
                    ])
        }
    }

    /// iovec lengths, runs of equal ones shortened ("[0×1025]").
    static func lengths(_ lengths: [Int]) -> String {
        if lengths.count > 8, Set(lengths).count == 1 {
            return "[\(lengths[0])×\(lengths.count)]"
        }
        return "[" + lengths.map(String.init).joined(separator: ", ") + "]"
    }

    static func chunks(_ chunks: [[UInt8]]) -> String {
        if chunks.count > 8, Set(chunks).count == 1 {
            return "[\(quoted(chunks[0]))×\(chunks.count)]"
        }
        return "[" + chunks.map { quoted($0) }.joined(separator: ", ") + "]"
    }

    static func mount(_ flags: UInt64) -> String {
        bits(
            Int64(bitPattern: flags),
            [
                (1, "MS_RDONLY"), (2, "MS_NOSUID"), (4, "MS_NODEV"), (8, "MS_NOEXEC"),
                (32, "MS_REMOUNT"), (1024, "MS_NOATIME"), (4096, "MS_BIND"), (8192, "MS_MOVE"),
                (16384, "MS_REC"), (1 << 17, "MS_UNBINDABLE"), (1 << 18, "MS_PRIVATE"),
                (1 << 19, "MS_SLAVE"), (1 << 20, "MS_SHARED"), (1 << 24, "MS_STRICTATIME"),
            ])
    }

    static func umount(_ flags: Int32) -> String {
        bits(
            Int64(flags),
            [(1, "MNT_FORCE"), (2, "MNT_DETACH"), (4, "MNT_EXPIRE"), (8, "UMOUNT_NOFOLLOW")])
    }

    static func lockCommand(_ command: Int32) -> String {
        switch command {
        case 5: "F_GETLK"
        case 6: "F_SETLK"
        case 7: "F_SETLKW"
        case 36: "F_OFD_GETLK"
        case 37: "F_OFD_SETLK"
        case 38: "F_OFD_SETLKW"
        default: "\(command)"
        }
    }

    static func lockType(_ type: Int16) -> String {
        switch type {
        case 0: "F_RDLCK"
        case 1: "F_WRLCK"
        case 2: "F_UNLCK"
        default: "type \(type)"
        }
    }

    static func flock(_ operation: Int32) -> String {
        bits(
            Int64(operation),
            [(1, "LOCK_SH"), (2, "LOCK_EX"), (4, "LOCK_NB"), (8, "LOCK_UN"), (32, "LOCK_MAND")])
    }

    static func memfd(_ flags: UInt32) -> String {
        bits(
            Int64(flags),
            [
                (1, "MFD_CLOEXEC"), (2, "MFD_ALLOW_SEALING"), (4, "MFD_HUGETLB"),
                (8, "MFD_NOEXEC_SEAL"), (0x10, "MFD_EXEC"),
            ])
    }

    static func closeRange(_ flags: UInt32) -> String {
        bits(Int64(flags), [(2, "CLOSE_RANGE_UNSHARE"), (4, "CLOSE_RANGE_CLOEXEC")])
    }

    static func xattr(_ flags: Int32) -> String {
        bits(Int64(flags), [(1, "XATTR_CREATE"), (2, "XATTR_REPLACE")])
    }

    static func id(_ id: UInt32) -> String { id == UInt32.max ? "-1" : "\(id)" }

    static func fileMode(_ mode: UInt32) -> String {
        let type: String =
            switch mode & 0o170000 {
            case 0o010000: "S_IFIFO"
            case 0o020000: "S_IFCHR"
            case 0o040000: "S_IFDIR"
            case 0o060000: "S_IFBLK"
            case 0o100000: "S_IFREG"
            case 0o120000: "S_IFLNK"
            case 0o140000: "S_IFSOCK"
            case 0: ""
            default: octal(mode & 0o170000)
            }
        return type.isEmpty ? octal(mode & 0o7777) : "\(type)|\(octal(mode & 0o7777))"
    }
}
