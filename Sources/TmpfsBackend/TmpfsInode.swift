import Synchronization
import VFSCore

/// One tmpfs file. Hard links share it; each name is a `TmpfsDentry`.
///
/// Lock order (see TmpfsFilesystem.swift for the whole file system's):
///   `data` (regular files: the bytes) before `metadata` (a leaf).
final class TmpfsInode: @unchecked Sendable {
    let number: UInt64
    let type: FileType
    let space: TmpfsSpace

    struct Metadata {
        var mode: FileMode
        var uid: UInt32
        var gid: UInt32
        var nlink: UInt32
        var accessTime: Timespec
        var modificationTime: Timespec
        var changeTime: Timespec
        var birthTime: Timespec
        var xattrs = XattrStore()
        /// An O_TMPFILE file opened without O_EXCL may gain a name with linkat.
        var isLinkable = false

        var ownership: Ownership { Ownership(mode: mode, uid: uid, gid: gid) }
    }

    let metadata: Mutex<Metadata>

    /// A regular file's bytes; readers share the lock, writers take it alone.
    let data: ReadWriteProtected<SparsePages>?
    /// A directory's entries.
    let directory: TmpfsDirectory?
    /// A symlink's target, fixed at creation.
    let symlinkTarget: [UInt8]
    /// A device node's device number.
    let rdev: UInt64
    /// A FIFO's pipe, shared by everyone who opens it.
    let fifo: Pipe?
    /// Who keeps a copy of a regular file's bytes current (`FileDescriptionImpl.observeContents`,
    /// `vfs run`'s mappings). Read and changed only with `data`'s write lock held, which orders
    /// the observers' calls with the changes; empty (one check, nothing allocated) unless a
    /// copy is live. The observers are called under that lock: a leaf after `data` in the lock
    /// order, that takes none of this module's locks.
    var contentObservers: [any FileContentObserver] = []

    init(
        space: TmpfsSpace, number: UInt64, ownership: Ownership, now: Timespec,
        symlinkTarget: [UInt8] = [], rdev: UInt64 = 0
    ) {
        self.space = space
        self.number = number
        let type = ownership.mode.type ?? .regular
        self.type = type
        self.metadata = Mutex(
            Metadata(
                mode: ownership.mode, uid: ownership.uid, gid: ownership.gid,
                nlink: type == .directory ? 2 : 1, accessTime: now, modificationTime: now,
                changeTime: now, birthTime: now))
        self.data = type == .regular ? ReadWriteProtected(SparsePages()) : nil
        self.directory = type == .directory ? TmpfsDirectory() : nil
        self.symlinkTarget = symlinkTarget
        self.rdev = rdev
        self.fifo = type == .fifo ? Pipe() : nil
    }

    deinit {
        // The last reference to an unlinked file is gone: give its space and inode back.
        let pages = data?.read { $0.allocatedPageCount } ?? 0
        space.releasePages(pages + symlinkPages)
        space.releaseInode()
    }

    /// Long symlink targets take a page, as in tmpfs (short ones live in the inode).
    var symlinkPages: Int { symlinkTarget.count >= TmpfsInode.shortSymlinkLength ? 1 : 0 }
    static let shortSymlinkLength = 128

    var ownership: Ownership { metadata.withLock { $0.ownership } }

    /// ctime (and mtime) stamps for a change of this inode's contents or entries.
    func touchModified(_ now: Timespec) {
        metadata.withLock {
            $0.modificationTime = now
            $0.changeTime = now
        }
    }

    func touchChanged(_ now: Timespec) {
        metadata.withLock { $0.changeTime = now }
    }

    /// Linux's `relatime`: update atime on access only when it is older than mtime or ctime, or
    /// a day old. `noatime` mounts never update it; `strictatime` always.
    func touchAccessed(_ now: Timespec, mountFlags: MountFlags) {
        if mountFlags.contains(.noAccessTime) { return }
        metadata.withLock { meta in
            if !mountFlags.contains(.strictAccessTime) {
                let stale =
                    meta.accessTime <= meta.modificationTime || meta.accessTime <= meta.changeTime
                    || now.seconds - meta.accessTime.seconds >= 24 * 60 * 60
                if !stale { return }
            }
            meta.accessTime = now
        }
    }
}
