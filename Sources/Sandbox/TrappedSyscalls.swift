import Syscalls

/// x86-64 numbers the supervisor handles that the Syscalls layer does not serve itself.
enum ExtraSyscall {
    /// Trapped by the filter only for file mappings (see `TrappedSyscalls`).
    static let mmap = 9
    static let ioctl = 16, sendfile = 40, clone = 56, fork = 57, vfork = 58, execve = 59
    static let readahead = 187, fadvise64 = 221, splice = 275, tee = 276
    static let syncFileRange = 277, syncfs = 306, execveat = 322, copyFileRange = 326
    static let clone3 = 435
    /// Trapped for AF_UNIX paths in VFS mounts (see Supervisor+UnixSockets.swift).
    static let connect = 42, bind = 49
}

/// The syscalls the seccomp filter sends to the supervisor: every file syscall that takes a
/// path or a descriptor (a VFS descriptor can be any number), plus the process events the
/// supervisor must see (clone/fork/vfork for fd-table copies, execve for close-on-exec and
/// for refusing to execute VFS files, umask to keep the VFS umask in step), and connect and
/// bind for unix socket paths (Supervisor+UnixSockets.swift). Everything else — pipes, the
/// other socket calls, memory, signals, poll/epoll, io_uring and AIO — never leaves the kernel.
///
/// mmap is trapped too, but not from this list: the filter sends it only for file mappings
/// (flags without MAP_ANONYMOUS, a libseccomp argument comparison), so malloc's and the
/// stacks' anonymous mappings never stop. A host descriptor is mapped by the kernel as
/// before; a VFS descriptor's number first gets a real file in place of its placeholder pipe
/// (the host file behind a host or gofer mount, a live read-only copy of a tmpfs file; a
/// writable MAP_SHARED of a copy is ENODEV) — see Supervisor+Mmap.swift, which also says what
/// the untrapped calls then see on that number.
public enum TrappedSyscalls {
    public static let numbers: [Int32] = {
        let served: [SyscallNumber] = [
            .read, .write, .open, .close, .stat, .fstat, .lstat, .lseek, .pread64, .pwrite64,
            .readv, .writev, .access, .dup, .dup2, .fcntl, .flock, .fsync, .fdatasync, .truncate,
            .ftruncate, .getdents, .getcwd, .chdir, .fchdir, .rename, .mkdir, .rmdir, .creat,
            .link, .unlink, .symlink, .readlink, .chmod, .fchmod, .chown, .fchown, .lchown,
            .umask, .utime, .mknod, .statfs, .fstatfs, .chroot, .setxattr, .lsetxattr,
            .fsetxattr, .getxattr, .lgetxattr, .fgetxattr, .listxattr, .llistxattr, .flistxattr,
            .removexattr, .lremovexattr, .fremovexattr, .getdents64, .utimes, .openat, .mkdirat,
            .mknodat, .fchownat, .futimesat, .newfstatat, .unlinkat, .renameat, .linkat,
            .symlinkat, .readlinkat, .fchmodat, .faccessat, .utimensat, .fallocate, .dup3,
            .preadv, .pwritev, .renameat2, .preadv2, .pwritev2, .statx, .closeRange, .openat2,
            .faccessat2, .fchmodat2,
        ]
        let extra = [
            ExtraSyscall.ioctl, ExtraSyscall.sendfile, ExtraSyscall.clone, ExtraSyscall.fork,
            ExtraSyscall.vfork, ExtraSyscall.execve, ExtraSyscall.readahead,
            ExtraSyscall.fadvise64, ExtraSyscall.splice, ExtraSyscall.tee,
            ExtraSyscall.syncFileRange, ExtraSyscall.syncfs, ExtraSyscall.execveat,
            ExtraSyscall.copyFileRange, ExtraSyscall.clone3, ExtraSyscall.connect,
            ExtraSyscall.bind,
        ]
        return (served.map { Int32($0.rawValue) } + extra.map { Int32($0) }).sorted()
    }()
}
