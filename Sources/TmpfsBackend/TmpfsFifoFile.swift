import VFSCore

/// A tmpfs FIFO's timestamps, kept in its inode as Linux keeps them: a read that returns data
/// stamps atime under the mount's atime rule (unless O_NOATIME), a write that moves data
/// stamps mtime and ctime. The open FIFO itself is VFSCore's `FifoFile`.
struct TmpfsFifoEvents: FifoInodeEvents {
    let inode: TmpfsInode
    let mount: Mount
    let filesystem: TmpfsFilesystem

    func dataRead(_ count: Int, noAccessTime: Bool) {
        if !noAccessTime { inode.touchAccessed(filesystem.now(), mountFlags: mount.flags) }
    }

    func dataWritten(_ bytes: UnsafeRawBufferPointer) {
        inode.touchModified(filesystem.now())
    }
}
