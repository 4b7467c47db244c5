import LISAFS
import SystemPackage
import VFSCore

#if canImport(Glibc)
    import Glibc
#endif

// Host unix sockets through the gofer (Connect / ConnectWithCreds, BindAt, Listen, Accept)
// and the close-time Flush, as gVisor's gofer client uses them:
// * connect(2) to a socket file in the mount: the gofer connects a host socket to the host
//   socket file and donates it (gVisor: `endpoint.newConnectedEndpoint` → `dentry.connect`).
// * bind(2) at a path in the mount: BindAt makes the socket file on the host and donates the
//   bound host socket; Listen and Accept act on the gofer's copy (a bound-socket FDID). The
//   donated socket is set non-blocking at once (it shares its open file description with the
//   gofer's copy), so the gofer's Accept never blocks the connection; `accept` waits by
//   polling the donated socket, then asks the gofer (gVisor's sentry polls the donated fd the
//   same way).
// * close(2) of a descriptor open for writing on a regular file: one Flush on its open FDID,
//   in exclusive caching only and only when the gofer lists Flush (gVisor's
//   `regularFileFD.OnClose`; fsgofer does not list it, so gVisor sends none there).
// Lock order: as GoferFilesystem (no lock held across an RPC or a poll).

extension GoferFilesystem {
    /// Whether the current gofer connection listed `message` in its Mount response.
    func serverSupports(_ message: MessageID) -> Bool {
        guard let client = connectionState.withLock({ $0.client }) else { return false }
        return client.supports(message)
    }

    /// connect(2) to the socket file `dentry`: one ConnectWithCreds (the caller's uid and
    /// gid; `GoferOptions.connectWithCredentials` and a gofer that lists it) or Connect RPC.
    /// The gofer's errno is its host connect(2)'s (ECONNREFUSED with no listener, EPROTOTYPE
    /// for another socket type), passed on as Linux would give it; a gofer that refuses host
    /// sockets (EPERM, EOPNOTSUPP, ENXIO for the type) is ECONNREFUSED, as gVisor answers
    /// every failed gofer connect. A socket file this client made with mknod (synthetic) has
    /// no socket behind it: ECONNREFUSED.
    public func connectUnixSocket(
        _ dentry: Dentry, type: UnixSocketType, credentials: Credentials
    ) throws(Errno) -> HostSocket {
        let socketFile = try own(dentry)
        if socketFile.isSynthetic { throw .connectionRefused }
        let fd = try controlFD(socketFile)
        let fds: [OwnedFileDescriptor]
        do throws(Errno) {
            if options.connectWithCredentials && serverSupports(.connectWithCreds) {
                fds = try call(
                    ConnectWithCredsRequest(
                        fd: fd, sockType: type.rawValue, uid: credentials.uid, gid: credentials.gid)
                ).fds
            } else {
                fds = try call(ConnectRequest(fd: fd, sockType: type.rawValue)).fds
            }
        } catch {
            switch error {
            case .notPermitted, .notSupported, .noSuchAddressOrDevice: throw .connectionRefused
            default: throw error
            }
        }
        guard let socket = fds.first?.take() else { throw .ioError }
        return HostSocket(socket)
    }

    /// bind(2) at `name` in `rp.current`: mknod's checks (`checkCreate`: EEXIST, EROFS,
    /// EACCES), then one BindAt that makes the socket file on the host with the caller's
    /// ownership and `mode`. A gofer error is re-checked against the name, so an existing
    /// name is EEXIST (EADDRINUSE to the caller) before a read-only gofer's EROFS, as Linux
    /// orders them.
    public func bindUnixSocket(
        _ rp: ResolvingPath, name: Name, mode: VFSCore.FileMode, type: UnixSocketType
    ) throws(Errno) -> any BoundUnixSocket {
        let parent = try own(rp.current)
        let parentOwnership = try checkCreate(rp, parent, name, isDirectory: false)
        let owner = Permissions.ownershipForNewInode(
            rp.credentials, parent: parentOwnership, mode: mode)
        let result: RPCResult<BindAtResponse>
        do throws(Errno) {
            result = try call(
                BindAtRequest(
                    dirFD: try controlFD(parent), name: SizedString(bytes: Array(name.bytes)),
                    sockType: type.rawValue,
                    mode: UInt16(truncatingIfNeeded: owner.mode.rawValue), uid: owner.uid,
                    gid: owner.gid))
        } catch {
            if error == .addressInUse { throw .fileExists }
            if error != .ioError, try lookupChild(parent, name) != nil { throw .fileExists }
            throw error
        }
        let generation = self.generation
        let boundFD = result.response.boundSocketFD
        guard let donated = result.fds.first?.take() else {
            closer.enqueue(boundFD, generation: generation)
            throw .ioError
        }
        let host = HostSocket(donated)
        let flags = fcntl(donated.rawValue, F_GETFL)
        if flags >= 0 { _ = fcntl(donated.rawValue, F_SETFL, flags | O_NONBLOCK) }
        let bound = GoferBoundSocket(
            filesystem: self, boundFD: boundFD, generation: generation, hostSocket: host)
        try adopt(result.response.child, in: parent, name: name, mode: owner.mode)
        return bound
    }
}

/// A socket bound with BindAt: the donated host socket and the gofer's bound-socket FDID
/// (closed with the others when this object goes; the socket file stays, as on Linux).
final class GoferBoundSocket: BoundUnixSocket, @unchecked Sendable {
    let filesystem: GoferFilesystem
    let boundFD: FDID
    let generation: UInt64
    let hostSocket: HostSocket

    init(filesystem: GoferFilesystem, boundFD: FDID, generation: UInt64, hostSocket: HostSocket) {
        self.filesystem = filesystem
        self.boundFD = boundFD
        self.generation = generation
        self.hostSocket = hostSocket
    }

    deinit {
        filesystem.closer.enqueue(boundFD, generation: generation)
    }

    /// The bound-socket FDID, or EIO once the connection it was made on has been replaced.
    private func currentFD() throws(Errno) -> FDID {
        guard generation == filesystem.generation else { throw .ioError }
        return boundFD
    }

    /// One Listen RPC.
    func listen(backlog: Int32) throws(Errno) {
        _ = try filesystem.call(ListenRequest(fd: try currentFD(), backlog: backlog))
    }

    /// Waits (poll on the donated socket, no RPC in flight) until a connection is pending
    /// when `blocking`, then one Accept RPC. EAGAIN when not blocking and none is pending.
    func accept(blocking: Bool) throws(Errno) -> HostSocket {
        let fd = try currentFD()
        while true {
            if blocking { try waitReadable() }
            do throws(Errno) {
                let result = try filesystem.call(AcceptRequest(fd: fd))
                guard let peer = result.fds.first?.take() else { throw Errno.ioError }
                return HostSocket(peer)
            } catch {
                // Another accept took the connection between the poll and the RPC.
                if blocking && error == .resourceTemporarilyUnavailable {
                    continue
                }
                throw error
            }
        }
    }

    private func waitReadable() throws(Errno) {
        guard let socket = hostSocket.descriptor else { throw .badFileDescriptor }
        var entry = pollfd(fd: socket.rawValue, events: Int16(POLLIN), revents: 0)
        while true {
            let result = poll(&entry, 1, -1)
            if result >= 0 { return }
            if errno != EINTR { throw Errno(rawValue: errno) }
        }
    }
}

extension GoferRegularFile {
    /// close(2) of a descriptor open for writing: one Flush on the open FDID, as gVisor's
    /// `regularFileFD.OnClose` (exclusive caching only; nothing when the gofer does not list
    /// Flush, or once the connection the file was opened on has been replaced).
    func onClose(openFlags: OpenOptions) throws(Errno) {
        guard openFlags.isWritable, filesystem.options.caching == .exclusive,
            generation == filesystem.generation, filesystem.serverSupports(.flush)
        else { return }
        _ = try filesystem.call(FlushRequest(fd: openFD))
    }
}
