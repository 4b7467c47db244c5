import Synchronization

/// A tree of mounts that a set of tasks shares (CLONE_NEWNS). Its root mount never moves.
public final class MountNamespace: Sendable {
    public let root: Mount
    /// Unique for the life of the process (an address could be reused).
    public let id: UInt64
    private static let lastID = Atomic<UInt64>(0)
    public var rootLocation: VirtualDentry { VirtualDentry(mount: root, dentry: root.root) }

    init(root: Mount) {
        self.root = root
        self.id = MountNamespace.lastID.add(1, ordering: .relaxed).newValue
    }
}

/// A line of /proc/self/mountinfo, for listings and tests.
public struct MountInfo: Sendable {
    public let id: UInt64
    public let parentID: UInt64
    public let mountPoint: [UInt8]
    public let filesystemType: String
    public let flags: MountFlags
}

extension VirtualFilesystem {
    /// A new namespace whose root is `filesystem` (at its `root` dentry).
    public func makeNamespace(
        root filesystem: any FilesystemImpl, rootDentry: Dentry, flags: MountFlags = []
    ) -> MountNamespace {
        let mount = Mount(
            filesystem: filesystem, root: rootDentry, flags: flags, id: nextMountID())
        let namespace = MountNamespace(root: mount)
        mount.namespace = namespace
        mount.namespaceID = namespace.id
        return namespace
    }

    /// mount(2) of a file system at `target`, which must be the top of whatever is mounted
    /// there already (a resolved place always is). ENOTDIR when a directory would cover a
    /// non-directory or the other way round; ENOENT when the target has been deleted; EINVAL
    /// when the target's mount has been detached.
    @discardableResult
    public func mount(
        _ filesystem: any FilesystemImpl, root: Dentry, flags: MountFlags = [],
        at target: VirtualDentry
    ) throws(Errno) -> Mount {
        let mount = Mount(filesystem: filesystem, root: root, flags: flags, id: nextMountID())
        try attach(mount, at: target)
        return mount
    }

    /// A bind mount of `source` (a directory or a file) at `target`. With `recursive`
    /// (MS_BIND|MS_REC), the mounts below `source` come along.
    @discardableResult
    public func bindMount(
        _ source: VirtualDentry, at target: VirtualDentry, recursive: Bool = false,
        flags: MountFlags? = nil
    ) throws(Errno) -> Mount {
        let mount = Mount(
            filesystem: source.mount.filesystem, root: source.dentry,
            flags: flags ?? source.mount.flags, id: nextMountID())
        try attach(mount, at: target)
        if recursive {
            for child in childMounts(of: source.mount) {
                guard let link = child.parentLink,
                    isDescendant(link.dentry, of: source.dentry, in: source.mount.filesystem)
                else { continue }
                try bindMount(
                    VirtualDentry(mount: child, dentry: child.root),
                    at: VirtualDentry(mount: mount, dentry: link.dentry), recursive: true,
                    flags: child.flags)
            }
        }
        return mount
    }

    /// Changes a mount's flags (MS_REMOUNT, e.g. to read-only and back). EBUSY when making it
    /// read-only while a file is open for writing on it.
    public func remount(_ mount: Mount, flags: MountFlags) throws(Errno) {
        try mount.setFlags(flags)
    }

    /// umount2(2). Without `detach`: EBUSY while a file, cwd or root is inside the mount or
    /// something is mounted below it. With `detach` (MNT_DETACH): the mount and everything
    /// below it leave the tree at once; open files in them keep working until closed.
    /// EINVAL for a namespace's root mount.
    public func unmount(_ mount: Mount, detach: Bool = false) throws(Errno) {
        try mountTable.write { (table) throws(Errno) in
            guard let link = mount.parentLink, !mount.isDetached else { throw Errno.invalidArgument }
            if !detach {
                guard mount.children.isEmpty, mount.pins == 0 else { throw Errno.resourceBusy }
            }
            detachTree(mount, link: link, table: &table)
        }
    }

    /// Every mount of `namespace`, parents before children.
    public func mounts(in namespace: MountNamespace) -> [MountInfo] {
        detachMountsOnDeletedDentries()
        var result: [MountInfo] = []
        var pending = [namespace.root]
        while let mount = pending.popLast() {
            let parentID = mount.parentLink?.mount.id ?? mount.id
            let point: [UInt8]
            if let link = mount.parentLink {
                point =
                    (try? pathname(
                        of: VirtualDentry(mount: link.mount, dentry: link.dentry),
                        root: namespace.rootLocation)) ?? []
            } else {
                point = [0x2F]
            }
            result.append(
                MountInfo(
                    id: mount.id, parentID: parentID, mountPoint: point,
                    filesystemType: mount.filesystem.typeName, flags: mount.flags))
            pending.append(contentsOf: childMounts(of: mount).sorted { $0.id > $1.id })
        }
        return result
    }

    /// CLONE_NEWNS / unshare(CLONE_NEWNS): a copy of the namespace's mount tree. The returned
    /// function maps a place in the old tree to the same place in the copy, for moving a
    /// task's cwd and root over as Linux does.
    public func cloneNamespace(_ namespace: MountNamespace) throws(Errno) -> (
        MountNamespace, translate: @Sendable (VirtualDentry) -> VirtualDentry
    ) {
        let oldRoot = namespace.root
        let copy = makeNamespace(
            root: oldRoot.filesystem, rootDentry: oldRoot.root, flags: oldRoot.flags)
        var map: [ObjectIdentifier: Mount] = [ObjectIdentifier(oldRoot): copy.root]
        var pending = [(oldRoot, copy.root)]
        while let (old, new) = pending.popLast() {
            for child in childMounts(of: old) {
                guard let link = child.parentLink else { continue }
                let twin = try mount(
                    child.filesystem, root: child.root, flags: child.flags,
                    at: VirtualDentry(mount: new, dentry: link.dentry))
                map[ObjectIdentifier(child)] = twin
                pending.append((child, twin))
            }
        }
        let frozen = map
        let translate: @Sendable (VirtualDentry) -> VirtualDentry = { place in
            guard let twin = frozen[ObjectIdentifier(place.mount)] else { return place }
            return VirtualDentry(mount: twin, dentry: place.dentry)
        }
        return (copy, translate)
    }

    // MARK: - Internals

    private func attach(_ mount: Mount, at target: VirtualDentry) throws(Errno) {
        guard target.dentry.isDirectory == mount.root.isDirectory else { throw .notDirectory }
        detachMountsOnDeletedDentries()
        try mountTable.write { (table) throws(Errno) in
            var parent = target.mount
            var point = target.dentry
            // Stack on the topmost mount already at this place.
            while let above = table[MountKey(parent, point)] {
                parent = above
                point = above.root
            }
            if parent.isDetached { throw Errno.invalidArgument }
            try point.addMount(inNamespace: parent.namespaceID)
            mount.parentLink = (parent, point)
            mount.namespace = parent.namespace
            mount.namespaceID = parent.namespaceID
            parent.children[ObjectIdentifier(mount)] = mount
            table[MountKey(parent, point)] = mount
        }
    }

    private func detachTree(
        _ mount: Mount, link: (mount: Mount, dentry: Dentry), table: inout [MountKey: Mount]
    ) {
        for child in mount.children.values {
            if let childLink = child.parentLink { detachTree(child, link: childLink, table: &table) }
        }
        table[MountKey(link.mount, link.dentry)] = nil
        link.mount.children[ObjectIdentifier(mount)] = nil
        link.dentry.removeMount(inNamespace: link.mount.namespaceID)
        mount.parentLink = nil
        mount.isDetached = true
    }

    /// A name mounted on only in other namespaces may be removed (see `Dentry.markDeleted`);
    /// Linux then detaches those mounts (`detach_mounts`). Here that happens the next time the
    /// mount table is listed or changed: until then the mounts are unreachable anyway, since
    /// no path leads to a deleted dentry.
    func detachMountsOnDeletedDentries() {
        mountTable.write { table in
            let stale = table.filter { $0.value.parentLink?.dentry.isDeleted == true }
            for (_, mount) in stale {
                if let link = mount.parentLink { detachTree(mount, link: link, table: &table) }
            }
        }
    }

    private func childMounts(of mount: Mount) -> [Mount] {
        mountTable.read { _ in Array(mount.children.values) }
    }

    private func isDescendant(_ dentry: Dentry, of ancestor: Dentry, in fs: any FilesystemImpl)
        -> Bool
    {
        var current = dentry
        while current !== ancestor {
            guard let (parent, _) = fs.parentAndName(of: current) else { return false }
            current = parent
        }
        return true
    }
}
