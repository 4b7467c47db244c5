import VFSCore

extension SyscallTable {
    /// stat, lstat, fstat, newfstatat, statx, statfs, fstatfs. The struct is written only
    /// after the call succeeds: a bad buffer is EFAULT for a file that exists, while a missing
    /// file is ENOENT whatever the buffer (Linux 6.18).
    static let statEntries: [SyscallEntry] = [
        SyscallEntry(.stat) { (task, memory, a) throws(Errno) -> Int64 in
            let stat = try task.newfstatat(Linux.AT_FDCWD, memory.userPath(a[0]), 0)
            try memory.writeBytes(a[1], stat.bytes)
            return 0
        },
        SyscallEntry(.lstat) { (task, memory, a) throws(Errno) -> Int64 in
            let stat = try task.newfstatat(
                Linux.AT_FDCWD, memory.userPath(a[0]), Linux.AT_SYMLINK_NOFOLLOW)
            try memory.writeBytes(a[1], stat.bytes)
            return 0
        },
        SyscallEntry(.fstat) { (task, memory, a) throws(Errno) -> Int64 in
            let stat = try task.fstat(a.int32(0))
            try memory.writeBytes(a[1], stat.bytes)
            return 0
        },
        SyscallEntry(.newfstatat) { (task, memory, a) throws(Errno) -> Int64 in
            // Since Linux 6.11 a NULL path with AT_EMPTY_PATH means the descriptor itself.
            let flags = a.int32(3)
            let path = memory.userPath(a[1], nullIsEmpty: flags & Linux.AT_EMPTY_PATH != 0)
            let stat = try task.newfstatat(a.int32(0), path, flags)
            try memory.writeBytes(a[2], stat.bytes)
            return 0
        },
        SyscallEntry(.statx) { (task, memory, a) throws(Errno) -> Int64 in
            let flags = a.int32(2)
            let path = memory.userPath(a[1], nullIsEmpty: flags & Linux.AT_EMPTY_PATH != 0)
            let statx = try task.statx(a.int32(0), path, flags, a.uint32(3))
            try memory.writeBytes(a[4], statx.bytes)
            return 0
        },
        SyscallEntry(.statfs) { (task, memory, a) throws(Errno) -> Int64 in
            let statfs = try task.statfs(memory.userPath(a[0]))
            try memory.writeBytes(a[1], statfs.bytes)
            return 0
        },
        SyscallEntry(.fstatfs) { (task, memory, a) throws(Errno) -> Int64 in
            let statfs = try task.fstatfs(a.int32(0))
            try memory.writeBytes(a[1], statfs.bytes)
            return 0
        },
    ]
}

extension TaskMemory {
    /// A path argument read the way `getname` reads it, its failure kept for the call to
    /// report when it first uses the name (see `UserPath`). With `nullIsEmpty`, a NULL pointer
    /// is the empty path (`getname_maybe_null` under AT_EMPTY_PATH).
    func userPath(_ address: UInt64, nullIsEmpty: Bool = false) -> UserPath {
        if address == 0 && nullIsEmpty { return .success(PathArgument(bytes: [])) }
        return Result { () throws(Errno) -> PathArgument in try path(address) }
    }

    /// A NULL pointer is nil; anything else is read as a path.
    func optionalUserPath(_ address: UInt64) -> UserPath? {
        address == 0 ? nil : userPath(address)
    }
}
