import HostSyscalls
import Synchronization
import VFSCore

/// A dentry of a host directory tree: an O_PATH|O_NOFOLLOW fd on the host file (so the file is
/// reached again without resolving any path), the inode number and type it had when opened
/// (what shared mode revalidates against), and where it sits in the tree.
///
/// `..` is answered from `placement.parent`, never by the host: the parent is always a dentry
/// this file system opened beneath its root, so no `..` can leave the root even if the host
/// moves the directory elsewhere.
public final class HostDentry: Dentry, @unchecked Sendable {
    public let fd: HostFD
    public let inode: UInt64
    /// st_dev of the file, with `inode` its identity on the host.
    public let device: UInt64

    struct Placement {
        var parent: HostDentry?
        var name: Name
    }
    /// Guarded by its own leaf lock; changed by rename.
    let placement: Mutex<Placement>

    init(fd: HostFD, stat: HostStat, parent: HostDentry?, name: Name) {
        self.fd = fd
        self.inode = stat.inode
        self.device = stat.dev
        self.placement = Mutex(Placement(parent: parent, name: name))
        super.init(fileType: FileType(rawValue: stat.fileTypeBits) ?? .regular)
    }

    var parent: HostDentry? { placement.withLock { $0.parent } }
}

/// Which dentries a `HostFilesystem` keeps, by (parent, name): a least-recently-used list
/// bounded by `limit`. Every cached dentry holds an O_PATH fd, so the bound is what keeps a
/// long walk over a big tree from exhausting the process's fds.
///
/// Only *unreferenced* dentries are evicted (nothing but the cache holds them: no open file,
/// working directory, child dentry or walk in progress), and never a mount point, so a dentry
/// anyone still uses keeps its identity (the core keys mounts on dentry identity). When every
/// cached dentry is in use the cache may exceed its limit; those fds are held by their users.
///
/// Lock order: `state` is a leaf; no host call is made under it (a dentry released by eviction
/// closes its fd after the lock is dropped).
final class DentryCache: @unchecked Sendable {
    struct Key: Hashable {
        let parent: ObjectIdentifier
        let name: Name
    }

    /// A node of the LRU list; `dentry` is the cache's one reference. The list runs from
    /// `newest` through `older` links; the dictionary owns the nodes.
    final class Node {
        let key: Key
        var dentry: HostDentry
        weak var newer: Node?
        weak var older: Node?
        init(key: Key, dentry: HostDentry) {
            self.key = key
            self.dentry = dentry
        }
    }

    private struct State {
        var nodes: [Key: Node] = [:]
        /// Most recently used first.
        weak var newest: Node?
        weak var oldest: Node?
    }
    private let state = Mutex(State())
    let limit: Int
    /// How many old entries one insertion may look at for an evictable one: eviction stays
    /// O(1) per insertion even when the tail is full of dentries in use.
    private let scanLimit = 32

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    var count: Int { state.withLock { $0.nodes.count } }

    func lookup(parent: HostDentry, name: Name) -> HostDentry? {
        let key = Key(parent: ObjectIdentifier(parent), name: name)
        return state.withLock { state -> HostDentry? in
            guard let node = state.nodes[key] else { return nil }
            Self.unlink(node, &state)
            Self.pushNewest(node, &state)
            return node.dentry
        }
    }

    /// Caches `dentry` under (parent, name) unless an entry for the same host file got there
    /// first (then that one is returned, so one host file has one dentry). Returns the dentry
    /// to use.
    func insert(_ dentry: HostDentry, parent: HostDentry, name: Name) -> HostDentry {
        let key = Key(parent: ObjectIdentifier(parent), name: name.owned())
        var evicted: [HostDentry] = []
        let result = state.withLock { state -> HostDentry in
            if let existing = state.nodes[key] {
                if existing.dentry.inode == dentry.inode
                    && existing.dentry.fileType == dentry.fileType
                {
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
        evicted.removeAll()  // closes their fds outside the lock
        return result
    }

    /// Forgets (parent, name); returns the dentry that was cached there.
    @discardableResult
    func remove(parent: HostDentry, name: Name) -> HostDentry? {
        let key = Key(parent: ObjectIdentifier(parent), name: name)
        return state.withLock { state -> HostDentry? in
            guard let node = state.nodes.removeValue(forKey: key) else { return nil }
            Self.unlink(node, &state)
            return node.dentry
        }
    }

    /// Drops every unreferenced entry (used by tests and by a caller short of fds).
    func trim() {
        var evicted: [HostDentry] = []
        state.withLock { state in
            // Children pin their parents, so repeat until a pass frees nothing.
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

    private func evictIfNeeded(_ state: inout State, into evicted: inout [HostDentry]) {
        var scanned = 0
        var node = state.oldest
        while state.nodes.count > limit, let current = node, scanned < scanLimit {
            node = current.newer
            scanned += 1
            // Unreferenced: the node's `dentry` is the only strong reference.
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
