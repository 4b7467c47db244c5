import HostSyscalls
import VFSCore

/// stat, setStat, readlink, statfs and the xattr calls, each on the dentry's own fd.
extension HostFilesystem {
    public func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        try hostOwnership(try own(dentry))
    }

    public func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        let host = try hostStat(try own(dentry))
        var stat = FileStat()
        stat.mask = StatxMask(
            rawValue: host.mask & (StatxMask.basicStats.rawValue | StatxMask.btime.rawValue))
        stat.blockSize = host.blockSize
        stat.nlink = host.nlink
        stat.uid = host.uid
        stat.gid = host.gid
        stat.mode = FileMode(rawValue: host.mode)
        stat.inode = host.inode
        stat.size = host.size
        stat.blocks = host.blocks
        func time(_ t: HostTimestamp) -> Timespec {
            Timespec(seconds: t.seconds, nanoseconds: Int64(t.nanoseconds))
        }
        stat.accessTime = time(host.accessTime)
        stat.birthTime = time(host.birthTime)
        stat.changeTime = time(host.changeTime)
        stat.modificationTime = time(host.modificationTime)
        stat.rdev = host.rdev
        stat.dev = host.dev
        return stat
    }

    /// `notify_change` on the host: the change is validated by the VFS's rules against the
    /// attributes the host reports, then applied as root with fd-based calls: the size (with
    /// ftruncate on a write fd reopened from the dentry when the change stamps times as
    /// ftruncate and O_TRUNC do, else truncate of the /proc path, which stamps only a real
    /// change, as truncate(2) does), the owner (fchownat AT_EMPTY_PATH), the mode
    /// (fchmodat2 AT_EMPTY_PATH; after the chown, whose set-ID clearing the validated mode
    /// already accounts for), then the times (utimensat AT_EMPTY_PATH; "now" left to the
    /// host's clock). ctime is the host's.
    public func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials)
        throws(Errno)
    {
        let mine = try own(dentry)
        if options.readOnly { throw .readOnlyFileSystem }
        let before = try hostStat(mine)
        let current = ownership(of: before)
        let update = try change.validate(
            against: current, credentials: credentials, now: Timespec(seconds: 0, nanoseconds: 0))
        let fd = mine.fd.rawValue
        if let size = change.size {
            if mine.isDirectory { throw .isDirectory }
            guard mine.fileType == .regular else { throw .invalidArgument }
            // As the caller: without CAP_FSETID the host clears set-ID bits itself, with
            // Linux's exact timestamps (a same-size truncate strips them without a ctime).
            try asCaller(credentials) { () throws(Errno) in
                if change.stampsTimes {
                    let writable = try HostSyscall.reopen(mine.fd, flags: HostOpenFlags.writeOnly)
                    try HostSyscall.ftruncate(writable.rawValue, size)
                } else {
                    try HostSyscall.truncate(mine.fd.procPath, size)
                }
            }
        }
        if change.isOwnershipChange {
            try HostSyscall.fchownat(
                fd, [], uid: change.uid, gid: change.gid,
                flags: HostAtFlags.emptyPath | HostAtFlags.symlinkNoFollow)
        }
        // The mode the VFS decided on; after a chown, also put back set-ID bits the host
        // cleared that the VFS's rules keep (root's chown on the host clears more than a
        // CAP_FSETID caller's would).
        // A size-only change's set-ID stripping was the host's (above).
        let onlySize =
            change.mode == nil && !change.isOwnershipChange && change.accessTime == nil
            && change.modificationTime == nil
        var mode = change.size != nil && onlySize ? nil : update.mode
        if mode == nil && change.isOwnershipChange && !mine.isSymlink
            && before.mode & (FileMode.setUID | FileMode.setGID) != 0
        {
            mode = current.mode
        }
        if let mode, !mine.isSymlink {
            try HostSyscall.fchmodat(
                fd, [], mode: mode.permissions, flags: HostAtFlags.emptyPath)
        }
        if change.accessTime != nil || change.modificationTime != nil {
            func setting(_ t: TimeChange?) -> HostSyscall.TimeSetting {
                switch t {
                case nil: return .omit
                case .now: return .now
                case .set(let t): return .set(seconds: t.seconds, nanoseconds: t.nanoseconds)
                }
            }
            try HostSyscall.utimensat(
                fd, [], access: setting(change.accessTime),
                modification: setting(change.modificationTime),
                flags: HostAtFlags.emptyPath | HostAtFlags.symlinkNoFollow)
        }
    }

    public func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] {
        let mine = try own(dentry)
        guard mine.isSymlink else { throw .invalidArgument }
        return try HostSyscall.readlinkat(mine.fd.rawValue, [])
    }

    public func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat {
        let host = try HostSyscall.fstatfs(try own(dentry).fd.rawValue)
        var result = FilesystemStat()
        result.type = UInt64(bitPattern: host.type)
        result.blockSize = host.blockSize
        result.blocks = host.blocks
        result.freeBlocks = host.freeBlocks
        result.availableBlocks = host.availableBlocks
        result.files = host.files
        result.freeFiles = host.freeFiles
        result.fsid = host.fsid
        result.nameLength = host.nameLength
        result.fragmentSize = host.fragmentSize
        result.flags = UInt64(bitPattern: host.flags)
        if options.readOnly { result.flags |= 1 }  // ST_RDONLY
        return result
    }

    // MARK: - Extended attributes

    /// On the file the dentry's O_PATH fd stands for, through /proc/self/fd (Linux 6.18 has
    /// no xattr call that takes an O_PATH fd).
    private func xattrTarget(_ dentry: HostDentry) -> HostXattrTarget {
        .procPath(of: dentry.fd)
    }

    public func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: false, file: try hostOwnership(mine))
        return try HostSyscall.getxattr(xattrTarget(mine), name: name)
    }

    public func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) {
        let mine = try own(dentry)
        if options.readOnly { throw .readOnlyFileSystem }
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: true, file: try hostOwnership(mine))
        try HostSyscall.setxattr(xattrTarget(mine), name: name, value: value, flags: flags)
    }

    /// The host's list, less trusted.* for a caller without CAP_SYS_ADMIN (the host process,
    /// being root, sees them; Linux hides them from such callers).
    public func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    {
        let mine = try own(dentry)
        let names = try HostSyscall.listxattr(xattrTarget(mine))
        if credentials.has(.sysAdmin) { return names }
        let trusted = Array("trusted.".utf8)
        return names.filter { !$0.starts(with: trusted) }
    }

    public func removeExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], credentials: Credentials
    ) throws(Errno) {
        let mine = try own(dentry)
        if options.readOnly { throw .readOnlyFileSystem }
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: true, file: try hostOwnership(mine))
        try HostSyscall.removexattr(xattrTarget(mine), name: name)
    }
}
