import Synchronization

/// The dentries a file system keeps by (parent, name), for backends whose dentries hold
/// something scarce (a host O_PATH fd, a gofer FDID): a least-recently-used list bounded by
/// `limit`.
///
/// Only *unreferenced* dentries are evicted — nothing but the cache holds them: no open file,
/// working directory, child dentry or walk in progress — and never a mount point, so a dentry
/// anyone still uses keeps its identity (the core keys mounts on dentry identity). When every
/// cached dentry is in use the cache may exceed its limit; those dentries are held by their
/// users anyway.
///
/// Lock order: `state` is a leaf. Dentries the cache lets go of are released after it is
/// dropped, so whatever their deinit does (close an fd, queue an FDID for Close) never runs
/// under the lock.
public final class DentryCache<D: Dentry>: @unchecked Sendable {
    struct Key: Hashable {
        let parent: ObjectIdentifier
        let name: Name
    }

    /// A node of the LRU list; `dentry` is the cache's one reference. The list runs from
    /// `newest` through `older` links; the dictionary owns the nodes.
    final class Node {
        let key: Key
        var dentry: D
        weak var newer: Node?
        weak var older: Node?
        init(key: Key, dentry: D) {
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
    public let limit: Int
    /// How many old entries one insertion may look at for an evictable one: eviction stays
    /// O(1) per insertion even when the tail is full of dentries in use.
    private let scanLimit = 32
    /// Whether two dentries stand for the same file (same inode number and type, say): a walk
    /// that raced another to cache (parent, name) then uses the dentry already there.
    private let sameFile: @Sendable (D, D) -> Bool

    public init(limit: Int, sameFile: @escaping @Sendable (D, D) -> Bool) {
        self.limit = max(1, limit)
        self.sameFile = sameFile
    }

    public var count: Int { state.withLock { $0.nodes.count } }

    public func lookup(parent: D, name: Name) -> D? {
        let key = Key(parent: ObjectIdentifier(parent), name: name)
        return state.withLock { state -> D? in
            guard let node = state.nodes[key] else { return nil }
            Self.unlink(node, &state)
            Self.pushNewest(node, &state)
            return node.dentry
        }
    }

    /// Caches `dentry` under (parent, name) unless a dentry for the same file is there already
    /// (then that one is kept and returned, so one file has one dentry). Returns the dentry to
    /// use.
    public func insert(_ dentry: D, parent: D, name: Name) -> D {
        let key = Key(parent: ObjectIdentifier(parent), name: name.owned())
        var released: [D] = []
        let result = state.withLock { state -> D in
            if let existing = state.nodes[key] {
                if sameFile(existing.dentry, dentry) {
                    Self.unlink(existing, &state)
                    Self.pushNewest(existing, &state)
                    return existing.dentry
                }
                Self.unlink(existing, &state)
                released.append(existing.dentry)
            }
            let node = Node(key: key, dentry: dentry)
            state.nodes[key] = node
            Self.pushNewest(node, &state)
            evictIfNeeded(&state, into: &released)
            return dentry
        }
        released.removeAll()
        return result
    }

    /// Forgets (parent, name) — only if it holds `ifSame`, when given — and returns the dentry
    /// that was cached there.
    @discardableResult
    public func remove(parent: D, name: Name, ifSame: D? = nil) -> D? {
        let key = Key(parent: ObjectIdentifier(parent), name: name)
        return state.withLock { state -> D? in
            guard let node = state.nodes[key] else { return nil }
            if let ifSame, node.dentry !== ifSame { return nil }
            state.nodes[key] = nil
            Self.unlink(node, &state)
            return node.dentry
        }
    }

    /// The cached dentries that satisfy `predicate` (run after the lock is dropped).
    public func dentries(where predicate: (D) -> Bool) -> [D] {
        let all = state.withLock { state in state.nodes.values.map(\.dentry) }
        return all.filter(predicate)
    }

    /// Forgets everything, in use or not (a backend whose handles all became invalid).
    public func removeAll() {
        let dropped = state.withLock { state -> [Key: Node] in
            let nodes = state.nodes
            state.nodes.removeAll()
            state.newest = nil
            state.oldest = nil
            return nodes
        }
        _ = dropped  // released here, after the lock
    }

    /// Drops every unreferenced entry. Children pin their parents, so passes repeat until one
    /// frees nothing; each pass's dentries are released outside the lock before the next.
    public func trim() {
        while true {
            var released: [D] = state.withLock { state in
                var evicted: [D] = []
                var node = state.oldest
                while let current = node {
                    node = current.newer
                    if isKnownUniquelyReferenced(&current.dentry) && !current.dentry.isMountPoint {
                        Self.unlink(current, &state)
                        state.nodes[current.key] = nil
                        evicted.append(current.dentry)
                    }
                }
                return evicted
            }
            if released.isEmpty { return }
            released.removeAll()
        }
    }

    private func evictIfNeeded(_ state: inout State, into evicted: inout [D]) {
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
