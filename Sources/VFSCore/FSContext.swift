import Synchronization

/// A process's view of the file system: its credentials, root, working directory and umask,
/// with one method per path operation taking plain strings. Linux's `fs_struct` plus the
/// caller's `cred`. The syscall layer builds on it; tests and examples use it directly.
///
/// ```swift
/// let vfs = VirtualFilesystem()
/// let tmpfs = TmpfsFilesystem()
/// let namespace = vfs.makeNamespace(root: tmpfs, rootDentry: tmpfs.root)
/// let context = FSContext(vfs: vfs, namespace: namespace)
/// try context.makeDirectory("/etc")
/// try context.writeFile("/etc/motd", contents: Array("hello\n".utf8))
/// ```
///
/// Lock order: `state` is a leaf; it is released before any VFS call.
public final class FSContext: Sendable {
    public let vfs: VirtualFilesystem

    private struct State {
        var credentials: Credentials
        var root: PinnedLocation
        var cwd: PinnedLocation
        var umask: UInt32
        var namespace: MountNamespace
    }
    private let state: Mutex<State>

    public init(
        vfs: VirtualFilesystem, namespace: MountNamespace, credentials: Credentials = .root,
        umask: UInt32 = 0o022
    ) {
        self.vfs = vfs
        let root = PinnedLocation(namespace.rootLocation)
        self.state = Mutex(
            State(
                credentials: credentials.renewed(), root: root,
                cwd: PinnedLocation(namespace.rootLocation),
                umask: umask, namespace: namespace))
    }

    private init(vfs: VirtualFilesystem, state: State) {
        self.vfs = vfs
        self.state = Mutex(state)
    }

    /// A copy sharing nothing mutable (fork without CLONE_FS).
    public func copy() -> FSContext {
        FSContext(vfs: vfs, state: state.withLock { $0 })
    }

    /// Setting credentials makes a new cred object (a new `serial`), as every set*id call
    /// does in Linux, even when the ids do not change.
    public var credentials: Credentials {
        get { state.withLock { $0.credentials } }
        set { state.withLock { $0.credentials = newValue.renewed() } }
    }

    public var umask: UInt32 {
        get { state.withLock { $0.umask } }
        set { state.withLock { $0.umask = newValue & 0o777 } }
    }

    /// umask(2): sets the mask (its 0777 bits) and returns the old one, in one step, so tasks
    /// sharing this context (CLONE_FS) each see a consistent old value.
    public func exchangeUmask(_ mask: UInt32) -> UInt32 {
        state.withLock { state in
            let old = state.umask
            state.umask = mask & 0o777
            return old
        }
    }

    public var root: VirtualDentry { state.withLock { $0.root.location } }
    /// The mount namespace this context's root and cwd live in.
    public var namespace: MountNamespace { state.withLock { $0.namespace } }
    public var workingDirectory: VirtualDentry { state.withLock { $0.cwd.location } }

    /// The operation a path names from here: absolute from the root, relative from the cwd
    /// (or from `directory`, as for a dirfd).
    public func operation(
        _ path: String, from directory: VirtualDentry? = nil, followFinalSymlink: Bool = true
    ) -> PathOperation {
        operation(Array(path.utf8), from: directory, followFinalSymlink: followFinalSymlink)
    }

    public func operation(
        _ path: [UInt8], from directory: VirtualDentry? = nil, followFinalSymlink: Bool = true
    ) -> PathOperation {
        let (root, cwd) = state.withLock { ($0.root.location, $0.cwd.location) }
        return PathOperation(
            root: root, start: directory ?? cwd, path: path,
            followFinalSymlink: followFinalSymlink)
    }

    // MARK: - Working directory and root

    /// chdir(2): ENOTDIR unless a directory, EACCES without search permission on it.
    public func changeDirectory(_ path: String) throws(Errno) {
        let place = try vfs.getDentry(credentials, operation(path))
        try setWorkingDirectory(place)
    }

    /// fchdir(2) and the second half of chdir(2).
    public func setWorkingDirectory(_ place: VirtualDentry) throws(Errno) {
        guard place.dentry.isDirectory else { throw .notDirectory }
        let ownership = try place.mount.filesystem.ownership(place.dentry)
        try Permissions.check(credentials, .execute, ownership)
        let pinned = PinnedLocation(place)
        state.withLock { $0.cwd = pinned }
    }

    /// chroot(2): EPERM without CAP_SYS_CHROOT; the cwd stays where it is, as in Linux.
    public func changeRoot(_ path: String) throws(Errno) {
        let place = try vfs.getDentry(credentials, operation(path))
        try setRoot(place)
    }

    /// The second half of chroot(2), for a place already looked up: ENOTDIR unless a
    /// directory, EACCES without search permission on it, then EPERM without CAP_SYS_CHROOT.
    public func setRoot(_ place: VirtualDentry) throws(Errno) {
        guard place.dentry.isDirectory else { throw .notDirectory }
        let ownership = try place.mount.filesystem.ownership(place.dentry)
        try Permissions.check(credentials, .execute, ownership)
        guard credentials.has(.sysChroot) else { throw .notPermitted }
        let pinned = PinnedLocation(place)
        state.withLock { $0.root = pinned }
    }

    /// getcwd(2): ENOENT once the working directory has been removed; ENAMETOOLONG when the
    /// path and its NUL pass PATH_MAX (Linux 6.18: 4095 bytes are returned, 4096 are not).
    public func currentDirectoryPath() throws(Errno) -> String {
        let (cwd, root) = state.withLock { ($0.cwd.location, $0.root.location) }
        let path = try vfs.pathname(of: cwd, root: root)
        guard path.count < ResolvingPath.pathMax else { throw .fileNameTooLong }
        return String(decoding: path, as: UTF8.self)
    }

    /// Moves root and cwd into a cloned namespace (unshare(CLONE_NEWNS)).
    public func enterNamespace(
        _ namespace: MountNamespace, translate: (VirtualDentry) -> VirtualDentry
    ) {
        state.withLock {
            $0.namespace = namespace
            $0.root = PinnedLocation(translate($0.root.location))
            $0.cwd = PinnedLocation(translate($0.cwd.location))
        }
    }

    // MARK: - Path operations, umask applied

    public func makeDirectory(_ path: String, mode: UInt32 = 0o777) throws(Errno) {
        try vfs.makeDirectory(credentials, operation(path), mode: mode & ~umask)
    }

    public func makeNode(_ path: String, mode: UInt32, device: UInt64 = 0) throws(Errno) {
        let permissions = (mode & 0o7777) & ~umask
        try vfs.makeNode(
            credentials, operation(path), mode: (mode & FileMode.typeMask) | permissions,
            device: device)
    }

    public func makeSymlink(target: String, at path: String) throws(Errno) {
        try vfs.makeSymlink(credentials, target: Array(target.utf8), operation(path))
    }

    public func makeLink(existing: String, new: String, followSymlink: Bool = false) throws(Errno) {
        try vfs.makeLink(
            credentials, existing: operation(existing, followFinalSymlink: followSymlink),
            new: operation(new))
    }

    public func unlink(_ path: String) throws(Errno) {
        try vfs.unlink(credentials, operation(path))
    }

    public func removeDirectory(_ path: String) throws(Errno) {
        try vfs.removeDirectory(credentials, operation(path))
    }

    public func rename(_ old: String, to new: String, flags: RenameFlags = []) throws(Errno) {
        try vfs.rename(credentials, from: operation(old), to: operation(new), flags: flags)
    }

    public func open(_ path: String, flags: Int32, mode: UInt32 = 0o666) throws(Errno)
        -> FileDescription
    {
        try vfs.open(
            credentials, operation(path), options: OpenOptions(flags: flags), mode: mode & ~umask)
    }

    public func stat(_ path: String, followSymlink: Bool = true) throws(Errno) -> FileStat {
        try vfs.stat(credentials, operation(path, followFinalSymlink: followSymlink))
    }

    public func readSymlink(_ path: String) throws(Errno) -> String {
        String(decoding: try vfs.readSymlink(credentials, operation(path)), as: UTF8.self)
    }

    public func changeMode(_ path: String, _ mode: UInt32, followSymlink: Bool = true)
        throws(Errno)
    {
        try vfs.setStat(
            credentials, operation(path, followFinalSymlink: followSymlink), StatChange(mode: mode))
    }

    public func changeOwner(
        _ path: String, uid: UInt32?, gid: UInt32?, followSymlink: Bool = true
    ) throws(Errno) {
        try vfs.setStat(
            credentials, operation(path, followFinalSymlink: followSymlink),
            .chown(uid: uid, gid: gid))
    }

    public func setTimes(_ path: String, access: TimeChange?, modification: TimeChange?)
        throws(Errno)
    {
        try vfs.setStat(
            credentials, operation(path),
            StatChange(accessTime: access, modificationTime: modification))
    }

    public func truncate(_ path: String, size: Int64) throws(Errno) {
        try vfs.truncate(credentials, operation(path), size: size)
    }

    public func access(_ path: String, _ mask: AccessMask) throws(Errno) {
        try vfs.access(credentials, operation(path), mask: mask)
    }

    // MARK: - Conveniences for whole files and directories

    /// Creates or replaces a file's contents (O_WRONLY|O_CREAT|O_TRUNC, then writes).
    public func writeFile(_ path: String, contents: [UInt8], mode: UInt32 = 0o666) throws(Errno) {
        let file = try open(
            path, flags: OpenOptions.writeOnly | OpenOptions.create | OpenOptions.truncate,
            mode: mode)
        var written = 0
        while written < contents.count {
            let result = contents.withUnsafeBytes { bytes in
                Result { () throws(Errno) -> Int in
                    try file.write(
                        from: UnsafeRawBufferPointer(rebasing: bytes[written...]),
                        credentials: credentials)
                }
            }
            let count = try result.get()
            guard count > 0 else { throw .noSpace }
            written += count
        }
    }

    /// The whole contents of a file.
    public func readFile(_ path: String) throws(Errno) -> [UInt8] {
        let file = try open(path, flags: OpenOptions.readOnly)
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let outcome = chunk.withUnsafeMutableBytes { buffer in
                Result { () throws(Errno) -> Int in try file.read(into: buffer) }
            }
            let count = try outcome.get()
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// The names in a directory, without `.` and `..`, in readdir order.
    public func listDirectory(_ path: String) throws(Errno) -> [String] {
        let file = try open(path, flags: OpenOptions.readOnly | OpenOptions.directory)
        var names: [String] = []
        try file.readDirectory { entry in
            if !entry.name.isDot && !entry.name.isDotDot { names.append(entry.name.description) }
            return true
        }
        return names
    }

    // MARK: - Mounts

    /// Mounts `filesystem` at `path` (EPERM without CAP_SYS_ADMIN).
    @discardableResult
    public func mount(_ filesystem: any FilesystemImpl, root: Dentry, at path: String,
        flags: MountFlags = []) throws(Errno) -> Mount
    {
        guard credentials.has(.sysAdmin) else { throw .notPermitted }
        let target = try vfs.getDentry(credentials, operation(path))
        return try vfs.mount(filesystem, root: root, flags: flags, at: target)
    }

    /// A bind mount of `source` at `target`.
    @discardableResult
    public func bindMount(_ source: String, at target: String, recursive: Bool = false,
        readOnly: Bool = false) throws(Errno) -> Mount
    {
        guard credentials.has(.sysAdmin) else { throw .notPermitted }
        let from = try vfs.getDentry(credentials, operation(source))
        let to = try vfs.getDentry(credentials, operation(target))
        var flags = from.mount.flags
        if readOnly { flags.insert(.readOnly) }
        return try vfs.bindMount(from, at: to, recursive: recursive, flags: flags)
    }

    /// umount2(2): EINVAL unless `path` is the root of a mount.
    public func unmount(_ path: String, detach: Bool = false) throws(Errno) {
        guard credentials.has(.sysAdmin) else { throw .notPermitted }
        let place = try vfs.getDentry(credentials, operation(path))
        guard place.dentry === place.mount.root else { throw .invalidArgument }
        try vfs.unmount(place.mount, detach: detach)
    }
}
