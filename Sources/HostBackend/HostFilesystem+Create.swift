import HostSyscalls
import VFSCore

/// mkdir, mknod, symlink, link, open(O_CREAT) and O_TMPFILE on the host.
extension HostFilesystem {
    /// `filename_create` + `may_create` in Linux's order: EEXIST, ENOENT for a trailing slash
    /// on a non-directory, EROFS, EACCES; returns the parent's ownership for the new owner.
    private func checkCreate(
        _ rp: ResolvingPath, _ parent: HostDentry, _ name: Name, isDirectory: Bool
    ) throws(Errno) -> Ownership {
        if try statChild(parent, name) != nil { throw .fileExists }
        if rp.mustBeDirectory && !isDirectory { throw .noSuchFileOrDirectory }
        try checkWritable(rp.mount)
        let parentOwnership = try hostOwnership(parent)
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        return parentOwnership
    }

    /// Opens the entry just made, caches it, and gives it `ownership`: the owner, then the
    /// mode (a chown clears set-ID bits the mode may ask for). Each call is made only when the
    /// host's result differs — the host made the file with the final mode already, less its
    /// own umask — so that a root caller's creation changes nothing after the fact (an extra
    /// chmod or chown would stamp ctime once more). Symlinks keep their 0777.
    @discardableResult
    func adopt(_ parent: HostDentry, _ name: Name, ownership: Ownership) throws(Errno)
        -> HostDentry
    {
        let child = try lookupChild(parent, name)
        try settle(child.fd, isSymlink: child.isSymlink, ownership: ownership)
        return child
    }

    func settle(_ fd: HostFD, isSymlink: Bool, ownership: Ownership) throws(Errno) {
        var stat = try HostSyscall.statx(fd.rawValue)
        if stat.uid != ownership.uid || stat.gid != ownership.gid {
            try HostSyscall.fchownat(
                fd.rawValue, [], uid: ownership.uid, gid: ownership.gid,
                flags: HostAtFlags.emptyPath | HostAtFlags.symlinkNoFollow)
            stat = try HostSyscall.statx(fd.rawValue)
        }
        if !isSymlink && stat.mode & 0o7777 != ownership.mode.permissions {
            try HostSyscall.fchmodat(
                fd.rawValue, [], mode: ownership.mode.permissions, flags: HostAtFlags.emptyPath)
        }
    }

    public func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno) {
        let parent = try own(rp.current)
        let parentOwnership = try checkCreate(rp, parent, name, isDirectory: true)
        let ownership = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        try HostSyscall.mkdirat(parent.fd.rawValue, name.bytes, mode: ownership.mode.permissions)
        try adopt(parent, name, ownership: ownership)
    }

    /// Device nodes are made (with CAP_MKNOD, as Linux asks) but never opened: see `open`.
    public func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64)
        throws(Errno)
    {
        let parent = try own(rp.current)
        let parentOwnership = try checkCreate(rp, parent, name, isDirectory: false)
        let isDevice = mode.type == .characterDevice || mode.type == .blockDevice
        if isDevice && !rp.credentials.has(.mknod) { throw .notPermitted }
        let ownership = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        try HostSyscall.mknodat(
            parent.fd.rawValue, name.bytes,
            mode: (mode.type ?? .regular).rawValue | ownership.mode.permissions,
            device: isDevice ? device : 0)
        try adopt(parent, name, ownership: ownership)
    }

    public func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno) {
        let parent = try own(rp.current)
        let parentOwnership = try checkCreate(rp, parent, name, isDirectory: false)
        let ownership = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: FileMode(.symlink, permissions: 0o777))
        try HostSyscall.symlinkat(target: target, parent.fd.rawValue, name.bytes)
        try adopt(parent, name, ownership: ownership)
    }

    /// `do_linkat` + `vfs_link`, checks in Linux's order as tmpfs makes them; then
    /// `linkat(fd, "", parent, name, AT_EMPTY_PATH)` links the very inode the source dentry
    /// holds (never a path). The host answers ENOENT for a file with no links left.
    public func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno) {
        let parent = try own(rp.current)
        if try statChild(parent, name) != nil { throw .fileExists }
        if rp.mustBeDirectory { throw .noSuchFileOrDirectory }
        try checkWritable(rp.mount)
        guard existing.mount === rp.mount else { throw .improperLink }
        let source = try own(existing.dentry)
        try VirtualFilesystem.checkLinkable(
            rp, existing: existing, ownership: try hostOwnership(source))
        try Permissions.check(rp.credentials, [.write, .execute], try hostOwnership(parent))
        if source.isDirectory { throw .notPermitted }
        try HostSyscall.linkat(
            source.fd.rawValue, [], parent.fd.rawValue, name.bytes, flags: HostAtFlags.emptyPath)
        _ = try? lookupChild(parent, name)
    }

    /// open(O_CREAT): the existing entry, or a new regular file (`lookup_open`'s EROFS, EACCES).
    public func openOrCreate(
        _ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode
    ) throws(Errno) -> CreateOutcome {
        let parent = try own(rp.current)
        do {
            return .existing(try lookupChild(parent, name))
        } catch {
            if error != .noSuchFileOrDirectory { throw error }
        }
        try checkWritable(rp.mount)
        let parentOwnership = try hostOwnership(parent)
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        let ownership = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        do {
            try HostSyscall.mknodat(
                parent.fd.rawValue, name.bytes,
                mode: FileType.regular.rawValue | ownership.mode.permissions)
        } catch {
            // Someone made the name in between: open what is there, as Linux would.
            if error == .fileExists { return .existing(try lookupChild(parent, name)) }
            throw error
        }
        return .created(try adopt(parent, name, ownership: ownership))
    }

    /// O_TMPFILE on the host: `openat(parent, ".", O_TMPFILE|O_RDWR)` (with O_EXCL when it must
    /// never be linked, which the host then enforces). The dentry holds that read-write fd;
    /// opens reopen it through /proc like any other.
    public func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool) throws(Errno)
        -> Dentry
    {
        let parent = try own(rp.current)
        let parentOwnership = try hostOwnership(parent)
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        if options.readOnly { throw .readOnlyFileSystem }
        let ownership = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        let fd = try HostSyscall.openat(
            parent.fd.rawValue, [0x2E],
            flags: HostOpenFlags.temporaryFile | HostOpenFlags.readWrite
                | (linkable ? 0 : HostOpenFlags.exclusive),
            mode: ownership.mode.permissions)
        try settle(fd, isSymlink: false, ownership: ownership)
        let stat = try HostSyscall.statx(fd.rawValue)
        let dentry = HostDentry(
            fd: fd, stat: stat, parent: parent,
            name: Name(unchecked: Array("#\(stat.inode)".utf8)[...]))
        try dentry.markDeleted(seenThrough: nil)
        return dentry
    }
}
