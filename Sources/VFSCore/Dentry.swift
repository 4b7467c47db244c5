import Synchronization

/// The VFS's part of a directory entry. Every backend subclasses it with its own node (tmpfs
/// keeps the tree in its subclass; the gofer its cached remote state).
///
/// The core needs two facts of a dentry that it cannot leave to the backend: whether something
/// is mounted on it (checked on every walk step, so it is one atomic load) and whether it has
/// been deleted (a deleted dentry cannot become a mount point, and a mount point cannot be
/// deleted: the two are decided under one small lock).
///
/// Lock order: `mountState` is a leaf; it may be taken while holding a backend's directory lock
/// or the mount table's write lock, and takes nothing itself.
open class Dentry: @unchecked Sendable {
    /// The file's type never changes for the life of a dentry, so the core may read it without
    /// asking the backend (for ENOTDIR on a trailing slash, ELOOP on O_NOFOLLOW).
    public let fileType: FileType

    private struct MountState {
        var mounts = 0
        var isDeleted = false
    }
    private let mountState = Mutex(MountState())
    private let mounted = Atomic<Bool>(false)

    public init(fileType: FileType) {
        self.fileType = fileType
    }

    public final var isDirectory: Bool { fileType == .directory }
    public final var isSymlink: Bool { fileType == .symlink }

    /// Something is mounted here in some namespace. A walk that steps onto such a dentry hands
    /// back to the core, which looks in the mount table.
    @inlinable public final var isMountPoint: Bool { loadMounted() }

    @usableFromInline final func loadMounted() -> Bool { mounted.load(ordering: .acquiring) }

    public final var isDeleted: Bool { mountState.withLock { $0.isDeleted } }

    /// Marks the dentry deleted as an unlink, rmdir or rename-over removes it; EBUSY when
    /// something is mounted on it (Linux's `is_local_mountpoint` check). The backend calls
    /// this while holding the lock of the directory it removes the entry from.
    public final func markDeleted() throws(Errno) {
        try mountState.withLock { (state) throws(Errno) in
            guard state.mounts == 0 else { throw Errno.resourceBusy }
            state.isDeleted = true
        }
    }

    /// EBUSY when something is mounted here; for checks made before anything is changed.
    public final func checkNotMountPoint() throws(Errno) {
        if isMountPoint { throw .resourceBusy }
    }

    func addMount() throws(Errno) {
        try mountState.withLock { (state) throws(Errno) in
            guard !state.isDeleted else { throw Errno.noSuchFileOrDirectory }
            state.mounts += 1
            mounted.store(true, ordering: .releasing)
        }
    }

    func removeMount() {
        mountState.withLock { state in
            state.mounts = max(0, state.mounts - 1)
            if state.mounts == 0 { mounted.store(false, ordering: .releasing) }
        }
    }
}

/// A position in the file-system tree: a dentry as seen through one mount. The same dentry
/// under two bind mounts is two places (with different read-only flags and parents).
public struct VirtualDentry: Sendable {
    public let mount: Mount
    public let dentry: Dentry

    public init(mount: Mount, dentry: Dentry) {
        self.mount = mount
        self.dentry = dentry
    }

    public func isSame(as other: VirtualDentry) -> Bool {
        mount === other.mount && dentry === other.dentry
    }
}
