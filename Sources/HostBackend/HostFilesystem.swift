import HostSyscalls
import Synchronization
import VFSCore

/// How a `HostFilesystem` trusts what it has cached.
public enum HostCachingMode: Sendable, Hashable {
    /// The sandbox owns the tree: a cached dentry is used as it is.
    case exclusive
    /// Others may change the tree on the host: before a cached dentry is used, the name is
    /// statted again and the dentry dropped unless it still names the same inode with the
    /// same type. Nothing negative is cached in either mode.
    case shared
}

public struct HostOptions: Sendable, Hashable {
    public var caching: HostCachingMode
    /// Every modification is EROFS (statfs reports ST_RDONLY). Mount the file system with
    /// `MountFlags.readOnly` too, so the core's own EROFS checks come in Linux's order.
    public var readOnly: Bool
    /// The most unreferenced dentries (each an O_PATH fd) kept cached.
    public var dentryCacheLimit: Int

    public init(
        caching: HostCachingMode = .exclusive, readOnly: Bool = false, dentryCacheLimit: Int = 1024
    ) {
        self.caching = caching
        self.readOnly = readOnly
        self.dentryCacheLimit = dentryCacheLimit
    }
}

/// Direct, confined access to a host directory: gVisor's "directfs" idea, the sandbox making
/// fd-relative host syscalls itself instead of asking a gofer.
///
/// Confinement: the host kernel never resolves more than one name, and never follows a
/// symlink. Each walk step is `openat2(parent, name, O_PATH|O_NOFOLLOW, RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS)` on the fd of a directory already inside the
/// root; a symlink found is read with `readlinkat` and given to VFSCore's resolution (relative
/// targets spliced, absolute ones restarting at the *sandbox's* root); `..` is answered from the
/// dentry tree. Every other operation acts on a dentry's fd (with AT_EMPTY_PATH) or on one
/// validated name in a parent's fd, with calls that do not follow a final symlink. So no path,
/// `..` or symlink leaves the root, whatever the host does concurrently (a directory renamed
/// or swapped for a symlink is at worst seen at its new place, still beneath the root fd).
///
/// Credentials: the process is root on the host, so the host kernel checks no permission for
/// the sandbox's caller. The VFS's own rules (`Permissions`, `StatChange.validate`,
/// `ExtendedAttributeRules`) run on the attributes the host reports, before each change. A new
/// file is created with its final mode (the caller's umask already applied by the syscall
/// layer); then, only where the host's result differs, `fchownat` gives it the owner
/// `inode_init_owner` would (the caller's fsuid, and its fsgid or a set-group-ID parent's
/// group) and `fchmodat2` its exact mode (undoing the host process's own umask).
///
/// Attributes are never cached: stat, permission checks and revalidation ask the host each
/// time, so changes made on the host are always seen. Only name → dentry is cached.
///
/// Lock order: the dentry cache's `state` and each dentry's `placement` are leaves; host
/// syscalls are made with no lock held except a regular file's `appendLock`.
public final class HostFilesystem: FilesystemImpl, @unchecked Sendable {
    public let typeName = "hostfs"
    public let options: HostOptions
    let rootDentry: HostDentry
    let cache: HostDentryCache
    /// The sandbox-side pipe of each host FIFO opened so far, by (st_dev, inode): see `open`.
    let fifos = Mutex<[FifoKey: HostFifo]>([:])
    struct FifoKey: Hashable {
        let device: UInt64
        let inode: UInt64
    }

    /// The root directory; mount it with `VirtualFilesystem.mount(_:root:at:)`.
    public var root: Dentry { rootDentry }

    /// Serves the host directory at `path` (opened O_PATH|O_DIRECTORY; the path itself is
    /// resolved normally, once, by the caller's choice).
    public convenience init(rootPath: String, options: HostOptions = HostOptions()) throws(Errno) {
        let fd = try HostSyscall.openat(
            HostSyscall.currentDirectory, Array(rootPath.utf8),
            flags: HostOpenFlags.path | HostOpenFlags.directory)
        try self.init(rootFD: fd, options: options)
    }

    /// Serves the directory `rootFD` stands for (any fd of it; O_PATH is enough).
    public init(rootFD: HostFD, options: HostOptions = HostOptions()) throws(Errno) {
        let stat = try HostSyscall.statx(rootFD.rawValue)
        guard stat.isDirectory else { throw .notDirectory }
        self.options = options
        self.cache = HostDentryCache(hostLimit: options.dentryCacheLimit)
        self.rootDentry = HostDentry(
            fd: rootFD, stat: stat, parent: nil, name: Name(unchecked: [0x2F][...]))
    }

    /// Dentries cached now (referenced or not).
    public var cachedDentryCount: Int { cache.count }

    /// Drops every cached dentry nothing else uses (closing their fds).
    public func trimCache() { cache.trim() }

    // MARK: - Helpers

    func own(_ dentry: Dentry) throws(Errno) -> HostDentry {
        guard let mine = dentry as? HostDentry else { throw .improperLink }
        return mine
    }

    /// EROFS for a read-only host file system, where Linux checks `mnt_want_write`.
    func checkWritable(_ mount: Mount) throws(Errno) {
        if options.readOnly { throw .readOnlyFileSystem }
        try mount.checkWritable()
    }

    func hostStat(_ dentry: HostDentry) throws(Errno) -> HostStat {
        try HostSyscall.statx(dentry.fd.rawValue)
    }

    func ownership(of stat: HostStat) -> Ownership {
        Ownership(mode: FileMode(rawValue: stat.mode), uid: stat.uid, gid: stat.gid)
    }

    func hostOwnership(_ dentry: HostDentry) throws(Errno) -> Ownership {
        ownership(of: try hostStat(dentry))
    }

    /// The stat of `name` in `parent` without following it, or nil when there is none.
    func statChild(_ parent: HostDentry, _ name: Name) throws(Errno) -> HostStat? {
        do {
            return try HostSyscall.statx(
                parent.fd.rawValue, name.bytes, flags: HostAtFlags.symlinkNoFollow,
                mask: 0x1 | 0x100)  // STATX_TYPE | STATX_INO
        } catch {
            if error == .noSuchFileOrDirectory { return nil }
            throw error
        }
    }

    /// The dentry for `name` in `parent`: from the cache (revalidated in shared mode), or
    /// opened with one confined openat2 and cached. ENOENT when there is no such name;
    /// otherwise the host's errno.
    func lookupChild(_ parent: HostDentry, _ name: Name) throws(Errno) -> HostDentry {
        if let cached = cache.lookup(parent: parent, name: name) {
            if options.caching == .exclusive || cached.isMountPoint { return cached }
            let now = try statChild(parent, name)
            if let now, now.inode == cached.inode, now.fileTypeBits == cached.fileType.rawValue {
                return cached
            }
            cache.remove(parent: parent, name: name)
            if now == nil { throw .noSuchFileOrDirectory }
        }
        let fd = try HostSyscall.openat2(
            parent.fd.rawValue, name.bytes, flags: HostOpenFlags.path | HostOpenFlags.noFollow,
            resolve: .confined)
        let stat = try HostSyscall.statx(fd.rawValue, mask: 0x1 | 0x100)
        let dentry = HostDentry(fd: fd, stat: stat, parent: parent, name: name.owned())
        return cache.insert(dentry, parent: parent, name: name)
    }

    // MARK: - Resolution

    public func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop {
        var current = try own(rp.current)
        while !rp.isDone {
            guard current.isDirectory else { throw .notDirectory }
            try checkSearch(&rp, current)
            if rp.stopsAtParent && rp.isFinalComponent { return .done }
            if rp.componentIsDot {
                rp.advance()
                continue
            }
            if rp.componentIsDotDot {
                if let stop = try rp.stepOverDotDot(&current, parent: current.parent) { return stop }
                continue
            }
            let name: Name
            do {
                name = try rp.componentName()
            } catch {
                // lookup_slow: in a removed directory the lookup fails (ENOENT) before the
                // name's length is looked at.
                if (try? hostStat(current))?.nlink == 0 { throw .noSuchFileOrDirectory }
                throw error
            }
            let child = try lookupChild(current, name)
            if child.isSymlink && rp.shouldFollowSymlink {
                let target = try HostSyscall.readlinkat(child.fd.rawValue, [])
                if try rp.handleSymlink(target: target) { return .absoluteSymlink }
                continue
            }
            rp.advance(to: child)
            if child.isMountPoint { return .mountPoint }
            current = child
        }
        return .done
    }

    /// `may_lookup`. A caller with CAP_DAC_OVERRIDE may search any directory
    /// (`generic_permission`), so its walk skips the host statx the check would need.
    private func checkSearch(_ rp: inout ResolvingPath, _ directory: HostDentry) throws(Errno) {
        if rp.credentials.has(.dacOverride) {
            try rp.checkSearchPermission(
                Ownership(mode: FileMode(.directory, permissions: 0o777), uid: 0, gid: 0))
            return
        }
        try rp.checkSearchPermission(try hostOwnership(directory))
    }

    public func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? {
        guard let mine = dentry as? HostDentry, !mine.isDeleted else { return nil }
        let placement = mine.placement.withLock { $0 }
        guard let parent = placement.parent else { return nil }
        return (parent, placement.name)
    }
}
