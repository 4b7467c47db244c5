import VFSCore

/// stat, setStat (chmod, chown, utimens, truncate), readlink, statfs.
extension TmpfsFilesystem {
    /// Linux's BOGO_DIRENT_SIZE: tmpfs reports a directory's size as 20 bytes an entry, plus
    /// two for `.` and `..`.
    static let bogusDirentSize: Int64 = 20
    /// TMPFS_MAGIC.
    static let magic: UInt64 = 0x0102_1994

    public func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        try own(dentry).inode.ownership
    }

    public func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        let inode = try own(dentry).inode
        var stat = FileStat()
        stat.mask = [.basicStats, .btime]
        stat.inode = inode.number
        stat.dev = deviceNumber
        stat.rdev = inode.rdev
        switch inode.type {
        case .regular:
            if let data = inode.data {
                (stat.size, stat.blocks) = data.read { ($0.size, $0.blocks512) }
            }
        case .directory:
            if let directory = inode.directory {
                let (entries, subdirectories, removed) = directory.lock.withReadLock {
                    (directory.count, directory.subdirectoryCount, directory.isRemoved)
                }
                stat.size = TmpfsFilesystem.bogusDirentSize * Int64(entries + 2)
                stat.nlink = removed ? 0 : UInt32(clamping: 2 + subdirectories)
            }
        case .symlink:
            stat.size = Int64(inode.symlinkTarget.count)
            stat.blocks = Int64(inode.symlinkPages * 8)
        default:
            break
        }
        inode.metadata.withLock { meta in
            stat.mode = meta.mode
            stat.uid = meta.uid
            stat.gid = meta.gid
            if inode.type != .directory { stat.nlink = meta.nlink }
            stat.accessTime = meta.accessTime
            stat.modificationTime = meta.modificationTime
            stat.changeTime = meta.changeTime
            stat.birthTime = meta.birthTime
        }
        return stat
    }

    /// `notify_change` for tmpfs. Size changes are for regular files only (the VFS has given
    /// EISDIR / EINVAL for others); a changed size stamps mtime and ctime, an unchanged one
    /// for ftruncate / O_TRUNC, and also for truncate(2) when the file has pages: shmem_setattr
    /// runs shmem_truncate_range (which stamps both) whenever the size does not grow and pages
    /// are allocated. Linux 6.18: truncate to the same size changes m and c of a written file,
    /// but neither of an empty file nor of one sized by truncate alone.
    public func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials)
        throws(Errno)
    {
        let inode = try own(dentry).inode
        let now = now()
        if let size = change.size {
            guard let data = inode.data else {
                throw inode.type == .directory ? .isDirectory : .invalidArgument
            }
            try data.write { (pages) throws(Errno) in
                try apply(change, to: inode, credentials: credentials, now: now) { () throws(Errno) -> Bool in
                    let stamps = pages.size != size || pages.allocatedPageCount > 0
                    try pages.truncate(to: size) { space.releasePages($0) }
                    for observer in inode.contentObservers { observer.sizeChanged(to: size) }
                    return stamps
                }
            }
        } else {
            try apply(change, to: inode, credentials: credentials, now: now) { false }
        }
    }

    /// Validates under the inode's lock and applies; `resize` runs between validation and the
    /// attribute update and says whether the size change stamps mtime and ctime.
    private func apply(
        _ change: StatChange, to inode: TmpfsInode, credentials: Credentials, now: Timespec,
        resize: () throws(Errno) -> Bool
    ) throws(Errno) {
        let update = try inode.metadata.withLock { (meta) throws(Errno) -> AttributeUpdate in
            try change.validate(against: meta.ownership, credentials: credentials, now: now)
        }
        let sizeStamps = try resize()
        inode.metadata.withLock { meta in
            if let mode = update.mode { meta.mode = mode }
            if let uid = update.uid { meta.uid = uid }
            if let gid = update.gid { meta.gid = gid }
            if let atime = update.accessTime { meta.accessTime = atime }
            if let mtime = update.modificationTime { meta.modificationTime = mtime }
            if sizeStamps { meta.modificationTime = now }
            let onlySize =
                change.size != nil && change.mode == nil && !change.isOwnershipChange
                && change.accessTime == nil && change.modificationTime == nil
            // shmem_setattr leaves ctime alone for a size change that changes nothing, even
            // when it strips set-ID bits (Linux 6.18: uid 1000's truncate(f, 0) of its empty
            // 06755 file gives 0755 with the same ctime; ftruncate and O_TRUNC stamp anyway).
            if !onlySize || sizeStamps || change.stampsTimes {
                meta.changeTime = update.changeTime
            }
        }
    }

    public func noteAccess(_ dentry: Dentry, mountFlags: MountFlags) {
        guard let mine = try? own(dentry) else { return }
        mine.inode.touchAccessed(now(), mountFlags: mountFlags)
    }

    public func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] {
        let inode = try own(dentry).inode
        guard inode.type == .symlink else { throw .invalidArgument }
        return inode.symlinkTarget
    }

    public func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat {
        var result = FilesystemStat()
        result.type = TmpfsFilesystem.magic
        result.blockSize = 4096
        result.fragmentSize = 4096
        result.nameLength = Int64(Name.maxLength)
        result.fsid = 0
        if let pages = space.pageLimit {
            result.blocks = UInt64(pages)
            let free = UInt64(max(0, pages - space.pagesInUse))
            result.freeBlocks = free
            result.availableBlocks = free
        }
        if let inodes = space.inodeLimit {
            result.files = UInt64(inodes)
            result.freeFiles = UInt64(max(0, inodes - space.inodesInUse))
        }
        return result
    }
}
