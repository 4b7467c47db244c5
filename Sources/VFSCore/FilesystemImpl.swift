/// A file system the VFS can mount: tmpfs, the gofer client, a host directory.
///
/// Resolution is delegated: the core calls `walk` with a `ResolvingPath` positioned in this
/// file system, and the file system consumes every component it can before returning (tmpfs
/// from memory; the gofer with one Walk RPC for all uncached components). It must return to the
/// core at exactly three events, described by `WalkStop`.
///
/// Contract for every method that takes a `ResolvingPath`:
/// - The core has already resolved the whole path up to the parent of the final component
///   (`rp.current`), and has already rejected final components the operation cannot take
///   (`/`, `.`, `..`) with Linux's errno. The file system looks the final name up itself.
/// - Errors are checked in Linux's order (namei.c): lookup result (EEXIST / ENOENT), then the
///   mount's writability (`rp.mount.checkWritable()`, EROFS) where Linux checks it after the
///   lookup, then permissions (EACCES / EPERM), then space (ENOSPC).
/// - Modes arrive with the umask already applied by the caller's layer.
public protocol FilesystemImpl: AnyObject, Sendable {
    /// The type name `/proc/mounts` would show ("tmpfs").
    var typeName: String { get }

    /// Consume components of `rp` from `rp.current`; see `WalkStop`. Before each component:
    /// ENOTDIR unless the current dentry is a directory, then `rp.checkSearchPermission`.
    /// When `rp.stopsAtParent`, stop (returning `.done`) with the final component pending.
    func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop

    // MARK: Operations on a parent directory and a final name

    func makeDirectory(_ rp: ResolvingPath, name: Name, mode: FileMode) throws(Errno)
    /// Regular files, FIFOs, sockets and device nodes; `mode` carries the type.
    func makeNode(_ rp: ResolvingPath, name: Name, mode: FileMode, device: UInt64) throws(Errno)
    func makeSymlink(_ rp: ResolvingPath, name: Name, target: [UInt8]) throws(Errno)
    /// A new name for `existing`; call `VirtualFilesystem.checkLinkable` after the EEXIST and
    /// EROFS checks (it gives EXDEV across mounts).
    func makeLink(_ rp: ResolvingPath, name: Name, existing: VirtualDentry) throws(Errno)
    func unlink(_ rp: ResolvingPath, name: Name) throws(Errno)
    func removeDirectory(_ rp: ResolvingPath, name: Name) throws(Errno)
    /// Both paths stand at their parents on the same mount. With RENAME_WHITEOUT a file
    /// system leaves a whiteout (a character device 0:0) at the old name, as overlayfs's
    /// lower layers need; one that cannot answers EINVAL.
    func rename(
        from: ResolvingPath, name oldName: Name, to: ResolvingPath, name newName: Name,
        flags: RenameFlags
    ) throws(Errno)
    /// open(O_CREAT) of the final name: creates it, or finds what is there. A symlink found
    /// there and to be followed is returned for the core to follow.
    func openOrCreate(
        _ rp: ResolvingPath, name: Name, options: OpenOptions, mode: FileMode
    ) throws(Errno) -> CreateOutcome
    /// O_TMPFILE: an unnamed regular file in the directory `rp.current`; `linkable` unless
    /// O_EXCL was given (then linkat can never name it).
    func makeTemporaryFile(_ rp: ResolvingPath, mode: FileMode, linkable: Bool) throws(Errno)
        -> Dentry

    // MARK: Operations on a resolved dentry

    /// Opens a resolved file. Permission to open has been checked by the core.
    func open(
        _ location: VirtualDentry, options: OpenOptions, credentials: Credentials
    ) throws(Errno) -> any FileDescriptionImpl
    func stat(_ dentry: Dentry, mask: StatxMask) throws(Errno) -> FileStat
    /// The attributes permission checks depend on, cheaper than `stat`.
    func ownership(_ dentry: Dentry) throws(Errno) -> Ownership
    func setStat(_ dentry: Dentry, _ change: StatChange, credentials: Credentials) throws(Errno)
    func readSymlink(_ dentry: Dentry) throws(Errno) -> [UInt8]
    /// See the extension's default: a file system with atimes stamps `dentry` under the
    /// relatime/noatime/strictatime rules of `mountFlags`.
    func noteAccess(_ dentry: Dentry, mountFlags: MountFlags)
    func statFilesystem(_ dentry: Dentry) throws(Errno) -> FilesystemStat
    /// Where a dentry is in its tree, for getcwd and /proc paths: its parent and name, or nil at
    /// the file system's root or once deleted.
    func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)?

    func getExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno) -> [UInt8]
    func setExtendedAttribute(
        _ dentry: Dentry, name: [UInt8], value: [UInt8], flags: Int32, credentials: Credentials
    ) throws(Errno)
    func listExtendedAttributes(_ dentry: Dentry, credentials: Credentials) throws(Errno)
        -> [[UInt8]]
    func removeExtendedAttribute(_ dentry: Dentry, name: [UInt8], credentials: Credentials)
        throws(Errno)
    /// The superblock is read-only (SB_RDONLY: a file system mounted or remounted with
    /// MS_RDONLY). Linux checks it in `inode_permission` before the permission bits, so a
    /// write-access check is EROFS there even for a caller without write permission.
    var superblockIsReadOnly: Bool { get }

    // MARK: Unix sockets (defaults and the VFS entry points in UnixSockets.swift)

    /// connect(2) to the socket file `dentry` (the core has checked write permission and the
    /// type): a connected host socket. Default: ECONNREFUSED.
    func connectUnixSocket(_ dentry: Dentry, type: UnixSocketType, credentials: Credentials)
        throws(Errno) -> HostSocket
    /// bind(2) at the final name: makes the socket file (mknod's checks; EEXIST becomes
    /// EADDRINUSE in the core) and returns the bound host socket. Default: EOPNOTSUPP.
    func bindUnixSocket(_ rp: ResolvingPath, name: Name, mode: FileMode, type: UnixSocketType)
        throws(Errno) -> any BoundUnixSocket
}

extension FilesystemImpl {
    public var superblockIsReadOnly: Bool { false }
    /// Stamps a file's atime for an access the core performed on it (readlink), under the
    /// mount's atime rules. File systems without access times ignore it.
    public func noteAccess(_ dentry: Dentry, mountFlags: MountFlags) {}
}

/// renameat2 flags.
public struct RenameFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let noReplace = RenameFlags(rawValue: 1)
    public static let exchange = RenameFlags(rawValue: 2)
    public static let whiteout = RenameFlags(rawValue: 4)
}

public enum CreateOutcome {
    /// A new file was made.
    case created(Dentry)
    /// The name existed (and O_EXCL was not given).
    case existing(Dentry)
}
