import Synchronization
import TmpfsBackend
import VFSCore

extension Linux {
    public static let MS_NOSYMFOLLOW: UInt64 = 256
    public static let MS_NODIRATIME: UInt64 = 2048
    public static let MS_MOVE: UInt64 = 8192
    public static let MS_SILENT: UInt64 = 32768
    public static let MS_UNBINDABLE: UInt64 = 1 << 17
    public static let MS_PRIVATE: UInt64 = 1 << 18
    public static let MS_SLAVE: UInt64 = 1 << 19
    public static let MS_SHARED: UInt64 = 1 << 20
    public static let MS_RELATIME: UInt64 = 1 << 21
    public static let MS_NOUSER: UInt64 = 1 << 31
    /// The old magic number in the top half of the flags, which the kernel discards.
    public static let MS_MGC_VAL: UInt64 = 0xC0ED_0000
    public static let MS_MGC_MSK: UInt64 = 0xFFFF_0000
}

/// A file system mount(2) can attach: it names the dentry its mounts show at their root.
/// A file system made by one of `Kernel.filesystemFactories` must conform, or mount(2)
/// answers ENODEV.
public protocol MountableFilesystem: FilesystemImpl {
    var root: Dentry { get }
}

extension TmpfsFilesystem: MountableFilesystem {}

/// mount(2) and umount2(2) (fs/namespace.c). Every mount behaves as a private one: mount
/// propagation is not modelled.
extension Task {
    /// mount(2), following `do_mount` / `path_mount`:
    /// 1. The target is looked up (following symlinks): ENOENT, ENOTDIR, EACCES...
    /// 2. MS_NOUSER is EINVAL; then EPERM without CAP_SYS_ADMIN.
    /// 3. By flags, in this order:
    ///    - MS_REMOUNT|MS_BIND: sets the mount's per-mount flags (MS_RDONLY, MS_NOSUID, MS_NODEV,
    ///      MS_NOEXEC, atime) to exactly those given. EINVAL unless the target is a mount root.
    ///    - MS_REMOUNT: the same, and `data` is checked by the file system (EINVAL when it does
    ///      not parse). Without an atime flag the mount keeps its atime setting.
    ///    - Both: EBUSY when that would make the mount read-only while a file on it is open
    ///      for writing.
    ///    - MS_BIND (with MS_REC, the mounts below come along): EINVAL for a nil or empty
    ///      `source`; the source's lookup errors; ENOTDIR when a directory would cover a
    ///      non-directory or the other way round. The new mount has the source mount's flags
    ///      (MS_RDONLY here is ignored, as in Linux).
    ///    - MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE (with MS_REC): EINVAL unless the
    ///      target is a mount root and exactly one of them is given with nothing else but
    ///      MS_REC; otherwise accepted and nothing changes.
    ///    - MS_MOVE: not modelled, EINVAL.
    ///    - Otherwise a new file system of type `fstype`: EINVAL for nil, ENODEV for a type not
    ///      in `kernel.filesystemFactories`, EINVAL for `data` it rejects ("size=1m,mode=0755"
    ///      for tmpfs); ENOTDIR for a non-directory target.
    ///
    /// Differences from Linux: MS_RDONLY of a new mount or a plain remount marks both the
    /// mount and the tmpfs superblock read-only; the superblock flag orders EROFS before EACCES
    /// in access checks as Linux's `sb_permission` does, but the other EROFS checks look at the
    /// mount flag only (so a bind remount can make such a file system writable again); remount data is checked but not applied (a tmpfs keeps
    /// its size limit).
    public func mount(
        _ source: PathArgument?, _ target: PathArgument, _ fstype: String?, _ flags: UInt64,
        _ data: String?
    ) throws(Errno) {
        var flags = flags
        if flags & Linux.MS_MGC_MSK == Linux.MS_MGC_VAL { flags &= ~Linux.MS_MGC_MSK }
        let place = try vfs.getDentry(credentials, operation(Linux.AT_FDCWD, target))
        if flags & Linux.MS_NOUSER != 0 { throw .invalidArgument }
        guard credentials.has(.sysAdmin) else { throw .notPermitted }

        var mountFlags = Task.mountFlags(flags)
        if flags & Linux.MS_REMOUNT != 0 {
            let atimeFlags =
                Linux.MS_NOATIME | Linux.MS_NODIRATIME | Linux.MS_RELATIME | Linux.MS_STRICTATIME
            if flags & atimeFlags == 0 {
                // "The default atime for remount is preservation."
                let kept = place.mount.flags.intersection([.noAccessTime, .strictAccessTime])
                mountFlags.subtract([.noAccessTime, .strictAccessTime])
                mountFlags.formUnion(kept)
            }
        }

        if flags & (Linux.MS_REMOUNT | Linux.MS_BIND) == Linux.MS_REMOUNT | Linux.MS_BIND {
            try requireMountRoot(place)
            try vfs.remount(place.mount, flags: mountFlags)
        } else if flags & Linux.MS_REMOUNT != 0 {
            try requireMountRoot(place)
            if let data, place.mount.filesystem is TmpfsFilesystem {
                _ = try TmpfsOptions(parsing: data)
            }
            try vfs.remount(place.mount, flags: mountFlags)
            (place.mount.filesystem as? TmpfsFilesystem)?
                .setSuperblockReadOnly(flags & Linux.MS_RDONLY != 0)
        } else if flags & Linux.MS_BIND != 0 {
            guard let source, !source.bytes.isEmpty else { throw .invalidArgument }
            let from = try vfs.getDentry(credentials, operation(Linux.AT_FDCWD, source))
            try vfs.bindMount(
                from, at: place, recursive: flags & Linux.MS_REC != 0, flags: from.mount.flags)
        } else if flags
            & (Linux.MS_SHARED | Linux.MS_PRIVATE | Linux.MS_SLAVE | Linux.MS_UNBINDABLE) != 0
        {
            guard place.dentry === place.mount.root else { throw .invalidArgument }
            let propagation = flags & ~(Linux.MS_REC | Linux.MS_SILENT)
            let known = Linux.MS_SHARED | Linux.MS_PRIVATE | Linux.MS_SLAVE | Linux.MS_UNBINDABLE
            guard propagation & ~known == 0, propagation.nonzeroBitCount == 1 else {
                throw .invalidArgument
            }
        } else if flags & Linux.MS_MOVE != 0 {
            throw .invalidArgument
        } else {
            guard let fstype else { throw .invalidArgument }
            guard let factory = kernel.filesystemFactories[fstype] else {
                throw .operationNotSupportedByDevice
            }
            let made = try factory(data ?? "")
            guard let filesystem = made as? any MountableFilesystem else {
                throw .operationNotSupportedByDevice
            }
            (filesystem as? TmpfsFilesystem)?.setSuperblockReadOnly(flags & Linux.MS_RDONLY != 0)
            try vfs.mount(filesystem, root: filesystem.root, flags: mountFlags, at: place)
        }
    }

    /// The per-mount flags a mount(2) flag word asks for (`path_mount`): relatime unless
    /// MS_NOATIME; MS_STRICTATIME clears both. MS_RDONLY is kept on the mount here.
    static func mountFlags(_ flags: UInt64) -> MountFlags {
        var result: MountFlags = []
        if flags & Linux.MS_RDONLY != 0 { result.insert(.readOnly) }
        if flags & Linux.MS_NOSUID != 0 { result.insert(.noSUID) }
        if flags & Linux.MS_NODEV != 0 { result.insert(.noDevices) }
        if flags & Linux.MS_NOEXEC != 0 { result.insert(.noExec) }
        if flags & Linux.MS_NOATIME != 0 { result.insert(.noAccessTime) }
        if flags & Linux.MS_STRICTATIME != 0 {
            result.remove(.noAccessTime)
            result.insert(.strictAccessTime)
        }
        return result
    }

    /// `path_mounted` and `check_mnt`: the place must be the root of a mount in this task's
    /// namespace. EINVAL otherwise.
    private func requireMountRoot(_ place: VirtualDentry) throws(Errno) {
        guard place.dentry === place.mount.root else { throw .invalidArgument }
        guard vfs.mounts(in: fs.namespace).contains(where: { $0.id == place.mount.id }) else {
            throw .invalidArgument
        }
    }

    /// umount2(2), following `ksys_umount` / `can_umount` / `do_umount`:
    /// EINVAL for flags other than MNT_FORCE, MNT_DETACH, MNT_EXPIRE, UMOUNT_NOFOLLOW; the
    /// lookup's errors (UMOUNT_NOFOLLOW: a final symlink is not followed, and being no mount
    /// root it is EINVAL); EPERM without CAP_SYS_ADMIN; EINVAL unless the target is the root of
    /// a mount (the namespace's root mount included, which cannot go).
    /// - Without MNT_DETACH: EBUSY while a file, working directory or root is inside the mount
    ///   or something is mounted below it.
    /// - MNT_DETACH: the mount and those below it leave the tree at once; open files keep
    ///   working until closed.
    /// - MNT_EXPIRE: EINVAL with MNT_FORCE or MNT_DETACH or on the task's root mount; EBUSY when
    ///   busy; otherwise the first call marks the mount and is EAGAIN, and a second one
    ///   unmounts it. (Linux clears the mark whenever the mount is used in between; here only
    ///   a busy answer clears it.)
    /// - MNT_FORCE: as a plain unmount (no file system here has I/O to abort).
    public func umount2(_ target: PathArgument, _ flags: Int32) throws(Errno) {
        try Task.checkUmountFlags(flags)
        let place = try vfs.getDentry(
            credentials,
            operation(Linux.AT_FDCWD, target, followFinal: flags & Linux.UMOUNT_NOFOLLOW == 0))
        guard credentials.has(.sysAdmin) else { throw .notPermitted }
        guard place.dentry === place.mount.root else { throw .invalidArgument }
        let mount = place.mount
        let detach = flags & Linux.MNT_DETACH != 0
        if flags & Linux.MNT_EXPIRE != 0 {
            if mount === fs.root.mount || flags & (Linux.MNT_FORCE | Linux.MNT_DETACH) != 0 {
                throw .invalidArgument
            }
            let mounts = vfs.mounts(in: fs.namespace)
            guard mounts.contains(where: { $0.id == mount.id }) else { throw .invalidArgument }
            let hasChildren = mounts.contains { $0.parentID == mount.id && $0.id != mount.id }
            if hasChildren || mount.pins > 0 {
                _ = kernel.expiryMarks.withLock { $0.remove(mount.id) }
                throw .resourceBusy
            }
            let wasMarked = kernel.expiryMarks.withLock { !$0.insert(mount.id).inserted }
            guard wasMarked else { throw .resourceTemporarilyUnavailable }
        }
        try vfs.unmount(mount, detach: detach)
        _ = kernel.expiryMarks.withLock { $0.remove(mount.id) }
    }

    /// umount2's first check, made before the path is read: EINVAL for unknown flags.
    static func checkUmountFlags(_ flags: Int32) throws(Errno) {
        let known =
            Linux.MNT_FORCE | Linux.MNT_DETACH | Linux.MNT_EXPIRE | Linux.UMOUNT_NOFOLLOW
        guard flags & ~known == 0 else { throw .invalidArgument }
    }
}
