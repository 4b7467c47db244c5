import HostSyscalls
import LISAFS
import Synchronization
import VFSCore

/// FDIDs given up (by dentries freed from the cache, closed files) and waiting for a batched
/// Close RPC. Each remembers the connection generation it belongs to: after `attach`, the old
/// connection's FDIDs are dropped, never sent to the new gofer.
///
/// Lock order: `pending` is a leaf (taken from `deinit`s, so it must never wait on anything).
final class FDIDCloser: Sendable {
    private let pending = Mutex<[(fdid: FDID, generation: UInt64)]>([])

    func enqueue(_ fdid: FDID, generation: UInt64) {
        guard fdid.isValid else { return }
        pending.withLock { $0.append((fdid, generation)) }
    }

    var pendingCount: Int { pending.withLock { $0.count } }

    /// Removes and returns the pending FDIDs of `generation` (others are dropped).
    func take(generation: UInt64) -> [FDID] {
        pending.withLock { list in
            defer { list.removeAll() }
            return list.filter { $0.generation == generation }.map(\.fdid)
        }
    }

    func discardAll() { pending.withLock { $0.removeAll() } }
}

/// A dentry of the gofer's tree: its control FDID (and the connection generation it is valid
/// on), the attributes last fetched, and where it sits (parent and name). `..` is answered
/// from the parent kept here, never by the gofer.
///
/// Lock order: `state` and `placement` are leaves.
final class GoferDentry: Dentry, @unchecked Sendable {
    /// The inode number the dentry was made for: with the type, what shared mode revalidates.
    let ino: UInt64
    let closer: FDIDCloser

    struct State {
        var fdid: FDID
        var generation: UInt64
        var stat: LISAFSStatx
        /// False once a change made here may have changed the attributes (FStat refetches).
        var valid: Bool
        /// Just fetched by the walk in progress (shared mode: `stat` may use it once).
        var fresh: Bool
        var symlinkTarget: [UInt8]?
        /// open(O_CREAT) made the file with OpenCreateAt: the open FDID and donated host fd,
        /// for the `open` that follows (same access mode), so creating and opening is one RPC.
        var pendingOpen: PendingOpen?
        /// See `mayHaveAliases`.
        var aliased = false
        /// A ReadLinkAt just reached the host, which applied its own atime rule to this link:
        /// the access in progress is not to be stamped again (`noteSymlinkAccess`). Cleared
        /// by any later change of the attributes (a change may make relatime stamp again).
        var hostSawAccess = false
        /// A ReadLinkAt was sent for the host to stamp this link's atime: the atime cached
        /// then, and when it was sent (the next access checks that the host did stamp it).
        var stampRequested: (atime: StatxTimestamp, at: StatxTimestamp)?
        /// The host left this link's atime alone where relatime stamps it (a noatime or
        /// read-only host mount): its accesses send no ReadLinkAt any more. Sticky.
        var hostKeepsAccessTime = false
    }
    private let state: Mutex<State>

    struct Placement {
        var parent: GoferDentry?
        var name: Name
    }
    let placement: Mutex<Placement>

    /// A synthetic file (gVisor's term): a FIFO or socket made by mknod that the gofer refused
    /// (EPERM: fsgofer makes regular files only). It exists only here, in its parent's
    /// `syntheticChildren`, with its inode (attributes, xattrs, pipe) kept in memory and
    /// shared by all its names (hard links made here); it has no control FDID.
    let synthetic: SyntheticInode?
    var isSynthetic: Bool { synthetic != nil }
    /// A synthetic FIFO's pipe, shared by everyone who opens it through any of its names.
    var fifo: Pipe? { synthetic?.fifo }
    /// This directory's synthetic children. A directory holding any is never evicted (each
    /// child references it as its parent).
    let syntheticChildren = Mutex<[Name: GoferDentry]>([:])

    init(
        inode: LISAFS.Inode, generation: UInt64, parent: GoferDentry?, name: Name, closer: FDIDCloser,
        synthetic: SyntheticInode? = nil
    ) {
        self.ino = inode.stat.ino
        self.closer = closer
        self.synthetic = synthetic
        self.state = Mutex(
            State(
                fdid: inode.controlFD, generation: generation, stat: inode.stat, valid: true,
                fresh: false))
        self.placement = Mutex(Placement(parent: parent, name: name))
        super.init(fileType: GoferFilesystem.fileType(inode.stat) ?? .regular)
    }

    deinit {
        let (fdid, generation, pending) = state.withLock { ($0.fdid, $0.generation, $0.pendingOpen) }
        closer.enqueue(fdid, generation: generation)
        if let pending { closer.enqueue(pending.openFD, generation: pending.generation) }
        // Release the chain of parents iteratively (see TmpfsDentry's deinit for why).
        var next = placement.withLock { p -> GoferDentry? in
            defer { p.parent = nil }
            return p.parent
        }
        while var current = next {
            next = nil
            guard isKnownUniquelyReferenced(&current) else { return }
            next = current.placement.withLock { p -> GoferDentry? in
                defer { p.parent = nil }
                return p.parent
            }
        }
    }

    var binding: (FDID, UInt64) { state.withLock { ($0.fdid, $0.generation) } }

    /// Whether another dentry may name the same inode: the file was seen with more than one
    /// link, or was linked here. Sticky (a stale link count must not hide an alias).
    var mayHaveAliases: Bool { state.withLock { $0.aliased || $0.stat.nlink > 1 } }

    func markAliased() { state.withLock { $0.aliased = true } }

    func rebind(_ inode: LISAFS.Inode, generation: UInt64) {
        state.withLock {
            $0.fdid = inode.controlFD
            $0.generation = generation
            $0.stat = inode.stat
            $0.valid = true
            $0.fresh = true
            $0.pendingOpen = nil
        }
    }

    var parent: GoferDentry? { placement.withLock { $0.parent } }

    func placementIfNamed() -> (GoferDentry, Name)? {
        placement.withLock { p in p.parent.map { ($0, p.name) } }
    }

    func validStat() -> LISAFSStatx? {
        if let synthetic { return synthetic.stat.withLock { $0 } }
        return state.withLock { $0.valid ? $0.stat : nil }
    }

    /// The attributes if the walk just brought them (shared mode), consuming that mark.
    func takeFreshStat() -> LISAFSStatx? {
        state.withLock { s -> LISAFSStatx? in
            guard s.valid && s.fresh else { return nil }
            s.fresh = false
            return s.stat
        }
    }

    func update(_ stat: LISAFSStatx, fresh: Bool) {
        state.withLock {
            $0.aliased = $0.aliased || $0.stat.nlink > 1 || stat.nlink > 1
            $0.stat = stat
            $0.valid = true
            $0.fresh = fresh
            $0.hostSawAccess = false
        }
    }

    func markFresh() { state.withLock { $0.fresh = true } }

    func invalidate() {
        if isSynthetic { return }
        state.withLock {
            $0.valid = false
            $0.fresh = false
            $0.hostSawAccess = false
        }
    }

    /// Changes a synthetic file's in-memory attributes (those of all its names).
    func updateSynthetic(_ body: (inout LISAFSStatx) -> Void) {
        synthetic?.stat.withLock { body(&$0) }
    }

    func syntheticChild(_ name: Name) -> GoferDentry? {
        syntheticChildren.withLock { $0[name] }
    }

    var hasSyntheticChildren: Bool { syntheticChildren.withLock { !$0.isEmpty } }

    func markHostSawAccess() { state.withLock { $0.hostSawAccess = true } }

    /// Whether a ReadLinkAt reached the host since the last call, clearing the mark.
    func takeHostSawAccess() -> Bool {
        state.withLock { s -> Bool in
            defer { s.hostSawAccess = false }
            return s.hostSawAccess
        }
    }

    func noteStampRequested(atime: StatxTimestamp, at time: StatxTimestamp) {
        state.withLock { $0.stampRequested = (atime, time) }
    }

    /// The stamp requested since the last call (`State.stampRequested`), clearing it.
    func takeStampRequested() -> (atime: StatxTimestamp, at: StatxTimestamp)? {
        state.withLock { s -> (atime: StatxTimestamp, at: StatxTimestamp)? in
            defer { s.stampRequested = nil }
            return s.stampRequested
        }
    }

    var hostKeepsAccessTime: Bool { state.withLock { $0.hostKeepsAccessTime } }

    func markHostKeepsAccessTime() { state.withLock { $0.hostKeepsAccessTime = true } }

    var cachedTarget: [UInt8]? {
        get { state.withLock { $0.symlinkTarget } }
        set { state.withLock { $0.symlinkTarget = newValue } }
    }

    func setPendingOpen(_ open: PendingOpen) {
        let old = state.withLock { s -> PendingOpen? in
            defer { s.pendingOpen = open }
            return s.pendingOpen
        }
        if let old { closer.enqueue(old.openFD, generation: old.generation) }
    }

    func takePendingOpen() -> PendingOpen? {
        state.withLock { s -> PendingOpen? in
            defer { s.pendingOpen = nil }
            return s.pendingOpen
        }
    }
}

/// A synthetic file's inode: what its names share, as a tmpfs inode is shared by its hard
/// links (the attributes, link count included; the in-memory xattrs; a FIFO's pipe).
///
/// Lock order: `stat` and `xattrs` are leaves.
final class SyntheticInode: Sendable {
    let stat: Mutex<LISAFSStatx>
    /// Extended attributes (in memory, as tmpfs keeps them).
    let xattrs = Mutex<[[UInt8]: [UInt8]]>([:])
    /// A FIFO's pipe; nil for a socket.
    let fifo: Pipe?

    init(stat: LISAFSStatx) {
        self.stat = Mutex(stat)
        self.fifo = GoferFilesystem.fileType(stat) == .fifo ? Pipe() : nil
    }
}

/// An open FDID made by OpenCreateAt, kept for the `open` right after the create.
struct PendingOpen: Sendable {
    var openFD: FDID
    var generation: UInt64
    var accessMode: UInt32
    var hostFD: HostFD?
}

/// Which dentries a `GoferFilesystem` keeps (VFSCore's LRU of unreferenced dentries). An
/// evicted dentry's FDID goes to the batched Close when the dentry is freed, which happens
/// after the cache's lock is dropped.
typealias GoferDentryCache = DentryCache<GoferDentry>

extension DentryCache where D == GoferDentry {
    /// One dentry per file: the same inode number and type.
    convenience init(goferLimit limit: Int) {
        self.init(limit: limit) { $0.ino == $1.ino && $0.fileType == $1.fileType }
    }

    /// Marks stale the attributes of every cached dentry of inode `ino`.
    func invalidate(ino: UInt64) {
        for dentry in dentries(where: { $0.ino == ino }) { dentry.invalidate() }
    }
}
