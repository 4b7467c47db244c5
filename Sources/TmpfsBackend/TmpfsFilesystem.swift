import Synchronization
import VFSCore

/// A Linux tmpfs, in memory: the `FilesystemImpl` for VFSCore.
///
/// Lock order, for every file of this module:
///   1. `renameLock`: taken only by a rename that moves an entry between two directories, so
///      that ancestry cannot change while it checks for loops (Linux's s_vfs_rename_mutex).
///   2. Directory locks (`TmpfsDirectory.lock`): an ancestor before its descendants; two
///      unrelated directories in address order. Lookups take them shared, so concurrent walks
///      do not serialize.
///   3. A regular file's `data` lock.
///   4. Leaves: an inode's `metadata`, a dentry's `placement`, `Dentry`'s mount state.
/// No lock is held while calling back into the VFS, except leaf calls (`markDeleted`).
public final class TmpfsFilesystem: FilesystemImpl, @unchecked Sendable {
    public let typeName = "tmpfs"
    public let options: TmpfsOptions
    let clock: any FileClock
    /// st_dev of every file here: an anonymous device number, unique per instance.
    let deviceNumber: UInt64

    /// What nr_inodes= and size= limit; shared with every inode, which gives back its share
    /// when it is freed.
    let space: TmpfsSpace
    let renameLock = Mutex(())
    /// SB_RDONLY, set by mount(2) and plain remounts with MS_RDONLY (`setSuperblockReadOnly`).
    private let readOnlySuperblock = Atomic<Bool>(false)
    let rootDentry: TmpfsDentry

    /// The root directory; mount it with `VirtualFilesystem.mount(_:root:at:)`.
    public var root: Dentry { rootDentry }

    private static let nextDevice = Atomic<UInt64>(0x40)

    public init(options: TmpfsOptions = TmpfsOptions(), clock: any FileClock = RealtimeClock()) {
        self.options = options
        self.clock = clock
        let minor = TmpfsFilesystem.nextDevice.add(1, ordering: .relaxed).newValue
        self.deviceNumber = minor & 0xff | (minor & ~0xff) << 12
        let space = TmpfsSpace(options: options)
        self.space = space
        let mode = FileMode(.directory, permissions: options.rootMode)
        space.takeInodeUnchecked()
        let inode = TmpfsInode(
            space: space, number: space.nextInodeNumber(),
            ownership: Ownership(mode: mode, uid: options.rootUID, gid: options.rootGID),
            now: clock.now())
        // The root's name is never shown: getcwd stops at a mount root.
        self.rootDentry = TmpfsDentry(inode: inode, parent: nil, name: Name(unchecked: [0x2F][...]))
    }

    deinit {
        rootDentry.tearDown()
    }

    public var inodesInUse: Int { space.inodesInUse }
    public var pagesInUse: Int { space.pagesInUse }

    // MARK: - Helpers for the operations

    /// The tmpfs dentry behind a VFS dentry. A dentry of another file system here is a bug in
    /// the caller, answered with EXDEV rather than a crash.
    func own(_ dentry: Dentry) throws(Errno) -> TmpfsDentry {
        guard let mine = dentry as? TmpfsDentry, mine.inode.space === space else {
            throw .improperLink
        }
        return mine
    }

    func directoryOf(_ dentry: TmpfsDentry) throws(Errno) -> TmpfsDirectory {
        guard let directory = dentry.inode.directory else { throw .notDirectory }
        return directory
    }

    func now() -> Timespec { clock.now() }

    // MARK: - Resolution

    public func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop {
        var current = try own(rp.current)
        while !rp.isDone {
            guard let directory = current.inode.directory else { throw .notDirectory }
            try rp.checkSearchPermission(current.inode.ownership)
            if rp.stopsAtParent && rp.isFinalComponent { return .done }
            if rp.componentIsDot {
                rp.advance()
                continue
            }
            if rp.componentIsDotDot {
                if let stop = try rp.stepOverDotDot(&current, parent: current.parent) { return stop }
                continue
            }
            let name: Name
            do {
                name = try rp.componentName()
            } catch {
                // lookup_slow: a removed directory is ENOENT before shmem's lookup can find
                // the name too long.
                if directory.lock.withReadLock({ directory.isRemoved }) {
                    throw .noSuchFileOrDirectory
                }
                throw error
            }
            let found = directory.lock.withReadLock { directory.lookup(name) }
            guard let child = found else { throw .noSuchFileOrDirectory }
            if child.isSymlink && rp.shouldFollowSymlink {
                let absolute = try rp.handleSymlink(target: child.inode.symlinkTarget)
                // pick_link touches the link's atime (relatime rules) each time a walk
                // follows it, once the ELOOP count has let it through.
                child.inode.touchAccessed(now(), mountFlags: rp.mount.flags)
                if absolute { return .absoluteSymlink }
                continue
            }
            rp.advance(to: child)
            if child.isMountPoint { return .mountPoint }
            current = child
        }
        return .done
    }

    public func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? {
        guard let mine = dentry as? TmpfsDentry, !mine.isDeleted else { return nil }
        let placement = mine.placement.withLock { $0 }
        guard let parent = placement.parent else { return nil }
        return (parent, placement.name)
    }
}

extension TmpfsFilesystem {
    public var superblockIsReadOnly: Bool { readOnlySuperblock.load(ordering: .relaxed) }

    /// Marks the superblock read-only or writable, as MS_RDONLY on a new mount or a plain
    /// remount does on Linux (the per-mount read-only flag is the mount's own business).
    public func setSuperblockReadOnly(_ readOnly: Bool) {
        readOnlySuperblock.store(readOnly, ordering: .relaxed)
    }
}
