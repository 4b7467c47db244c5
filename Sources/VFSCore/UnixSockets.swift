import Synchronization
import SystemPackage

// Unix domain sockets named by a path, for file systems whose socket files lead to real host
// sockets (the gofer client: LISAFS's Connect/ConnectWithCreds, BindAt, Listen and Accept).
// The VFS has no socket layer of its own: these entry points resolve the path with Linux's
// checks and hand back host socket descriptors for a runtime to install in its processes.
// File systems without host sockets keep the defaults (connect: ECONNREFUSED, as Linux gives
// for a socket file nobody listens on; bind: EOPNOTSUPP, meaning "bind your own endpoint and
// make the socket file with mknod").

/// The socket types a unix socket can have (`SOCK_*`).
public enum UnixSocketType: UInt32, Sendable, CaseIterable {
    case stream = 1
    case datagram = 2
    case seqpacket = 5
}

/// A host socket descriptor this object owns: closed when the object goes away, unless the
/// caller took it with `take()`. Thread-safe (`take` and `close` race safely).
public final class HostSocket: Sendable, CustomStringConvertible {
    private let raw: Atomic<Int32>

    /// Takes ownership of `descriptor`.
    public init(_ descriptor: FileDescriptor) {
        raw = Atomic(descriptor.rawValue)
    }

    /// The descriptor, still owned by this object (nil once taken or closed).
    public var descriptor: FileDescriptor? {
        let value = raw.load(ordering: .acquiring)
        return value >= 0 ? FileDescriptor(rawValue: value) : nil
    }

    /// Moves ownership to the caller, who must close it.
    public func take() -> FileDescriptor? {
        let value = raw.exchange(-1, ordering: .acquiringAndReleasing)
        return value >= 0 ? FileDescriptor(rawValue: value) : nil
    }

    /// Closes the descriptor now (idempotent).
    public func close() {
        let value = raw.exchange(-1, ordering: .acquiringAndReleasing)
        if value >= 0 { try? FileDescriptor(rawValue: value).close() }
    }

    deinit { close() }

    public var description: String {
        let value = raw.load(ordering: .relaxed)
        return value >= 0 ? "HostSocket(\(value))" : "HostSocket(closed)"
    }
}

/// A unix socket bound at a path by a file system that hosts it. The socket file exists from
/// the bind on (and stays after the object goes, as a socket file stays on Linux when its
/// socket is closed).
public protocol BoundUnixSocket: AnyObject, Sendable {
    /// The bound host socket, still owned by this object (poll it, or install a duplicate in a
    /// process).
    var hostSocket: HostSocket { get }
    /// listen(2).
    func listen(backlog: Int32) throws(Errno)
    /// accept(2): the next connection as a host socket (non-blocking, close-on-exec). When
    /// `blocking`, waits until one is pending; otherwise EAGAIN when none is. EINVAL before
    /// `listen`.
    func accept(blocking: Bool) throws(Errno) -> HostSocket
}

extension BoundUnixSocket {
    /// accept(2), waiting for a connection.
    public func accept() throws(Errno) -> HostSocket { try accept(blocking: true) }
}

extension FilesystemImpl {
    /// Default: no file here leads to a host socket (`unix_find_bsd` finding no bound
    /// socket on the inode is ECONNREFUSED).
    public func connectUnixSocket(
        _ dentry: Dentry, type: UnixSocketType, credentials: Credentials
    ) throws(Errno) -> HostSocket {
        throw .connectionRefused
    }

    /// Default: the file system cannot host a bound socket. A runtime with its own socket
    /// layer binds its endpoint and makes the socket file with `makeNode` instead.
    public func bindUnixSocket(
        _ rp: ResolvingPath, name: Name, mode: FileMode, type: UnixSocketType
    ) throws(Errno) -> any BoundUnixSocket {
        throw .notSupported
    }
}

extension VirtualFilesystem {
    /// connect(2) of an AF_UNIX socket to a path, as `unix_find_bsd`: the path is resolved
    /// following its final symlink (ENOENT, ENOTDIR, EACCES for search permission on the
    /// way), then the caller needs write permission on the file it names (EACCES; checked
    /// before its type, so a regular file without write permission is EACCES too), then a
    /// file that is not a socket is ECONNREFUSED. Linux 6.18 on tmpfs gives exactly these; a
    /// read-only mount does not stop a connect. The file system then connects (see
    /// `FilesystemImpl.connectUnixSocket`); the returned host socket is the caller's.
    public func connectUnixSocket(
        _ credentials: Credentials, _ operation: PathOperation, type: UnixSocketType
    ) throws(Errno) -> HostSocket {
        let place = try getDentry(credentials, operation)
        try Self.checkSuperblockWritable(place, writing: true)
        let ownership = try place.mount.filesystem.ownership(place.dentry)
        try Permissions.check(credentials, .write, ownership)
        guard place.dentry.fileType == .socket else { throw .connectionRefused }
        return try place.mount.filesystem.connectUnixSocket(
            place.dentry, type: type, credentials: credentials)
    }

    /// bind(2) of an AF_UNIX socket to a path, as `unix_bind_bsd`: the parent is resolved
    /// (ENOENT, ENOTDIR, EACCES), then the file system makes the socket file with mknod's
    /// checks in Linux's order (EEXIST, EROFS, EACCES); an EEXIST becomes EADDRINUSE, as in
    /// Linux (a dangling symlink at the name is EADDRINUSE too: bind never follows it). `mode`
    /// is the socket file's permission bits with the umask applied (a new socket's inode is
    /// 0777, so Linux gives 0777 & ~umask).
    public func bindUnixSocket(
        _ credentials: Credentials, _ operation: PathOperation, mode: UInt32,
        type: UnixSocketType
    ) throws(Errno) -> any BoundUnixSocket {
        do throws(Errno) {
            let rp = try resolveParent(credentials, operation)
            guard case .name(let name) = rp.finalComponent() else { throw .fileExists }
            try checkFinalName(name, in: rp)
            return try rp.mount.filesystem.bindUnixSocket(
                rp, name: name, mode: FileMode(.socket, permissions: mode & 0o777), type: type)
        } catch {
            throw error == .fileExists ? .addressInUse : error
        }
    }
}

extension FSContext {
    /// connect(2) of a unix socket of `type` to `path` (see
    /// `VirtualFilesystem.connectUnixSocket`).
    public func connectUnixSocket(_ path: String, type: UnixSocketType = .stream) throws(Errno)
        -> HostSocket
    {
        try vfs.connectUnixSocket(credentials, operation(path), type: type)
    }

    /// bind(2) of a new unix socket of `type` at `path`; the socket file gets 0777 & ~umask.
    public func bindUnixSocket(_ path: String, type: UnixSocketType = .stream) throws(Errno)
        -> any BoundUnixSocket
    {
        try vfs.bindUnixSocket(
            credentials, operation(path, followFinalSymlink: false), mode: 0o777 & ~umask,
            type: type)
    }
}
