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
    }
    private let state: Mutex<State>

    struct Placement {
        var parent: GoferDentry?
        var name: Name
    }
    let placement: Mutex<Placement>

    /// A synthetic file (gVisor's term): a FIFO or socket made by mknod that the gofer refused
    /// (EPERM: fsgofer makes regular files only). It exists only here, in its parent's
    /// `syntheticChildren`, with attributes kept in memory; it has no control FDID.
    let isSynthetic: Bool
    /// A synthetic FIFO's pipe, shared by everyone who opens it.
    let fifo: Pipe?
    /// This directory's synthetic children. A directory holding any is never evicted (each
    /// child references it as its parent).
    let syntheticChildren = Mutex<[Name: GoferDentry]>([:])
    /// A synthetic file's extended attributes (in memory, as tmpfs keeps them).
    let syntheticXattrs = Mutex<[[UInt8]: [UInt8]]>([:])

    init(
        inode: LISAFS.Inode, generation: UInt64, parent: GoferDentry?, name: Name, closer: FDIDCloser,
        synthetic: Bool = false
    ) {
        self.ino = inode.stat.ino
        self.closer = closer
        self.isSynthetic = synthetic
        self.fifo = synthetic && GoferFilesystem.fileType(inode.stat) == .fifo ? Pipe() : nil
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
        state.withLock { $0.valid ? $0.stat : nil }
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
            $0.stat = stat
            $0.valid = true
            $0.fresh = fresh
        }
    }

    func markFresh() { state.withLock { $0.fresh = true } }

    func invalidate() {
        if isSynthetic { return }
        state.withLock {
            $0.valid = false
            $0.fresh = false
        }
    }

    /// Changes a synthetic file's in-memory attributes.
    func updateSynthetic(_ body: (inout LISAFSStatx) -> Void) {
        state.withLock { body(&$0.stat) }
    }

    func syntheticChild(_ name: Name) -> GoferDentry? {
        syntheticChildren.withLock { $0[name] }
    }

    var hasSyntheticChildren: Bool { syntheticChildren.withLock { !$0.isEmpty } }

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

/// An open FDID made by OpenCreateAt, kept for the `open` right after the create.
struct PendingOpen: Sendable {
    var openFD: FDID
    var generation: UInt64
    var accessMode: UInt32
    var hostFD: HostFD?
}

/// Which dentries a `GoferFilesystem` keeps, by (parent, name): a least-recently-used list
/// bounded by `limit`. Only unreferenced dentries are evicted (nothing but the cache holds
/// them: no open file, working directory, child dentry or walk in progress) and never a mount
/// point, so a dentry in use keeps its identity. An evicted dentry's FDID goes to the batched
/// Close when the dentry is freed. When every cached dentry is in use the cache may exceed its
/// limit.
///
/// Lock order: `state` is a leaf; dentries evicted under it are released after it is dropped.
final class GoferDentryCache: @unchecked Sendable {
    struct Key: Hashable {
        let parent: ObjectIdentifier
        let name: Name
    }

    final class Node {
        let key: Key
        var dentry: GoferDentry
        weak var newer: Node?
        weak var older: Node?
        init(key: Key, dentry: GoferDentry) {
            self.key = key
            self.dentry = dentry
        }
    }

    private struct State {
        var nodes: [Key: Node] = [:]
        weak var newest: Node?
        weak var oldest: Node?
    }
    private let state = Mutex(State())
    let limit: Int
    private let scanLimit = 32

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var count: Int { state.withLock { $0.nodes.count } }

    func lookup(parent: GoferDentry, name: Name) -> GoferDentry? {
        let key = Key(parent: ObjectIdentifier(parent), name: name)
        return state.withLock { state -> GoferDentry? in
            guard let node = state.nodes[key] else { return nil }
            Self.unlink(node, &state)
            Self.pushNewest(node, &state)
            return node.dentry
        }
    }

    /// Caches `dentry` under (parent, name) unless a dentry of the same inode and type is there
    /// already (then that one is kept and returned, so one file has one dentry).
    func insert(_ dentry: GoferDentry, parent: GoferDentry, name: Name) -> GoferDentry {
        let key = Key(parent: ObjectIdentifier(parent), name: name.owned())
        var evicted: [GoferDentry] = []
        let result = state.withLock { state -> GoferDentry in
            if let existing = state.nodes[key] {
                if existing.dentry.ino == dentry.ino && existing.dentry.fileType == dentry.fileType {
                    Self.unlink(existing, &state)
                    Self.pushNewest(existing, &state)
                    return existing.dentry
                }
                Self.unlink(existing, &state)
                state.nodes[key] = nil
                evicted.append(existing.dentry)
            }
            let node = Node(key: key, dentry: dentry)
            state.nodes[key] = node
            Self.pushNewest(node, &state)
            evictIfNeeded(&state, into: &evicted)
            return dentry
        }
        evicted.removeAll()
        return result
    }

    /// Forgets (parent, name) (only if it holds `ifSame`, when given).
    @discardableResult
    func remove(parent: GoferDentry, name: Name, ifSame: GoferDentry? = nil) -> GoferDentry? {
        let key = Key(parent: ObjectIdentifier(parent), name: name)
        let removed = state.withLock { state -> GoferDentry? in
            guard let node = state.nodes[key] else { return nil }
            if let ifSame, node.dentry !== ifSame { return nil }
            state.nodes[key] = nil
            Self.unlink(node, &state)
            return node.dentry
        }
        return removed
    }

    /// Marks stale the attributes of every cached dentry of inode `ino`.
    func invalidate(ino: UInt64) {
        let matching = state.withLock { state in
            state.nodes.values.lazy.filter { $0.dentry.ino == ino }.map(\.dentry)
        }
        for dentry in matching { dentry.invalidate() }
    }

    /// Forgets everything (after `attach`: every FDID belonged to the old connection).
    func removeAll() {
        let dropped = state.withLock { state -> Int in
            let count = state.nodes.count
            state.nodes.removeAll()
            state.newest = nil
            state.oldest = nil
            return count
        }
        _ = dropped
    }

    /// Drops every unreferenced entry.
    func trim() {
        var evicted: [GoferDentry] = []
        state.withLock { state in
            var freed = true
            while freed {
                freed = false
                var node = state.oldest
                while let current = node {
                    node = current.newer
                    if isKnownUniquelyReferenced(&current.dentry) && !current.dentry.isMountPoint {
                        Self.unlink(current, &state)
                        state.nodes[current.key] = nil
                        evicted.append(current.dentry)
                        freed = true
                    }
                }
                evicted.removeAll()
            }
        }
    }

    private func evictIfNeeded(_ state: inout State, into evicted: inout [GoferDentry]) {
        var scanned = 0
        var node = state.oldest
        while state.nodes.count > limit, let current = node, scanned < scanLimit {
            node = current.newer
            scanned += 1
            if isKnownUniquelyReferenced(&current.dentry) && !current.dentry.isMountPoint {
                Self.unlink(current, &state)
                state.nodes[current.key] = nil
                evicted.append(current.dentry)
            }
        }
    }

    private static func unlink(_ node: Node, _ state: inout State) {
        if let newer = node.newer { newer.older = node.older } else { state.newest = node.older }
        if let older = node.older { older.newer = node.newer } else { state.oldest = node.newer }
        node.newer = nil
        node.older = nil
    }

    private static func pushNewest(_ node: Node, _ state: inout State) {
        node.newer = nil
        node.older = state.newest
        state.newest?.newer = node
        state.newest = node
        if state.oldest == nil { state.oldest = node }
    }
}
