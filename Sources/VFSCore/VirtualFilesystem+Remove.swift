/// Operations that remove or move names: unlink, rmdir, rename. Linux checks the final
/// component's kind and the mount's writability *before* looking the name up for these (unlike
/// the create operations), so the core does both here.
extension VirtualFilesystem {
    /// `do_renameat2`'s checks on the two looked-up entries, before any permission check,
    /// shared by every file system's rename: RENAME_NOREPLACE onto an existing name is EEXIST;
    /// RENAME_EXCHANGE needs a target (ENOENT) that is a directory if the new path has a
    /// trailing slash (ENOTDIR); a non-directory source with a trailing slash on its path, or
    /// (unless exchanging) on the new path, is ENOTDIR. `targetIsDirectory` is nil when no
    /// target exists.
    public static func checkRenameEntries(
        sourceIsDirectory: Bool, targetIsDirectory: Bool?, flags: RenameFlags,
        from: ResolvingPath, to: ResolvingPath
    ) throws(Errno) {
        let exchange = flags.contains(.exchange)
        if flags.contains(.noReplace) && targetIsDirectory != nil { throw .fileExists }
        if exchange {
            guard let targetIsDirectory else { throw .noSuchFileOrDirectory }
            if !targetIsDirectory && to.mustBeDirectory { throw .notDirectory }
        }
        if !sourceIsDirectory {
            if from.mustBeDirectory { throw .notDirectory }
            if !exchange && to.mustBeDirectory { throw .notDirectory }
        }
    }

    /// unlinkat(2) without AT_REMOVEDIR. EISDIR for `/`, `.` and `..`.
    public func unlink(_ credentials: Credentials, _ operation: PathOperation) throws(Errno) {
        let rp = try resolveParent(credentials, operation)
        guard case .name(let name) = rp.finalComponent() else { throw .isDirectory }
        try rp.mount.checkWritable()
        try checkFinalName(name, in: rp)
        try rp.mount.filesystem.unlink(rp, name: name)
    }

    /// rmdir(2) / unlinkat(AT_REMOVEDIR). EINVAL for `.`, ENOTEMPTY for `..`, EBUSY for `/`.
    public func removeDirectory(_ credentials: Credentials, _ operation: PathOperation)
        throws(Errno)
    {
        let rp = try resolveParent(credentials, operation)
        switch rp.finalComponent() {
        case .root: throw .resourceBusy
        case .dot: throw .invalidArgument
        case .dotDot: throw .directoryNotEmpty
        case .name(let name):
            try rp.mount.checkWritable()
            try checkFinalName(name, in: rp)
            try rp.mount.filesystem.removeDirectory(rp, name: name)
        }
    }

    /// renameat2(2). The flag and final-component checks come in `do_renameat2`'s order:
    /// EINVAL for bad flags, then EXDEV across mounts, EBUSY for a source of `/`, `.` or `..`,
    /// EEXIST (with RENAME_NOREPLACE) or EBUSY for such a target, then EROFS.
    public func rename(
        _ credentials: Credentials, from old: PathOperation, to new: PathOperation,
        flags: RenameFlags = []
    ) throws(Errno) {
        let known: RenameFlags = [.noReplace, .exchange, .whiteout]
        guard known.isSuperset(of: flags) else { throw .invalidArgument }
        // Only whiteout with exchange is contradictory (Linux 6.18 accepts WHITEOUT|NOREPLACE).
        if flags.contains(.whiteout) && flags.contains(.exchange) { throw .invalidArgument }
        if flags.contains(.exchange) && flags.contains(.noReplace) { throw .invalidArgument }

        let from = try resolveParent(credentials, old)
        let to = try resolveParent(credentials, new)
        guard from.mount === to.mount else { throw .improperLink }
        guard case .name(let oldName) = from.finalComponent() else { throw .resourceBusy }
        guard case .name(let newName) = to.finalComponent() else {
            throw flags.contains(.noReplace) ? .fileExists : .resourceBusy
        }
        try from.mount.checkWritable()
        try checkFinalName(oldName, in: from)
        if newName.bytes.count > Name.maxLength {
            // do_renameat2 looks the old name up (ENOENT) before the new one, whose lookup is
            // where a name past NAME_MAX fails.
            _ = try getDentry(
                credentials,
                PathOperation(
                    root: old.root, start: VirtualDentry(mount: from.mount, dentry: from.current),
                    path: Array(oldName.bytes), followFinalSymlink: false))
        }
        try checkFinalName(newName, in: to)
        try from.mount.filesystem.rename(
            from: from, name: oldName, to: to, name: newName, flags: flags)
    }
}

extension VirtualFilesystem {
    /// If `ancestor` is a proper ancestor of `dentry` (following `parent` up), its child on the
    /// path down to `dentry`; nil otherwise. The caller keeps the parents stable (tmpfs holds its
    /// rename lock; the gofer and host backends use the parents their walks just made current).
    public static func childOnPath<D: AnyObject>(
        from ancestor: D, to dentry: D, parent: (D) -> D?, isSame: (D, D) -> Bool = { $0 === $1 }
    ) -> D? {
        var current = dentry
        while let next = parent(current) {
            if isSame(next, ancestor) { return current }
            current = next
        }
        return nil
    }

    /// lock_rename's "trap" for a rename between two directories: when one is a proper
    /// ancestor of the other, its child on the way down to the other. do_renameat2 refuses a
    /// source that is the trap (EINVAL) and a target that is (ENOTEMPTY, EINVAL for
    /// RENAME_EXCHANGE), before any permission or type check.
    public static func renameTrap<D: AnyObject>(
        _ oldParent: D, _ newParent: D, parent: (D) -> D?, isSame: (D, D) -> Bool = { $0 === $1 }
    ) -> D? {
        if isSame(oldParent, newParent) { return nil }
        return childOnPath(from: oldParent, to: newParent, parent: parent, isSame: isSame)
            ?? childOnPath(from: newParent, to: oldParent, parent: parent, isSame: isSame)
    }
}
