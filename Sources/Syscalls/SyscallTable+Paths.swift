import VFSCore

extension SyscallTable {
    /// access, faccessat, faccessat2, mkdir, mkdirat, mknod, mknodat, unlink, unlinkat, rmdir,
    /// rename, renameat, renameat2, link, linkat, symlink, symlinkat, readlink, readlinkat,
    /// chmod, fchmod, fchmodat, fchmodat2, chown, fchown, lchown, fchownat, utimensat,
    /// futimesat, utimes, utime, truncate, ftruncate, fallocate.
    ///
    /// Paths are read up front but their errors surface where Linux's do (`UserPath`); mode
    /// arguments are the kernel's `umode_t` (the Task drops bits above 16).
    static let pathEntries: [SyscallEntry] = [
        SyscallEntry(.access) { (task, memory, a) throws(Errno) -> Int64 in
            try task.faccessat2(Linux.AT_FDCWD, memory.userPath(a[0]), a.int32(1), 0)
            return 0
        },
        SyscallEntry(.faccessat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.faccessat2(a.int32(0), memory.userPath(a[1]), a.int32(2), 0)
            return 0
        },
        SyscallEntry(.faccessat2) { (task, memory, a) throws(Errno) -> Int64 in
            try task.faccessat2(a.int32(0), memory.userPath(a[1]), a.int32(2), a.int32(3))
            return 0
        },
        SyscallEntry(.mkdir) { (task, memory, a) throws(Errno) -> Int64 in
            try task.mkdirat(Linux.AT_FDCWD, memory.userPath(a[0]), a.uint32(1) & 0xFFFF)
            return 0
        },
        SyscallEntry(.mkdirat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.mkdirat(a.int32(0), memory.userPath(a[1]), a.uint32(2) & 0xFFFF)
            return 0
        },
        SyscallEntry(.mknod) { (task, memory, a) throws(Errno) -> Int64 in
            try task.mknodat(Linux.AT_FDCWD, memory.userPath(a[0]), a.uint32(1), a.uint32(2))
            return 0
        },
        SyscallEntry(.mknodat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.mknodat(a.int32(0), memory.userPath(a[1]), a.uint32(2), a.uint32(3))
            return 0
        },
        SyscallEntry(.unlink) { (task, memory, a) throws(Errno) -> Int64 in
            try task.unlinkat(Linux.AT_FDCWD, memory.userPath(a[0]), 0)
            return 0
        },
        SyscallEntry(.unlinkat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.unlinkat(a.int32(0), memory.userPath(a[1]), a.int32(2))
            return 0
        },
        SyscallEntry(.rmdir) { (task, memory, a) throws(Errno) -> Int64 in
            try task.unlinkat(Linux.AT_FDCWD, memory.userPath(a[0]), Linux.AT_REMOVEDIR)
            return 0
        },
        SyscallEntry(.rename) { (task, memory, a) throws(Errno) -> Int64 in
            try task.renameat2(
                Linux.AT_FDCWD, memory.userPath(a[0]), Linux.AT_FDCWD, memory.userPath(a[1]), 0)
            return 0
        },
        SyscallEntry(.renameat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.renameat2(
                a.int32(0), memory.userPath(a[1]), a.int32(2), memory.userPath(a[3]), 0)
            return 0
        },
        SyscallEntry(.renameat2) { (task, memory, a) throws(Errno) -> Int64 in
            try task.renameat2(
                a.int32(0), memory.userPath(a[1]), a.int32(2), memory.userPath(a[3]),
                a.uint32(4))
            return 0
        },
        SyscallEntry(.link) { (task, memory, a) throws(Errno) -> Int64 in
            try task.linkat(
                Linux.AT_FDCWD, memory.userPath(a[0]), Linux.AT_FDCWD, memory.userPath(a[1]), 0)
            return 0
        },
        SyscallEntry(.linkat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.linkat(
                a.int32(0), memory.userPath(a[1]), a.int32(2), memory.userPath(a[3]),
                a.int32(4))
            return 0
        },
        SyscallEntry(.symlink) { (task, memory, a) throws(Errno) -> Int64 in
            try task.symlinkat(memory.userPath(a[0]), Linux.AT_FDCWD, memory.userPath(a[1]))
            return 0
        },
        SyscallEntry(.symlinkat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.symlinkat(memory.userPath(a[0]), a.int32(1), memory.userPath(a[2]))
            return 0
        },
        SyscallEntry(.readlink) { (task, memory, a) throws(Errno) -> Int64 in
            let target = try task.readlinkat(Linux.AT_FDCWD, memory.userPath(a[0]), a.int32(2))
            try memory.writeBytes(a[1], target)
            return Int64(target.count)
        },
        SyscallEntry(.readlinkat) { (task, memory, a) throws(Errno) -> Int64 in
            let target = try task.readlinkat(a.int32(0), memory.userPath(a[1]), a.int32(3))
            try memory.writeBytes(a[2], target)
            return Int64(target.count)
        },
        SyscallEntry(.chmod) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fchmodat2(Linux.AT_FDCWD, memory.userPath(a[0]), a.uint32(1) & 0xFFFF, 0)
            return 0
        },
        SyscallEntry(.fchmod) { (task, _, a) throws(Errno) -> Int64 in
            try task.fchmod(a.int32(0), a.uint32(1) & 0xFFFF)
            return 0
        },
        SyscallEntry(.fchmodat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fchmodat2(a.int32(0), memory.userPath(a[1]), a.uint32(2) & 0xFFFF, 0)
            return 0
        },
        SyscallEntry(.fchmodat2) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fchmodat2(
                a.int32(0), memory.userPath(a[1]), a.uint32(2) & 0xFFFF, a.int32(3))
            return 0
        },
        SyscallEntry(.chown) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fchownat(
                Linux.AT_FDCWD, memory.userPath(a[0]), a.uint32(1), a.uint32(2), 0)
            return 0
        },
        SyscallEntry(.fchown) { (task, _, a) throws(Errno) -> Int64 in
            try task.fchown(a.int32(0), a.uint32(1), a.uint32(2))
            return 0
        },
        SyscallEntry(.lchown) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fchownat(
                Linux.AT_FDCWD, memory.userPath(a[0]), a.uint32(1), a.uint32(2),
                Linux.AT_SYMLINK_NOFOLLOW)
            return 0
        },
        SyscallEntry(.fchownat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.fchownat(
                a.int32(0), memory.userPath(a[1]), a.uint32(2), a.uint32(3), a.int32(4))
            return 0
        },
        SyscallEntry(.utimensat) { (task, memory, a) throws(Errno) -> Int64 in
            // struct __kernel_timespec times[2]: read (EFAULT) before anything else.
            var times: (access: Timespec, modification: Timespec)?
            if a[2] != 0 {
                let reader = LittleEndianReader(try memory.readBytes(a[2], count: 32))
                times = (reader.timespec(0), reader.timespec(16))
            }
            try task.utimensat(
                a.int32(0), userPath: memory.optionalUserPath(a[1]), times, a.int32(3))
            return 0
        },
        SyscallEntry(.futimesat) { (task, memory, a) throws(Errno) -> Int64 in
            try task.futimesat(
                a.int32(0), userPath: memory.optionalUserPath(a[1]),
                try readTimevals(memory, a[2]))
            return 0
        },
        SyscallEntry(.utimes) { (task, memory, a) throws(Errno) -> Int64 in
            let times = try readTimevals(memory, a[1])
            try task.futimesat(Linux.AT_FDCWD, userPath: memory.userPath(a[0]), times)
            return 0
        },
        SyscallEntry(.utime) { (task, memory, a) throws(Errno) -> Int64 in
            // struct utimbuf { time_t actime, modtime; }
            var times: (access: Int64, modification: Int64)?
            if a[1] != 0 {
                let reader = LittleEndianReader(try memory.readBytes(a[1], count: 16))
                times = (reader.i64(0), reader.i64(8))
            }
            try task.utime(memory.userPath(a[0]), times)
            return 0
        },
        SyscallEntry(.truncate) { (task, memory, a) throws(Errno) -> Int64 in
            try task.truncate(memory.userPath(a[0]), a.int64(1))
            return 0
        },
        SyscallEntry(.ftruncate) { (task, _, a) throws(Errno) -> Int64 in
            try task.ftruncate(a.int32(0), a.int64(1))
            return 0
        },
        SyscallEntry(.fallocate) { (task, _, a) throws(Errno) -> Int64 in
            try task.fallocate(a.int32(0), a.int32(1), a.int64(2), a.int64(3))
            return 0
        },
    ]

    /// `struct timeval times[2]` for futimesat and utimes; NULL is nil.
    static func readTimevals(_ memory: any TaskMemory, _ address: UInt64) throws(Errno)
        -> (access: LinuxTimeval, modification: LinuxTimeval)?
    {
        guard address != 0 else { return nil }
        let reader = LittleEndianReader(try memory.readBytes(address, count: 32))
        return (
            LinuxTimeval(seconds: reader.i64(0), microseconds: reader.i64(8)),
            LinuxTimeval(seconds: reader.i64(16), microseconds: reader.i64(24))
        )
    }
}
