import HostSyscalls
import LISAFS
import Synchronization
import VFSCore

/// mkdir, mknod, symlink, link and open(O_CREAT): one creating RPC each (MkdirAt, MknodAt,
/// SymlinkAt, LinkAt, OpenCreateAt) on the success path.
extension GoferFilesystem {
    /// `filename_create` + `may_create` in Linux's order: EEXIST, ENOENT for a trailing slash on
    /// a non-directory, EROFS, ENOENT in a removed directory, EACCES, then `extraChecks`. The
    /// existence of the name is asked of the gofer only when another check would fail (EEXIST
    /// comes first in Linux); otherwise the creating RPC itself answers EEXIST. Returns the
    /// parent's ownership for the new file's owner.
    func checkCreate(
        _ rp: ResolvingPath, _ parent: GoferDentry, _ name: Name, isDirectory: Bool,
        extraChecks: () throws(Errno) -> Void = {}
    ) throws(Errno) -> Ownership {
        if parent.syntheticChild(name) != nil { throw .fileExists }
        if cache.lookup(parent: parent, name: name) != nil && options.caching != .shared {
            throw .fileExists
        }
        let parentOwnership = try ownership(of: parent)
        do throws(Errno) {
            if rp.mustBeDirectory && !isDirectory { throw .noSuchFileOrDirectory }
            try rp.mount.checkWritable()
            if parent.isDeleted { throw .noSuchFileOrDirectory }
            try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
            try extraChecks()
        } catch {
            if try lookupChild(parent, name) != nil { throw .fileExists }
            throw error
        }
        return parentOwnership
    }

    /// Caches a file the gofer just made and gives it exactly `ownership`'s mode when the
    /// gofer's result differs (a host umask, or set-ID bits a chown cleared): one SetStat then.
    @discardableResult
    func adopt(
        _ inode: LISAFS.Inode, in parent: GoferDentry, name: Name, mode: FileMode?
    ) throws(Errno) -> GoferDentry {
        let child = GoferDentry(
            inode: inode, generation: generation, parent: parent, name: name.owned(),
            closer: closer)
        let kept = cache.insert(child, parent: parent, name: name)
        if kept !== child { kept.update(inode.stat, fresh: false) }
        parent.invalidate()
        if let mode, !kept.isSymlink, UInt32(inode.stat.mode) & 0o7777 != mode.permissions {
            let response = try call(
                SetStatRequest(
                    fd: try controlFD(kept), mask: SetStatMask.mode, mode: mode.permissions,
                    uid: 0, gid: 0, size: 0, atime: LISAFSTimespec(), mtime: LISAFSTimespec())
            ).response
            if response.failureMask != 0 {
                throw Errno(rawValue: Int32(bitPattern: response.failureErrno))
            }
            kept.invalidate()
        }
        return kept
    }

    public func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno) {
        let parent = try own(rp.current)
        let parentOwnership = try checkCreate(rp, parent, name, isDirectory: true)
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: FileMode(.directory, permissions: mode.permissions))
        let response = try call(
            MkdirAtRequest(
                dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)),
                mode: UInt16(truncatingIfNeeded: owner.mode.rawValue), uid: owner.uid,
                gid: owner.gid)
        ).response
        try adopt(response.child, in: parent, name: name, mode: owner.mode)
    }

    /// Regular files through MknodAt. The gofer makes no FIFOs, sockets or device nodes
    /// (fsgofer answers EPERM, as ours does); for a FIFO or socket this client then keeps a
    /// synthetic in-memory file, as gVisor does; a device node's EPERM is passed on.
    public func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64)
        throws(Errno)
    {
        let parent = try own(rp.current)
        let isDevice = mode.type == .characterDevice || mode.type == .blockDevice
        let parentOwnership = try checkCreate(
            rp, parent, name, isDirectory: false,
            extraChecks: { () throws(Errno) in
                if isDevice && !rp.credentials.has(.mknod) { throw .notPermitted }
            })
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        let major = UInt32(truncatingIfNeeded: (device >> 8) & 0xfff)
        let minor = UInt32(truncatingIfNeeded: (device & 0xff) | ((device >> 12) & 0xfff00))
        let response: MknodAtResponse
        do {
            response = try call(
            MknodAtRequest(
                dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)),
                mode: UInt16(truncatingIfNeeded: owner.mode.rawValue), uid: owner.uid,
                gid: owner.gid, minor: isDevice ? minor : 0, major: isDevice ? major : 0)
            ).response
        } catch {
            // The gofer makes no FIFOs or sockets: keep a synthetic one in memory, as gVisor
            // does (in every caching mode; others sharing the host tree never see it).
            let synthesizable = mode.type == .fifo || mode.type == .socket
            guard error == .notPermitted, synthesizable else {
                throw error
            }
            // fsgofer refuses the type before it looks at the name: EEXIST still comes first.
            if try lookupChild(parent, name) != nil { throw .fileExists }
            try makeSynthetic(in: parent, name: name, owner: owner)
            return
        }
        try adopt(response.child, in: parent, name: name, mode: owner.mode)
    }

    /// A synthetic FIFO or socket named `name` in `parent` (see `GoferDentry.isSynthetic`), or
    /// the whiteout a rename leaves in place of a synthetic file (a character device 0:0).
    func makeSynthetic(in parent: GoferDentry, name: Name, owner: Ownership) throws(Errno) {
        let now = GoferFilesystem.wireNow()
        let parentStat = try attributes(parent)
        if !hostIsTmpfs.load(ordering: .relaxed),
            let type = try? call(FStatFSRequest(fd: try controlFD(parent))).response.type,
            type == 0x0102_1994  // TMPFS_MAGIC
        {
            hostIsTmpfs.store(true, ordering: .relaxed)
        }
        let stat = LISAFSStatx(
            mask: StatxMask.basicStats.rawValue | StatxMask.btime.rawValue,
            blksize: parentStat.blksize, nlink: 1, uid: owner.uid, gid: owner.gid,
            mode: UInt16(truncatingIfNeeded: owner.mode.rawValue),
            ino: GoferFilesystem.nextSyntheticInode.add(1, ordering: .relaxed).newValue,
            atime: now, btime: now, ctime: now, mtime: now,
            devMajor: parentStat.devMajor, devMinor: parentStat.devMinor)
        let child = GoferDentry(
            inode: LISAFS.Inode(controlFD: .invalid, stat: stat), generation: 0, parent: parent,
            name: name.owned(), closer: closer, synthetic: SyntheticInode(stat: stat))
        parent.syntheticChildren.withLock { $0[name.owned()] = child }
        // Linux stamps the directory's mtime and ctime for a new entry; the host did not see
        // one, so stamp the host directory (SetStat with both times "now").
        touchDirectory(parent)
    }

    /// Stamps a directory's mtime and ctime on the host (for a change it did not see: a
    /// synthetic child added or removed).
    func touchDirectory(_ directory: GoferDentry) {
        guard let fd = try? controlFD(directory) else { return }
        _ = try? call(
            SetStatRequest(
                fd: fd, mask: SetStatMask.mtime,
                mtime: LISAFSTimespec(sec: 0, nsec: GoferFilesystem.timeNow)))
        directory.invalidate()
    }

    /// Synthetic files' inode numbers: far above what a host file system hands out.
    static let nextSyntheticInode = Atomic<UInt64>(1 << 62)

    static func wireNow() -> StatxTimestamp {
        let now = RealtimeClock().now()
        return StatxTimestamp(sec: now.seconds, nsec: UInt32(clamping: now.nanoseconds))
    }

    public func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno) {
        let parent = try own(rp.current)
        let parentOwnership = try checkCreate(rp, parent, name, isDirectory: false)
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: FileMode(.symlink, permissions: 0o777))
        let response = try call(
            SymlinkAtRequest(
                dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)),
                target: SizedString(bytes: target), uid: owner.uid, gid: owner.gid)
        ).response
        let child = try adopt(response.symlink, in: parent, name: name, mode: nil)
        child.cachedTarget = target
    }

    /// `do_linkat` + `vfs_link` in tmpfs's order, then one LinkAt naming the source by its
    /// control FDID (no path is resolved for it on the gofer); a synthetic file is linked in
    /// memory (`linkSynthetic`).
    public func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno) {
        let parent = try own(rp.current)
        if try lookupChild(parent, name) != nil { throw .fileExists }
        if rp.mustBeDirectory { throw .noSuchFileOrDirectory }
        try rp.mount.checkWritable()
        guard existing.mount === rp.mount else { throw .improperLink }
        let source = try own(existing.dentry)
        try VirtualFilesystem.checkLinkable(
            rp, existing: existing, ownership: try ownership(of: source))
        if parent.isDeleted { throw .noSuchFileOrDirectory }
        try Permissions.check(rp.credentials, [.write, .execute], try ownership(of: parent))
        if source.isDirectory { throw .notPermitted }
        if let inode = source.synthetic {
            try linkSynthetic(inode, in: parent, name: name)
            return
        }
        let response = try call(
            LinkAtRequest(
                dirFD: try controlFD(parent), target: try controlFD(source),
                name: SizedString(bytes: Array(name.bytes)))
        ).response
        try adopt(response.link, in: parent, name: name, mode: nil)
        source.markAliased()
        invalidate(source)
    }

    /// A new name in `parent` for a synthetic file (the host never saw it, so there is nothing
    /// to link there): a dentry sharing its `SyntheticInode`, as `shmem_link` adds one more
    /// name to the inode. Linux 6.18 on tmpfs: nlink goes up by one, the file's ctime and the
    /// directory's mtime and ctime are stamped; both names are the same inode (same st_ino,
    /// the same pipe). A file whose last name went (reached by a descriptor) is ENOENT.
    private func linkSynthetic(_ inode: SyntheticInode, in parent: GoferDentry, name: Name)
        throws(Errno)
    {
        let stat = try inode.stat.withLock { (stat) throws(Errno) -> LISAFSStatx in
            if stat.nlink == 0 { throw .noSuchFileOrDirectory }
            guard stat.nlink < UInt32.max else { throw .tooManyLinks }
            stat.nlink += 1
            stat.ctime = GoferFilesystem.wireNow()
            return stat
        }
        let child = GoferDentry(
            inode: LISAFS.Inode(controlFD: .invalid, stat: stat), generation: 0, parent: parent,
            name: name.owned(), closer: closer, synthetic: inode)
        parent.syntheticChildren.withLock { $0[name.owned()] = child }
        touchDirectory(parent)
    }

    /// open(O_CREAT): the existing entry, or a new regular file made and opened with one
    /// OpenCreateAt (its open FDID and donated fd wait on the dentry for the `open` that
    /// follows). `lookup_open`'s checks: EROFS, ENOENT in a removed directory, EACCES.
    public func openOrCreate(
        _ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode
    ) throws(Errno) -> CreateOutcome {
        let parent = try own(rp.current)
        if let existing = try lookupChild(parent, name) { return .existing(existing) }
        try rp.mount.checkWritable()
        if parent.isDeleted { throw .noSuchFileOrDirectory }
        let parentOwnership = try ownership(of: parent)
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership,
            mode: FileMode(.regular, permissions: mode.permissions))
        let access = UInt32(options.isPathOnly ? 0 : options.accessMode & 3)
        let result: RPCResult<OpenCreateAtResponse>
        do {
            result = try call(
                OpenCreateAtRequest(
                    dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)),
                    flags: access, mode: UInt16(truncatingIfNeeded: owner.mode.rawValue),
                    uid: owner.uid, gid: owner.gid))
        } catch {
            // Someone made the name in between: open what is there, as Linux would.
            if error == .fileExists, let existing = try lookupChild(parent, name) {
                return .existing(existing)
            }
            throw error
        }
        let child = try adopt(result.response.child, in: parent, name: name, mode: owner.mode)
        let hostFD = result.fds.first?.take().map { HostFD(adopting: $0.rawValue) }
        child.setPendingOpen(
            PendingOpen(
                openFD: result.response.newOpenFD, generation: generation, accessMode: access,
                hostFD: hostFD))
        return .created(child)
    }

    /// O_TMPFILE. LISAFS has no message for an unnamed file; our gofer takes an OpenCreateAt
    /// with an empty name and O_TMPFILE in its flags (GoferServer's `openTemporaryFile`) and
    /// makes one on the host, which LinkAt can name later unless O_EXCL was given. A gofer
    /// that refuses it (fsgofer: EINVAL for the empty name) gets EOPNOTSUPP, as gVisor's client
    /// answers, from then on without asking again. Linux's may_open checks come first (EACCES
    /// without write and search permission on the directory).
    public func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool) throws(Errno)
        -> Dentry
    {
        let parent = try own(rp.current)
        let parentOwnership = try ownership(of: parent)
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        guard !temporaryFilesRefused.load(ordering: .relaxed) else { throw .notSupported }
        try rp.mount.checkWritable()
        if parent.isDeleted { throw .noSuchFileOrDirectory }
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: FileMode(.regular, permissions: mode.permissions))
        let temporaryFile: UInt32 = 0o20200000  // O_TMPFILE
        let exclusive: UInt32 = 0o200  // O_EXCL
        let readWrite: UInt32 = 2
        let result: RPCResult<OpenCreateAtResponse>
        do {
            result = try call(
                OpenCreateAtRequest(
                    dirFD: try controlFD(parent), name: SizedString(bytes: []),
                    flags: temporaryFile | readWrite | (linkable ? 0 : exclusive),
                    mode: UInt16(truncatingIfNeeded: owner.mode.rawValue), uid: owner.uid, gid: owner.gid))
        } catch {
            if error == .invalidArgument {
                temporaryFilesRefused.store(true, ordering: .relaxed)
                throw .notSupported
            }
            throw error
        }
        let inode = result.response.child
        let dentry = GoferDentry(
            inode: inode, generation: generation, parent: parent,
            name: Name(unchecked: Array("#\(inode.stat.ino)".utf8)[...]), closer: closer)
        try dentry.markDeleted(seenThrough: nil)
        dentry.setPendingOpen(
            PendingOpen(
                openFD: result.response.newOpenFD, generation: generation, accessMode: readWrite,
                hostFD: result.fds.first?.take().map { HostFD(adopting: $0.rawValue) }))
        parent.invalidate()
        return dentry
    }
}
