import Syscalls
import VFSCore

/// The VFS side's syscalls, one per kernel syscall the kernel side makes, each forwarding to
/// the `Task` method of the same name (so the comparison covers the syscall layer's argument
/// checks, not only VFSCore's).
extension VFSExecutor {
    // MARK: Creating and removing names

    func mkdirat(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32) throws(Errno) {
        try task.mkdirat(dirfd, path, mode)
    }

    func mknodat(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32, _ device: UInt32)
        throws(Errno)
    {
        try task.mknodat(dirfd, path, mode, device)
    }

    func symlinkat(_ target: PathArgument, _ dirfd: Int32, _ path: PathArgument) throws(Errno) {
        try task.symlinkat(target, dirfd, path)
    }

    func linkat(
        _ olddirfd: Int32, _ oldpath: PathArgument, _ newdirfd: Int32, _ newpath: PathArgument,
        _ flags: Int32
    ) throws(Errno) {
        try task.linkat(olddirfd, oldpath, newdirfd, newpath, flags)
    }

    func unlinkat(_ dirfd: Int32, _ path: PathArgument, _ flags: Int32) throws(Errno) {
        try task.unlinkat(dirfd, path, flags)
    }

    func rmdir(_ path: PathArgument) throws(Errno) {
        try task.rmdir(path)
    }

    func renameat2(
        _ olddirfd: Int32, _ oldpath: PathArgument, _ newdirfd: Int32, _ newpath: PathArgument,
        _ flags: UInt32
    ) throws(Errno) {
        try task.renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
    }

    // MARK: Descriptors and data

    func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int64) throws(Errno) -> Int64 {
        Int64(try task.fcntl(fd, command, Int(argument)))
    }

    func ftruncate(_ fd: Int32, _ length: Int64) throws(Errno) {
        try task.ftruncate(fd, length)
    }

    func truncate(_ path: PathArgument, _ length: Int64) throws(Errno) {
        try task.truncate(path, length)
    }

    func fallocate(_ fd: Int32, _ mode: Int32, _ offset: Int64, _ length: Int64) throws(Errno) {
        try task.fallocate(fd, mode, offset, length)
    }

    /// getdents64 with a 4096-byte buffer until it returns 0, as the kernel side does.
    func listDirectory(_ fd: Int32) throws(Errno) -> [EntryRecord] {
        var entries: [EntryRecord] = []
        for _ in 0..<10_000 {
            let records = try task.getdents64(fd, count: 4096)
            if records.isEmpty { return entries }
            entries += KernelExecutor.parseDirents(records[...])
        }
        return entries
    }

    // MARK: Attributes

    func newfstatat(_ dirfd: Int32, _ path: PathArgument, _ flags: Int32) throws(Errno)
        -> LinuxStat
    {
        try task.newfstatat(dirfd, path, flags)
    }

    func fstat(_ fd: Int32) throws(Errno) -> LinuxStat {
        try task.fstat(fd)
    }

    func faccessat2(_ dirfd: Int32, _ path: PathArgument, _ mode: Int32, _ flags: Int32)
        throws(Errno)
    {
        try task.faccessat2(dirfd, path, mode, flags)
    }

    func readlinkat(_ dirfd: Int32, _ path: PathArgument, _ size: Int) throws(Errno) -> [UInt8] {
        try task.readlinkat(dirfd, path, Int32(truncatingIfNeeded: size))
    }

    func fchmodat(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32) throws(Errno) {
        try task.fchmodat(dirfd, path, mode)
    }

    func fchmodat2(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32, _ flags: Int32)
        throws(Errno)
    {
        try task.fchmodat2(dirfd, path, mode, flags)
    }

    func fchmod(_ fd: Int32, _ mode: UInt32) throws(Errno) {
        try task.fchmod(fd, mode)
    }

    func fchownat(
        _ dirfd: Int32, _ path: PathArgument, _ uid: UInt32, _ gid: UInt32, _ flags: Int32
    ) throws(Errno) {
        try task.fchownat(dirfd, path, uid, gid, flags)
    }

    func fchown(_ fd: Int32, _ uid: UInt32, _ gid: UInt32) throws(Errno) {
        try task.fchown(fd, uid, gid)
    }

    func utimensat(
        _ dirfd: Int32, _ path: PathArgument, _ access: TimeArgument,
        _ modification: TimeArgument, _ flags: Int32
    ) throws(Errno) {
        func timespec(_ time: TimeArgument) -> Timespec {
            switch time {
            case .now: Timespec(seconds: 0, nanoseconds: Linux.UTIME_NOW)
            case .omit: Timespec(seconds: 0, nanoseconds: Linux.UTIME_OMIT)
            case .fixed(let seconds): Timespec(seconds: seconds, nanoseconds: 0)
            }
        }
        try task.utimensat(dirfd, path, (timespec(access), timespec(modification)), flags)
    }

    // MARK: Process state

    func chdir(_ path: PathArgument) throws(Errno) {
        try task.chdir(path)
    }

    func fchdir(_ fd: Int32) throws(Errno) {
        try task.fchdir(fd)
    }

    func umask(_ mask: UInt32) -> UInt32 {
        task.umask(mask)
    }

    // MARK: Extended attributes

    func setxattr(
        _ path: PathArgument, _ name: String, _ value: [UInt8], _ flags: Int32, follow: Bool
    ) throws(Errno) {
        if follow {
            try task.setxattr(path, Array(name.utf8), value, flags)
        } else {
            try task.lsetxattr(path, Array(name.utf8), value, flags)
        }
    }

    func getxattr(_ path: PathArgument, _ name: String, _ size: Int, follow: Bool) throws(Errno)
        -> [UInt8]
    {
        follow
            ? try task.getxattr(path, Array(name.utf8), size)
            : try task.lgetxattr(path, Array(name.utf8), size)
    }

    func listxattr(_ path: PathArgument, _ size: Int, follow: Bool) throws(Errno) -> [UInt8] {
        follow ? try task.listxattr(path, size) : try task.llistxattr(path, size)
    }

    func removexattr(_ path: PathArgument, _ name: String, follow: Bool) throws(Errno) {
        if follow {
            try task.removexattr(path, Array(name.utf8))
        } else {
            try task.lremovexattr(path, Array(name.utf8))
        }
    }
}
