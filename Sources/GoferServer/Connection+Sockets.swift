// BindAt, Listen, Accept, Connect, ConnectWithCreds: host unix sockets in the served tree.
// A unix socket address is a path, so these are the only handlers that use the working
// directory: BindAt binds the bare validated name after fchdir to the parent's control FD;
// Connect connects to "N" after fchdir to /proc/self/fd, N being the socket's control FD
// (the magic link names that very socket inode). Both hold the server's
// workingDirectoryLock for the fchdir+bind/connect pair.
import CGoferSupport
import Glibc
import LISAFS
import SystemPackage

extension Connection {
    static func supportedSocketType(_ type: UInt32) -> Bool {
        type == UInt32(SOCK_STREAM.rawValue) || type == UInt32(SOCK_DGRAM.rawValue)
            || type == UInt32(SOCK_SEQPACKET.rawValue)
    }

    /// A sockaddr_un for a short relative name, then `body` with it.
    func withUnixAddress<R>(_ name: [UInt8], _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) throws(Errno) -> R {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        // UNIX_PATH_MAX counts the NUL: a name of 108 bytes or more does not fit (EINVAL, fsgofer).
        guard name.count < capacity else { throw Errno.invalidArgument }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in name.enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }

    /// bind(2) or connect(2) `socket` to the relative `address`, with the working directory
    /// set to `dir` under the server's lock.
    func connectOrBind(_ socket: HostFD, address: [UInt8], in dir: Int32, bind: Bool) throws(Errno) {
        let result: Int32 = try withUnixAddress(address) { pointer, length in
            server.workingDirectoryLock.withLock { _ in
                guard Glibc.fchdir(dir) == 0 else { return errno }
                let value = bind ? Glibc.bind(socket.raw, pointer, length) : Glibc.connect(socket.raw, pointer, length)
                return value < 0 ? errno : 0
            }
        }
        if result != 0 { throw Errno(rawValue: result) }
    }

    /// Connect and ConnectWithCreds (`response` is the message's empty answer).
    func connect(_ id: FDID, socketType: UInt32, response: any ResponseMessage) throws(Errno) -> Reply {
        let control = try lookupControl(id)
        guard control.type == .socket else { throw Errno.notSocket }
        guard options.hostUnixSockets else { throw Errno.notPermitted }
        guard Self.supportedSocketType(socketType) else { throw Errno.noSuchAddressOrDevice }
        let socket = HostFD(try Host.check(Glibc.socket(AF_UNIX, Int32(socketType) | Int32(SOCK_CLOEXEC.rawValue), 0)))
        let link = Array(control.fd.procName.utf8)
        try connectOrBind(socket, address: link, in: server.procSelfFD.raw, bind: false)
        return Reply(response, fds: [socket])
    }

    /// Called after the read-only check (see `Connection.mutatingMessages`).
    func bindAt(_ request: BindAtRequest) throws(Errno) -> Reply {
        let socketType = request.sockType
        let name = try validatedName(request.name.bytes)
        let dir = try createParent(request.dirFD)
        guard options.hostUnixSockets else { throw Errno.notPermitted }
        guard Self.supportedSocketType(socketType) else { throw Errno.noSuchAddressOrDevice }
        guard fdCount + 2 <= options.maxFDsPerConnection else { throw Errno.tooManyOpenFiles }
        let socket = HostFD(try Host.check(Glibc.socket(AF_UNIX, Int32(socketType) | Int32(SOCK_CLOEXEC.rawValue), 0)))
        // The socket inode's mode comes from the socket's own mode at bind time.
        _ = try Host.check(Glibc.fchmod(socket.raw, Self.permissions(request.mode)))
        try connectOrBind(socket, address: name.bytes, in: dir.fd.raw, bind: true)
        do throws(Errno) {
            let child = try Host.openAt(dir.fd.raw, name, O_PATH)
            try chown(child, uid: request.uid, gid: request.gid)
            let stat = try Host.statx(child.raw)
            let donated = try Host.dup(socket)
            let (control, inode) = try inode(child, stat: stat, type: .socket)
            let boundID = try insert(.boundSocket(BoundSocket(fd: socket, control: control)))
            return Reply(BindAtResponse(child: inode, boundSocketFD: boundID), fds: [donated])
        } catch {
            undoCreate(dir, name)
            throw error
        }
    }

    func listen(_ request: ListenRequest) throws(Errno) -> Reply {
        let bound = try lookupBoundSocket(request.fd)
        _ = try Host.check(Glibc.listen(bound.fd.raw, request.backlog))
        return Reply(ListenResponse())
    }

    func accept(_ request: AcceptRequest) throws(Errno) -> Reply {
        let bound = try lookupBoundSocket(request.fd)
        let peer = HostFD(try Host.check(gofer_accept4(bound.fd.raw, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))))
        // The peer address is never revealed (fsgofer sends "").
        return Reply(AcceptResponse(peerAddress: SizedString(bytes: [])), fds: [peer])
    }
}
