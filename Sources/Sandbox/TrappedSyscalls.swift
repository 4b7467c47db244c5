import Syscalls

/// x86-64 numbers the supervisor handles that the Syscalls layer does not serve itself.
enum ExtraSyscall {
    static let ioctl = 16, sendfile = 40, clone = 56, fork = 57, vfork = 58, execve = 59
    static let readahead = 187, fadvise64 = 221, splice = 275, tee = 276
    static let syncFileRange = 277, syncfs = 306, execveat = 322, copyFileRange = 326
    static let clone3 = 435
}

/// The syscalls the seccomp filter sends to the supervisor: every file syscall that takes a
/// path or a descriptor (a VFS descriptor can be any number), plus the process events the
/// supervisor must see (clone/fork/vfork for fd-table copies, execve for close-on-exec and
/// for refusing to execute VFS files, umask to keep the VFS umask in step). Everything else —
/// mmap, pipes, sockets, memory, signals — never leaves the kernel.
///
/// mmap is deliberately not trapped: a VFS descriptor's real number holds a pipe, whose
/// mmap fails with ENODEV, the documented answer for mapping a VFS file.
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
            ExtraSyscall.copyFileRange, ExtraSyscall.clone3,
        ]
        return (served.map { Int32($0.rawValue) } + extra.map { Int32($0) }).sorted()
    }()
}
