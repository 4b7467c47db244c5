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
        /// Mounts on this dentry, per namespace (by the namespace's identity).
        var mountsByNamespace: [UInt64: Int] = [:]
        var isDeleted = false
        var total: Int { mountsByNamespace.values.reduce(0, +) }
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
    /// something is mounted on it in the caller's namespace (the namespace of `mount`, the
    /// mount the caller reached the dentry through: `rp.mount`) — Linux's `is_local_mountpoint`.
    /// With no mount (an unnamed file), any mount counts. Mounts on it in other namespaces
    /// do not stop the removal; the VFS detaches them (`VirtualFilesystem.detachMounts(on:)`
    /// runs on the next look at the mount table). The backend calls this while holding the
    /// lock of the directory it removes the entry from.
    public final func markDeleted(seenThrough mount: Mount?) throws(Errno) {
        let key = mount?.namespaceID
        try mountState.withLock { (state) throws(Errno) in
            if let key, state.mountsByNamespace[key, default: 0] > 0 { throw Errno.resourceBusy }
            if key == nil && state.total > 0 { throw Errno.resourceBusy }
            state.isDeleted = true
        }
    }

    /// EBUSY when something is mounted here in the namespace of `mount`; for checks made
    /// before anything is changed.
    public final func checkNotMountPoint(seenThrough mount: Mount?) throws(Errno) {
        guard isMountPoint else { return }
        let key = mount?.namespaceID
        let busy = mountState.withLock { state in
            key.map { state.mountsByNamespace[$0, default: 0] > 0 } ?? (state.total > 0)
        }
        if busy { throw .resourceBusy }
    }

    func addMount(inNamespace key: UInt64) throws(Errno) {
        try mountState.withLock { (state) throws(Errno) in
            guard !state.isDeleted else { throw Errno.noSuchFileOrDirectory }
            state.mountsByNamespace[key, default: 0] += 1
            mounted.store(true, ordering: .releasing)
        }
    }

    func removeMount(inNamespace key: UInt64) {
        mountState.withLock { state in
            let remaining = state.mountsByNamespace[key, default: 0] - 1
            state.mountsByNamespace[key] = remaining > 0 ? remaining : nil
            if state.total == 0 { mounted.store(false, ordering: .releasing) }
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
