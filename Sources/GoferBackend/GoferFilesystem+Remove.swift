import LISAFS
import VFSCore

/// unlink, rmdir (UnlinkAt) and rename (RenameAt, or RenameAt2 with flags); the cache follows
/// each change.
extension GoferFilesystem {
    /// AT_REMOVEDIR.
    static let removeDirectoryFlag: UInt32 = 0x200

    /// `vfs_unlink`'s checks (ENOENT; EISDIR/ENOTDIR for a trailing slash; `may_delete`; EBUSY
    /// for a mount point), then one UnlinkAt.
    public func unlink(_ rp: ResolvingPath, name: Name) throws(Errno) {
        let parent = try own(rp.current)
        guard let child = try lookupChild(parent, name) else { throw .noSuchFileOrDirectory }
        if rp.mustBeDirectory { throw child.isDirectory ? .isDirectory : .notDirectory }
        try Permissions.mayDelete(
            rp.credentials, directory: try ownership(of: parent),
            victim: try ownership(of: child), removingDirectory: false)
        try child.checkNotMountPoint(seenThrough: rp.mount)
        if child.isSynthetic {
            parent.syntheticChildren.withLock { $0[name] = nil }
            try? child.markDeleted(seenThrough: rp.mount)
            // One name fewer; another name (a hard link made here) keeps the inode.
            child.updateSynthetic {
                $0.nlink = $0.nlink > 0 ? $0.nlink - 1 : 0
                $0.ctime = GoferFilesystem.wireNow()
            }
            touchDirectory(parent)
            return
        }
        _ = try call(
            UnlinkAtRequest(
                dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)), flags: 0))
        removed(child, from: parent, name: name, mount: rp.mount)
    }

    /// `vfs_rmdir`: ENOENT; `may_delete` (EACCES, EPERM, ENOTDIR); EBUSY; the gofer's
    /// ENOTEMPTY.
    public func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno) {
        let parent = try own(rp.current)
        guard let child = try lookupChild(parent, name) else { throw .noSuchFileOrDirectory }
        try Permissions.mayDelete(
            rp.credentials, directory: try ownership(of: parent),
            victim: try ownership(of: child), removingDirectory: true)
        try child.checkNotMountPoint(seenThrough: rp.mount)
        // Synthetic children live only here: the host sees the directory empty.
        if child.hasSyntheticChildren { throw .directoryNotEmpty }
        _ = try call(
            UnlinkAtRequest(
                dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)),
                flags: GoferFilesystem.removeDirectoryFlag))
        removed(child, from: parent, name: name, mount: rp.mount)
    }

    private func removed(_ child: GoferDentry, from parent: GoferDentry, name: Name, mount: Mount) {
        cache.remove(parent: parent, name: name, ifSame: child)
        try? child.markDeleted(seenThrough: mount)
        parent.invalidate()
        invalidate(child)
    }

    /// The lookups and the VFS's permission checks in `vfs_rename`'s order; what only the
    /// tree's shape decides (a directory moved into itself: EINVAL; onto a non-empty
    /// directory: ENOTEMPTY; type mismatches) the gofer's host answers with Linux's errno.
    public func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno) {
        let oldParent = try own(from.current)
        let newParent = try own(to.current)
        let credentials = from.credentials
        guard let source = try lookupChild(oldParent, oldName) else {
            throw .noSuchFileOrDirectory
        }
        let target = try lookupChild(newParent, newName)
        let exchange = flags.contains(.exchange)
        try VirtualFilesystem.checkRenameEntries(
            sourceIsDirectory: source.isDirectory, targetIsDirectory: target?.isDirectory,
            flags: flags, from: from, to: to)
        if let trap = VirtualFilesystem.renameTrap(oldParent, newParent, parent: { $0.parent }) {
            // do_renameat2: the source may not be an ancestor of the target's parent, nor the
            // target one of the source's — checked before any permission or type.
            if source === trap || source.ino == trap.ino { throw .invalidArgument }
            if let target, target === trap || target.ino == trap.ino {
                throw exchange ? .invalidArgument : .directoryNotEmpty
            }
        }
        if let target, target === source || target.ino == source.ino {
            // Another name of the same inode: rename does nothing, successfully.
            return
        }
        let oldOwnership = try ownership(of: oldParent)
        let newOwnership = try ownership(of: newParent)
        try Permissions.mayDelete(
            credentials, directory: oldOwnership, victim: try ownership(of: source),
            removingDirectory: source.isDirectory)
        if let target {
            try Permissions.mayDelete(
                credentials, directory: newOwnership, victim: try ownership(of: target),
                removingDirectory: exchange ? target.isDirectory : source.isDirectory)
        } else {
            if newParent.isDeleted { throw .noSuchFileOrDirectory }
            try Permissions.check(credentials, [.write, .execute], newOwnership)
        }
        if oldParent !== newParent {
            if source.isDirectory {
                try Permissions.check(credentials, .write, try ownership(of: source))
            }
            if exchange, let target, target.isDirectory {
                try Permissions.check(credentials, .write, try ownership(of: target))
            }
        }
        try source.checkNotMountPoint(seenThrough: from.mount)
        try target?.checkNotMountPoint(seenThrough: to.mount)
        // A directory replaced by the rename must be empty (shmem_rename2's simple_empty):
        // synthetic entries count, though the host directory does not hold them.
        if let target, target.isDirectory, !exchange, target.hasSyntheticChildren {
            throw .directoryNotEmpty
        }
        if source.isSynthetic || target?.isSynthetic == true {
            try renameSynthetic(
                source, from: oldParent, oldName, to: newParent, newName, target: target,
                flags: flags, mount: to.mount)
            if flags.contains(.whiteout) {
                try leaveWhiteout(
                    for: source, in: oldParent, oldName, parentOwnership: oldOwnership, credentials)
            }
            return
        }

        let oldFD = try controlFD(oldParent)
        let newFD = try controlFD(newParent)
        let old = SizedString(bytes: Array(oldName.bytes))
        let new = SizedString(bytes: Array(newName.bytes))
        if flags.isEmpty {
            _ = try call(RenameAtRequest(oldDir: oldFD, oldName: old, newDir: newFD, newName: new))
        } else {
            _ = try call(
                RenameAt2Request(
                    oldDir: oldFD, oldName: old, newDir: newFD, newName: new,
                    flags: flags.rawValue))
        }

        cache.remove(parent: oldParent, name: oldName, ifSame: source)
        if let target { cache.remove(parent: newParent, name: newName, ifSame: target) }
        source.placement.withLock { $0 = .init(parent: newParent, name: newName.owned()) }
        _ = cache.insert(source, parent: newParent, name: newName)
        invalidate(source)
        oldParent.invalidate()
        newParent.invalidate()
        if let target {
            invalidate(target)
            if exchange {
                target.placement.withLock { $0 = .init(parent: oldParent, name: oldName.owned()) }
                _ = cache.insert(target, parent: oldParent, name: oldName)
            } else {
                try? target.markDeleted(seenThrough: to.mount)
            }
        }
        if flags.contains(.whiteout) {
            try ownWhiteout(in: oldParent, oldName, parentOwnership: oldOwnership, credentials)
        }
    }

    /// A rename where a synthetic file is the source or the replaced target: the synthetic
    /// side moves in memory, the host side with UnlinkAt / RenameAt. RENAME_EXCHANGE with a
    /// synthetic file: see `exchangeSynthetic`.
    private func renameSynthetic(
        _ source: GoferDentry, from oldParent: GoferDentry, _ oldName: Name,
        to newParent: GoferDentry, _ newName: Name, target: GoferDentry?, flags: RenameFlags,
        mount: Mount
    ) throws(Errno) {
        if flags.contains(.exchange), let target {
            try exchangeSynthetic(source, oldParent, oldName, target, newParent, newName)
            return
        }
        if let target {
            if source.isDirectory && !target.isDirectory { throw .notDirectory }
            if !source.isDirectory && target.isDirectory { throw .isDirectory }
            if target.isDirectory {
                if target.hasSyntheticChildren { throw .directoryNotEmpty }
                _ = try call(
                    UnlinkAtRequest(
                        dirFD: try controlFD(newParent), name: SizedString(bytes: Array(newName.bytes)),
                        flags: GoferFilesystem.removeDirectoryFlag))
            } else if !target.isSynthetic {
                _ = try call(
                    UnlinkAtRequest(
                        dirFD: try controlFD(newParent), name: SizedString(bytes: Array(newName.bytes)),
                        flags: 0))
            }
        }
        if !source.isSynthetic {
            // A host file onto a synthetic name: the host rename (leaving the host's whiteout
            // when asked), then the synthetic one goes.
            let oldDir = try controlFD(oldParent)
            let newDir = try controlFD(newParent)
            let old = SizedString(bytes: Array(oldName.bytes))
            let new = SizedString(bytes: Array(newName.bytes))
            if flags.contains(.whiteout) {
                _ = try call(
                    RenameAt2Request(
                        oldDir: oldDir, oldName: old, newDir: newDir, newName: new,
                        flags: RenameFlags.whiteout.rawValue))
            } else {
                _ = try call(RenameAtRequest(oldDir: oldDir, oldName: old, newDir: newDir, newName: new))
            }
            cache.remove(parent: oldParent, name: oldName, ifSame: source)
            source.placement.withLock { $0 = .init(parent: newParent, name: newName.owned()) }
            _ = cache.insert(source, parent: newParent, name: newName)
            invalidate(source)
        } else {
            oldParent.syntheticChildren.withLock { $0[oldName] = nil }
            source.placement.withLock { $0 = .init(parent: newParent, name: newName.owned()) }
            source.updateSynthetic { $0.ctime = GoferFilesystem.wireNow() }
            touchDirectory(oldParent)
            if oldParent !== newParent { touchDirectory(newParent) }
        }
        if let target {
            if target.isSynthetic {
                newParent.syntheticChildren.withLock { $0[newName] = nil }
                target.updateSynthetic {
                    $0.nlink = $0.nlink > 0 ? $0.nlink - 1 : 0
                    $0.ctime = GoferFilesystem.wireNow()
                }
            } else {
                cache.remove(parent: newParent, name: newName, ifSame: target)
                invalidate(target)
            }
            try? target.markDeleted(seenThrough: mount)
        }
        if source.isSynthetic {
            newParent.syntheticChildren.withLock { $0[newName.owned()] = source }
        }
        oldParent.invalidate()
        newParent.invalidate()
    }

    /// RENAME_EXCHANGE where one side (or both) is synthetic, as Linux swaps the two names:
    /// a host file's side is one RenameAt to the other name (free on the host, which never saw
    /// the synthetic file), the synthetic side moves in memory. Both files' ctimes are stamped
    /// (the host's rename stamps its file and both directories; synthetic-only changes stamp
    /// the directories with SetStat), as Linux's exchange does.
    private func exchangeSynthetic(
        _ source: GoferDentry, _ oldParent: GoferDentry, _ oldName: Name,
        _ target: GoferDentry, _ newParent: GoferDentry, _ newName: Name
    ) throws(Errno) {
        let (host, hostParent, hostName, otherParent, otherName): (
            GoferDentry?, GoferDentry, Name, GoferDentry, Name
        ) =
            !source.isSynthetic
            ? (source, oldParent, oldName, newParent, newName)
            : !target.isSynthetic
                ? (target, newParent, newName, oldParent, oldName)
                : (nil, oldParent, oldName, newParent, newName)
        if let host {
            _ = try call(
                RenameAtRequest(
                    oldDir: try controlFD(hostParent), oldName: SizedString(bytes: Array(hostName.bytes)),
                    newDir: try controlFD(otherParent),
                    newName: SizedString(bytes: Array(otherName.bytes))))
            cache.remove(parent: hostParent, name: hostName, ifSame: host)
            host.placement.withLock { $0 = .init(parent: otherParent, name: otherName.owned()) }
            _ = cache.insert(host, parent: otherParent, name: otherName)
            invalidate(host)
        }
        let now = GoferFilesystem.wireNow()
        oldParent.syntheticChildren.withLock { $0[oldName] = nil }
        newParent.syntheticChildren.withLock { $0[newName] = nil }
        if source.isSynthetic {
            source.placement.withLock { $0 = .init(parent: newParent, name: newName.owned()) }
            source.updateSynthetic { $0.ctime = now }
            newParent.syntheticChildren.withLock { $0[newName.owned()] = source }
        }
        if target.isSynthetic {
            target.placement.withLock { $0 = .init(parent: oldParent, name: oldName.owned()) }
            target.updateSynthetic { $0.ctime = now }
            oldParent.syntheticChildren.withLock { $0[oldName.owned()] = target }
        }
        if host == nil {
            touchDirectory(oldParent)
            if oldParent !== newParent { touchDirectory(newParent) }
        }
        oldParent.invalidate()
        newParent.invalidate()
    }

    /// RENAME_WHITEOUT after a rename with a synthetic side: a host source left the host's
    /// whiteout (made the caller's, `ownWhiteout`); a synthetic source leaves a synthetic one,
    /// a character device 0:0 as vfs_whiteout makes, owned as a new inode of the caller.
    private func leaveWhiteout(
        for source: GoferDentry, in parent: GoferDentry, _ name: Name, parentOwnership: Ownership,
        _ credentials: Credentials
    ) throws(Errno) {
        guard source.isSynthetic else {
            try ownWhiteout(in: parent, name, parentOwnership: parentOwnership, credentials)
            return
        }
        let owner = Permissions.ownershipForNewInode(
            credentials, parent: parentOwnership, mode: FileMode(.characterDevice, permissions: 0))
        try makeSynthetic(in: parent, name: name, owner: owner)
    }

    /// The whiteout RENAME_WHITEOUT leaves is the caller's (vfs_whiteout creates it with the
    /// caller's fsuid, and fsgid or a set-group-ID parent's group); the gofer made it as
    /// itself, so one Walk and, when the owner differs, one SetStat hand it over.
    private func ownWhiteout(
        in parent: GoferDentry, _ name: Name, parentOwnership: Ownership, _ credentials: Credentials
    ) throws(Errno) {
        guard let whiteout = try lookupChild(parent, name) else { return }
        let wanted = Permissions.ownershipForNewInode(
            credentials, parent: parentOwnership, mode: FileMode(.characterDevice, permissions: 0))
        let made = try attributes(whiteout)
        guard made.uid != wanted.uid || made.gid != wanted.gid else { return }
        var request = SetStatRequest(fd: try controlFD(whiteout), mask: SetStatMask.uid | SetStatMask.gid)
        request.uid = wanted.uid
        request.gid = wanted.gid
        invalidate(whiteout)
        let response = try call(request).response
        if response.failureMask != 0 { throw Errno(rawValue: Int32(bitPattern: response.failureErrno)) }
    }
}
