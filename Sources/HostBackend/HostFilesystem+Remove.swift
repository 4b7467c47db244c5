import HostSyscalls
import VFSCore

/// unlink, rmdir, rename on the host; the cache follows each change.
extension HostFilesystem {
    /// `vfs_unlink`'s checks (ENOENT; EISDIR/ENOTDIR for a trailing slash; `may_delete`; EBUSY
    /// for a mount point), then `unlinkat(parent, name)`.
    public func unlink(_ rp: ResolvingPath, name: Name) throws(Errno) {
        let parent = try own(rp.current)
        if options.readOnly { throw .readOnlyFileSystem }
        let child = try lookupChild(parent, name)
        if rp.mustBeDirectory { throw child.isDirectory ? .isDirectory : .notDirectory }
        try Permissions.mayDelete(
            rp.credentials, directory: try hostOwnership(parent),
            victim: try hostOwnership(child), removingDirectory: false)
        try child.checkNotMountPoint(seenThrough: rp.mount)
        try HostSyscall.unlinkat(parent.fd.rawValue, name.bytes)
        cache.remove(parent: parent, name: name)
        try? child.markDeleted(seenThrough: rp.mount)
    }

    /// `vfs_rmdir`: ENOENT; `may_delete` (EACCES, EPERM, ENOTDIR); EBUSY; the host's ENOTEMPTY.
    public func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno) {
        let parent = try own(rp.current)
        if options.readOnly { throw .readOnlyFileSystem }
        let child = try lookupChild(parent, name)
        try Permissions.mayDelete(
            rp.credentials, directory: try hostOwnership(parent),
            victim: try hostOwnership(child), removingDirectory: true)
        try child.checkNotMountPoint(seenThrough: rp.mount)
        try HostSyscall.unlinkat(
            parent.fd.rawValue, name.bytes, flags: HostAtFlags.removeDirectory)
        cache.remove(parent: parent, name: name)
        try? child.markDeleted(seenThrough: rp.mount)
    }

    /// renameat2 on the two parents' fds. The lookups and the VFS's permission checks come
    /// first in `vfs_rename`'s order; what only the tree's shape decides (a directory moved
    /// into itself: EINVAL; onto a non-empty directory: ENOTEMPTY; type mismatches) the host
    /// answers, with the same errno Linux gives.
    public func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno) {
        let oldParent = try own(from.current)
        let newParent = try own(to.current)
        if options.readOnly { throw .readOnlyFileSystem }
        let credentials = from.credentials
        let source = try lookupChild(oldParent, oldName)
        var target: HostDentry?
        do {
            target = try lookupChild(newParent, newName)
        } catch {
            if error != .noSuchFileOrDirectory { throw error }
        }
        let exchange = flags.contains(.exchange)
        try VirtualFilesystem.checkRenameEntries(
            sourceIsDirectory: source.isDirectory, targetIsDirectory: target?.isDirectory,
            flags: flags, from: from, to: to)
        if let trap = VirtualFilesystem.renameTrap(
            oldParent, newParent, parent: { $0.parent }, isSame: { $0.isSameFile(as: $1) })
        {
            // do_renameat2: the source may not be an ancestor of the target's parent, nor the
            // target one of the source's (checked before any permission). The trap comes from
            // the dentry tree (what `..` is answered from); in shared mode the tree may lag the
            // host's, and the host's renameat2 then refuses the same cases.
            if source.isSameFile(as: trap) { throw .invalidArgument }
            if let target, target.isSameFile(as: trap) {
                throw exchange ? .invalidArgument : .directoryNotEmpty
            }
        }
        if let target, target.isSameFile(as: source) {
            // Another name of the same inode: rename does nothing, successfully.
            return
        }
        let oldOwnership = try hostOwnership(oldParent)
        let newStat = try hostStat(newParent)
        let newOwnership = ownership(of: newStat)
        try Permissions.mayDelete(
            credentials, directory: oldOwnership, victim: try hostOwnership(source),
            removingDirectory: source.isDirectory)
        if let target {
            try Permissions.mayDelete(
                credentials, directory: newOwnership, victim: try hostOwnership(target),
                removingDirectory: exchange ? target.isDirectory : source.isDirectory)
        } else {
            // may_create: a removed directory takes no new name (ENOENT before EACCES).
            if newStat.nlink == 0 { throw .noSuchFileOrDirectory }
            try Permissions.check(credentials, [.write, .execute], newOwnership)
        }
        if !oldParent.isSameFile(as: newParent) {
            if source.isDirectory {
                try Permissions.check(credentials, .write, try hostOwnership(source))
            }
            if exchange, let target, target.isDirectory {
                try Permissions.check(credentials, .write, try hostOwnership(target))
            }
        }
        try source.checkNotMountPoint(seenThrough: from.mount)
        try target?.checkNotMountPoint(seenThrough: to.mount)

        try HostSyscall.renameat2(
            oldParent.fd.rawValue, oldName.bytes, newParent.fd.rawValue, newName.bytes,
            flags: flags.rawValue)

        cache.remove(parent: oldParent, name: oldName)
        cache.remove(parent: newParent, name: newName)
        source.placement.withLock { $0 = .init(parent: newParent, name: newName.owned()) }
        _ = cache.insert(source, parent: newParent, name: newName)
        if let target {
            if exchange {
                target.placement.withLock { $0 = .init(parent: oldParent, name: oldName.owned()) }
                _ = cache.insert(target, parent: oldParent, name: oldName)
            } else {
                try? target.markDeleted(seenThrough: to.mount)
            }
        }
        if flags.contains(.whiteout) {
            // The host made the whiteout as itself: it gets the owner shmem_whiteout gives it
            // (the caller's fsuid and fsgid, or a set-group-ID parent's group).
            try adopt(
                oldParent, oldName,
                ownership: Permissions.ownershipForNewInode(
                    credentials, parent: oldOwnership,
                    mode: FileMode(.characterDevice, permissions: 0)))
        }
    }
}
