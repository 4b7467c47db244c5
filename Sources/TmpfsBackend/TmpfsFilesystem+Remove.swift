import VFSCore

/// unlink and rmdir.
extension TmpfsFilesystem {
    /// `do_unlinkat` + `vfs_unlink`: ENOENT; with a trailing slash EISDIR or ENOTDIR; then
    /// `may_delete` (EACCES, EPERM for the sticky rule, EISDIR); EBUSY for a mount point.
    public func unlink(_ rp: ResolvingPath, name: Name) throws(Errno) {
        let parent = try own(rp.current)
        let directory = try directoryOf(parent)
        try directory.lock.withWriteLock { () throws(Errno) in
            guard let child = directory.lookup(name) else { throw .noSuchFileOrDirectory }
            if rp.mustBeDirectory { throw child.isDirectory ? .isDirectory : .notDirectory }
            try Permissions.mayDelete(
                rp.credentials, directory: parent.inode.ownership,
                victim: child.inode.ownership, removingDirectory: false)
            try child.markDeleted(seenThrough: rp.mount)
            directory.remove(name)
            let now = now()
            child.inode.metadata.withLock {
                // shmem_unlink gives back the nr_inodes share of every name but the last; the
                // last goes when the inode itself is freed.
                if $0.nlink > 1 { space.releaseInode() }
                $0.nlink -= $0.nlink > 0 ? 1 : 0
                $0.changeTime = now
            }
            parent.inode.touchModified(now)
        }
    }

    /// `do_rmdir` + `vfs_rmdir`: ENOENT; `may_delete` (EACCES, EPERM, ENOTDIR); EBUSY for a
    /// mount point; ENOTEMPTY.
    public func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno) {
        let parent = try own(rp.current)
        let directory = try directoryOf(parent)
        try directory.lock.withWriteLock { () throws(Errno) in
            guard let child = directory.lookup(name) else { throw .noSuchFileOrDirectory }
            try Permissions.mayDelete(
                rp.credentials, directory: parent.inode.ownership,
                victim: child.inode.ownership, removingDirectory: true)
            try removeEmptyDirectory(child, seenThrough: rp.mount)
            directory.remove(name)
            let now = now()
            child.inode.touchChanged(now)
            parent.inode.touchModified(now)
        }
    }

    /// Marks an empty directory removed (EBUSY if mounted on, ENOTEMPTY if not empty). Call
    /// with its parent's lock held; takes its own lock (parent before child).
    func removeEmptyDirectory(_ child: TmpfsDentry, seenThrough mount: Mount) throws(Errno) {
        let childDirectory = try directoryOf(child)
        try childDirectory.lock.withWriteLock { () throws(Errno) in
            try child.checkNotMountPoint(seenThrough: mount)
            guard childDirectory.isEmpty else { throw .directoryNotEmpty }
            try child.markDeleted(seenThrough: mount)
            childDirectory.isRemoved = true
        }
    }
}
