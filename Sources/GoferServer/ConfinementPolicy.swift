// What the confined gofer keeps: the capability set and the syscall allow-list, each entry
// with the reason it is needed. The syscall list was found by running `vfs gofer` under
// `strace -f` (see `syscalls`); what the confinement itself uses only before the filter is
// loaded (unshare, mount, pivot_root, umount2, capset, prctl, seccomp) is not on it.

/// One capability kept, and why.
public struct KeptCapability: Sendable {
    public var name: String
    public var number: Int
    public var reason: String
}

/// One allowed syscall, and why. A name "x#N" carries its x86-64 number N for calls newer
/// than the installed libseccomp (Debian 12's 2.5.4 predates fchmodat2 and the *xattrat calls).
public struct AllowedSyscall: Sendable {
    public var name: String
    public var reason: String
}

public enum ConfinementPolicy {
    /// Exactly these stay in the permitted and effective sets (and the bounding set);
    /// inheritable and ambient are empty. Not kept: CAP_MKNOD (MknodAt makes regular files
    /// only, as fsgofer), CAP_SYS_ADMIN (no mounts or trusted.* xattrs after confinement),
    /// CAP_SETUID/CAP_SETGID (the gofer never changes identity), CAP_SYS_CHROOT (done).
    public static let capabilities: [KeptCapability] = [
        KeptCapability(
            name: "CAP_CHOWN", number: 0,
            reason: "fchownat to the client's uid/gid on every create (OpenCreateAt, MkdirAt, MknodAt, "
                + "SymlinkAt, BindAt) and in SetStat"),
        KeptCapability(
            name: "CAP_DAC_OVERRIDE", number: 1,
            reason: "the sandbox enforces permissions itself; the gofer must open, write and create "
                + "whatever the sandbox already allowed, whatever the host mode bits say"),
        KeptCapability(
            name: "CAP_DAC_READ_SEARCH", number: 2,
            reason: "walk and read directories without read/search permission, and "
                + "linkat(fd, \"\", AT_EMPTY_PATH) for LinkAt (links the exact inode, no name lookup)"),
        KeptCapability(
            name: "CAP_FOWNER", number: 3,
            reason: "chmod, utimensat with explicit times and user xattrs on files the gofer's uid "
                + "does not own (SetStat, FSetXattr)"),
        KeptCapability(
            name: "CAP_FSETID", number: 4,
            reason: "keep set-user/group-ID bits the client sets with SetStat on files of other "
                + "owners/groups (otherwise the kernel clears S_ISGID)"),
    ]

    /// The allow-list. Everything else kills the process. Observed under strace after the
    /// filter point: the golden exercise over `--fd` (all 33 served messages) and four
    /// concurrent clients over `--socket` (threads); plus the few marked "not observed" that the
    /// runtime needs on paths the workload did not hit (lock contention, large reallocation).
    public static let syscalls: [AllowedSyscall] = [
        // The transport.
        AllowedSyscall(name: "recvmsg", reason: "reading frames (LISAFS's Communicator: header, then payload)"),
        AllowedSyscall(name: "sendmsg", reason: "sending frames, SCM_RIGHTS for donated fds"),
        AllowedSyscall(
            name: "poll",
            reason: "the Communicator waits in poll(2) on EAGAIN if the --fd socket is non-blocking (not observed)"),
        AllowedSyscall(name: "accept4", reason: "--socket: accepting clients; Accept"),
        AllowedSyscall(name: "memfd_create", reason: "Channel: the connection's shared-memory file for packet windows"),
        AllowedSyscall(name: "socketpair", reason: "Channel: the FD-passing socket pair beside each channel"),
        AllowedSyscall(
            name: "clock_nanosleep",
            reason: "a closing connection waits for its channel threads to end (Connection.finish, usleep)"),
        // Files.
        AllowedSyscall(name: "openat", reason: "Walk/WalkStat steps (O_PATH|O_NOFOLLOW); reopening through /proc/self/fd"),
        AllowedSyscall(name: "close", reason: "dropping host fds"),
        AllowedSyscall(name: "fcntl", reason: "F_DUPFD_CLOEXEC for donated fds, F_SETFL after OpenCreateAt, F_ADD_SEALS on the channels' memory file"),
        AllowedSyscall(name: "statx", reason: "every Inode/Statx answer; the per-dirent device in Getdents64"),
        AllowedSyscall(name: "fstatfs", reason: "FStatFS"),
        AllowedSyscall(name: "pread64", reason: "PRead"),
        AllowedSyscall(name: "pwrite64", reason: "PWrite"),
        AllowedSyscall(name: "lseek", reason: "Getdents64 with a negative count (seek to 0)"),
        AllowedSyscall(name: "getdents64", reason: "Getdents64"),
        AllowedSyscall(name: "fsync", reason: "FSync"),
        AllowedSyscall(name: "fallocate", reason: "FAllocate"),
        AllowedSyscall(name: "ftruncate", reason: "SetStat size; growing the channels' shared-memory file"),
        AllowedSyscall(name: "fchmodat2#452", reason: "SetStat mode on an O_PATH fd (AT_EMPTY_PATH)"),
        AllowedSyscall(name: "fchmod", reason: "BindAt: the socket's mode before bind"),
        AllowedSyscall(name: "fchownat", reason: "owners on create; SetStat uid/gid"),
        AllowedSyscall(name: "utimensat", reason: "SetStat times"),
        AllowedSyscall(name: "mkdirat", reason: "MkdirAt"),
        AllowedSyscall(name: "mknodat", reason: "MknodAt (regular files)"),
        AllowedSyscall(name: "symlinkat", reason: "SymlinkAt"),
        AllowedSyscall(name: "linkat", reason: "LinkAt"),
        AllowedSyscall(name: "unlinkat", reason: "UnlinkAt; undoing a failed create"),
        AllowedSyscall(name: "renameat", reason: "RenameAt (Glibc's renameat2 with flags 0 makes renameat)"),
        AllowedSyscall(name: "renameat2", reason: "RenameAt2 with flags"),
        AllowedSyscall(name: "readlinkat", reason: "ReadLinkAt"),
        AllowedSyscall(name: "setxattrat#463", reason: "FSetXattr"),
        AllowedSyscall(name: "getxattrat#464", reason: "FGetXattr"),
        AllowedSyscall(name: "listxattrat#465", reason: "FListXattr"),
        AllowedSyscall(name: "removexattrat#466", reason: "FRemoveXattr"),
        // Host unix sockets.
        AllowedSyscall(name: "socket", reason: "BindAt/Connect: AF_UNIX sockets"),
        AllowedSyscall(name: "bind", reason: "BindAt"),
        AllowedSyscall(name: "connect", reason: "Connect, ConnectWithCreds"),
        AllowedSyscall(name: "listen", reason: "Listen"),
        AllowedSyscall(name: "fchdir", reason: "BindAt/Connect resolve the socket name relative to a directory fd"),
        // Threads (one per connection), memory, locks, exit.
        AllowedSyscall(name: "clone3", reason: "pthread_create"),
        AllowedSyscall(name: "set_robust_list", reason: "new threads"),
        AllowedSyscall(name: "rseq", reason: "new threads (Glibc registers rseq)"),
        AllowedSyscall(name: "rt_sigprocmask", reason: "thread creation and exit mask signals"),
        AllowedSyscall(name: "rt_sigaction", reason: "thread start-up"),
        AllowedSyscall(name: "gettid", reason: "runtime locks"),
        AllowedSyscall(name: "mmap", reason: "allocation, thread stacks, channel packet windows (MAP_SHARED)"),
        AllowedSyscall(name: "mprotect", reason: "thread stack guard pages"),
        AllowedSyscall(name: "munmap", reason: "allocation, thread stacks"),
        AllowedSyscall(name: "madvise", reason: "a finished thread returns its stack"),
        AllowedSyscall(name: "brk", reason: "allocation (not observed: the main arena grows with brk)"),
        AllowedSyscall(name: "mremap", reason: "large reallocations (not observed)"),
        AllowedSyscall(name: "futex", reason: "channels: FUTEX_WAIT/FUTEX_WAKE on the packet window's state word; lock contention"),
        AllowedSyscall(name: "write", reason: "the accept-loop failure message on stderr (not observed)"),
        AllowedSyscall(name: "tgkill", reason: "a runtime trap reports SIGABRT rather than dying silently (not observed)"),
        AllowedSyscall(name: "exit", reason: "thread exit"),
        AllowedSyscall(name: "exit_group", reason: "process exit"),
    ]
}
