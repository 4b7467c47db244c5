import VFSCore

extension Linux {
    public static let F_GETOWN: Int32 = 9
    public static let F_SETOWN: Int32 = 8
    /// Is `arg` the same open file description as `fd`? (Linux 6.10)
    public static let F_DUPFD_QUERY: Int32 = 1027
    public static let F_SETPIPE_SZ: Int32 = 1031
    public static let F_GETPIPE_SZ: Int32 = 1032
    public static let F_ADD_SEALS: Int32 = 1033
    public static let F_GET_SEALS: Int32 = 1034
}

/// fcntl(2) (fs/fcntl.c). The record-lock commands go to `fcntlLock` (Task+Locks.swift).
extension Task {
    /// fcntl(2) for every command but the record-lock ones, with `argument` the raw third
    /// argument (commands that take an `int` use its low 32 bits, as the kernel does).
    ///
    /// - EBADF for a closed `fd`; on an O_PATH descriptor only F_DUPFD, F_DUPFD_CLOEXEC,
    ///   F_DUPFD_QUERY, F_GETFD, F_SETFD and F_GETFL work, anything else is EBADF.
    /// - F_DUPFD / F_DUPFD_CLOEXEC: the lowest free number ≥ `argument` (read as an unsigned
    ///   int); EINVAL when that is not below RLIMIT_NOFILE; EMFILE when none is free.
    /// - F_GETFD / F_SETFD: FD_CLOEXEC (only that bit of the argument counts).
    /// - F_GETFL: the access mode and status flags as Linux keeps them in `f_flags`
    ///   (O_LARGEFILE included for files opened by path; O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC
    ///   and O_CLOEXEC never shown).
    /// - F_SETFL: see `setStatusFlags`.
    /// - F_GETPIPE_SZ: a pipe's capacity; EBADF for anything but a pipe or FIFO.
    /// - Lock commands need a `struct flock`: use `fcntl(_:_:lock:)`; here they are EINVAL.
    /// - Anything else (F_SETPIPE_SZ, F_GETOWN, leases, notifications, seals) is EINVAL: not
    ///   modelled.
    public func fcntl(_ fd: Int32, _ command: Int32, _ argument: Int = 0) throws(Errno) -> Int32 {
        let description = try fcntlDescription(fd, command)
        let argi = Int32(truncatingIfNeeded: argument)
        switch command {
        case Linux.F_DUPFD, Linux.F_DUPFD_CLOEXEC:
            // f_dupfd takes an unsigned int: a negative argument is past any limit.
            let from = UInt32(bitPattern: argi)
            guard Int(from) < files.limit else { throw .invalidArgument }
            return try files.install(
                description, closeOnExec: command == Linux.F_DUPFD_CLOEXEC,
                minimum: Int32(from))
        case Linux.F_DUPFD_QUERY:
            let other = try files.get(argi)
            return other === description ? 1 : 0
        case Linux.F_GETFD:
            return try files.entry(fd).closeOnExec ? Linux.FD_CLOEXEC : 0
        case Linux.F_SETFD:
            try files.setCloseOnExec(fd, argi & Linux.FD_CLOEXEC != 0)
            return 0
        case Linux.F_GETFL:
            return description.statusFlags & ~Task.hiddenOpenFlags
        case Linux.F_SETFL:
            try setStatusFlags(description, argi)
            return 0
        case Linux.F_GETPIPE_SZ:
            guard let pipe = description.impl.pipeEnd?.pipe else {
                throw .badFileDescriptor
            }
            return Int32(clamping: pipe.capacity)
        default:
            throw .invalidArgument
        }
    }

    /// fcntl(2) for the record-lock commands (F_GETLK, F_SETLK, F_SETLKW, F_OFD_GETLK,
    /// F_OFD_SETLK, F_OFD_SETLKW) on a decoded `struct flock`; F_GETLK and F_OFD_GETLK rewrite
    /// it. EBADF for a closed or O_PATH `fd`; EINVAL for any other command. The lock rules are
    /// `fcntlLock`'s.
    @discardableResult
    public func fcntl(_ fd: Int32, _ command: Int32, lock: inout LinuxFlock) throws(Errno)
        -> Int32
    {
        _ = try fcntlDescription(fd, command)
        guard Task.isLockCommand(command) else { throw .invalidArgument }
        try fcntlLock(fd, command, &lock)
        return 0
    }

    static func isLockCommand(_ command: Int32) -> Bool {
        switch command {
        case Linux.F_GETLK, Linux.F_SETLK, Linux.F_SETLKW, Linux.F_OFD_GETLK,
            Linux.F_OFD_SETLK, Linux.F_OFD_SETLKW:
            true
        default:
            false
        }
    }

    /// The syscall's own checks, before any command runs: EBADF for a closed `fd`, and for an
    /// O_PATH one unless the command only touches the descriptor (`check_fcntl_cmd`).
    func fcntlDescription(_ fd: Int32, _ command: Int32) throws(Errno) -> FileDescription {
        let description = try files.get(fd)
        if description.isPathOnly {
            switch command {
            case Linux.F_DUPFD, Linux.F_DUPFD_CLOEXEC, Linux.F_DUPFD_QUERY, Linux.F_GETFD,
                Linux.F_SETFD, Linux.F_GETFL:
                break
            default:
                throw .badFileDescriptor
            }
        }
        return description
    }

    /// Open flags Linux drops from `f_flags` at open (`do_dentry_open`) or never stores there:
    /// F_GETFL does not show them. Linux 6.18 on tmpfs: open with O_RDONLY|O_CLOEXEC|O_CREAT|
    /// O_TRUNC|O_NOCTTY|O_APPEND|O_NONBLOCK|O_NOFOLLOW|O_SYNC|O_NOATIME gives F_GETFL 0x169c00.
    static let hiddenOpenFlags: Int32 =
        OpenOptions.create | OpenOptions.exclusive | OpenOptions.noControllingTerminal
        | OpenOptions.truncate | OpenOptions.closeOnExec

    /// F_SETFL (`setfl`): only O_APPEND, O_NONBLOCK, O_DIRECT and O_NOATIME change, and
    /// O_ASYNC where the file has a `fasync` method (pipes and FIFOs here); other bits are
    /// ignored. EPERM for turning O_NOATIME on unless the caller owns the file or has
    /// CAP_FOWNER; EINVAL for O_DIRECT on anything but a regular file or a FIFO (Linux 6.18:
    /// tmpfs regular files take it, directories do not).
    func setStatusFlags(_ description: FileDescription, _ requested: Int32) throws(Errno) {
        let current = description.statusFlags
        if requested & OpenOptions.noAccessTime != 0 && current & OpenOptions.noAccessTime == 0 {
            let ownership = try description.location.mount.filesystem.ownership(
                description.dentry)
            guard Permissions.isOwnerOrCapable(credentials, ownership) else {
                throw .notPermitted
            }
        }
        let type = description.dentry.fileType
        if requested & OpenOptions.direct != 0 && type != .fifo && type != .regular {
            throw .invalidArgument
        }
        // A memfd is never opened through shmem's ->open, so it lacks FMODE_CAN_ODIRECT
        // (Linux 6.18: F_SETFL O_DIRECT on a memfd is EINVAL, on a tmpfs file 0).
        if requested & OpenOptions.direct != 0 && description.location.mount === kernel.memfdMount {
            throw .invalidArgument
        }
        var flags = requested
        // Without ->fasync, FASYNC keeps whatever the file had (Linux 6.18 on tmpfs: F_SETFL
        // O_ASYNC returns 0 and F_GETFL still shows 0x8002).
        if description.impl.pipeEnd == nil {
            flags = (flags & ~OpenOptions.async) | (current & OpenOptions.async)
        }
        description.setStatusFlags(flags)
    }
}
