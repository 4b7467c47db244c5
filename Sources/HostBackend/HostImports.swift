import HostSyscalls
import Synchronization
import VFSCore

/// Imported host fds (gVisor's hostfs): stdin, stdout, stderr, a pipe or a host file handed
/// to the sandbox as a `FileDescription` a task can install in its fd table.
///
/// Each import sits on a dentry of a hidden file system mounted nowhere (no path leads to
/// it, as Linux's anonymous inodes). Its stat is the host fd's fstat (statx AT_EMPTY_PATH);
/// its I/O is the host object's: a regular file (or block device) is seekable and read and
/// written at the description's offset with pread/pwrite (the offset starts where the host
/// fd's offset stood); anything the host cannot lseek (a pipe, a tty, a socket) is a stream:
/// read and write go straight to the host fd, and pread, pwrite and lseek are ESPIPE. The
/// access mode and O_APPEND / O_NONBLOCK come from the host fd's F_GETFL.
public final class HostImports: @unchecked Sendable {
    let filesystem: ImportedHostFilesystem
    public let mount: Mount

    public init(vfs: VirtualFilesystem) {
        let filesystem = ImportedHostFilesystem()
        self.filesystem = filesystem
        self.mount = vfs.makeNamespace(root: filesystem, rootDentry: filesystem.rootDentry).root
    }

    /// A description for a *copy* of `fd` (F_DUPFD_CLOEXEC): the caller keeps its own fd.
    public func importDescription(duplicating fd: Int32, credentials: Credentials = .root)
        throws(Errno) -> FileDescription
    {
        try importDescription(adopting: try HostFD.duplicating(fd), credentials: credentials)
    }

    /// A description that owns `fd` (closed when the description goes away).
    public func importDescription(adopting fd: HostFD, credentials: Credentials = .root)
        throws(Errno) -> FileDescription
    {
        let stat = try HostSyscall.statx(fd.rawValue)
        let status = Int32(truncatingIfNeeded: try HostSyscall.fcntl(fd.rawValue, 3))  // F_GETFL
        if status & HostOpenFlags.path == HostOpenFlags.path { throw .badFileDescriptor }
        let dentry = ImportedHostDentry(fd: fd, stat: stat)
        var seekable = true
        var offset: Int64 = 0
        do {
            offset = try HostSyscall.lseek(fd.rawValue, 0, whence: 1)
        } catch {
            if error != .illegalSeek { throw error }
            seekable = false
        }
        let impl: any FileDescriptionImpl
        switch dentry.fileType {
        case .directory:
            impl = HostDirectoryFile(fd: fd)
        case .regular,
            .blockDevice where seekable:
            impl = ImportedSeekableFile(fd: fd)
        default:
            impl = seekable ? ImportedSeekableFile(fd: fd) : HostStreamFile(fd: fd)
        }
        let kept =
            OpenOptions.accessModeMask | OpenOptions.append | OpenOptions.nonBlocking
            | OpenOptions.noAccessTime | OpenOptions.sync | OpenOptions.dataSync
        let description = FileDescription(
            location: VirtualDentry(mount: mount, dentry: dentry), impl: impl,
            flags: OpenOptions(flags: status & kept), credentials: credentials)
        if seekable && offset > 0 && dentry.fileType != .directory {
            _ = try description.seek(offset, whence: .set)
        }
        return description
    }
}

final class ImportedHostDentry: Dentry, @unchecked Sendable {
    let fd: HostFD
    init(fd: HostFD, stat: HostStat) {
        self.fd = fd
        super.init(fileType: FileType(rawValue: stat.fileTypeBits) ?? .regular)
    }
}

/// A seekable imported file: pread/pwrite at the core's offset; appends through
/// pwritev2(RWF_APPEND).
final class ImportedSeekableFile: FileDescriptionImpl {
    let fd: HostFD
    init(fd: HostFD) { self.fd = fd }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(Errno) -> Int {
        try HostSyscall.pread(fd.rawValue, into: buffer, at: offset)
    }

    func write(
        from buffer: UnsafeRawBufferPointer, at offset: Int64, append: Bool,
        credentials: Credentials
    ) throws(Errno) -> (count: Int, end: Int64) {
        if append {
            let count = try HostSyscall.pwritev2(fd.rawValue, from: buffer, at: -1, flags: 0x10)
            return (count, try HostSyscall.lseek(fd.rawValue, 0, whence: 1))
        }
        let count = try HostSyscall.pwrite(fd.rawValue, from: buffer, at: offset)
        return (count, offset + Int64(count))
    }

    func endOffset() throws(Errno) -> Int64 { try HostSyscall.statx(fd.rawValue).size }

    func seekDataOrHole(_ whence: SeekWhence, from offset: Int64) throws(Errno) -> Int64 {
        try HostSyscall.lseek(fd.rawValue, offset, whence: whence.rawValue)
    }

    func allocate(
        mode: AllocateMode, offset: Int64, length: Int64, credentials: Credentials
    ) throws(Errno) {
        try HostSyscall.fallocate(fd.rawValue, mode: mode.rawValue, offset: offset, length: length)
    }

    func sync(dataOnly: Bool) throws(Errno) {
        try HostSyscall.fsync(fd.rawValue, dataOnly: dataOnly)
    }
}

/// The hidden file system of imported fds: a root directory with nothing in it; every other
/// dentry is an import, reached only through its description.
final class ImportedHostFilesystem: NamelessFilesystem, @unchecked Sendable {
    let typeName = "hostfs-import"
    let rootDentry = Dentry(fileType: .directory)

    private func own(_ dentry: Dentry) throws(Errno) -> ImportedHostDentry {
        guard let mine = dentry as? ImportedHostDentry else { throw .badFileDescriptor }
        return mine
    }

    // Walks, creation and removal: NamelessFilesystem's defaults.

    func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        if dentry === rootDentry {
            var stat = FileStat()
            stat.mode = FileMode(.directory, permissions: 0o700)
            stat.nlink = 2
            return stat
        }
        let host = try HostSyscall.statx(try own(dentry).fd.rawValue)
        var stat = FileStat()
        stat.mask = StatxMask(rawValue: host.mask & 0xfff)
        stat.blockSize = host.blockSize
        stat.nlink = host.nlink
        stat.uid = host.uid
        stat.gid = host.gid
        stat.mode = FileMode(rawValue: host.mode)
        stat.inode = host.inode
        stat.size = host.size
        stat.blocks = host.blocks
        stat.accessTime = Timespec(
            seconds: host.accessTime.seconds, nanoseconds: Int64(host.accessTime.nanoseconds))
        stat.birthTime = Timespec(
            seconds: host.birthTime.seconds, nanoseconds: Int64(host.birthTime.nanoseconds))
        stat.changeTime = Timespec(
            seconds: host.changeTime.seconds, nanoseconds: Int64(host.changeTime.nanoseconds))
        stat.modificationTime = Timespec(
            seconds: host.modificationTime.seconds,
            nanoseconds: Int64(host.modificationTime.nanoseconds))
        stat.rdev = host.rdev
        stat.dev = host.dev
        return stat
    }

    func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        let stat = try stat(dentry, mask: .basicStats)
        return Ownership(mode: stat.mode, uid: stat.uid, gid: stat.gid)
    }

    /// fchmod, fchown, ftruncate, futimens of the host object, after the VFS's checks.
    func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials) throws(Errno) {
        let fd = try own(dentry).fd.rawValue
        let update = try change.validate(
            against: try ownership(dentry), credentials: credentials,
            now: Timespec(seconds: 0, nanoseconds: 0))
        if let size = change.size { try HostSyscall.ftruncate(fd, size) }
        if change.isOwnershipChange {
            try HostSyscall.fchownat(
                fd, [], uid: change.uid, gid: change.gid, flags: HostAtFlags.emptyPath)
        }
        if let mode = update.mode { try HostSyscall.fchmod(fd, mode: mode.permissions) }
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
                modification: setting(change.modificationTime), flags: HostAtFlags.emptyPath)
        }
    }

    func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] { throw .invalidArgument }

    func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat {
        let host = try HostSyscall.fstatfs(try own(dentry).fd.rawValue)
        var result = FilesystemStat()
        result.type = UInt64(bitPattern: host.type)
        result.blockSize = host.blockSize
        result.blocks = host.blocks
        result.freeBlocks = host.freeBlocks
        result.availableBlocks = host.availableBlocks
        result.files = host.files
        result.freeFiles = host.freeFiles
        result.nameLength = host.nameLength
        result.fragmentSize = host.fragmentSize
        result.flags = UInt64(bitPattern: host.flags)
        return result
    }

    func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? { nil }

    func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: false, file: try ownership(dentry))
        return try HostSyscall.getxattr(.fd(mine.fd.rawValue), name: name)
    }
    func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: true, file: try ownership(dentry))
        try HostSyscall.setxattr(.fd(mine.fd.rawValue), name: name, value: value, flags: flags)
    }
    func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    {
        let names = try HostSyscall.listxattr(.fd(try own(dentry).fd.rawValue))
        if credentials.has(.sysAdmin) { return names }
        let trusted = Array("trusted.".utf8)
        return names.filter { !$0.starts(with: trusted) }
    }
    func removeExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno)
    {
        let mine = try own(dentry)
        try ExtendedAttributeRules.checkPermission(
            credentials, name: name, writing: true, file: try ownership(dentry))
        try HostSyscall.removexattr(.fd(mine.fd.rawValue), name: name)
    }
}
