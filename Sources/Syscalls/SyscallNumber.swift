/// x86-64 syscall numbers of the file syscalls this layer serves (arch/x86/entry/syscalls).
public enum SyscallNumber: Int, Sendable, CaseIterable {
    case read = 0, write = 1, open = 2, close = 3, stat = 4, fstat = 5, lstat = 6
    case lseek = 8
    case pread64 = 17, pwrite64 = 18, readv = 19, writev = 20, access = 21, pipe = 22
    case dup = 32, dup2 = 33
    case fcntl = 72, flock = 73, fsync = 74, fdatasync = 75, truncate = 76, ftruncate = 77
    case getdents = 78, getcwd = 79, chdir = 80, fchdir = 81, rename = 82, mkdir = 83
    case rmdir = 84, creat = 85, link = 86, unlink = 87, symlink = 88, readlink = 89
    case chmod = 90, fchmod = 91, chown = 92, fchown = 93, lchown = 94, umask = 95
    case utime = 132, mknod = 133, statfs = 137, fstatfs = 138, chroot = 161
    case mount = 165, umount2 = 166
    case setxattr = 188, lsetxattr = 189, fsetxattr = 190, getxattr = 191, lgetxattr = 192
    case fgetxattr = 193, listxattr = 194, llistxattr = 195, flistxattr = 196
    case removexattr = 197, lremovexattr = 198, fremovexattr = 199
    case getdents64 = 217, utimes = 235
    case openat = 257, mkdirat = 258, mknodat = 259, fchownat = 260, futimesat = 261
    case newfstatat = 262, unlinkat = 263, renameat = 264, linkat = 265, symlinkat = 266
    case readlinkat = 267, fchmodat = 268, faccessat = 269, utimensat = 280, fallocate = 285
    case dup3 = 292, pipe2 = 293, preadv = 295, pwritev = 296, renameat2 = 316
    case memfdCreate = 319, preadv2 = 327, pwritev2 = 328, statx = 332, closeRange = 436
    case openat2 = 437, faccessat2 = 439, fchmodat2 = 452
}
