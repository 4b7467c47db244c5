import HostSyscalls
import LISAFS
import Synchronization
import SystemPackage
import VFSCore

/// How a `GoferFilesystem` trusts what it has cached (gVisor's gofer mount `cache=` choices).
public enum GoferCachingMode: Sendable, Hashable {
    /// The sandbox owns the tree: cached dentries and their attributes are used as they are;
    /// this client's own changes keep them up to date (a change marks the affected attributes
    /// stale, refetched with one FStat when next needed). A warm walk costs no RPC.
    case exclusive
    /// As `exclusive` for dentries and attributes; every change is sent to the gofer at once.
    /// This client has no page cache (regular files are read and written straight through the
    /// donated host fd or PRead/PWrite), so writes are always written through and the two modes
    /// differ only in name.
    case writethrough
    /// Someone else may change the tree: before a cached path is used it is revalidated with
    /// one WalkStat (inode number and type must match, else the dentry is dropped and the name
    /// walked again); `stat` after such a walk uses the attributes it brought back, `fstat`
    /// asks again. Nothing negative is ever cached (in any mode).
    case shared
}

public struct GoferOptions: Sendable, Hashable {
    public var caching: GoferCachingMode
    /// The most unreferenced dentries kept cached; each holds a control FDID on the gofer.
    public var dentryCacheLimit: Int
    /// FDIDs released by evicted dentries and closed files are closed in one Close RPC once
    /// this many are pending (and by `flushPendingCloses`).
    public var closeBatchSize: Int
    /// One Walk (or WalkStat) RPC per path component, as gVisor's 9P-era VFS1 walked, instead
    /// of one per walk: for comparing the two in benchmarks.
    public var perComponentWalk: Bool
    /// Regular files are read and written with PRead/PWrite RPCs even when the gofer donated
    /// a host fd (for tests and for measuring what the donation saves).
    public var ignoreDonatedFDs: Bool
    /// connect(2) to a socket file sends ConnectWithCreds (the caller's uid and gid) when the
    /// gofer lists it; false sends the plain Connect (see GoferFilesystem+Sockets.swift).
    public var connectWithCredentials: Bool
    /// Flipcall channels asked for at mount (one Channel RPC each, counted): RPCs then go over
    /// shared memory, several threads' at once, and over the socket only when every channel is
    /// busy. gVisor's client asks for the CPUs available, at least 2 and at most 4 (the
    /// default); 0 keeps every RPC on the socket. A gofer that refuses (ENOSYS at its limit,
    /// EOPNOTSUPP without channels) leaves the rest on the socket.
    public var channels: Int

    public init(
        caching: GoferCachingMode = .exclusive, dentryCacheLimit: Int = 1024,
        closeBatchSize: Int = 32, perComponentWalk: Bool = false, ignoreDonatedFDs: Bool = false,
        connectWithCredentials: Bool = true, channels: Int = RPCClient.defaultChannelCount
    ) {
        self.channels = channels
        self.caching = caching
        self.dentryCacheLimit = dentryCacheLimit
        self.closeBatchSize = closeBatchSize
        self.perComponentWalk = perComponentWalk
        self.ignoreDonatedFDs = ignoreDonatedFDs
        self.connectWithCredentials = connectWithCredentials
    }
}

/// The LISAFS client file system: a `FilesystemImpl` whose every host access is an RPC to a
/// gofer (gVisor's gofer client in VFS2, over `LISAFS.RPCClient`).
///
/// Resolution: `walk` consumes as many components as it can per call. All components not in
/// the dentry cache go to the gofer in ONE Walk RPC (up to the next `.`/`..` or, for
/// operations on a parent, the final component); the walk then advances through the
/// dentries it got back one component at a time, making Linux's per-step checks (ENOTDIR,
/// search permission on the cached attributes) as tmpfs does. A Walk that stops at a
/// symlink brings its inode back; its target is read once with ReadLinkAt and cached,
/// relative targets are spliced, absolute ones handed to VFSCore. A later follow (or
/// readlink) sends one more ReadLinkAt only when the cached attributes say relatime would
/// stamp the link's atime, so that the host stamps it as Linux does (`noteSymlinkAccess`). A Walk that stops at a
/// missing component answers ENOENT for that component. Mount points and `..` at the mount
/// root go back to VFSCore as in tmpfs. A batched Walk that fails with an error (the gofer
/// tried to walk through a non-directory, say) is retried for its first name alone, so the
/// errno comes from the step Linux would report it at.
///
/// Permissions: the gofer runs with the privileges serving needs and checks nothing for the
/// sandbox's callers. The VFS's rules (`Permissions`, `StatChange.validate`,
/// `ExtendedAttributeRules`) run on the cached attributes before each request, as gVisor's
/// sentry does for a gofer mount.
///
/// Synthetic files: the gofer makes regular files only (fsgofer's MknodAt answers EPERM for
/// anything else). As gVisor does, mknod of a FIFO or socket then keeps a synthetic file in
/// memory in its parent dentry (listed, statted, chmodded, renamed, unlinked, with in-memory
/// xattrs; a FIFO has a real in-memory pipe). Never seen by the host or by other clients.
/// link(2) of one adds a name in memory sharing its inode (`SyntheticInode`), as tmpfs does
/// (within one mount). Device nodes are EPERM (as in gVisor).
///
/// Gofer death: a transport failure breaks the connection; every later RPC fails at once with
/// EIO (nothing waits). `attach(socket:)` mounts a new gofer connection: the root gets the new
/// root FDID, the dentry cache is emptied, and dentries still in use (working directories,
/// open files) are walked again by name from their parents on their next use (EIO if the name
/// no longer leads to a file of the same type). Open regular files keep their
/// donated host fd, so their reads and writes go on working; their open FDIDs belonged to the
/// old connection, so fsync and fallocate (RPCs on those) fail with EIO, as do open
/// directories' reads. FDIDs of the old connection are never sent to the new one.
///
/// Counting: every RPC sent is counted per message type (`rpcCounts`, `resetRPCCounts`),
/// including the Channel RPCs made at mount (`GoferOptions.channels`); an RPC counts once
/// whether a channel or the socket carried it.
///
/// Lock order: `connectionState` and `counts` are leaves, never held across an RPC;
/// `RPCClient` holds its own lock for one whole RPC; the cache's and dentries' locks are
/// leaves taken with no RPC in flight under them.
public final class GoferFilesystem: FilesystemImpl, @unchecked Sendable {
    public let typeName = "9p"
    public let options: GoferOptions
    let rootDentry: GoferDentry
    let cache: GoferDentryCache
    let closer: FDIDCloser

    struct ConnectionState {
        var client: RPCClient?
        var generation: UInt64
        var maxMessageSize: UInt32
    }
    let connectionState: Mutex<ConnectionState>
    /// The served directory is on tmpfs (asked once, when the first synthetic file is made):
    /// directory sizes then count synthetic children as tmpfs would.
    let hostIsTmpfs = Atomic<Bool>(false)
    /// The gofer refused an O_TMPFILE create (it is not ours): EOPNOTSUPP from then on.
    let temporaryFilesRefused = Atomic<Bool>(false)
    let counts = Mutex<[MessageID: Int]>([:])

    /// The root directory; mount it with `VirtualFilesystem.makeNamespace(root:rootDentry:)` or
    /// `mount`.
    public var root: Dentry { rootDentry }

    /// Mounts the gofer at the other end of `socket` (a connected AF_UNIX SOCK_STREAM socket this
    /// file system will own) with one Mount RPC.
    public init(socket: FileDescriptor, options: GoferOptions = GoferOptions()) throws(Errno) {
        self.options = options
        let closer = FDIDCloser()
        self.closer = closer
        self.cache = GoferDentryCache(goferLimit: options.dentryCacheLimit)
        let (client, mounted) = try GoferFilesystem.mountedClient(socket: socket)
        counts.withLock { $0[.mount, default: 0] += 1 }
        self.connectionState = Mutex(
            ConnectionState(client: client, generation: 1, maxMessageSize: client.maxMessageSize))
        self.rootDentry = GoferDentry(
            inode: mounted.root, generation: 1, parent: nil, name: Name(unchecked: [0x2F][...]),
            closer: closer)
        openChannels(on: client)
    }

    deinit {
        let client = connectionState.withLock { $0.client }
        client?.close()
    }

    // MARK: - Dentries

    func own(_ dentry: Dentry) throws(Errno) -> GoferDentry {
        guard let mine = dentry as? GoferDentry, mine.closer === closer else {
            throw .improperLink
        }
        return mine
    }

    /// The dentry's control FDID on the current connection. A dentry from before `attach`
    /// is walked again from its parent (one Walk RPC per stale level); EIO when its name no
    /// longer leads to a file of its type, or it was deleted.
    func controlFD(_ dentry: GoferDentry) throws(Errno) -> FDID {
        if dentry.isSynthetic { throw .notPermitted }
        let current = generation
        let (fdid, dentryGeneration) = dentry.binding
        if dentryGeneration == current { return fdid }
        guard let (parent, name) = dentry.placementIfNamed() else { throw .ioError }
        let parentFD = try controlFD(parent)
        let response = try call(
            WalkRequest(dirFD: parentFD, path: [SizedString(bytes: Array(name.bytes))])).response
        guard response.status == .success, let inode = response.inodes.first,
            GoferFilesystem.fileType(inode.stat) == dentry.fileType
        else {
            for stray in response.inodes { closer.enqueue(stray.controlFD, generation: current) }
            throw .ioError
        }
        dentry.rebind(inode, generation: current)
        return inode.controlFD
    }

    static func fileType(_ stat: LISAFSStatx) -> VFSCore.FileType? {
        FileType(rawValue: UInt32(stat.mode) & FileMode.typeMask)
    }

    /// The attributes of `dentry`: cached unless marked stale (then one FStat).
    func attributes(_ dentry: GoferDentry) throws(Errno) -> LISAFSStatx {
        if let stat = dentry.validStat() { return stat }
        return try refreshAttributes(dentry)
    }

    @discardableResult
    func refreshAttributes(_ dentry: GoferDentry) throws(Errno) -> LISAFSStatx {
        let stat = try call(FStatRequest(fd: try controlFD(dentry))).response.stat
        dentry.update(stat, fresh: false)
        return stat
    }

    func ownership(of stat: LISAFSStatx) -> Ownership {
        Ownership(mode: FileMode(rawValue: UInt32(stat.mode)), uid: stat.uid, gid: stat.gid)
    }

    func ownership(of dentry: GoferDentry) throws(Errno) -> Ownership {
        ownership(of: try attributes(dentry))
    }

    /// Marks stale the attributes of every cached dentry of inode `ino` (hard links share
    /// nlink, ctime, size...), and of `dentry`.
    func invalidate(_ dentry: GoferDentry) {
        dentry.invalidate()
        cache.invalidate(ino: dentry.ino)
    }

    /// After a read or write: the same, but other dentries of the inode are looked for only
    /// when the file may have other names (a data transfer cannot add one), so the I/O path
    /// does not walk the whole dentry cache.
    func invalidateContents(_ dentry: GoferDentry) {
        dentry.invalidate()
        if dentry.mayHaveAliases { cache.invalidate(ino: dentry.ino) }
    }

    /// The dentry for `name` in the directory `parent`, or nil when there is none (never
    /// cached as negative). Cached entries are revalidated in shared mode.
    func lookupChild(_ parent: GoferDentry, _ name: Name) throws(Errno) -> GoferDentry? {
        let found = try resolve(from: parent, [name])
        return found.dentries.first
    }

    /// Dentries for `names` walked from `start`, as far as they exist: the cached prefix
    /// (revalidated with one WalkStat in shared mode), then one Walk RPC for the rest.
    /// `missing` says the component after the last dentry returned does not exist; a walk
    /// that ends at a symlink returns it last.
    func resolve(from start: GoferDentry, _ names: [Name]) throws(Errno)
        -> (dentries: [GoferDentry], missing: Bool)
    {
        var dentries: [GoferDentry] = []
        var parent = start
        while dentries.count < names.count,
            let cached = parent.syntheticChild(names[dentries.count])
                ?? cache.lookup(parent: parent, name: names[dentries.count])
        {
            dentries.append(cached)
            parent = cached
            if !cached.isDirectory { break }
        }
        // A synthetic file (always a non-directory, so always last) exists only here: there
        // is nothing on the host to revalidate it against.
        let revalidated = dentries.last?.isSynthetic == true ? dentries.count - 1 : dentries.count
        if revalidated > 0 && options.caching == .shared {
            let valid = try revalidate(start, names, Array(dentries[..<revalidated]))
            if valid < revalidated {
                let stale = dentries[valid]
                let staleParent = valid == 0 ? start : dentries[valid - 1]
                cache.remove(parent: staleParent, name: names[valid], ifSame: stale)
                dentries.removeSubrange(valid...)
                parent = staleParent
            }
        }
        if let last = dentries.last, !last.isDirectory || dentries.count == names.count {
            return (dentries, false)
        }
        let (walked, missing) = try walkRPC(from: parent, Array(names[dentries.count...]))
        return (dentries + walked, missing)
    }

    /// One WalkStat of ["", cached names...] from `start`: refreshes `start`'s and the cached
    /// dentries' attributes, and returns how many of `cached` still name the same inode with
    /// the same type.
    private func revalidate(_ start: GoferDentry, _ names: [Name], _ cached: [GoferDentry])
        throws(Errno) -> Int
    {
        var path: [SizedString] = [SizedString(bytes: [])]
        for index in cached.indices { path.append(SizedString(bytes: Array(names[index].bytes))) }
        let stats = try call(WalkStatRequest(dirFD: try controlFD(start), path: path)).response.stats
        guard let own = stats.first else { throw .ioError }
        start.update(own, fresh: true)
        var valid = 0
        while valid < cached.count, valid + 1 < stats.count {
            let stat = stats[valid + 1]
            let dentry = cached[valid]
            guard stat.ino == dentry.ino, GoferFilesystem.fileType(stat) == dentry.fileType else {
                break
            }
            dentry.update(stat, fresh: true)
            valid += 1
        }
        return valid
    }

    /// One Walk RPC for `names` from `parent`; the new dentries are cached. A Walk of several
    /// names that fails is retried for the first name alone (the error belongs to some later
    /// step, which the caller reaches with its own checks first).
    private func walkRPC(from parent: GoferDentry, _ names: [Name]) throws(Errno)
        -> (dentries: [GoferDentry], missing: Bool)
    {
        let parentFD = try controlFD(parent)
        let generation = self.generation
        let response: WalkResponse
        do {
            response = try call(
                WalkRequest(dirFD: parentFD, path: names.map { SizedString(bytes: Array($0.bytes)) })
            ).response
        } catch {
            if names.count > 1 && error != .ioError {
                return try walkRPC(from: parent, [names[0]])
            }
            throw error
        }
        var dentries: [GoferDentry] = []
        var current = parent
        for (index, inode) in response.inodes.enumerated() where index < names.count {
            guard GoferFilesystem.fileType(inode.stat) != nil else {
                closer.enqueue(inode.controlFD, generation: generation)
                continue
            }
            let child = GoferDentry(
                inode: inode, generation: generation, parent: current, name: names[index].owned(),
                closer: closer)
            child.markFresh()
            let kept = cache.insert(child, parent: current, name: names[index])
            if kept !== child { kept.update(inode.stat, fresh: true) }
            dentries.append(kept)
            current = kept
        }
        let missing = response.status == .componentDoesNotExist && dentries.count < names.count
        return (dentries, missing)
    }

    /// A symlink's target: read once with ReadLinkAt, then cached (a target never changes; a
    /// replaced link is a new inode, which shared mode's revalidation catches). The read
    /// reaches the host, which stamps the link's atime under its own mount's rule: when the
    /// cached attributes say relatime would (or there are none), they are marked stale, so a
    /// later stat shows the host's atime; the access is marked as seen by the host, so the
    /// `noteSymlinkAccess` that follows sends nothing more.
    func symlinkTarget(_ dentry: GoferDentry) throws(Errno) -> [UInt8] {
        if let target = dentry.cachedTarget { return target }
        let before = dentry.validStat()
        let now = GoferFilesystem.wireNow()
        let target = try call(ReadLinkAtRequest(fd: try controlFD(dentry))).response.target.bytes
        dentry.cachedTarget = target
        if before.map({ GoferFilesystem.relatimeStamps($0, now: now) }) ?? true {
            dentry.invalidate()
            if let before { dentry.noteStampRequested(atime: before.atime, at: now) }
        }
        dentry.markHostSawAccess()
        return target
    }

    /// A walk followed the symlink `dentry`, or readlink read it: Linux stamps its atime
    /// (`touch_atime`: never on a noatime or read-only mount, always under strictatime, else
    /// relatime's rule). The cached target hides the access from the host, so when the cached
    /// attributes (one FStat when stale) say the stamp would happen, one ReadLinkAt lets the
    /// host stamp it (under its own mount's rule, relatime for a tmpfs or ext4 host: LISAFS
    /// has no atime-only update) and the attributes are marked stale; otherwise no RPC.
    ///
    /// A host that does not stamp (a noatime or read-only host mount) would leave relatime's
    /// condition true forever, and every access would cost RPCs: when the atime a stamping
    /// read was sent for is still there at the next access, and was more than a second old
    /// when the read went (so not a stamp in the same clock tick, which Linux writes too),
    /// the link is left to the host from then on (`hostKeepsAccessTime`).
    func noteSymlinkAccess(_ dentry: GoferDentry, mountFlags: MountFlags) {
        if dentry.takeHostSawAccess() { return }
        if mountFlags.contains(.noAccessTime) || mountFlags.contains(.readOnly) { return }
        if dentry.hostKeepsAccessTime { return }
        guard let stat = try? attributes(dentry) else { return }
        if let requested = dentry.takeStampRequested(), requested.atime == stat.atime,
            requested.at.sec - requested.atime.sec >= 2
        {
            dentry.markHostKeepsAccessTime()
            return
        }
        let now = GoferFilesystem.wireNow()
        if !mountFlags.contains(.strictAccessTime) && !GoferFilesystem.relatimeStamps(stat, now: now) {
            return
        }
        guard let fd = try? controlFD(dentry), (try? call(ReadLinkAtRequest(fd: fd))) != nil
        else { return }
        dentry.invalidate()
        dentry.noteStampRequested(atime: stat.atime, at: now)
    }

    /// Linux's relatime rule (`relatime_need_update`): an access stamps atime when atime is
    /// not after mtime or ctime, or is a day old.
    static func relatimeStamps(_ stat: LISAFSStatx, now: StatxTimestamp) -> Bool {
        func notAfter(_ a: StatxTimestamp, _ b: StatxTimestamp) -> Bool {
            a.sec < b.sec || (a.sec == b.sec && a.nsec <= b.nsec)
        }
        return notAfter(stat.atime, stat.mtime) || notAfter(stat.atime, stat.ctime)
            || now.sec - stat.atime.sec >= 24 * 60 * 60
    }

    // MARK: - Resolution

    public func walk(_ rp: inout ResolvingPath) throws(Errno) -> WalkStop {
        var current = try own(rp.current)
        var ahead: [GoferDentry] = []
        var aheadIndex = 0
        var aheadMissing = false
        let batch = options.perComponentWalk ? 1 : 256
        while !rp.isDone {
            guard current.isDirectory else { throw .notDirectory }
            try rp.checkSearchPermission(try ownership(of: current))
            if rp.stopsAtParent && rp.isFinalComponent { return .done }
            if rp.componentIsDot {
                rp.advance()
                continue
            }
            if rp.componentIsDotDot {
                ahead = []
                aheadIndex = 0
                aheadMissing = false
                if let stop = try rp.stepOverDotDot(&current, parent: current.parent) { return stop }
                continue
            }
            do {
                _ = try rp.componentName()
            } catch {
                // lookup_slow: a removed directory is ENOENT before its file system could
                // find the name too long (as tmpfs answers).
                if current.isDeleted { throw .noSuchFileOrDirectory }
                throw error
            }
            let child: GoferDentry
            if aheadIndex < ahead.count {
                child = ahead[aheadIndex]
                aheadIndex += 1
            } else if aheadMissing {
                throw .noSuchFileOrDirectory
            } else {
                let names = rp.upcomingNames(limit: batch)
                guard !names.isEmpty else { throw .noSuchFileOrDirectory }
                (ahead, aheadMissing) = try resolve(from: current, names)
                aheadIndex = 0
                guard let first = ahead.first else { throw .noSuchFileOrDirectory }
                child = first
                aheadIndex = 1
            }
            if child.isSymlink && rp.shouldFollowSymlink {
                ahead = []
                aheadIndex = 0
                aheadMissing = false
                // pick_link refuses a link past the limit before it touches its atime; a
                // first read of the target would let the host stamp it.
                if child.cachedTarget == nil
                    && (rp.resolveFlags.contains(.noSymlinks)
                        || rp.symlinksFollowed >= ResolvingPath.maxSymlinks)
                {
                    throw .tooManySymbolicLinkLevels
                }
                let target = try symlinkTarget(child)
                let absolute: Bool
                do {
                    absolute = try rp.handleSymlink(target: target)
                } catch {
                    _ = child.takeHostSawAccess()
                    throw error
                }
                // The follow stamps the link's atime as Linux's does (relatime).
                noteSymlinkAccess(child, mountFlags: rp.mount.flags)
                if absolute { return .absoluteSymlink }
                continue
            }
            rp.advance(to: child)
            if child.isMountPoint { return .mountPoint }
            current = child
        }
        return .done
    }

    public func parentAndName(of dentry: Dentry) -> (parent: Dentry, name: Name)? {
        guard let mine = dentry as? GoferDentry, !mine.isDeleted else { return nil }
        guard let (parent, name) = mine.placementIfNamed() else { return nil }
        return (parent, name)
    }

    // MARK: - Cache

    /// Dentries cached now (referenced or not).
    public var cachedDentryCount: Int { cache.count }

    /// Drops every cached dentry nothing else uses, and closes their FDIDs.
    public func trimCache() {
        cache.trim()
        flushPendingCloses()
    }

    /// Control and open FDIDs released and not yet closed on the gofer.
    public var pendingCloseCount: Int { closer.pendingCount }
}
