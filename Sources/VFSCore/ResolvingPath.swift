/// openat2's RESOLVE_* flags, honoured by the core during resolution.
public struct ResolveFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static let noXDev = ResolveFlags(rawValue: 0x01)
    public static let noMagicLinks = ResolveFlags(rawValue: 0x02)
    public static let noSymlinks = ResolveFlags(rawValue: 0x04)
    public static let beneath = ResolveFlags(rawValue: 0x08)
    public static let inRoot = ResolveFlags(rawValue: 0x10)
    public static let cached = ResolveFlags(rawValue: 0x20)
}

/// What the final component of a path is, for operations that act on a parent and a name.
public enum FinalComponent: Sendable {
    /// The path named no component at all: "/".
    case root
    case dot
    case dotDot
    case name(Name)
}

/// A path being resolved: a cursor over the remaining components plus the state of the walk
/// (where it stands, its root, symlinks followed so far, who is asking).
///
/// This is the object that makes delegated resolution work. The core hands it to the file
/// system that owns the current position; that file system consumes as many components as it
/// can (every one it holds, in one go) and returns a `WalkStop` only when the core must act:
/// a mount point, `..` at a mount root, or an absolute symlink. Relative symlinks are spliced
/// into the remaining path by `handleSymlink` and the file system walks on.
///
/// A value type passed `inout` to `walk`, so that resolving a path needs no heap object of its
/// own (the allocation count is for the benchmarks of issue 6 to measure): components
/// are slices of the caller's path buffer; only following a symlink builds a new buffer.
public struct ResolvingPath {
    /// Linux's PATH_MAX, counting the terminating NUL.
    public static let pathMax = 4096
    /// Linux's MAXSYMLINKS.
    public static let maxSymlinks = 40

    public let credentials: Credentials
    /// Where `/` and `..`-at-root stop: the task's root, or the starting point for
    /// RESOLVE_IN_ROOT / RESOLVE_BENEATH.
    public private(set) var root: VirtualDentry
    /// The mount the walk is in and the dentry it stands on.
    public private(set) var mount: Mount
    public private(set) var current: Dentry
    public let resolveFlags: ResolveFlags

    /// Follow a symlink in the final component (no O_NOFOLLOW / AT_SYMLINK_NOFOLLOW).
    public let followFinalSymlink: Bool
    /// The walk stops before the final component (for create, unlink, rename...).
    public let stopsAtParent: Bool
    public private(set) var symlinksFollowed = 0
    /// fs.protected_hardlinks is in force (the VFS's setting).
    public internal(set) var protectedHardlinks = true

    private var path: [UInt8]
    private var componentStart = 0
    private var componentEnd = 0
    private var hasTrailingSlash = false
    /// Set by the core after it moves from a mount root to the mount point for `..`: Linux
    /// checked search permission on the mount root already and does not check the mount point.
    var skipNextSearchCheck = false
    /// Whether Linux's walk would have its root by now (`nd->root`, which path_init sets only
    /// for an absolute path or a scoped lookup, and handle_dots at the first `..`). It decides
    /// RESOLVE_NO_XDEV at an absolute symlink: EXDEV when the root is not set yet (Linux 6.18:
    /// openat2("b/c", RESOLVE_NO_XDEV) with b -> "/c" is EXDEV), else EXDEV only from another
    /// mount than the root's.
    private var rootIsSet: Bool

    init(
        credentials: Credentials, root: VirtualDentry, start: VirtualDentry, path: [UInt8],
        followFinalSymlink: Bool, stopsAtParent: Bool, resolveFlags: ResolveFlags
    ) {
        self.credentials = credentials
        self.root = root
        self.mount = start.mount
        self.current = start.dentry
        self.path = path
        self.followFinalSymlink = followFinalSymlink
        self.stopsAtParent = stopsAtParent
        self.resolveFlags = resolveFlags
        self.rootIsSet =
            path.first == 0x2F || !resolveFlags.isDisjoint(with: [.beneath, .inRoot])
        loadComponent(from: 0)
    }

    // MARK: - The cursor, for file systems

    /// No components remain: the walk is complete.
    public var isDone: Bool { componentStart == componentEnd }

    /// The pending component is the last one of the path.
    public var isFinalComponent: Bool { componentEnd >= path.count || restIsSlashes(componentEnd) }

    /// The path ended with `/` (or the pending final component did): the result must be a
    /// directory, and a final symlink is followed.
    public var mustBeDirectory: Bool { hasTrailingSlash }

    public var componentIsDot: Bool {
        componentEnd - componentStart == 1 && path[componentStart] == 0x2E
    }

    public var componentIsDotDot: Bool {
        componentEnd - componentStart == 2 && path[componentStart] == 0x2E
            && path[componentStart + 1] == 0x2E
    }

    /// The pending component as a name to look up. ENAMETOOLONG past NAME_MAX: Linux finds that
    /// only when it looks the name up, so file systems call this right before their lookup.
    public func componentName() throws(Errno) -> Name {
        guard componentEnd - componentStart <= Name.maxLength else { throw .fileNameTooLong }
        return Name(unchecked: path[componentStart..<componentEnd])
    }

    /// Whether a symlink found at the pending component is to be followed: always in the
    /// middle of a path; at the end only without NOFOLLOW, or when a trailing slash demands it.
    public var shouldFollowSymlink: Bool {
        !isFinalComponent || followFinalSymlink || hasTrailingSlash
    }

    /// The pending component is `..` and the walk stands on its root: `..` stays put (or,
    /// under RESOLVE_BENEATH, is an escape attempt: EXDEV).
    public func isAtRoot() -> Bool {
        current === root.dentry && mount === root.mount
    }

    /// A file system calls this on `..` when `isAtRoot()` is true.
    public mutating func dotDotAtRoot() throws(Errno) {
        if resolveFlags.contains(.beneath) { throw .improperLink }
        advance()
    }

    /// Steps over the pending `..` component from `current`, whose parent in its file system
    /// is `parent` (nil for a file system's root), as Linux's `handle_dots` does: at the
    /// walk's root it stays put (EXDEV under RESOLVE_BENEATH); at the mount's root it hands
    /// back to VFSCore (`.mountRootParent`); otherwise it moves `current` to the parent. A
    /// mount on top of where it lands is entered as for any other component (Linux 6.18: with
    /// a tmpfs mounted on the chroot's "/", `mkdir("../d")` from the old root directory makes d
    /// in the new tmpfs), so then it returns `.mountPoint`. nil: walk on from `current`.
    public mutating func stepOverDotDot<D: Dentry>(_ current: inout D, parent: D?) throws(Errno)
        -> WalkStop?
    {
        if isAtRoot() {
            try dotDotAtRoot()
            return current.isMountPoint ? .mountPoint : nil
        }
        if current === mount.root { return .mountRootParent }
        let target = parent ?? current
        advance(to: target)
        if target.isMountPoint { return .mountPoint }
        current = target
        return nil
    }

    /// Consume the pending component, moving to `dentry` (in the same mount).
    public mutating func advance(to dentry: Dentry) {
        current = dentry
        advance()
    }

    /// Consume the pending component without moving (`.`, or `..` at the root).
    public mutating func advance() {
        loadComponent(from: componentEnd)
    }

    /// Splice a symlink's target in place of the pending component. Returns true when the
    /// target is absolute: the file system must then return `.absoluteSymlink` and the core
    /// restarts at the root. ELOOP past 40 links or under RESOLVE_NO_SYMLINKS; ENOENT for an
    /// empty target.
    public mutating func handleSymlink(target: some Collection<UInt8>) throws(Errno) -> Bool {
        if resolveFlags.contains(.noSymlinks) { throw .tooManySymbolicLinkLevels }
        symlinksFollowed += 1
        guard symlinksFollowed <= ResolvingPath.maxSymlinks else {
            throw .tooManySymbolicLinkLevels
        }
        guard let first = target.first else { throw .noSuchFileOrDirectory }
        var spliced: [UInt8] = []
        spliced.reserveCapacity(target.count + path.count - componentEnd + 1)
        spliced.append(contentsOf: target)
        spliced.append(contentsOf: path[componentEnd...])
        path = spliced
        loadComponent(from: 0)
        if first == 0x2F {
            if resolveFlags.contains(.beneath) { throw .improperLink }
            // nd_jump_root: the mount check compares with a root that may not be set yet.
            if resolveFlags.contains(.noXDev) && (!rootIsSet || mount !== root.mount) {
                throw .improperLink
            }
            rootIsSet = true
            return true
        }
        return false
    }

    /// Checks search permission on the directory the walk stands on, before it looks up the
    /// pending component (Linux's `may_lookup`). `directory` is its current ownership.
    public mutating func checkSearchPermission(_ directory: Ownership) throws(Errno) {
        if skipNextSearchCheck {
            skipNextSearchCheck = false
            return
        }
        try Permissions.check(credentials, .execute, directory)
    }

    /// The final component, once the walk has stopped at the parent.
    public func finalComponent() -> FinalComponent {
        if isDone { return .root }
        if componentIsDot { return .dot }
        if componentIsDotDot { return .dotDot }
        return .name(Name(unchecked: path[componentStart..<componentEnd]))
    }

    /// The pending component and the ones after it, in order, for a file system that can look
    /// several names up in one request (the gofer client's Walk RPC). Stops before the first
    /// `.` or `..`, before a name longer than NAME_MAX (its ENAMETOOLONG belongs to the step
    /// that reaches it), before the final component when `stopsAtParent`, and after `limit`
    /// names. Looking ahead consumes nothing: the file system still advances one component at
    /// a time and makes every per-step check (search permission, symlinks, mount points).
    public func upcomingNames(limit: Int) -> [Name] {
        var names: [Name] = []
        var start = componentStart
        while names.count < limit {
            while start < path.count && path[start] == 0x2F { start += 1 }
            var end = start
            while end < path.count && path[end] != 0x2F { end += 1 }
            if start == end { break }
            if stopsAtParent && (end >= path.count || restIsSlashes(end)) { break }
            let length = end - start
            if length > Name.maxLength { break }
            if path[start] == 0x2E && (length == 1 || (length == 2 && path[start + 1] == 0x2E)) {
                break
            }
            names.append(Name(unchecked: path[start..<end]))
            start = end
        }
        return names
    }

    // MARK: - The core's side

    mutating func jump(to location: VirtualDentry) {
        mount = location.mount
        current = location.dentry
    }

    /// Restart at the root after an absolute symlink (the target is already spliced in).
    mutating func restartAtRoot() {
        jump(to: root)
    }

    private mutating func loadComponent(from index: Int) {
        var start = index
        while start < path.count && path[start] == 0x2F { start += 1 }
        var end = start
        while end < path.count && path[end] != 0x2F { end += 1 }
        componentStart = start
        componentEnd = end
        // A `..` about to be walked: handle_dots sets the root before anything after it.
        if end - start == 2 && path[start] == 0x2E && path[start + 1] == 0x2E { rootIsSet = true }
        if start < end {
            hasTrailingSlash = end < path.count && restIsSlashes(end)
        } else {
            // Nothing left: remember whether the last component we consumed had a slash.
            hasTrailingSlash = hasTrailingSlash || (start > 0 && path.last == 0x2F)
        }
    }

    private func restIsSlashes(_ index: Int) -> Bool {
        var i = index
        while i < path.count {
            if path[i] != 0x2F { return false }
            i += 1
        }
        return true
    }
}

/// Why a file system stopped walking.
public enum WalkStop: Sendable {
    /// Every component it was asked to consume is consumed; `current` is the result (or, when
    /// `stopsAtParent`, the parent of the final component).
    case done
    /// The walk stepped onto a dentry something is mounted on (the component is consumed).
    case mountPoint
    /// `..` at the root of the current mount; the `..` is *not* consumed.
    case mountRootParent
    /// An absolute symlink's target has been spliced in; continue from the root.
    case absoluteSymlink
}
