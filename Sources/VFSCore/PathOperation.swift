/// The "where" of a path-based call: the caller's root, the directory relative paths start at
/// (cwd or a dirfd's directory), the path bytes, and how to treat its ends.
public struct PathOperation: Sendable {
    public var root: VirtualDentry
    public var start: VirtualDentry
    public var path: [UInt8]
    /// Follow a symlink in the final component (false for O_NOFOLLOW, AT_SYMLINK_NOFOLLOW,
    /// lstat, and the operations that act on the link itself).
    public var followFinalSymlink: Bool
    /// AT_EMPTY_PATH: an empty path names `start` itself.
    public var allowEmptyPath: Bool
    public var resolveFlags: ResolveFlags

    public init(
        root: VirtualDentry, start: VirtualDentry, path: [UInt8], followFinalSymlink: Bool = true,
        allowEmptyPath: Bool = false, resolveFlags: ResolveFlags = []
    ) {
        self.root = root
        self.start = start
        self.path = path
        self.followFinalSymlink = followFinalSymlink
        self.allowEmptyPath = allowEmptyPath
        self.resolveFlags = resolveFlags
    }

    public init(
        root: VirtualDentry, start: VirtualDentry, path: String, followFinalSymlink: Bool = true,
        allowEmptyPath: Bool = false, resolveFlags: ResolveFlags = []
    ) {
        self.init(
            root: root, start: start, path: Array(path.utf8),
            followFinalSymlink: followFinalSymlink, allowEmptyPath: allowEmptyPath,
            resolveFlags: resolveFlags)
    }

    /// `getname`'s checks, made before any lookup: a path of PATH_MAX bytes or more is
    /// ENAMETOOLONG; an embedded NUL (which a C caller could never pass) is EINVAL rather than
    /// a silent truncation; an empty path is ENOENT unless AT_EMPTY_PATH allows it.
    func validate() throws(Errno) {
        guard path.count < ResolvingPath.pathMax else { throw .fileNameTooLong }
        guard !path.contains(0) else { throw .invalidArgument }
        if path.isEmpty && !allowEmptyPath { throw .noSuchFileOrDirectory }
    }
}
