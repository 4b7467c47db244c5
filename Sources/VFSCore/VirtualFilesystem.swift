import Synchronization

/// The VFS: the mount table and path resolution across file systems, and the path-based
/// operations built on them (in the `VirtualFilesystem+*.swift` files).
///
/// Resolution loop: the file system that owns the current position walks as far as it can
/// (`FilesystemImpl.walk`), and this type handles the three hand-backs: crossing into a mount,
/// `..` out of a mount root, and restarting at the root for an absolute symlink.
///
/// Lock order (this file and its extensions):
///   1. `mountTable`'s lock (write: mount/umount; read: mount-point crossing and `..` at a mount
///      root, which are the only walk steps that look at it)
///   2. `Dentry.mountState` (leaf)
/// File-system locks are never held while calling into this type, except that a backend may
/// call `Dentry.markDeleted` (a leaf) under its directory lock.
public final class VirtualFilesystem: Sendable {
    struct MountKey: Hashable {
        let parent: ObjectIdentifier
        let dentry: ObjectIdentifier
        init(_ parent: Mount, _ dentry: Dentry) {
            self.parent = ObjectIdentifier(parent)
            self.dentry = ObjectIdentifier(dentry)
        }
    }

    let mountTable = ReadWriteProtected<[MountKey: Mount]>([:])
    private let lastMountID = Atomic<UInt64>(0)
    /// fs.protected_hardlinks, on by default in Linux distributions.
    public let protectedHardlinks: Bool

    public init(protectedHardlinks: Bool = true) {
        self.protectedHardlinks = protectedHardlinks
    }

    func nextMountID() -> UInt64 {
        lastMountID.add(1, ordering: .relaxed).newValue
    }

    // MARK: - Resolution

    func makeResolvingPath(
        _ credentials: Credentials, _ operation: PathOperation, stopsAtParent: Bool
    ) throws(Errno) -> ResolvingPath {
        try operation.validate()
        var root = operation.root
        let flags = operation.resolveFlags
        if flags.contains(.beneath) || flags.contains(.inRoot) {
            root = operation.start
            if flags.contains(.beneath) && operation.path.first == 0x2F { throw .improperLink }
        }
        let absolute = operation.path.first == 0x2F
        var rp = ResolvingPath(
            credentials: credentials, root: root, start: absolute ? root : operation.start,
            path: operation.path, followFinalSymlink: operation.followFinalSymlink,
            stopsAtParent: stopsAtParent, resolveFlags: flags)
        rp.protectedHardlinks = protectedHardlinks
        return rp
    }

    /// Runs the walk to its end (or to the parent of the final component), across mounts.
    func walk(_ rp: inout ResolvingPath) throws(Errno) {
        while true {
            switch try rp.mount.filesystem.walk(&rp) {
            case .done:
                return
            case .mountPoint:
                try enterMounts(&rp)
            case .mountRootParent:
                try leaveMountRoot(&rp)
            case .absoluteSymlink:
                rp.restartAtRoot()
            }
        }
    }

    /// Resolves every component: the place the path names.
    func resolve(_ rp: inout ResolvingPath) throws(Errno) -> VirtualDentry {
        try walk(&rp)
        let result = VirtualDentry(mount: rp.mount, dentry: rp.current)
        if rp.mustBeDirectory && !result.dentry.isDirectory { throw .notDirectory }
        return result
    }

    /// The walk stepped onto a dentry with something mounted on it: descend through every
    /// mount stacked there.
    private func enterMounts(_ rp: inout ResolvingPath) throws(Errno) {
        try mountTable.read { (table) throws(Errno) in
            while let child = table[MountKey(rp.mount, rp.current)] {
                if rp.resolveFlags.contains(.noXDev) { throw .improperLink }
                rp.jump(to: VirtualDentry(mount: child, dentry: child.root))
            }
        }
    }

    /// `..` at the root of a mount: climb to the mount point (through stacked mounts) and let
    /// the parent file system take the `..`. At the top of a tree, `..` stays where it is.
    private func leaveMountRoot(_ rp: inout ResolvingPath) throws(Errno) {
        try mountTable.read { (table) throws(Errno) in
            while rp.current === rp.mount.root && !rp.isAtRoot() {
                guard let link = rp.mount.parentLink else {
                    rp.advance()
                    return
                }
                if rp.resolveFlags.contains(.noXDev) { throw .improperLink }
                rp.jump(to: VirtualDentry(mount: link.mount, dentry: link.dentry))
            }
            rp.skipNextSearchCheck = true
        }
    }

    /// The mount on top of `location`, if something is mounted there.
    public func mount(at location: VirtualDentry) -> Mount? {
        guard location.dentry.isMountPoint else { return nil }
        return mountTable.read { $0[MountKey(location.mount, location.dentry)] }
    }

    // MARK: - Lookups for callers

    /// The place `operation` names (stat, chdir, open without O_CREAT...).
    public func getDentry(_ credentials: Credentials, _ operation: PathOperation) throws(Errno)
        -> VirtualDentry
    {
        if operation.path.isEmpty && operation.allowEmptyPath {
            try operation.validate()
            return operation.start
        }
        var rp = try makeResolvingPath(credentials, operation, stopsAtParent: false)
        return try resolve(&rp)
    }

    /// The absolute path of `location` as seen from `root` (getcwd, /proc/self/fd). ENOENT when
    /// the place has been deleted; a place outside `root` gets Linux's "(unreachable)" prefix.
    public func pathname(of location: VirtualDentry, root: VirtualDentry) throws(Errno) -> [UInt8]
    {
        if location.dentry.isDeleted { throw .noSuchFileOrDirectory }
        var components: [Name] = []
        var mount = location.mount
        var dentry = location.dentry
        var reachable = true
        mountTable.read { _ in
            while !(mount === root.mount && dentry === root.dentry) {
                if dentry === mount.root {
                    guard let link = mount.parentLink else {
                        reachable = false
                        return
                    }
                    mount = link.mount
                    dentry = link.dentry
                    continue
                }
                guard let (parent, name) = mount.filesystem.parentAndName(of: dentry) else {
                    reachable = false
                    return
                }
                components.append(name)
                dentry = parent
            }
        }
        var result: [UInt8] = reachable ? [] : Array("(unreachable)".utf8)
        for name in components.reversed() {
            result.append(0x2F)
            result.append(contentsOf: name.bytes)
        }
        if result.isEmpty || !reachable && components.isEmpty { result.append(0x2F) }
        return result
    }
}
