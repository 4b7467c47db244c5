import VFSCore

/// A path argument as the kernel's `getname` leaves it: the bytes, or the error (EFAULT for a
/// bad pointer, ENAMETOOLONG) that Linux carries along as an ERR_PTR and reports only when the
/// call first uses the name. Flag checks, and the lookup of an earlier path, come first:
/// unlinkat(AT_FDCWD, NULL, 0x100) is EINVAL, link("missing", NULL) is ENOENT.
typealias UserPath = Result<PathArgument, Errno>

/// The calls that act on names and attributes: access, faccessat, faccessat2; mkdir, mkdirat,
/// mknod, mknodat; unlink, unlinkat, rmdir; rename, renameat, renameat2; link, linkat;
/// symlink, symlinkat; readlink, readlinkat; chmod, fchmod, fchmodat, fchmodat2; chown, fchown,
/// lchown, fchownat; utimensat, futimesat, utimes, utime; truncate, ftruncate; fallocate.
///
/// Each public method takes the kernel's arguments; the dispatcher calls an internal twin
/// taking `UserPath`s, so that a bad pointer fails where Linux fails it.
extension Task {
    // MARK: - access

    /// access(2): faccessat2(AT_FDCWD, path, mode, 0).
    public func access(_ path: PathArgument, _ mode: Int32) throws(Errno) {
        try faccessat2(Linux.AT_FDCWD, .success(path), mode, 0)
    }

    /// faccessat(2): the old call has no flags argument.
    public func faccessat(_ dirfd: Int32, _ path: PathArgument, _ mode: Int32) throws(Errno) {
        try faccessat2(dirfd, .success(path), mode, 0)
    }

    /// faccessat2(2). EINVAL for mode bits other than R_OK|W_OK|X_OK, then for flags other
    /// than AT_EACCESS, AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH; then the lookup and the check.
    ///
    /// Without AT_EACCESS Linux checks with the real uid and gid and, for a real uid other
    /// than 0, no capabilities at all (`access_override_creds`): uid 1000 holding
    /// CAP_DAC_OVERRIDE gets EACCES from access(W_OK) on a root 0600 file but 0 with
    /// AT_EACCESS (Linux 6.18, checked with setpriv). `Credentials` has a single uid, which
    /// serves as both the real and the effective one; for uid 0 the capabilities it holds
    /// stand in for the permitted set. Root's X_OK on a non-directory needs some execute bit
    /// (EACCES otherwise); X_OK on a regular file on a noexec mount is EACCES; W_OK on a
    /// read-only mount is EROFS once the permission check has passed.
    public func faccessat2(_ dirfd: Int32, _ path: PathArgument, _ mode: Int32, _ flags: Int32)
        throws(Errno)
    {
        try faccessat2(dirfd, .success(path), mode, flags)
    }

    func faccessat2(_ dirfd: Int32, _ path: UserPath, _ mode: Int32, _ flags: Int32) throws(Errno) {
        guard mode & ~0o7 == 0 else { throw .invalidArgument }
        let known = Linux.AT_EACCESS | Linux.AT_SYMLINK_NOFOLLOW | Linux.AT_EMPTY_PATH
        guard flags & ~known == 0 else { throw .invalidArgument }
        var checking = credentials
        if flags & Linux.AT_EACCESS == 0 && checking.uid != 0 { checking.capabilities = [] }
        let operation = try operation(
            dirfd, path.get(), followFinal: flags & Linux.AT_SYMLINK_NOFOLLOW == 0,
            allowEmpty: flags & Linux.AT_EMPTY_PATH != 0)
        try vfs.access(checking, operation, mask: AccessMask(rawValue: UInt32(mode)))
    }

    // MARK: - mkdir, mknod

    /// mkdir(2).
    public func mkdir(_ path: PathArgument, _ mode: UInt32) throws(Errno) {
        try mkdirat(Linux.AT_FDCWD, .success(path), mode)
    }

    /// mkdirat(2). The mode is a `umode_t` (higher bits are dropped), the umask applies, and
    /// only the permission and sticky bits stay (set-group-ID comes from the parent alone).
    /// EEXIST, ENOENT, ENOTDIR, EACCES, EROFS, ENOSPC, ENAMETOOLONG, ELOOP from the VFS.
    public func mkdirat(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32) throws(Errno) {
        try mkdirat(dirfd, .success(path), mode)
    }

    func mkdirat(_ dirfd: Int32, _ path: UserPath, _ mode: UInt32) throws(Errno) {
        let operation = try operation(dirfd, path.get())
        try vfs.makeDirectory(credentials, operation, mode: mode & 0o7777 & ~fs.umask)
    }

    /// mknod(2).
    public func mknod(_ path: PathArgument, _ mode: UInt32, _ dev: UInt32) throws(Errno) {
        try mknodat(Linux.AT_FDCWD, .success(path), mode, dev)
    }

    /// mknodat(2). `may_mknod` comes before the name is even read: EPERM for S_IFDIR, EINVAL
    /// for an unknown type (a symlink's included); type 0 makes a regular file. EPERM for a
    /// device node without CAP_MKNOD comes after the lookup and the directory's permission
    /// check. `dev` is `new_encode_dev`'s 32 bits; only device nodes keep it.
    public func mknodat(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32, _ dev: UInt32)
        throws(Errno)
    {
        try mknodat(dirfd, .success(path), mode, dev)
    }

    func mknodat(_ dirfd: Int32, _ path: UserPath, _ mode: UInt32, _ dev: UInt32) throws(Errno) {
        let mode = mode & 0xFFFF
        try Task.checkNodeType(mode)
        let operation = try operation(dirfd, path.get())
        let permissions = mode & 0o7777 & ~fs.umask
        try vfs.makeNode(
            credentials, operation, mode: (mode & FileMode.typeMask) | permissions,
            device: UInt64(dev))
    }

    /// `may_mknod`.
    static func checkNodeType(_ mode: UInt32) throws(Errno) {
        let type = mode & FileMode.typeMask
        if type == 0 { return }
        switch FileType(rawValue: type) {
        case .regular, .characterDevice, .blockDevice, .fifo, .socket: return
        case .directory: throw .notPermitted
        case .symlink, nil: throw .invalidArgument
        }
    }

    // MARK: - unlink, rmdir

    /// unlink(2). EISDIR for a directory (Linux's choice over POSIX's EPERM).
    public func unlink(_ path: PathArgument) throws(Errno) {
        try unlinkat(Linux.AT_FDCWD, .success(path), 0)
    }

    /// rmdir(2). ENOTEMPTY, ENOTDIR, EINVAL for a final `.`, ENOTEMPTY for `..`, EBUSY for a
    /// mount point or the root.
    public func rmdir(_ path: PathArgument) throws(Errno) {
        try unlinkat(Linux.AT_FDCWD, .success(path), Linux.AT_REMOVEDIR)
    }

    /// unlinkat(2): EINVAL for any flag but AT_REMOVEDIR, before the path is read.
    public func unlinkat(_ dirfd: Int32, _ path: PathArgument, _ flags: Int32) throws(Errno) {
        try unlinkat(dirfd, .success(path), flags)
    }

    func unlinkat(_ dirfd: Int32, _ path: UserPath, _ flags: Int32) throws(Errno) {
        guard flags & ~Linux.AT_REMOVEDIR == 0 else { throw .invalidArgument }
        let operation = try operation(dirfd, path.get())
        if flags & Linux.AT_REMOVEDIR != 0 {
            try vfs.removeDirectory(credentials, operation)
        } else {
            try vfs.unlink(credentials, operation)
        }
    }

    // MARK: - rename

    /// rename(2).
    public func rename(_ oldpath: PathArgument, _ newpath: PathArgument) throws(Errno) {
        try renameat2(Linux.AT_FDCWD, .success(oldpath), Linux.AT_FDCWD, .success(newpath), 0)
    }

    /// renameat(2).
    public func renameat(
        _ olddirfd: Int32, _ oldpath: PathArgument, _ newdirfd: Int32, _ newpath: PathArgument
    ) throws(Errno) {
        try renameat2(olddirfd, .success(oldpath), newdirfd, .success(newpath), 0)
    }

    /// renameat2(2). EINVAL for unknown flags and for RENAME_EXCHANGE with RENAME_NOREPLACE
    /// or RENAME_WHITEOUT, before either name is read; then the VFS (ENOENT, EEXIST with
    /// RENAME_NOREPLACE, EISDIR, ENOTDIR, ENOTEMPTY, EINVAL for a directory into itself,
    /// EXDEV, EBUSY, EROFS, EACCES, EPERM for the sticky bit).
    public func renameat2(
        _ olddirfd: Int32, _ oldpath: PathArgument, _ newdirfd: Int32, _ newpath: PathArgument,
        _ flags: UInt32
    ) throws(Errno) {
        try renameat2(olddirfd, .success(oldpath), newdirfd, .success(newpath), flags)
    }

    func renameat2(
        _ olddirfd: Int32, _ oldpath: UserPath, _ newdirfd: Int32, _ newpath: UserPath,
        _ flags: UInt32
    ) throws(Errno) {
        let known = Linux.RENAME_NOREPLACE | Linux.RENAME_EXCHANGE | Linux.RENAME_WHITEOUT
        guard flags & ~known == 0 else { throw .invalidArgument }
        if flags & Linux.RENAME_EXCHANGE != 0
            && flags & (Linux.RENAME_NOREPLACE | Linux.RENAME_WHITEOUT) != 0
        {
            throw .invalidArgument
        }
        let old = try operation(olddirfd, oldpath.get())
        let new: PathOperation
        do {
            new = try operation(newdirfd, newpath.get())
        } catch {
            // do_renameat2 walks to the old name's parent (filename_parentat) before it looks
            // at the new name at all: its lookup errors come first.
            try checkParentLookup(old)
            throw error
        }
        try vfs.rename(credentials, from: old, to: new, flags: RenameFlags(rawValue: flags))
    }

    /// The errors `filename_parentat` would give for `operation`: the walk through every
    /// component but the last, with search permission on the directory the last one is in.
    /// Walks "<all but the last component>/." (a path of only slashes has nothing to walk).
    private func checkParentLookup(_ operation: PathOperation) throws(Errno) {
        var bytes = operation.path
        while bytes.count > 1 && bytes.last == 0x2F { bytes.removeLast() }
        if bytes == [0x2F] { return }
        if let slash = bytes.lastIndex(of: 0x2F) {
            bytes.removeSubrange((slash + 1)...)
        } else {
            bytes.removeAll()
        }
        bytes.append(0x2E)
        var parent = operation
        parent.path = bytes
        parent.followFinalSymlink = true
        parent.allowEmptyPath = false
        _ = try vfs.getDentry(credentials, parent)
    }

    // MARK: - link, symlink, readlink

    /// link(2): the final symlink of `oldpath` is not followed.
    public func link(_ oldpath: PathArgument, _ newpath: PathArgument) throws(Errno) {
        try linkat(Linux.AT_FDCWD, .success(oldpath), Linux.AT_FDCWD, .success(newpath), 0)
    }

    /// linkat(2). EINVAL for flags other than AT_SYMLINK_FOLLOW and AT_EMPTY_PATH. The
    /// existing file is looked up completely before the new name is used.
    ///
    /// AT_EMPTY_PATH (`LOOKUP_LINKAT_EMPTY`): when the lookup starts at a descriptor (a
    /// relative path with a dirfd, empty or not), the descriptor must have been opened with
    /// the caller's current credentials, or the caller must hold CAP_DAC_READ_SEARCH; ENOENT
    /// otherwise (Linux 6.10+; on 6.18 a uid-1000 process gets ENOENT through a directory fd
    /// root opened, and 0 through its own). Linux compares credential objects, and so do we
    /// (`Credentials.serial`): after any credential change, even to the same ids, a descriptor
    /// opened before it no longer qualifies. Linking a directory is EPERM, a deleted file ENOENT
    /// (unless an O_TMPFILE file opened without O_EXCL).
    public func linkat(
        _ olddirfd: Int32, _ oldpath: PathArgument, _ newdirfd: Int32, _ newpath: PathArgument,
        _ flags: Int32
    ) throws(Errno) {
        try linkat(olddirfd, .success(oldpath), newdirfd, .success(newpath), flags)
    }

    func linkat(
        _ olddirfd: Int32, _ oldpath: UserPath, _ newdirfd: Int32, _ newpath: UserPath,
        _ flags: Int32
    ) throws(Errno) {
        guard flags & ~(Linux.AT_SYMLINK_FOLLOW | Linux.AT_EMPTY_PATH) == 0 else {
            throw .invalidArgument
        }
        let emptyAllowed = flags & Linux.AT_EMPTY_PATH != 0
        let old = try oldpath.get()
        if emptyAllowed && olddirfd != Linux.AT_FDCWD && old.bytes.first != 0x2F
            && old.bytes.count < Linux.PATH_MAX
        {
            let description = try files.get(olddirfd)
            if description.credentials.serial != credentials.serial
                && !credentials.has(.dacReadSearch)
            {
                throw .noSuchFileOrDirectory
            }
        }
        let existingOperation = try operation(
            olddirfd, old, followFinal: flags & Linux.AT_SYMLINK_FOLLOW != 0,
            allowEmpty: emptyAllowed)
        let existing = try vfs.getDentry(credentials, existingOperation)
        let new = try operation(newdirfd, newpath.get())
        // The resolved file, as an operation that names it without another lookup.
        let resolved = PathOperation(
            root: fs.root, start: existing, path: [UInt8](), allowEmptyPath: true)
        try vfs.makeLink(credentials, existing: resolved, new: new)
    }

    /// symlink(2).
    public func symlink(_ target: PathArgument, _ linkpath: PathArgument) throws(Errno) {
        try symlinkat(.success(target), Linux.AT_FDCWD, .success(linkpath))
    }

    /// symlinkat(2). The target is read like a path: ENOENT when empty, ENAMETOOLONG at
    /// PATH_MAX bytes — both before the link's own name is used.
    public func symlinkat(_ target: PathArgument, _ newdirfd: Int32, _ linkpath: PathArgument)
        throws(Errno)
    {
        try symlinkat(.success(target), newdirfd, .success(linkpath))
    }

    func symlinkat(_ target: UserPath, _ newdirfd: Int32, _ linkpath: UserPath) throws(Errno) {
        let target = try target.get()
        guard !target.bytes.isEmpty else { throw .noSuchFileOrDirectory }
        guard target.bytes.count < Linux.PATH_MAX else { throw .fileNameTooLong }
        let operation = try operation(newdirfd, linkpath.get())
        try vfs.makeSymlink(credentials, target: target.bytes, operation)
    }

    /// readlink(2).
    public func readlink(_ path: PathArgument, _ bufsiz: Int32) throws(Errno) -> [UInt8] {
        try readlinkat(Linux.AT_FDCWD, .success(path), bufsiz)
    }

    /// readlinkat(2): the target, cut to `bufsiz` bytes, with no NUL added. EINVAL for
    /// `bufsiz` <= 0 before anything else, and for a path that names no symlink. An empty path
    /// names `dirfd` itself (an O_PATH|O_NOFOLLOW descriptor of a symlink reads it); when that
    /// is not a symlink the answer is ENOENT, not EINVAL (`do_readlinkat`).
    public func readlinkat(_ dirfd: Int32, _ path: PathArgument, _ bufsiz: Int32) throws(Errno)
        -> [UInt8]
    {
        try readlinkat(dirfd, .success(path), bufsiz)
    }

    func readlinkat(_ dirfd: Int32, _ path: UserPath, _ bufsiz: Int32) throws(Errno) -> [UInt8] {
        guard bufsiz > 0 else { throw .invalidArgument }
        let path = try path.get()
        let operation = try operation(dirfd, path, followFinal: false, allowEmpty: true)
        let place = try vfs.getDentry(credentials, operation)
        guard place.dentry.isSymlink else {
            throw path.bytes.isEmpty ? .noSuchFileOrDirectory : .invalidArgument
        }
        let target = try vfs.readSymlink(place)
        return Array(target.prefix(Int(bufsiz)))
    }

    // MARK: - chmod, chown

    /// chmod(2).
    public func chmod(_ path: PathArgument, _ mode: UInt32) throws(Errno) {
        try fchmodat2(Linux.AT_FDCWD, .success(path), mode, 0)
    }

    /// fchmod(2): EBADF for an O_PATH descriptor (Linux's `fdget`).
    public func fchmod(_ fd: Int32, _ mode: UInt32) throws(Errno) {
        let place = try openedFile(fd).location
        try vfs.setStat(credentials, place, StatChange(mode: mode & 0o7777))
    }

    /// fchmodat(2): the old call has no flags argument.
    public func fchmodat(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32) throws(Errno) {
        try fchmodat2(dirfd, .success(path), mode, 0)
    }

    /// fchmodat2(2). EINVAL for flags other than AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH. Only
    /// the 07777 bits of the mode count. The mode of a symlink cannot change: EOPNOTSUPP
    /// (Linux 6.6+, `notify_change`), before the ownership check. EPERM for a caller who
    /// neither owns the file nor holds CAP_FOWNER.
    public func fchmodat2(_ dirfd: Int32, _ path: PathArgument, _ mode: UInt32, _ flags: Int32)
        throws(Errno)
    {
        try fchmodat2(dirfd, .success(path), mode, flags)
    }

    func fchmodat2(_ dirfd: Int32, _ path: UserPath, _ mode: UInt32, _ flags: Int32) throws(Errno) {
        guard flags & ~(Linux.AT_SYMLINK_NOFOLLOW | Linux.AT_EMPTY_PATH) == 0 else {
            throw .invalidArgument
        }
        let place = try lookup(dirfd, path, flags)
        try vfs.setStat(credentials, place, StatChange(mode: mode & 0o7777))
    }

    /// chown(2): follows a final symlink. `UInt32.max` (-1) leaves that id alone; chown(-1,
    /// -1) still clears set-user-ID and stamps ctime.
    public func chown(_ path: PathArgument, _ owner: UInt32, _ group: UInt32) throws(Errno) {
        try fchownat(Linux.AT_FDCWD, .success(path), owner, group, 0)
    }

    /// lchown(2): the symlink itself.
    public func lchown(_ path: PathArgument, _ owner: UInt32, _ group: UInt32) throws(Errno) {
        try fchownat(Linux.AT_FDCWD, .success(path), owner, group, Linux.AT_SYMLINK_NOFOLLOW)
    }

    /// fchown(2): EBADF for an O_PATH descriptor.
    public func fchown(_ fd: Int32, _ owner: UInt32, _ group: UInt32) throws(Errno) {
        let place = try openedFile(fd).location
        try vfs.setStat(credentials, place, Task.ownershipChange(owner, group))
    }

    /// fchownat(2). EINVAL for flags other than AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH; EPERM
    /// for a change the caller may not make.
    public func fchownat(
        _ dirfd: Int32, _ path: PathArgument, _ owner: UInt32, _ group: UInt32, _ flags: Int32
    ) throws(Errno) {
        try fchownat(dirfd, .success(path), owner, group, flags)
    }

    func fchownat(
        _ dirfd: Int32, _ path: UserPath, _ owner: UInt32, _ group: UInt32, _ flags: Int32
    ) throws(Errno) {
        guard flags & ~(Linux.AT_SYMLINK_NOFOLLOW | Linux.AT_EMPTY_PATH) == 0 else {
            throw .invalidArgument
        }
        let place = try lookup(dirfd, path, flags)
        try vfs.setStat(credentials, place, Task.ownershipChange(owner, group))
    }

    static func ownershipChange(_ owner: UInt32, _ group: UInt32) -> StatChange {
        .chown(uid: owner == UInt32.max ? nil : owner, gid: group == UInt32.max ? nil : group)
    }

    // MARK: - Timestamps

    /// utimensat(2). `times` nil means both "now"; `path` nil is a NULL pointer.
    /// - Both UTIME_OMIT: success without looking at flags, descriptor or path.
    /// - A NULL path with a descriptor is futimens: EINVAL for any flag, EBADF for O_PATH.
    /// - Otherwise EINVAL for flags other than AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH, EFAULT
    ///   for a NULL path (with AT_FDCWD), the lookup, and then EINVAL for a nanosecond field
    ///   outside 0...999,999,999 that is neither UTIME_NOW nor UTIME_OMIT.
    /// - Setting explicit times needs ownership (EPERM); "now" for both needs ownership or
    ///   write permission (EACCES).
    public func utimensat(
        _ dirfd: Int32, _ path: PathArgument?, _ times: (access: Timespec, modification: Timespec)?,
        _ flags: Int32
    ) throws(Errno) {
        try utimensat(dirfd, userPath: path.map { UserPath.success($0) }, times, flags)
    }

    func utimensat(
        _ dirfd: Int32, userPath path: UserPath?,
        _ times: (access: Timespec, modification: Timespec)?,
        _ flags: Int32
    ) throws(Errno) {
        if let times, times.access.nanoseconds == Linux.UTIME_OMIT,
            times.modification.nanoseconds == Linux.UTIME_OMIT
        {
            return
        }
        try setTimes(dirfd, path, times, flags)
    }

    /// futimesat(2): microseconds outside 0..<1,000,000 are EINVAL (UTIME_NOW and UTIME_OMIT
    /// included) before anything is looked up; a NULL path with a descriptor sets that file's
    /// times.
    public func futimesat(
        _ dirfd: Int32, _ path: PathArgument?,
        _ times: (access: LinuxTimeval, modification: LinuxTimeval)?
    ) throws(Errno) {
        try futimesat(dirfd, userPath: path.map { UserPath.success($0) }, times)
    }

    func futimesat(
        _ dirfd: Int32, userPath path: UserPath?,
        _ times: (access: LinuxTimeval, modification: LinuxTimeval)?
    ) throws(Errno) {
        var converted: (access: Timespec, modification: Timespec)?
        if let times {
            let valid: Range<Int64> = 0..<1_000_000
            guard valid.contains(times.access.microseconds),
                valid.contains(times.modification.microseconds)
            else { throw .invalidArgument }
            converted = (
                Timespec(
                    seconds: times.access.seconds, nanoseconds: times.access.microseconds * 1000),
                Timespec(
                    seconds: times.modification.seconds,
                    nanoseconds: times.modification.microseconds * 1000)
            )
        }
        try setTimes(dirfd, path, converted, 0)
    }

    /// utimes(2): futimesat(AT_FDCWD, ...).
    public func utimes(
        _ path: PathArgument, _ times: (access: LinuxTimeval, modification: LinuxTimeval)?
    ) throws(Errno) {
        try futimesat(Linux.AT_FDCWD, userPath: .success(path), times)
    }

    /// utime(2): whole seconds from `struct utimbuf`.
    public func utime(_ path: PathArgument, _ times: (access: Int64, modification: Int64)?)
        throws(Errno)
    {
        try utime(.success(path), times)
    }

    func utime(_ path: UserPath, _ times: (access: Int64, modification: Int64)?) throws(Errno) {
        let converted = times.map {
            (
                access: Timespec(seconds: $0.access, nanoseconds: 0),
                modification: Timespec(seconds: $0.modification, nanoseconds: 0)
            )
        }
        try setTimes(Linux.AT_FDCWD, path, converted, 0)
    }

    /// `do_utimes`: by descriptor when the path is NULL and `dirfd` is not AT_FDCWD, else by
    /// path.
    private func setTimes(
        _ dirfd: Int32, _ path: UserPath?, _ times: (access: Timespec, modification: Timespec)?,
        _ flags: Int32
    ) throws(Errno) {
        let place: VirtualDentry
        if path == nil && dirfd != Linux.AT_FDCWD {
            guard flags == 0 else { throw .invalidArgument }
            place = try openedFile(dirfd).location
        } else {
            guard flags & ~(Linux.AT_SYMLINK_NOFOLLOW | Linux.AT_EMPTY_PATH) == 0 else {
                throw .invalidArgument
            }
            place = try lookup(dirfd, path ?? .failure(.badAddress), flags)
        }
        try vfs.setStat(credentials, place, try Task.timeChange(times))
    }

    /// `vfs_utimes`: the nanosecond check, then what to set. "Now" for both is a touch
    /// (write permission suffices); anything else sets explicit times (ownership needed).
    static func timeChange(_ times: (access: Timespec, modification: Timespec)?) throws(Errno)
        -> StatChange
    {
        guard let times else { return StatChange(accessTime: .now, modificationTime: .now) }
        func change(_ time: Timespec) throws(Errno) -> TimeChange? {
            switch time.nanoseconds {
            case Linux.UTIME_OMIT: return nil
            case Linux.UTIME_NOW: return .now
            case 0...999_999_999: return .set(time)
            default: throw .invalidArgument
            }
        }
        return StatChange(
            accessTime: try change(times.access), modificationTime: try change(times.modification))
    }

    // MARK: - Size

    /// truncate(2). EINVAL for a negative length before the path is read; then EISDIR for a
    /// directory, EINVAL for other non-regular files, EROFS, EACCES without write permission.
    public func truncate(_ path: PathArgument, _ length: Int64) throws(Errno) {
        try truncate(.success(path), length)
    }

    func truncate(_ path: UserPath, _ length: Int64) throws(Errno) {
        guard length >= 0 else { throw .invalidArgument }
        let operation = try operation(Linux.AT_FDCWD, path.get())
        try vfs.truncate(credentials, operation, size: length)
    }

    /// ftruncate(2), as `do_sys_ftruncate`: EINVAL for a negative length (even before the
    /// descriptor is looked at), EBADF when not open or O_PATH, EINVAL unless a regular file
    /// open for writing. No permission check: the open was the check. mtime and ctime are
    /// stamped even when the size stays; set-user-ID goes unless the caller has CAP_FSETID.
    public func ftruncate(_ fd: Int32, _ length: Int64) throws(Errno) {
        guard length >= 0 else { throw .invalidArgument }
        let description = try openedFile(fd)
        guard description.dentry.fileType == .regular, description.isWritable else {
            throw .invalidArgument
        }
        try vfs.setStat(credentials, description.location, .truncation(to: length))
    }

    /// fallocate(2): EBADF when not open or O_PATH, then `FileDescription.allocate`'s checks
    /// in `vfs_fallocate`'s order.
    public func fallocate(_ fd: Int32, _ mode: Int32, _ offset: Int64, _ length: Int64)
        throws(Errno)
    {
        try openedFile(fd).allocate(
            mode: AllocateMode(rawValue: mode), offset: offset, length: length,
            credentials: credentials)
    }

    /// `fdget`: an open description other than O_PATH (EBADF otherwise).
    func openedFile(_ fd: Int32) throws(Errno) -> FileDescription {
        let description = try files.get(fd)
        guard !description.isPathOnly else { throw .badFileDescriptor }
        return description
    }
}
