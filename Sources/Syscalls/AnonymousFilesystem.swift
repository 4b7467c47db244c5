import Synchronization
import VFSCore

/// The file system behind pipes: every pipe end's description sits on a dentry here, mounted
/// nowhere, like Linux's pipefs. No path leads into it, so its path operations are only ever
/// reached by mistake and answer as a directory with nothing in it would.
final class AnonymousFilesystem: NamelessFilesystem, @unchecked Sendable {
    let typeName = "pipefs"
    let root: AnonymousDentry
    private let lastInode = Atomic<UInt64>(1)
    /// PIPEFS_MAGIC.
    static let magic: UInt64 = 0x5049_5045

    final class AnonymousDentry: Dentry, @unchecked Sendable {
        let inode: UInt64
        let stat: Mutex<FileStat>
        init(type: FileType, inode: UInt64, stat: FileStat) {
            self.inode = inode
            self.stat = Mutex(stat)
            super.init(fileType: type)
        }
    }

    init() {
        var stat = FileStat()
        stat.mode = FileMode(.directory, permissions: 0o700)
        stat.nlink = 2
        stat.inode = 1
        root = AnonymousDentry(type: .directory, inode: 1, stat: stat)
    }

    /// A dentry for a new pipe, owned by `credentials`, stamped `now`.
    func makePipeDentry(credentials: Credentials, now: Timespec) -> AnonymousDentry {
        let number = lastInode.add(1, ordering: .relaxed).newValue
        var stat = FileStat()
        stat.mode = FileMode(.fifo, permissions: 0o600)
        stat.inode = number
        stat.uid = credentials.uid
        stat.gid = credentials.gid
        stat.accessTime = now
        stat.modificationTime = now
        stat.changeTime = now
        stat.dev = 0x0d
        return AnonymousDentry(type: .fifo, inode: number, stat: stat)
    }

    private func own(_ dentry: Dentry) throws(Errno) -> AnonymousDentry {
        guard let mine = dentry as? AnonymousDentry else { throw .improperLink }
        return mine
    }

    // Walks, creation and removal: NamelessFilesystem's defaults.

    func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat {
        try own(dentry).stat.withLock { $0 }
    }
    func ownership(_ dentry: Dentry) throws(Errno) -> Ownership {
        let stat = try own(dentry).stat.withLock { $0 }
        return Ownership(mode: stat.mode, uid: stat.uid, gid: stat.gid)
    }
    /// fchmod/fchown/futimens on a pipe change its inode as on Linux, and stamp its ctime
    /// with the current time (Linux 6.18: fchmod or fchown of a pipe end moves the ctime both
    /// ends' fstat shows).
    func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials) throws(Errno)
    {
        let node = try own(dentry)
        let now = RealtimeClock().now()
        try node.stat.withLock { (stat) throws(Errno) in
            if change.size != nil { throw Errno.invalidArgument }
            let update = try change.validate(
                against: Ownership(mode: stat.mode, uid: stat.uid, gid: stat.gid),
                credentials: credentials, now: now)
            if let mode = update.mode { stat.mode = mode }
            if let uid = update.uid { stat.uid = uid }
            if let gid = update.gid { stat.gid = gid }
            if let atime = update.accessTime { stat.accessTime = atime }
            if let mtime = update.modificationTime { stat.modificationTime = mtime }
            stat.changeTime = update.changeTime
        }
    }
    func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8] { throw .invalidArgument }
    func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat {
        var result = FilesystemStat()
        result.type = AnonymousFilesystem.magic
        return result
    }
    func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? { nil }
    func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    { throw .notSupported }
    func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno) { throw .notSupported }
    func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    { [] }
    func removeExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno)
    { throw .notSupported }
}
