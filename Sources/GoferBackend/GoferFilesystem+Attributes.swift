import HostSyscalls
import LISAFS
import VFSCore

/// stat (cached attributes, FStat), setStat (SetStat), readlink (ReadLinkAt), statfs (FStatFS)
/// and the xattr calls (FGetXattr, FSetXattr, FListXattr, FRemoveXattr).
extension GoferFilesystem {
    /// UTIME_NOW: the gofer's host stamps its own clock's time.
    static let timeNow: Int64 = (1 << 30) - 1

    public func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        try ownership(of: try own(dentry))
    }

    /// Exclusive and writethrough: the cached attributes (refetched once stale). Shared: the
    /// attributes the walk that found the file just brought back, else one FStat.
    public func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        let mine = try own(dentry)
        let stat: LISAFSStatx
        if options.caching == .shared && !mine.isSynthetic {
            if let fresh = mine.takeFreshStat() {
                stat = fresh
            } else {
                stat = try refreshAttributes(mine)
            }
        } else {
            stat = try attributes(mine)
        }
        var result = GoferFilesystem.fileStat(stat)
        if mine.isDirectory && hostIsTmpfs.load(ordering: .relaxed) {
            // tmpfs sizes a directory at 20 bytes an entry (BOGO_DIRENT_SIZE); the host never
            // saw the synthetic children, so their share is added here, as if they were real.
            let synthetic = mine.syntheticChildren.withLock { $0.count }
            result.size += 20 * Int64(synthetic)
        }
        return result
    }

    static func fileStat(_ wire: LISAFSStatx) -> FileStat {
        var stat = FileStat()
        stat.mask = StatxMask(
            rawValue: wire.mask & (StatxMask.basicStats.rawValue | StatxMask.btime.rawValue))
        stat.blockSize = wire.blksize
        stat.nlink = wire.nlink
        stat.uid = wire.uid
        stat.gid = wire.gid
        stat.mode = FileMode(rawValue: UInt32(wire.mode))
        stat.inode = wire.ino
        stat.size = Int64(bitPattern: wire.size)
        stat.blocks = Int64(bitPattern: wire.blocks)
        func time(_ t: StatxTimestamp) -> Timespec {
            Timespec(seconds: t.sec, nanoseconds: Int64(t.nsec))
        }
        stat.accessTime = time(wire.atime)
        stat.birthTime = time(wire.btime)
        stat.changeTime = time(wire.ctime)
        stat.modificationTime = time(wire.mtime)
        stat.rdev = HostStat.encodeDevice(major: wire.rdevMajor, minor: wire.rdevMinor)
        stat.dev = HostStat.encodeDevice(major: wire.devMajor, minor: wire.devMinor)
        return stat
    }

    /// `notify_change`: the change is validated by the VFS's rules against the current
    /// attributes, then sent as one SetStat (mode, owner, size, times). The gofer applies them
    /// as root and reports per-attribute failures, which become the errno.
    public func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials)
        throws(Errno)
    {
        let mine = try own(dentry)
        let before = try attributes(mine)
        let current = ownership(of: before)
        let update = try change.validate(
            against: current, credentials: credentials, now: Timespec(seconds: 0, nanoseconds: 0))
        if mine.isSynthetic {
            if change.size != nil { throw .invalidArgument }
            let now = GoferFilesystem.wireNow()
            func stamp(_ t: TimeChange?) -> StatxTimestamp? {
                switch t {
                case nil: return nil
                case .now: return now
                case .set(let t):
                    return StatxTimestamp(sec: t.seconds, nsec: UInt32(clamping: t.nanoseconds))
                }
            }
            mine.updateSynthetic { stat in
                if let mode = update.mode {
                    stat.mode = UInt16(truncatingIfNeeded: (UInt32(stat.mode) & FileMode.typeMask) | mode.permissions)
                }
                if let uid = update.uid { stat.uid = uid }
                if let gid = update.gid { stat.gid = gid }
                if let atime = stamp(change.accessTime) { stat.atime = atime }
                if let mtime = stamp(change.modificationTime) { stat.mtime = mtime }
                stat.ctime = now
            }
            return
        }
        if change.size != nil {
            if mine.isDirectory { throw .isDirectory }
            guard mine.fileType == .regular else { throw .invalidArgument }
        }
        var mask: UInt32 = 0
        var request = SetStatRequest(fd: try controlFD(mine), mask: 0)
        if let size = change.size, try sizeChangeReachesHost(mine, before, change, size) {
            mask |= SetStatMask.size
            request.size = UInt64(size)
        }
        if change.isOwnershipChange {
            if let uid = change.uid {
                mask |= SetStatMask.uid
                request.uid = uid
            }
            if let gid = change.gid {
                mask |= SetStatMask.gid
                request.gid = gid
            }
            if change.uid == nil && change.gid == nil {
                // chown(-1, -1) still stamps ctime in Linux (ATTR_CTIME alone): the same owner
                // again makes the host stamp it.
                mask |= SetStatMask.uid
                request.uid = before.uid
            }
        }
        // The mode the VFS decided on; after a chown, also the set-ID bits the VFS's rules keep
        // (the gofer's root chown clears more than a CAP_FSETID caller's would).
        var mode = update.mode
        if mode == nil && change.isOwnershipChange && !mine.isSymlink
            && UInt32(before.mode) & (FileMode.setUID | FileMode.setGID) != 0
        {
            mode = current.mode
        }
        if let mode, !mine.isSymlink {
            mask |= SetStatMask.mode
            request.mode = mode.permissions
        }
        func wire(_ t: TimeChange?) -> LISAFSTimespec? {
            switch t {
            case nil: return nil
            case .now: return LISAFSTimespec(sec: 0, nsec: GoferFilesystem.timeNow)
            case .set(let t): return LISAFSTimespec(sec: t.seconds, nsec: t.nanoseconds)
            }
        }
        if let atime = wire(change.accessTime) {
            mask |= SetStatMask.atime
            request.atime = atime
        }
        if let mtime = wire(change.modificationTime) {
            mask |= SetStatMask.mtime
            request.mtime = mtime
        }
        request.mask = mask
        invalidate(mine)
        guard mask != 0 else { return }
        let response = try call(request).response
        if response.failureMask != 0 {
            throw Errno(rawValue: Int32(bitPattern: response.failureErrno))
        }
    }

    /// Whether a size change must be sent. The gofer's SetStat truncates with ftruncate(2),
    /// which always stamps mtime and ctime, as ftruncate and O_TRUNC do in Linux
    /// (`StatChange.stampsTimes`). truncate(2) passes no time attributes: to the same size,
    /// Linux's tmpfs stamps only when the file has pages (shmem_truncate_range), other file
    /// systems not at all (Linux 6.18 on tmpfs: truncate to the same size of an empty file
    /// leaves both times, of a written one moves both). So such a truncate is left out
    /// unless the host is tmpfs and the file has blocks (one FStatFS to ask, then known).
    func sizeChangeReachesHost(
        _ dentry: GoferDentry, _ before: LISAFSStatx, _ change: StatChange, _ size: Int64
    ) throws(Errno) -> Bool {
        guard !change.stampsTimes, size == Int64(bitPattern: before.size) else { return true }
        guard before.blocks > 0 else { return false }
        if hostIsTmpfs.load(ordering: .relaxed) { return true }
        let type = try call(FStatFSRequest(fd: try controlFD(dentry))).response.type
        if type == 0x0102_1994 {  // TMPFS_MAGIC
            hostIsTmpfs.store(true, ordering: .relaxed)
            return true
        }
        return false
    }

    public func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] {
        let mine = try own(dentry)
        guard mine.isSymlink else { throw .invalidArgument }
        return try symlinkTarget(mine)
    }

    /// readlink read a link: its atime is stamped as for a walk that follows it
    /// (`noteSymlinkAccess`). For anything else, the cached attributes are marked stale (the
    /// gofer's host applies its own mount's atime rules).
    public func noteAccess(_ dentry: Dentry, mountFlags: MountFlags) {
        guard let mine = try? own(dentry) else { return }
        if mine.isSymlink {
            noteSymlinkAccess(mine, mountFlags: mountFlags)
        } else {
            mine.invalidate()
        }
    }

    public func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat {
        var mine = try own(dentry)
        if mine.isSynthetic { mine = rootDentry }
        let wire = try call(FStatFSRequest(fd: try controlFD(mine))).response
        var result = FilesystemStat()
        result.type = wire.type
        result.blockSize = wire.blockSize
        result.fragmentSize = wire.blockSize
        result.blocks = wire.blocks
        result.freeBlocks = wire.blocksFree
        result.availableBlocks = wire.blocksAvailable
        result.files = wire.files
        result.freeFiles = wire.filesFree
        result.nameLength = Int64(clamping: wire.nameLength)
        return result
    }

    // MARK: - Extended attributes

    /// XATTR_SIZE_MAX less one: the most a FGetXattr answer can carry (u16 length).
    static let xattrBufferSize: UInt32 = 65535

    public func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: false, file: try ownership(of: mine))
        if let synthetic = mine.synthetic {
            try GoferFilesystem.checkSyntheticNamespace(name)
            guard let value = synthetic.xattrs.withLock({ $0[name] }) else { throw .noData }
            return value
        }
        return try call(
            FGetXattrRequest(
                fd: try controlFD(mine), name: SizedString(bytes: name),
                bufSize: GoferFilesystem.xattrBufferSize)
        ).response.value.bytes
    }

    public func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: true, file: try ownership(of: mine))
        guard value.count <= Int(UInt16.max) else { throw .argListTooLong }
        if let synthetic = mine.synthetic {
            try GoferFilesystem.checkSyntheticNamespace(name)
            try synthetic.xattrs.withLock { (xattrs) throws(Errno) in
                let exists = xattrs[name] != nil
                if flags & 1 != 0 && exists { throw .fileExists }  // XATTR_CREATE
                if flags & 2 != 0 && !exists { throw .noData }  // XATTR_REPLACE
                xattrs[name] = value
            }
            mine.updateSynthetic { $0.ctime = GoferFilesystem.wireNow() }
            return
        }
        _ = try call(
            FSetXattrRequest(
                fd: try controlFD(mine), name: SizedString(bytes: name),
                value: SizedString(bytes: value), flags: UInt32(bitPattern: flags)))
        invalidate(mine)
    }

    /// The gofer's list, less trusted.* for a caller without CAP_SYS_ADMIN (the gofer, being
    /// privileged, sees them; Linux hides them from such callers).
    public func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    {
        let mine = try own(dentry)
        let names: [[UInt8]]
        if let synthetic = mine.synthetic {
            names = synthetic.xattrs.withLock { Array($0.keys) }.sorted { $0.lexicographicallyPrecedes($1) }
        } else {
            names = try call(FListXattrRequest(fd: try controlFD(mine), size: 65536)).response
                .xattrs.map(\.bytes)
        }
        if credentials.has(.sysAdmin) { return names }
        let trusted = Array("trusted.".utf8)
        return names.filter { !$0.starts(with: trusted) }
    }

    public func removeExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], credentials: Credentials
    ) throws(Errno) {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: true, file: try ownership(of: mine))
        if let synthetic = mine.synthetic {
            try GoferFilesystem.checkSyntheticNamespace(name)
            let removed = synthetic.xattrs.withLock { $0.removeValue(forKey: name) }
            guard removed != nil else { throw .noData }
            mine.updateSynthetic { $0.ctime = GoferFilesystem.wireNow() }
            return
        }
        _ = try call(FRemoveXattrRequest(fd: try controlFD(mine), name: SizedString(bytes: name)))
        invalidate(mine)
    }

    /// The namespaces tmpfs keeps for any file: security., trusted. and user. (whose
    /// restriction to regular files and directories `ExtendedAttributeRules` has applied);
    /// anything else is EOPNOTSUPP.
    static func checkSyntheticNamespace(_ name: [UInt8]) throws(Errno) {
        for prefix in ["security.", "trusted.", "user."] {
            let bytes = Array(prefix.utf8)
            if name.count > bytes.count && name.starts(with: bytes) { return }
        }
        throw .notSupported
    }
}
