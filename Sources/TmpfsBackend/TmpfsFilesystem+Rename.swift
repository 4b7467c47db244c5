import VFSCore

/// rename and renameat2 (RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT), following `do_renameat2`,
/// `lock_rename` and `vfs_rename`.
extension TmpfsFilesystem {
    public func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno) {
        let oldParent = try own(from.current)
        let newParent = try own(to.current)
        let oldDirectory = try directoryOf(oldParent)
        let newDirectory = try directoryOf(newParent)
        let request = RenameRequest(
            from: from, oldParent: oldParent, oldName: oldName, to: to, newParent: newParent,
            newName: newName, flags: flags)

        if oldParent === newParent {
            try oldDirectory.lock.withWriteLock { () throws(Errno) in
                try renameLocked(request, trap: nil)
            }
            return
        }
        // Between directories: hold the rename lock so ancestry cannot change, find the "trap"
        // (the child of the ancestor directory on the way to the other one, if either contains
        // the other), and lock the two directories ancestor first.
        try renameLock.withLock { _ throws(Errno) in
            var trap: TmpfsDentry?
            var first = oldDirectory
            var second = newDirectory
            if let child = childOnPath(from: oldParent, to: newParent) {
                trap = child
            } else if let child = childOnPath(from: newParent, to: oldParent) {
                trap = child
                swap(&first, &second)
            } else if ObjectIdentifier(newDirectory) < ObjectIdentifier(oldDirectory) {
                swap(&first, &second)
            }
            try first.lock.withWriteLock { () throws(Errno) in
                try second.lock.withWriteLock { () throws(Errno) in
                    try renameLocked(request, trap: trap)
                }
            }
        }
    }

    /// If `ancestor` is a proper ancestor of `dentry`, its child on the path down to `dentry`.
    /// Parents are stable here: the caller holds the rename lock.
    private func childOnPath(from ancestor: TmpfsDentry, to dentry: TmpfsDentry) -> TmpfsDentry? {
        VirtualFilesystem.childOnPath(from: ancestor, to: dentry, parent: { $0.parent })
    }

    private struct RenameRequest {
        let from: ResolvingPath
        let oldParent: TmpfsDentry
        let oldName: Name
        let to: ResolvingPath
        let newParent: TmpfsDentry
        let newName: Name
        let flags: RenameFlags
        var exchange: Bool { flags.contains(.exchange) }
    }

    /// The checks after both parents are locked, in Linux's order, then the move.
    private func renameLocked(_ r: RenameRequest, trap: TmpfsDentry?) throws(Errno) {
        let oldDirectory = try directoryOf(r.oldParent)
        let newDirectory = try directoryOf(r.newParent)
        let credentials = r.from.credentials
        guard let source = oldDirectory.lookup(r.oldName) else { throw .noSuchFileOrDirectory }
        let target = newDirectory.lookup(r.newName)
        try VirtualFilesystem.checkRenameEntries(
            sourceIsDirectory: source.isDirectory, targetIsDirectory: target?.isDirectory,
            flags: r.flags, from: r.from, to: r.to)
        if source === trap { throw .invalidArgument }
        if let target, target === trap {
            throw r.exchange ? .invalidArgument : .directoryNotEmpty
        }
        // Renaming a file onto another name of the same inode does nothing, successfully.
        if let target, target.inode === source.inode { return }

        let oldOwnership = r.oldParent.inode.ownership
        let newOwnership = r.newParent.inode.ownership
        try Permissions.mayDelete(
            credentials, directory: oldOwnership, victim: source.inode.ownership,
            removingDirectory: source.isDirectory)
        if let target {
            try Permissions.mayDelete(
                credentials, directory: newOwnership, victim: target.inode.ownership,
                removingDirectory: r.exchange ? target.isDirectory : source.isDirectory)
        } else {
            if newDirectory.isRemoved { throw .noSuchFileOrDirectory }
            try Permissions.check(credentials, [.write, .execute], newOwnership)
        }
        if r.oldParent !== r.newParent {
            // A directory that changes parent has its `..` rewritten: it needs write access.
            if source.isDirectory {
                try Permissions.check(credentials, .write, source.inode.ownership)
            }
            if r.exchange, let target, target.isDirectory {
                try Permissions.check(credentials, .write, target.inode.ownership)
            }
        }
        try source.checkNotMountPoint(seenThrough: r.from.mount)
        try target?.checkNotMountPoint(seenThrough: r.to.mount)

        let now = now()
        // RENAME_WHITEOUT: the whiteout is made before anything moves, so running out of
        // inodes (ENOSPC) fails the whole rename, as shmem_whiteout does.
        var whiteout: TmpfsDentry?
        if r.flags.contains(.whiteout) {
            let ownership = Permissions.ownershipForNewInode(
                credentials, parent: oldOwnership,
                mode: FileMode(.characterDevice, permissions: 0))
            let inode = try makeInode(ownership, now, rdev: 0)
            whiteout = TmpfsDentry(inode: inode, parent: r.oldParent, name: r.oldName.owned())
        }
        if r.exchange, let target {
            // simple_offset_rename_exchange: each name keeps its offset; both entries go to
            // the head of their lists, the source on top (Linux 6.18: exchanging a and c in
            // [c, b, a] lists c, a, b).
            let oldOffset = oldDirectory.offset(of: r.oldName)
            let newOffset = newDirectory.offset(of: r.newName)
            oldDirectory.remove(r.oldName)
            newDirectory.remove(r.newName)
            oldDirectory.insert(target, as: r.oldName.owned(), offset: oldOffset)
            newDirectory.insert(source, as: r.newName.owned(), offset: newOffset)
            source.placement.withLock { $0 = .init(parent: r.newParent, name: r.newName.owned()) }
            target.placement.withLock { $0 = .init(parent: r.oldParent, name: r.oldName.owned()) }
            target.inode.touchChanged(now)
        } else {
            // simple_offset_rename: the source takes the replaced entry's offset, or a new one;
            // either way it goes to the head of the list. A whiteout is made first (its offset
            // comes before the source's new one).
            let inherited = target == nil ? nil : newDirectory.offset(of: r.newName)
            if let target {
                if target.isDirectory {
                    try removeEmptyDirectory(target, seenThrough: r.to.mount)
                } else {
                    try target.markDeleted(seenThrough: r.to.mount)
                    // As unlink: a replaced name that is not the last gives its nr_inodes share
                    // back (shmem_rename2 calls shmem_unlink on it).
                    target.inode.metadata.withLock {
                        if $0.nlink > 1 { space.releaseInode() }
                        $0.nlink -= $0.nlink > 0 ? 1 : 0
                    }
                }
                newDirectory.remove(r.newName)
                target.inode.touchChanged(now)
            }
            oldDirectory.remove(r.oldName)
            if let whiteout { oldDirectory.insert(whiteout, as: whiteout.name) }
            let newName = r.newName.owned()
            newDirectory.insert(source, as: newName, offset: inherited)
            source.placement.withLock { $0 = .init(parent: r.newParent, name: newName) }
        }
        source.inode.touchChanged(now)
        r.oldParent.inode.touchModified(now)
        if r.newParent !== r.oldParent { r.newParent.inode.touchModified(now) }
    }
}
