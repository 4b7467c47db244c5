import VFSCore

/// mkdir, mknod, symlink, link, open(O_CREAT) and O_TMPFILE.
extension TmpfsFilesystem {
    /// `filename_create` + `may_create` in Linux's order, then the new entry, under the parent
    /// directory's lock: EEXIST, ENOENT for a trailing slash on a non-directory, EROFS, ENOENT
    /// in a removed directory, EACCES, then `extraChecks` and ENOSPC.
    private func createEntry(
        _ rp: ResolvingPath, name: Name, mode: FileMode,
        extraChecks: () throws(Errno) -> Void = {},
        makeInode: (Ownership, Timespec) throws(Errno) -> TmpfsInode
    ) throws(Errno) -> TmpfsDentry {
        let parent = try own(rp.current)
        let directory = try directoryOf(parent)
        return try directory.lock.withWriteLock { () throws(Errno) -> TmpfsDentry in
            if directory.lookup(name) != nil { throw .fileExists }
            if rp.mustBeDirectory && !mode.isDirectory { throw .noSuchFileOrDirectory }
            try rp.mount.checkWritable()
            if directory.isRemoved { throw .noSuchFileOrDirectory }
            let parentOwnership = parent.inode.ownership
            try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
            try extraChecks()
            let now = now()
            let ownership = Permissions.ownershipForNewInode(
                rp.credentials, parent: parentOwnership, mode: mode)
            let inode = try makeInode(ownership, now)
            let child = TmpfsDentry(inode: inode, parent: parent, name: name.owned())
            directory.insert(child, as: child.name)
            parent.inode.touchModified(now)
            return child
        }
    }

    /// A new inode, counted against nr_inodes (ENOSPC when none is left).
    func makeInode(
        _ ownership: Ownership, _ now: Timespec, symlinkTarget: [UInt8] = [], rdev: UInt64 = 0
    ) throws(Errno) -> TmpfsInode {
        try space.takeInode()
        if symlinkTarget.count >= TmpfsInode.shortSymlinkLength && !space.takePages(1) {
            space.releaseInode()
            throw .noSpace
        }
        return TmpfsInode(
            space: space, number: space.nextInodeNumber(), ownership: ownership, now: now,
            symlinkTarget: symlinkTarget, rdev: rdev)
    }

    public func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno) {
        _ = try createEntry(rp, name: name, mode: mode) { (ownership, now) throws(Errno) in
            try makeInode(ownership, now)
        }
    }

    public func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64)
        throws(Errno)
    {
        let isDevice = mode.type == .characterDevice || mode.type == .blockDevice
        _ = try createEntry(
            rp, name: name, mode: mode,
            extraChecks: { () throws(Errno) in
                if isDevice && !rp.credentials.has(.mknod) { throw .notPermitted }
            },
            makeInode: { (ownership, now) throws(Errno) in
                try makeInode(ownership, now, rdev: isDevice ? device : 0)
            })
    }

    public func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno) {
        _ = try createEntry(rp, name: name, mode: FileMode(.symlink, permissions: 0o777)) {
            (ownership, now) throws(Errno) in
            var ownership = ownership
            ownership.mode = FileMode(.symlink, permissions: 0o777)
            return try makeInode(ownership, now, symlinkTarget: target)
        }
    }

    /// `do_linkat` + `vfs_link`: EEXIST, ENOENT (trailing slash), EROFS, EXDEV, EPERM
    /// (protected_hardlinks), ENOENT in a removed directory, EACCES, EPERM for a directory,
    /// ENOENT for a file with no links left (unless it is an O_TMPFILE file made linkable),
    /// ENOSPC when nr_inodes is used up.
    public func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno) {
        let parent = try own(rp.current)
        let directory = try directoryOf(parent)
        try directory.lock.withWriteLock { () throws(Errno) in
            if directory.lookup(name) != nil { throw .fileExists }
            if rp.mustBeDirectory { throw .noSuchFileOrDirectory }
            try rp.mount.checkWritable()
            guard existing.mount === rp.mount else { throw .improperLink }
            let source = try own(existing.dentry)
            try VirtualFilesystem.checkLinkable(
                rp, existing: existing, ownership: source.inode.ownership)
            if directory.isRemoved { throw .noSuchFileOrDirectory }
            try Permissions.check(rp.credentials, [.write, .execute], parent.inode.ownership)
            if source.isDirectory { throw .notPermitted }
            let now = now()
            try source.inode.metadata.withLock { (meta) throws(Errno) in
                if meta.nlink == 0 && !meta.isLinkable { throw .noSuchFileOrDirectory }
                guard meta.nlink < UInt32.max else { throw .tooManyLinks }
                // shmem_link: every name beyond the first takes one of nr_inodes, since each
                // pins a dentry (Linux 6.18: link on a full nr_inodes=4 mount is ENOSPC). An
                // O_TMPFILE file's first name is the one its inode already paid for.
                if meta.nlink > 0 { try space.takeInode() }
                meta.nlink += 1
                meta.isLinkable = false
                meta.changeTime = now
            }
            let child = TmpfsDentry(inode: source.inode, parent: parent, name: name.owned())
            directory.insert(child, as: child.name)
            parent.inode.touchModified(now)
        }
    }

    /// open(O_CREAT): the existing entry, or a new regular file. For a new file the checks are
    /// `lookup_open`'s: EROFS, ENOENT in a removed directory, EACCES, ENOSPC.
    public func openOrCreate(
        _ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode
    ) throws(Errno) -> CreateOutcome {
        let parent = try own(rp.current)
        let directory = try directoryOf(parent)
        if let existing = directory.lock.withReadLock({ directory.lookup(name) }) {
            return .existing(existing)
        }
        return try directory.lock.withWriteLock { () throws(Errno) -> CreateOutcome in
            if let existing = directory.lookup(name) { return .existing(existing) }
            try rp.mount.checkWritable()
            if directory.isRemoved { throw .noSuchFileOrDirectory }
            let parentOwnership = parent.inode.ownership
            try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
            let now = now()
            let ownership = Permissions.ownershipForNewInode(
                rp.credentials, parent: parentOwnership, mode: mode)
            let inode = try makeInode(ownership, now)
            let child = TmpfsDentry(inode: inode, parent: parent, name: name.owned())
            directory.insert(child, as: child.name)
            parent.inode.touchModified(now)
            return .created(child)
        }
    }

    /// O_TMPFILE: a regular file with no name and no links. Linkable later with linkat unless
    /// O_EXCL was given.
    public func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool) throws(Errno)
        -> Dentry
    {
        let parent = try own(rp.current)
        let directory = try directoryOf(parent)
        let parentOwnership = parent.inode.ownership
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        if directory.lock.withReadLock({ directory.isRemoved }) { throw .noSuchFileOrDirectory }
        let ownership = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        let inode = try makeInode(ownership, now())
        inode.metadata.withLock {
            $0.nlink = 0
            $0.isLinkable = linkable
        }
        // Linux names such a dentry "#<inode number>"; it is never in a directory.
        let dentry = TmpfsDentry(
            inode: inode, parent: parent, name: Name(unchecked: Array("#\(inode.number)".utf8)[...]))
        try dentry.markDeleted(seenThrough: nil)
        return dentry
    }
}
