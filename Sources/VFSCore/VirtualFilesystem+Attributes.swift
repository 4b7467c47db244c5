/// Operations on the file a path names: stat, chmod/chown/utimes/truncate, readlink, access,
/// statfs and the xattr calls.
extension VirtualFilesystem {
    /// stat / lstat / statx. The mount id is filled in here; the rest is the file system's.
    public func stat(
        _ credentials: Credentials, _ operation: PathOperation, mask: StatxMask = .basicStats
    ) throws(Errno) -> FileStat {
        let place = try getDentry(credentials, operation)
        return try stat(place, mask: mask)
    }

    public func stat(_ place: VirtualDentry, mask: StatxMask = .basicStats) throws(Errno)
        -> FileStat
    {
        var result = try place.mount.filesystem.stat(place.dentry, mask: mask)
        result.mountID = place.mount.id
        return result
    }

    /// chmod, chown, utimensat, truncate: EROFS on a read-only mount (after resolution), then
    /// EOPNOTSUPP for a mode change on a symlink (`notify_change`, Linux 6.6+: fchmodat2 with
    /// AT_SYMLINK_NOFOLLOW on a symlink gives it on tmpfs, even for a caller who does not own
    /// the link), then the file system validates and applies the change.
    public func setStat(
        _ credentials: Credentials, _ operation: PathOperation, _ change: StatChange
    ) throws(Errno) {
        let place = try getDentry(credentials, operation)
        try setStat(credentials, place, change)
    }

    public func setStat(_ credentials: Credentials, _ place: VirtualDentry, _ change: StatChange)
        throws(Errno)
    {
        if change.isEmpty { return }
        try place.mount.checkWritable()
        if change.mode != nil && place.dentry.isSymlink { throw .notSupported }
        try place.mount.filesystem.setStat(place.dentry, change, credentials: credentials)
    }

    /// truncate(2) by path: EISDIR for a directory, EINVAL for other non-regular files,
    /// EACCES without write permission, EROFS, then the size change.
    public func truncate(_ credentials: Credentials, _ operation: PathOperation, size: Int64)
        throws(Errno)
    {
        guard size >= 0 else { throw .invalidArgument }
        let place = try getDentry(credentials, operation)
        if place.dentry.isDirectory { throw .isDirectory }
        guard place.dentry.fileType == .regular else { throw .invalidArgument }
        try place.mount.checkWritable()
        let ownership = try place.mount.filesystem.ownership(place.dentry)
        try Permissions.check(credentials, .write, ownership)
        try place.mount.filesystem.setStat(
            place.dentry, StatChange(size: size), credentials: credentials)
    }

    /// readlinkat(2): EINVAL unless the path names a symlink (the final one is not followed).
    public func readSymlink(_ credentials: Credentials, _ operation: PathOperation) throws(Errno)
        -> [UInt8]
    {
        var operation = operation
        operation.followFinalSymlink = false
        return try readSymlink(try getDentry(credentials, operation))
    }

    /// readlink of a resolved place: EINVAL unless a symlink. Reading a link moves its atime,
    /// under the mount's rules (`touch_atime`).
    public func readSymlink(_ place: VirtualDentry) throws(Errno) -> [UInt8] {
        guard place.dentry.isSymlink else { throw .invalidArgument }
        let target = try place.mount.filesystem.readSymlink(place.dentry)
        place.mount.filesystem.noteAccess(place.dentry, mountFlags: place.mount.flags)
        return target
    }

    /// faccessat(2)'s check, for the credentials given (the caller picks real or effective
    /// ids), in `do_faccessat`'s order: execute access to a regular file on a noexec mount is
    /// EACCES whatever the mode; then the permission check (EACCES); then write access to a
    /// regular file, directory or symlink on a read-only mount is EROFS ("SuS v2 requires we
    /// report a read only fs too" — only once permission is granted: on Linux 6.18 a user
    /// without write permission gets EACCES from a read-only bind mount, root EROFS).
    public func access(_ credentials: Credentials, _ operation: PathOperation, mask: AccessMask)
        throws(Errno)
    {
        let place = try getDentry(credentials, operation)
        if mask.isEmpty { return }
        let fileType = place.dentry.fileType
        if mask.contains(.execute) && fileType == .regular
            && place.mount.flags.contains(.noExec)
        {
            throw .permissionDenied
        }
        try Self.checkSuperblockWritable(place, writing: mask.contains(.write))
        let ownership = try place.mount.filesystem.ownership(place.dentry)
        try Permissions.check(credentials, mask, ownership)
        if mask.contains(.write) && place.mount.isReadOnly {
            switch fileType {
            case .regular, .directory, .symlink: throw .readOnlyFileSystem
            default: break
            }
        }
    }

    /// statfs(2): the file system's figures with the mount's flags.
    public func statFilesystem(_ credentials: Credentials, _ operation: PathOperation)
        throws(Errno) -> FilesystemStat
    {
        let place = try getDentry(credentials, operation)
        return try statFilesystem(place)
    }

    public func statFilesystem(_ place: VirtualDentry) throws(Errno) -> FilesystemStat {
        var result = try place.mount.filesystem.statFilesystem(place.dentry)
        result.flags |= place.mount.flags.statfsFlags
        return result
    }

    // MARK: - Extended attributes

    public func getExtendedAttribute(
        _ credentials: Credentials, _ operation: PathOperation, name: [UInt8]
    ) throws(Errno) -> [UInt8] {
        try ExtendedAttributeRules.checkNameLength(name)
        let place = try getDentry(credentials, operation)
        return try place.mount.filesystem.getExtendedAttribute(
            place.dentry, name: name, credentials: credentials)
    }

    /// setxattr(2): EROFS on a read-only mount, then the file system's checks.
    public func setExtendedAttribute(
        _ credentials: Credentials, _ operation: PathOperation, name: [UInt8], value: [UInt8],
        flags: Int32
    ) throws(Errno) {
        try ExtendedAttributeRules.checkFlags(flags)
        try ExtendedAttributeRules.checkNameLength(name)
        try ExtendedAttributeRules.checkValueSize(value)
        let place = try getDentry(credentials, operation)
        try setExtendedAttribute(credentials, place, name: name, value: value, flags: flags)
    }

    public func setExtendedAttribute(
        _ credentials: Credentials, _ place: VirtualDentry, name: [UInt8], value: [UInt8],
        flags: Int32
    ) throws(Errno) {
        try ExtendedAttributeRules.checkFlags(flags)
        try ExtendedAttributeRules.checkNameLength(name)
        try ExtendedAttributeRules.checkValueSize(value)
        try place.mount.checkWritable()
        try place.mount.filesystem.setExtendedAttribute(
            place.dentry, name: name, value: value, flags: flags, credentials: credentials)
    }

    public func listExtendedAttributes(_ credentials: Credentials, _ operation: PathOperation)
        throws(Errno) -> [[UInt8]]
    {
        let place = try getDentry(credentials, operation)
        return try place.mount.filesystem.listExtendedAttributes(
            place.dentry, credentials: credentials)
    }

    public func removeExtendedAttribute(
        _ credentials: Credentials, _ operation: PathOperation, name: [UInt8]
    ) throws(Errno) {
        try ExtendedAttributeRules.checkNameLength(name)
        let place = try getDentry(credentials, operation)
        try removeExtendedAttribute(credentials, place, name: name)
    }

    public func removeExtendedAttribute(
        _ credentials: Credentials, _ place: VirtualDentry, name: [UInt8]
    ) throws(Errno) {
        try ExtendedAttributeRules.checkNameLength(name)
        try place.mount.checkWritable()
        try place.mount.filesystem.removeExtendedAttribute(
            place.dentry, name: name, credentials: credentials)
    }
}

extension VirtualFilesystem {
    /// `sb_permission`: write access to a regular file, directory or symlink on a read-only
    /// superblock is EROFS, checked before the permission bits (Linux 6.18: a user without
    /// write permission gets EROFS from `access(W_OK)` on a tmpfs mounted MS_RDONLY, but EACCES
    /// from a read-only bind mount of a writable one).
    static func checkSuperblockWritable(_ place: VirtualDentry, writing: Bool) throws(Errno) {
        guard writing, place.mount.filesystem.superblockIsReadOnly else { return }
        switch place.dentry.fileType {
        case .regular, .directory, .symlink: throw .readOnlyFileSystem
        default: break
        }
    }
}
