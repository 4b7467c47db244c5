import VFSCore

/// The stat family: stat, lstat, fstat, newfstatat, statx, statfs, fstatfs.
extension Task {
    /// The flags newfstatat takes (`vfs_statx`'s): AT_SYMLINK_NOFOLLOW, AT_NO_AUTOMOUNT,
    /// AT_EMPTY_PATH and the AT_STATX_* sync bits, which it ignores. Linux 6.18 on tmpfs
    /// accepts newfstatat with AT_STATX_FORCE_SYNC|AT_STATX_DONT_SYNC (0x6000); only statx
    /// rejects that pair.
    static let statFlags: Int32 =
        Linux.AT_SYMLINK_NOFOLLOW | Linux.AT_NO_AUTOMOUNT | Linux.AT_EMPTY_PATH
        | Linux.AT_STATX_SYNC_TYPE

    /// stat(2): newfstatat(AT_FDCWD, path, 0).
    public func stat(_ path: PathArgument) throws(Errno) -> LinuxStat {
        try newfstatat(Linux.AT_FDCWD, path, 0)
    }

    /// lstat(2): the final symlink itself.
    public func lstat(_ path: PathArgument) throws(Errno) -> LinuxStat {
        try newfstatat(Linux.AT_FDCWD, path, Linux.AT_SYMLINK_NOFOLLOW)
    }

    /// fstat(2): any open description, O_PATH ones included (`fdget_raw`). EBADF when `fd` is
    /// not open.
    public func fstat(_ fd: Int32) throws(Errno) -> LinuxStat {
        LinuxStat(try vfs.stat(files.get(fd).location))
    }

    /// newfstatat(2): EINVAL for flags outside `statFlags` (before the path is looked at),
    /// then the lookup's errors (ENOENT for an empty path without AT_EMPTY_PATH, ENOTDIR for a
    /// relative path from a dirfd that is not a directory, EBADF, ELOOP, ENAMETOOLONG, EACCES).
    /// With AT_EMPTY_PATH and an empty path it is fstat of `dirfd` (the cwd for AT_FDCWD).
    public func newfstatat(_ dirfd: Int32, _ path: PathArgument, _ flags: Int32) throws(Errno)
        -> LinuxStat
    {
        try newfstatat(dirfd, .success(path), flags)
    }

    func newfstatat(_ dirfd: Int32, _ path: UserPath, _ flags: Int32) throws(Errno) -> LinuxStat {
        guard flags & ~Task.statFlags == 0 else { throw .invalidArgument }
        let place = try lookup(dirfd, path, flags)
        return LinuxStat(try vfs.stat(place))
    }

    /// statx(2). EINVAL, before the path is looked at, for AT_STATX_FORCE_SYNC together with
    /// AT_STATX_DONT_SYNC, for STATX__RESERVED in `mask`, and for flags outside
    /// `statFlags`. The result's mask is decided as `LinuxStatx.init` describes.
    public func statx(_ dirfd: Int32, _ path: PathArgument, _ flags: Int32, _ mask: UInt32)
        throws(Errno) -> LinuxStatx
    {
        try statx(dirfd, .success(path), flags, mask)
    }

    func statx(_ dirfd: Int32, _ path: UserPath, _ flags: Int32, _ mask: UInt32) throws(Errno)
        -> LinuxStatx
    {
        if flags & Linux.AT_STATX_SYNC_TYPE == Linux.AT_STATX_SYNC_TYPE {
            throw .invalidArgument
        }
        guard mask & LinuxStatx.STATX__RESERVED == 0 else { throw .invalidArgument }
        guard flags & ~Task.statFlags == 0 else { throw .invalidArgument }
        let place = try lookup(dirfd, path, flags)
        let stat = try vfs.stat(place, mask: StatxMask(rawValue: mask))
        return LinuxStatx(
            stat, requested: mask, isMountRoot: place.dentry === place.mount.root,
            multigrain: !(place.mount.filesystem is AnonymousFilesystem))
    }

    /// statfs(2): the file system holding `path` (symlinks followed). ENOENT, ENOTDIR,
    /// EACCES, ELOOP, ENAMETOOLONG from the lookup.
    public func statfs(_ path: PathArgument) throws(Errno) -> LinuxStatfs {
        try statfs(.success(path))
    }

    func statfs(_ path: UserPath) throws(Errno) -> LinuxStatfs {
        let place = try lookup(Linux.AT_FDCWD, path, 0)
        return LinuxStatfs(try vfs.statFilesystem(place))
    }

    /// fstatfs(2): works on O_PATH descriptions too (Linux uses `fdget_raw`); EBADF otherwise.
    public func fstatfs(_ fd: Int32) throws(Errno) -> LinuxStatfs {
        LinuxStatfs(try vfs.statFilesystem(files.get(fd).location))
    }

    /// The place a *at call with AT_SYMLINK_NOFOLLOW / AT_EMPTY_PATH `flags` names.
    func lookup(_ dirfd: Int32, _ path: UserPath, _ flags: Int32) throws(Errno) -> VirtualDentry {
        let operation = try operation(
            dirfd, path.get(), followFinal: flags & Linux.AT_SYMLINK_NOFOLLOW == 0,
            allowEmpty: flags & Linux.AT_EMPTY_PATH != 0)
        return try vfs.getDentry(credentials, operation)
    }
}
