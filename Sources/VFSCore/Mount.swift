import Synchronization

/// Per-mount flags (MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOATIME, MS_RELATIME...).
public struct MountFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readOnly = MountFlags(rawValue: 1)
    public static let noSUID = MountFlags(rawValue: 2)
    public static let noDevices = MountFlags(rawValue: 4)
    public static let noExec = MountFlags(rawValue: 8)
    public static let noAccessTime = MountFlags(rawValue: 1024)
    public static let strictAccessTime = MountFlags(rawValue: 1 << 24)

    /// The ST_* bits statfs reports for these flags.
    public var statfsFlags: UInt64 {
        var flags: UInt64 = 0
        if contains(.readOnly) { flags |= 1 }
        if contains(.noSUID) { flags |= 2 }
        if contains(.noDevices) { flags |= 4 }
        if contains(.noExec) { flags |= 8 }
        if contains(.noAccessTime) { flags |= 1024 }
        if !contains(.strictAccessTime) && !contains(.noAccessTime) { flags |= 4096 }  // ST_RELATIME
        return flags
    }
}

/// One mount: a file system (or a subtree of one, for a bind mount) attached at a place.
///
/// Lock order: the tree links (`parent`, `mountPoint`, `children`) are guarded by the owning
/// `VirtualFilesystem`'s mount-table lock; `flags` by its own leaf mutex; `pins` is atomic.
public final class Mount: @unchecked Sendable {
    public let filesystem: any FilesystemImpl
    /// The dentry this mount shows at its root: the file system's root, or any directory (or
    /// file) of it for a bind mount.
    public let root: Dentry
    /// Unique, never reused; what STATX_MNT_ID reports.
    public let id: UInt64

    private struct FlagState {
        var flags: MountFlags
        /// Open descriptions holding write access (`mnt_get_write_access`).
        var writers = 0
    }
    private let flagState: Mutex<FlagState>
    private let pinCount = Atomic<Int>(0)

    // Guarded by VirtualFilesystem.mountTable's lock.
    var parentLink: (mount: Mount, dentry: Dentry)?
    var children: [ObjectIdentifier: Mount] = [:]
    weak var namespace: MountNamespace?
    /// The namespace's id, kept even if the namespace object goes away, so mount counts on
    /// dentries always balance.
    var namespaceID: UInt64 = 0
    var isDetached = false

    init(filesystem: any FilesystemImpl, root: Dentry, flags: MountFlags, id: UInt64) {
        self.filesystem = filesystem
        self.root = root
        self.flagState = Mutex(FlagState(flags: flags))
        self.id = id
    }

    public var flags: MountFlags { flagState.withLock { $0.flags } }
    public var isReadOnly: Bool { flags.contains(.readOnly) }

    /// Remount: EBUSY when making the mount read-only while a file is open for writing on it,
    /// as `mnt_make_readonly` refuses.
    func setFlags(_ flags: MountFlags) throws(Errno) {
        try flagState.withLock { (state) throws(Errno) in
            if flags.contains(.readOnly) && !state.flags.contains(.readOnly) && state.writers > 0 {
                throw Errno.resourceBusy
            }
            state.flags = flags
        }
    }

    /// EROFS when the mount is read-only: `mnt_want_write`.
    public func checkWritable() throws(Errno) {
        if isReadOnly { throw .readOnlyFileSystem }
    }

    /// Takes write access for an open file (EROFS on a read-only mount); the mount cannot
    /// become read-only until `releaseWriteAccess`. Checked and counted under one lock, so a
    /// remount cannot slip between the check and the open.
    public func acquireWriteAccess() throws(Errno) {
        try flagState.withLock { (state) throws(Errno) in
            if state.flags.contains(.readOnly) { throw Errno.readOnlyFileSystem }
            state.writers += 1
        }
    }

    public func releaseWriteAccess() {
        flagState.withLock { $0.writers = max(0, $0.writers - 1) }
    }

    /// Open files, working directories and roots inside this mount. While any exist, umount
    /// without MNT_DETACH fails with EBUSY.
    public var pins: Int { pinCount.load(ordering: .acquiring) }
    func pin() { pinCount.add(1, ordering: .acquiringAndReleasing) }
    func unpin() { pinCount.subtract(1, ordering: .acquiringAndReleasing) }
}

/// Holds a place so that its mount counts as busy, for as long as this object lives: an open
/// file description, a task's cwd or root. Linux keeps such counts on `struct vfsmount`;
/// Swift's ARC releases the pin exactly when the last owner lets go.
public final class PinnedLocation: Sendable {
    public let location: VirtualDentry

    public init(_ location: VirtualDentry) {
        self.location = location
        location.mount.pin()
    }

    deinit { location.mount.unpin() }
}
