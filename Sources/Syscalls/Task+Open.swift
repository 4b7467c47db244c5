import VFSCore

/// The open family: open, openat, openat2, creat; close, close_range; dup, dup2, dup3.
extension Task {
    /// The flags open(2) knows (VALID_OPEN_FLAGS); open and openat ignore other bits,
    /// openat2 rejects them.
    static let validOpenFlags: Int32 =
        0o3 | OpenOptions.create | OpenOptions.exclusive | OpenOptions.noControllingTerminal
        | OpenOptions.truncate | OpenOptions.append | OpenOptions.nonBlocking
        | OpenOptions.dataSync | OpenOptions.async | OpenOptions.direct | OpenOptions.largeFile
        | OpenOptions.directory | OpenOptions.noFollow | OpenOptions.noAccessTime
        | OpenOptions.closeOnExec | OpenOptions.sync | OpenOptions.pathOnly
        | OpenOptions.temporaryFile
    /// What O_PATH may be combined with under openat2.
    static let pathOnlyFlags: Int32 =
        OpenOptions.directory | OpenOptions.noFollow | OpenOptions.pathOnly
        | OpenOptions.closeOnExec

    /// open(2).
    public func open(_ path: PathArgument, _ flags: Int32, _ mode: UInt32 = 0) throws(Errno)
        -> Int32
    {
        try openat(Linux.AT_FDCWD, path, flags, mode)
    }

    /// creat(2): open with O_CREAT|O_WRONLY|O_TRUNC.
    public func creat(_ path: PathArgument, _ mode: UInt32) throws(Errno) -> Int32 {
        try openat(
            Linux.AT_FDCWD, path, OpenOptions.create | OpenOptions.writeOnly | OpenOptions.truncate,
            mode)
    }

    /// openat(2). Unknown flag bits are ignored, as Linux does for the old calls; O_LARGEFILE is
    /// added, as on every 64-bit kernel (F_GETFL shows it).
    public func openat(_ dirfd: Int32, _ path: PathArgument, _ flags: Int32, _ mode: UInt32 = 0)
        throws(Errno) -> Int32
    {
        var flags = flags & Task.validOpenFlags
        // build_open_how: "O_PATH beats everything else" (O_TMPFILE, O_CREAT... are dropped
        // before any check, so O_PATH|O_TMPFILE opens the path like O_PATH|O_DIRECTORY).
        if flags & OpenOptions.pathOnly != 0 { flags &= Task.pathOnlyFlags }
        flags |= OpenOptions.largeFile
        // The mode only matters when creating; other bits are dropped, not rejected.
        let mode = flags & (OpenOptions.create | OpenOptions.temporaryFile) != 0 ? mode & 0o7777 : 0
        return try openFile(dirfd, path, flags: flags, mode: mode, resolve: [])
    }

    /// openat2(2) with the fields of `struct open_how`. Stricter than openat: unknown flags,
    /// a mode without O_CREAT/O_TMPFILE, mode bits past 07777, unknown RESOLVE_* bits,
    /// RESOLVE_BENEATH with RESOLVE_IN_ROOT, and O_PATH with flags it cannot take are EINVAL;
    /// RESOLVE_CACHED with O_CREAT, O_TRUNC or O_TMPFILE is EAGAIN.
    public func openat2(
        _ dirfd: Int32, _ path: PathArgument, flags: UInt64, mode: UInt64, resolve: UInt64
    ) throws(Errno) -> Int32 {
        guard flags <= UInt64(UInt32.max), Int32(truncatingIfNeeded: flags) & ~Task.validOpenFlags == 0
        else { throw .invalidArgument }
        var openFlags = Int32(truncatingIfNeeded: flags)
        let known: ResolveFlags = [
            .noXDev, .noMagicLinks, .noSymlinks, .beneath, .inRoot, .cached,
        ]
        let resolveFlags = ResolveFlags(rawValue: resolve)
        guard known.isSuperset(of: resolveFlags) else { throw .invalidArgument }
        if resolveFlags.contains(.beneath) && resolveFlags.contains(.inRoot) {
            throw .invalidArgument
        }
        // WILL_CREATE: O_CREAT or the bare __O_TMPFILE bit (O_TMPFILE's other bit is
        // O_DIRECTORY, which creates nothing: Linux 6.18 gives EINVAL for openat2 with
        // O_DIRECTORY and a mode).
        let creating = openFlags & (OpenOptions.create | 0o20000000) != 0
        if creating {
            guard mode & ~0o7777 == 0 else { throw .invalidArgument }
        } else if mode != 0 {
            throw .invalidArgument
        }
        if openFlags & OpenOptions.pathOnly != 0 && openFlags & ~Task.pathOnlyFlags != 0 {
            throw .invalidArgument
        }
        if resolveFlags.contains(.cached)
            && openFlags & (OpenOptions.truncate | OpenOptions.create | OpenOptions.temporaryFile)
                != 0
        {
            throw .resourceTemporarilyUnavailable
        }
        openFlags |= OpenOptions.largeFile
        return try openFile(
            dirfd, path, flags: openFlags, mode: UInt32(truncatingIfNeeded: mode),
            resolve: resolveFlags)
    }

    private func openFile(
        _ dirfd: Int32, _ path: PathArgument, flags: Int32, mode: UInt32, resolve: ResolveFlags
    ) throws(Errno) -> Int32 {
        // build_open_flags, before the dirfd or the path is looked at: O_CREAT|O_DIRECTORY is
        // EINVAL (Linux 6.4+), then __O_TMPFILE must come with O_DIRECTORY and without
        // O_CREAT, and for writing.
        if flags & (OpenOptions.create | OpenOptions.directory)
            == OpenOptions.create | OpenOptions.directory
        {
            throw .invalidArgument
        }
        let rawTemporary: Int32 = 0o20000000
        if flags & rawTemporary != 0 {
            let mask = rawTemporary | OpenOptions.directory | OpenOptions.create
            guard flags & mask == OpenOptions.temporaryFile,
                flags & OpenOptions.accessModeMask == OpenOptions.writeOnly
                    || flags & OpenOptions.accessModeMask == OpenOptions.readWrite
            else { throw .invalidArgument }
        }
        var operation = try operation(dirfd, path)
        // path_init: under RESOLVE_IN_ROOT an absolute path starts at `dirfd` (the root of the
        // walk), not at the task's root (Linux 6.18: openat2(d, "/f", RESOLVE_IN_ROOT) opens
        // d/f); under RESOLVE_BENEATH it is EXDEV before `dirfd` is looked at (a regular
        // file's descriptor included).
        if path.bytes.first == 0x2F {
            if resolve.contains(.beneath) { throw .improperLink }
            if resolve.contains(.inRoot) { operation.start = try start(dirfd, []) }
        }
        operation.resolveFlags = resolve
        let description = try vfs.open(
            credentials, operation, options: OpenOptions(flags: flags), mode: mode & ~fs.umask)
        return try files.install(
            description, closeOnExec: flags & OpenOptions.closeOnExec != 0)
    }

    /// Installs an already open description (for runtimes that import host files).
    public func install(_ description: FileDescription, closeOnExec: Bool = false) throws(Errno)
        -> Int32
    {
        try files.install(description, closeOnExec: closeOnExec)
    }

    /// close(2).
    public func close(_ fd: Int32) throws(Errno) {
        let description = try files.get(fd)
        // POSIX record locks of this process on the file go when any of its fds to it closes.
        kernel.locks.releasePOSIXLocks(of: id, on: description)
        try files.close(fd)
    }

    /// close_range(2). EINVAL for unknown flags or `first` > `last`.
    public func close_range(_ first: UInt32, _ last: UInt32, _ flags: UInt32) throws(Errno) {
        guard flags & ~(Linux.CLOSE_RANGE_UNSHARE | Linux.CLOSE_RANGE_CLOEXEC) == 0,
            first <= last
        else { throw .invalidArgument }
        let closeOnExecOnly = flags & Linux.CLOSE_RANGE_CLOEXEC != 0
        if !closeOnExecOnly {
            for fd in files.openDescriptors where UInt32(fd) >= first && UInt32(fd) <= last {
                if let description = try? files.get(fd) {
                    kernel.locks.releasePOSIXLocks(of: id, on: description)
                }
            }
        }
        files.closeRange(first: first, last: last, closeOnExecOnly: closeOnExecOnly)
    }

    /// dup(2): the lowest free number, sharing the description (and its offset).
    public func dup(_ fd: Int32) throws(Errno) -> Int32 {
        try files.install(files.get(fd), closeOnExec: false)
    }

    /// dup2(2): `newfd` == `oldfd` returns it once `oldfd` is known open; EBADF past the limit.
    public func dup2(_ oldfd: Int32, _ newfd: Int32) throws(Errno) -> Int32 {
        let description = try files.get(oldfd)
        if oldfd == newfd { return newfd }
        try replace(newfd, with: description, closeOnExec: false)
        return newfd
    }

    /// dup3(2): like dup2 but EINVAL when the numbers are equal or flags other than O_CLOEXEC.
    public func dup3(_ oldfd: Int32, _ newfd: Int32, _ flags: Int32) throws(Errno) -> Int32 {
        guard flags & ~OpenOptions.closeOnExec == 0 else { throw .invalidArgument }
        guard oldfd != newfd else { throw .invalidArgument }
        let description = try files.get(oldfd)
        try replace(newfd, with: description, closeOnExec: flags & OpenOptions.closeOnExec != 0)
        return newfd
    }

    private func replace(_ fd: Int32, with description: FileDescription, closeOnExec: Bool)
        throws(Errno)
    {
        if let old = try? files.get(fd) { kernel.locks.releasePOSIXLocks(of: id, on: old) }
        try files.install(description, at: fd, closeOnExec: closeOnExec)
    }
}
