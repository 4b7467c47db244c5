/// Operations that make a name: mkdir, mknod, symlink, link. Each resolves the parent first
/// (so which file system is asked is known), rejects the final components Linux rejects, and
/// leaves the rest of the checks, in Linux's order, to the file system.
extension VirtualFilesystem {
    /// Resolves the parent of the final component; the returned path stands there.
    func resolveParent(_ credentials: Credentials, _ operation: PathOperation) throws(Errno)
        -> ResolvingPath
    {
        var rp = try makeResolvingPath(credentials, operation, stopsAtParent: true)
        try walk(&rp)
        return rp
    }

    /// `filename_create`'s first steps: a final `/`, `.` or `..` already exists (EEXIST); a
    /// name past NAME_MAX fails the lookup (ENAMETOOLONG).
    private func nameToCreate(_ rp: ResolvingPath) throws(Errno) -> Name {
        guard case .name(let name) = rp.finalComponent() else { throw .fileExists }
        try checkFinalName(name, in: rp)
        return name
    }

    /// The final lookup's view of a name (`lookup_one_qstr_excl`, `lookup_open`): in a
    /// removed directory it is ENOENT before the file system's lookup can find the name past
    /// NAME_MAX (ENAMETOOLONG). Linux 6.18: symlinkat of a 256-byte name in a removed cwd
    /// is ENOENT.
    func checkFinalName(_ name: Name, in rp: ResolvingPath) throws(Errno) {
        guard name.bytes.count > Name.maxLength else { return }
        if rp.current.isDeleted { throw .noSuchFileOrDirectory }
        try name.checkLength()
    }

    /// mkdirat(2). `mode` has the umask applied; set-ID bits are dropped as Linux drops them
    /// (a set-group-ID parent adds S_ISGID back).
    public func makeDirectory(
        _ credentials: Credentials, _ operation: PathOperation, mode: UInt32
    ) throws(Errno) {
        let rp = try resolveParent(credentials, operation)
        let name = try nameToCreate(rp)
        try rp.mount.filesystem.makeDirectory(
            rp, name: name, mode: FileMode(.directory, permissions: mode & 0o1777))
    }

    /// mknodat(2). The type comes from `mode` (0 means a regular file). EINVAL for an unknown
    /// type, EPERM for a directory: both before the path is looked at, as in Linux. Bits above
    /// the 16 of a `umode_t` are dropped, as the syscall's argument type drops them.
    public func makeNode(
        _ credentials: Credentials, _ operation: PathOperation, mode: UInt32, device: UInt64
    ) throws(Errno) {
        let mode = mode & 0xFFFF
        var fileMode = FileMode(rawValue: mode)
        if mode & FileMode.typeMask == 0 { fileMode = FileMode(.regular, permissions: mode) }
        switch fileMode.type {
        case .regular, .characterDevice, .blockDevice, .fifo, .socket: break
        case .directory: throw .notPermitted
        case .symlink, nil: throw .invalidArgument
        }
        let rp = try resolveParent(credentials, operation)
        let name = try nameToCreate(rp)
        try rp.mount.filesystem.makeNode(rp, name: name, mode: fileMode, device: device)
    }

    /// symlinkat(2). ENOENT for an empty target, ENAMETOOLONG for one of PATH_MAX bytes or more.
    public func makeSymlink(
        _ credentials: Credentials, target: [UInt8], _ operation: PathOperation
    ) throws(Errno) {
        guard !target.isEmpty else { throw .noSuchFileOrDirectory }
        guard target.count < ResolvingPath.pathMax else { throw .fileNameTooLong }
        guard !target.contains(0) else { throw .invalidArgument }
        let rp = try resolveParent(credentials, operation)
        let name = try nameToCreate(rp)
        try rp.mount.filesystem.makeSymlink(rp, name: name, target: target)
    }

    /// linkat(2). `existing` resolves first (following its final symlink only with
    /// AT_SYMLINK_FOLLOW, which the caller sets in `followFinalSymlink`).
    public func makeLink(
        _ credentials: Credentials, existing: PathOperation, new: PathOperation
    ) throws(Errno) {
        let source = try getDentry(credentials, existing)
        let rp = try resolveParent(credentials, new)
        let name = try nameToCreate(rp)
        try rp.mount.filesystem.makeLink(rp, name: name, existing: source)
    }

    /// The checks `do_linkat` makes once the new name is known to be free and the mount
    /// writable: EXDEV across mounts, then fs.protected_hardlinks (EPERM). File systems call
    /// this from `makeLink` before their own checks on the directory (EACCES) and the file
    /// (EPERM for a directory, ENOENT for an unlinked file).
    public static func checkLinkable(
        _ rp: ResolvingPath, existing: VirtualDentry, ownership: Ownership
    ) throws(Errno) {
        guard existing.mount === rp.mount else { throw .improperLink }
        if rp.protectedHardlinks && !Permissions.isOwnerOrCapable(rp.credentials, ownership) {
            // fs.protected_hardlinks: only files the caller could read and write, and no
            // set-user-ID or set-group-ID executables.
            let mode = ownership.mode
            let safe =
                mode.isRegular && mode.rawValue & FileMode.setUID == 0
                && mode.rawValue & (FileMode.setGID | FileMode.groupExecute)
                    != (FileMode.setGID | FileMode.groupExecute)
                && Permissions.mayAccess(rp.credentials, [.read, .write], ownership)
            if !safe { throw .notPermitted }
        }
    }
}
