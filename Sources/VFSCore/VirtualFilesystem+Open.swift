/// open(2) and its family, following `path_openat` / `do_open` in fs/namei.c.
extension VirtualFilesystem {
    /// Opens (and with O_CREAT maybe creates) the file `operation` names. `mode` is the
    /// creation mode with the umask applied. The returned description pins its mount.
    ///
    /// The order of checks is Linux's: resolution errors; with O_CREAT a trailing slash or a
    /// final `.`/`..` is EISDIR and an existing name with O_EXCL is EEXIST; a final symlink not
    /// to be followed is ELOOP (O_PATH opens it); O_DIRECTORY on a non-directory is ENOTDIR;
    /// O_TRUNC on a read-only mount is EROFS; then `may_open` (EISDIR for writing a directory,
    /// EACCES); then EROFS for other writers; then truncation.
    public func open(
        _ credentials: Credentials, _ operation: PathOperation, options: OpenOptions,
        mode: UInt32 = 0
    ) throws(Errno) -> FileDescription {
        var options = options
        if options.isPathOnly {
            // O_PATH keeps only these; the rest are ignored, as in build_open_flags.
            options.flags &=
                OpenOptions.directory | OpenOptions.noFollow | OpenOptions.pathOnly
                | OpenOptions.closeOnExec
        }
        if options.isTemporaryFile { return try openTemporaryFile(credentials, operation, options, mode) }
        if options.has(OpenOptions.create) && options.requiresDirectory {
            throw .invalidArgument
        }

        var operation = operation
        operation.followFinalSymlink = !options.noFollow
        let place: VirtualDentry
        var created = false
        if options.creates {
            if options.isExclusive { operation.followFinalSymlink = false }
            (place, created) = try lookupOrCreate(credentials, operation, options, mode)
        } else {
            place = try getDentry(credentials, operation)
        }
        return try finishOpen(credentials, place, options: options, created: created)
    }

    private func lookupOrCreate(
        _ credentials: Credentials, _ operation: PathOperation, _ options: OpenOptions,
        _ mode: UInt32
    ) throws(Errno) -> (VirtualDentry, created: Bool) {
        if operation.path.isEmpty && operation.allowEmptyPath {
            return (try getDentry(credentials, operation), false)
        }
        var rp = try resolveParent(credentials, operation)
        while true {
            guard case .name(let name) = rp.finalComponent() else {
                // open_last_lookups walks a final `..` (handle_dots) before do_open's checks:
                // out of a RESOLVE_BENEATH root, or across a mount under RESOLVE_NO_XDEV, it is
                // EXDEV (Linux 6.18: openat2("..", O_CREAT, RESOLVE_BENEATH) is EXDEV).
                if case .dotDot = rp.finalComponent() {
                    let flags = rp.resolveFlags
                    if flags.contains(.beneath) && rp.isAtRoot() { throw .improperLink }
                    if flags.contains(.noXDev) && rp.current === rp.mount.root && !rp.isAtRoot() {
                        throw .improperLink
                    }
                }
                // `.`, `..` or `/` names an existing directory; do_open answers O_EXCL first,
                // even with a trailing slash ("./" with O_CREAT|O_EXCL is EEXIST on 6.18).
                if options.isExclusive { throw .fileExists }
                throw .isDirectory
            }
            // open_last_lookups: O_CREAT on a name with a trailing slash is EISDIR.
            if rp.mustBeDirectory { throw .isDirectory }
            try checkFinalName(name, in: rp)
            let fileMode = FileMode(.regular, permissions: mode & 0o7777)
            switch try rp.mount.filesystem.openOrCreate(
                rp, name: name, options: options, mode: fileMode)
            {
            case .created(let dentry):
                return (VirtualDentry(mount: rp.mount, dentry: dentry), true)
            case .existing(let dentry):
                var place = VirtualDentry(mount: rp.mount, dentry: dentry)
                // step_into crosses the mounts on the name before do_open's EEXIST: under
                // RESOLVE_NO_XDEV that is EXDEV (Linux 6.18: openat2 with O_CREAT of a mount
                // point).
                if rp.resolveFlags.contains(.noXDev) && dentry.isMountPoint
                    && mount(at: place) != nil
                {
                    throw .improperLink
                }
                if options.isExclusive { throw .fileExists }
                if dentry.isSymlink && rp.followFinalSymlink {
                    // Follow it (possibly to a name that does not exist yet, which O_CREAT
                    // then creates), and resolve to the new final component's parent.
                    let target = try rp.mount.filesystem.readSymlink(dentry)
                    let absolute = try rp.handleSymlink(target: target)
                    // pick_link touches the link's atime (relatime) as for any follow (Linux
                    // 6.18: open(O_CREAT) through a final symlink moves the link's atime).
                    rp.mount.filesystem.noteAccess(dentry, mountFlags: rp.mount.flags)
                    if absolute { rp.restartAtRoot() }
                    try walk(&rp)
                    continue
                }
                if dentry.isMountPoint, let top = mountOnTop(of: place) { place = top }
                return (place, false)
            }
        }
    }

    /// Follows the stack of mounts on `place` to the top, as the walk does when it steps on a
    /// mount point.
    private func mountOnTop(of place: VirtualDentry) -> VirtualDentry? {
        var place = place
        var moved = false
        while let above = mount(at: place) {
            place = VirtualDentry(mount: above, dentry: above.root)
            moved = true
        }
        return moved ? place : nil
    }

    private func finishOpen(
        _ credentials: Credentials, _ place: VirtualDentry, options: OpenOptions, created: Bool
    ) throws(Errno) -> FileDescription {
        let dentry = place.dentry
        let fs = place.mount.filesystem
        if options.has(OpenOptions.create) && !created && dentry.isDirectory {
            throw .isDirectory
        }
        if options.requiresDirectory && !dentry.isDirectory { throw .notDirectory }
        if options.isPathOnly {
            let impl = try fs.open(place, options: options, credentials: credentials)
            return FileDescription(
                location: place, impl: impl, flags: options, credentials: credentials)
        }
        var access = options.requiredAccess
        var truncate = false
        if created {
            access = []
        } else if dentry.fileType == .regular && options.truncates {
            try place.mount.checkWritable()
            truncate = true
        }
        try mayOpen(credentials, place, access: access, options: options)
        // Writers of regular files, directories and symlinks hold write access to the mount
        // (EROFS here when read-only), which keeps a remount to read-only away until they close.
        var holdsWriteAccess = false
        if options.isWritable {
            switch dentry.fileType {
            case .regular, .directory, .symlink:
                try place.mount.acquireWriteAccess()
                holdsWriteAccess = true
            default: break
            }
        }
        let impl: any FileDescriptionImpl
        do {
            impl = try fs.open(place, options: options, credentials: credentials)
        } catch {
            if holdsWriteAccess { place.mount.releaseWriteAccess() }
            throw error
        }
        let description = FileDescription(
            location: place, impl: impl, flags: options, credentials: credentials,
            holdsWriteAccess: holdsWriteAccess)
        if truncate {
            try fs.setStat(dentry, .truncation(to: 0), credentials: credentials)
        }
        return description
    }

    /// `may_open`: what the file's type allows, then its permission bits.
    private func mayOpen(
        _ credentials: Credentials, _ place: VirtualDentry, access: AccessMask,
        options: OpenOptions
    ) throws(Errno) {
        switch place.dentry.fileType {
        case .symlink:
            throw .tooManySymbolicLinkLevels
        case .directory:
            if access.contains(.write) { throw .isDirectory }
            if access.contains(.execute) { throw .permissionDenied }
        case .characterDevice, .blockDevice:
            if place.mount.flags.contains(.noDevices) { throw .permissionDenied }
        case .fifo, .socket, .regular:
            break
        }
        try Self.checkSuperblockWritable(place, writing: access.contains(.write))
        let ownership = try place.mount.filesystem.ownership(place.dentry)
        if !access.isEmpty { try Permissions.check(credentials, access, ownership) }
        if options.has(OpenOptions.noAccessTime)
            && !Permissions.isOwnerOrCapable(credentials, ownership)
        {
            throw .notPermitted
        }
    }

    /// O_TMPFILE: the path names a directory; an unnamed file is made in it. EINVAL unless
    /// opened for writing; EROFS; EACCES without write and search on the directory (the file
    /// system checks); EOPNOTSUPP where the file system has no unnamed files.
    private func openTemporaryFile(
        _ credentials: Credentials, _ operation: PathOperation, _ options: OpenOptions,
        _ mode: UInt32
    ) throws(Errno) -> FileDescription {
        guard options.isWritable else { throw .invalidArgument }
        var operation = operation
        // do_tmpfile looks the directory up with LOOKUP_DIRECTORY, following a final symlink
        // unless O_NOFOLLOW (then the symlink itself is ENOTDIR).
        operation.followFinalSymlink = !options.noFollow
        let directory = try getDentry(credentials, operation)
        guard directory.dentry.isDirectory else { throw .notDirectory }
        try directory.mount.checkWritable()
        let rp = try makeResolvingPath(
            credentials,
            PathOperation(
                root: directory, start: directory, path: [], allowEmptyPath: true),
            stopsAtParent: true)
        let dentry = try directory.mount.filesystem.makeTemporaryFile(
            rp, mode: FileMode(.regular, permissions: mode & 0o7777),
            linkable: !options.isExclusive)
        let place = VirtualDentry(mount: directory.mount, dentry: dentry)
        try place.mount.acquireWriteAccess()
        let impl: any FileDescriptionImpl
        do {
            impl = try place.mount.filesystem.open(place, options: options, credentials: credentials)
        } catch {
            place.mount.releaseWriteAccess()
            throw error
        }
        return FileDescription(
            location: place, impl: impl, flags: options, credentials: credentials,
            holdsWriteAccess: true)
    }
}
