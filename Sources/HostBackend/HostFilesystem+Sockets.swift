import Glibc
import HostSyscalls
import SystemPackage
import VFSCore

// Unix sockets at host files: connect(2) to a socket file of the host tree and bind(2) of a
// new socket in it, with host sockets the caller installs in its processes (see VFSCore's
// UnixSockets.swift). Both name the file through /proc/self/fd: connect goes to
// "/proc/self/fd/N", N being the dentry's O_PATH fd (the magic link is that very socket
// inode, so no path is resolved again on the host); bind binds at "/proc/self/fd/N/NAME", N
// the parent directory's O_PATH fd. Host processes reach these sockets like any other:
// a host listener is connected to, a host client can connect to a socket bound here.
// Lock order: none held (each call is one host syscall sequence).

extension HostFilesystem {
    /// connect(2) to the socket file `dentry` with a new host socket of `type` (close-on-exec).
    /// The host kernel's errno: ECONNREFUSED when nobody listens, EPROTOTYPE for a socket of
    /// another type.
    public func connectUnixSocket(
        _ dentry: Dentry, type: UnixSocketType, credentials: Credentials
    ) throws(Errno) -> HostSocket {
        let file = try own(dentry)
        let socket = try Self.newSocket(type)
        do throws(Errno) {
            try Self.withAddress(Array("/proc/self/fd/\(file.fd.rawValue)".utf8)) {
                Glibc.connect(socket.rawValue, $0, $1)
            }
        } catch {
            try? socket.close()
            throw error
        }
        return HostSocket(socket)
    }

    /// bind(2) at `name` in `rp.current`: mknod's checks in Linux's order (EEXIST — EADDRINUSE
    /// to the caller —, EROFS, EACCES), then a new host socket bound at the name and the
    /// socket file given the new inode's owner and `mode`. ENAMETOOLONG when
    /// "/proc/self/fd/N/NAME" does not fit in sun_path.
    public func bindUnixSocket(
        _ rp: ResolvingPath, name: Name, mode: VFSCore.FileMode, type: UnixSocketType
    ) throws(Errno) -> any BoundUnixSocket {
        let parent = try own(rp.current)
        if try statChild(parent, name) != nil { throw .fileExists }
        try checkWritable(rp.mount)
        let parentOwnership = try hostOwnership(parent)
        try Permissions.check(rp.credentials, [.write, .execute], parentOwnership)
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        let socket = try Self.newSocket(type)
        do throws(Errno) {
            try Self.withAddress(Array("/proc/self/fd/\(parent.fd.rawValue)/".utf8) + Array(name.bytes)) {
                Glibc.bind(socket.rawValue, $0, $1)
            }
        } catch {
            try? socket.close()
            throw error == .addressInUse ? .fileExists : error
        }
        // Non-blocking, as `accept(blocking: false)` needs (a runtime installing it sets the
        // flag its process wants).
        let flags = fcntl(socket.rawValue, F_GETFL)
        if flags >= 0 { _ = fcntl(socket.rawValue, F_SETFL, flags | O_NONBLOCK) }
        let bound = HostBoundSocket(HostSocket(socket))
        try adopt(parent, name, ownership: owner)
        return bound
    }

    private static func newSocket(_ type: UnixSocketType) throws(Errno) -> FileDescriptor {
        let fd = Glibc.socket(AF_UNIX, Int32(type.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Errno(rawValue: Glibc.errno) }
        return FileDescriptor(rawValue: fd)
    }

    /// Runs `body` with a sockaddr_un for `path`; its -1 becomes the errno thrown.
    private static func withAddress(
        _ path: [UInt8], _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) throws(Errno) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .fileNameTooLong
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + 1)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
        if result != 0 { throw Errno(rawValue: Glibc.errno) }
    }
}

/// A socket bound at a host file: listen and accept act on the host socket itself.
final class HostBoundSocket: BoundUnixSocket {
    let hostSocket: HostSocket

    init(_ hostSocket: HostSocket) { self.hostSocket = hostSocket }

    func listen(backlog: Int32) throws(Errno) {
        guard let fd = hostSocket.descriptor else { throw .badFileDescriptor }
        if Glibc.listen(fd.rawValue, backlog) != 0 { throw Errno(rawValue: Glibc.errno) }
    }

    /// accept, the peer non-blocking and close-on-exec; when `blocking`, polls until one is pending.
    func accept(blocking: Bool) throws(Errno) -> HostSocket {
        guard let fd = hostSocket.descriptor else { throw .badFileDescriptor }
        while true {
            if blocking {
                var entry = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
                if poll(&entry, 1, -1) < 0 {
                    if Glibc.errno == EINTR { continue }
                    throw Errno(rawValue: Glibc.errno)
                }
            }
            // accept4 is not imported into Swift: accept, then the two flags (a fork+exec by
            // another thread in between would leak the peer to the new program).
            let peer = Glibc.accept(fd.rawValue, nil, nil)
            if peer >= 0 {
                _ = fcntl(peer, F_SETFD, FD_CLOEXEC)
                let flags = fcntl(peer, F_GETFL)
                if flags >= 0 { _ = fcntl(peer, F_SETFL, flags | O_NONBLOCK) }
                return HostSocket(FileDescriptor(rawValue: peer))
            }
            let error = Glibc.errno
            if error == EINTR || (blocking && (error == EAGAIN || error == EWOULDBLOCK)) {
                continue
            }
            throw Errno(rawValue: error)
        }
    }
}
