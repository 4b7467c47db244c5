// One client connection: the socket's frame loop, its channels (Connection+Channel.swift)
// and the FDID table they share. The socket is served by the connection's thread, each
// channel by a thread of its own, so requests of one connection run concurrently and the
// table is behind a lock. FDIDs count up from 1 and are never reused on a connection
// (pkg/lisafs); 0 is never handed out. Host fds are owned by `HostFD` objects, so an entry's
// host fd closes when the last table entry (or open file, or bound socket) referring to it
// goes away.
// Lock order: `table` and `channels` are leaves (never held while handling a request or
// while taking the other); GoferServer's workingDirectoryLock is taken by handlers with
// neither held.
import CGoferSupport
import Glibc
import LISAFS
import Synchronization
import SystemPackage

/// A control FD: an O_PATH host fd on one file, with the file's type at creation.
final class ControlFile: Sendable {
    let fd: HostFD
    let type: FileType
    init(fd: HostFD, type: FileType) {
        self.fd = fd
        self.type = type
    }
    var isDirectory: Bool { type == .directory }
    var isSymlink: Bool { type == .symlink }
}

/// An open FD: a real host fd opened from a control FD with the client's access mode.
final class OpenFile: Sendable {
    let fd: HostFD
    let control: ControlFile
    let readable: Bool
    let writable: Bool
    init(fd: HostFD, control: ControlFile, flags: Int32) {
        self.fd = fd
        self.control = control
        let access = flags & O_ACCMODE
        readable = access == O_RDONLY || access == O_RDWR
        writable = access == O_WRONLY || access == O_RDWR
    }
}

/// A bound host unix socket (BindAt), used by Listen and Accept.
final class BoundSocket: Sendable {
    let fd: HostFD
    let control: ControlFile
    init(fd: HostFD, control: ControlFile) {
        self.fd = fd
        self.control = control
    }
}

enum TableEntry: Sendable {
    case control(ControlFile)
    case open(OpenFile)
    case boundSocket(BoundSocket)
}

/// A handler's successful answer: the response message and the host fds to donate with it.
struct Reply {
    var message: any ResponseMessage
    var fds: [HostFD]

    init(_ message: any ResponseMessage, fds: [HostFD] = []) {
        self.message = message
        self.fds = fds
    }
}

final class Connection: @unchecked Sendable {
    let server: GoferServer
    let communicator: Communicator

    private struct Table {
        var entries: [FDID: TableEntry] = [:]
        var nextID: UInt64 = 1
    }
    private let table = Mutex(Table())
    private let isMounted = Atomic<Bool>(false)
    /// The connection's channels and their shared-memory file (Connection+Channel.swift).
    let channels = Mutex(ChannelSet())
    /// Channel threads still running (Connection+Channel.swift).
    let channelThreads = Atomic<Int>(0)

    init(server: GoferServer, communicator: Communicator) {
        self.server = server
        self.communicator = communicator
    }

    var options: GoferServerOptions { server.options }

    var mounted: Bool { isMounted.load(ordering: .acquiring) }

    // MARK: FDID table

    /// Adds an entry; EMFILE when the connection already holds its limit.
    func insert(_ entry: TableEntry) throws(Errno) -> FDID {
        let limit = options.maxFDsPerConnection
        return try table.withLock { (table: inout Table) throws(Errno) -> FDID in
            guard table.entries.count < limit else { throw Errno.tooManyOpenFiles }
            let id = FDID(table.nextID)
            table.nextID &+= 1
            table.entries[id] = entry
            return id
        }
    }

    /// Removes an entry and returns it, so that its host fd is closed by the caller, outside
    /// the lock, when the returned value goes away.
    @discardableResult
    func remove(_ id: FDID) -> TableEntry? {
        table.withLock { $0.entries.removeValue(forKey: id) }
    }

    private func entry(_ id: FDID) -> TableEntry? {
        table.withLock { $0.entries[id] }
    }

    func lookupControl(_ id: FDID) throws(Errno) -> ControlFile {
        guard case .control(let file) = entry(id) else { throw Errno.badFileDescriptor }
        return file
    }

    func lookupOpen(_ id: FDID) throws(Errno) -> OpenFile {
        guard case .open(let file) = entry(id) else { throw Errno.badFileDescriptor }
        return file
    }

    func lookupBoundSocket(_ id: FDID) throws(Errno) -> BoundSocket {
        guard case .boundSocket(let socket) = entry(id) else { throw Errno.badFileDescriptor }
        return socket
    }

    /// A control or open FD (FStat accepts either).
    func lookupAny(_ id: FDID) throws(Errno) -> HostFD {
        switch entry(id) {
        case .control(let file): return file.fd
        case .open(let file): return file.fd
        default: throw Errno.badFileDescriptor
        }
    }

    var fdCount: Int { table.withLock { $0.entries.count } }

    /// After `run`: ends the channels, waits (boundedly) for their threads, and drops every
    /// FDID, closing the host fds no open file still needs.
    func finish() {
        shutDownChannels()
        waitForChannelThreads()
        let dropped = table.withLock { table -> [FDID: TableEntry] in
            defer { table.entries = [:] }
            return table.entries
        }
        withExtendedLifetime(dropped) {}
    }

    // MARK: Frame loop

    /// Reads frames until EOF, a transport error or an oversized frame; answers each. The
    /// communicator reads the header first and refuses (EMSGSIZE) a frame above
    /// `maxMessageSize` before reading or allocating its payload; pkg/lisafs's communicator
    /// drops the connection then, and so does this loop. Requests carry no FDs: the receive
    /// offers no control buffer, so the kernel discards any a client attaches.
    func run() {
        while true {
            let frame: ReceivedFrame
            do throws(Errno) {
                frame = try communicator.receiveFrame(maxFDs: 0)
            } catch {
                return
            }
            do throws(Errno) {
                switch handle(rawMessageID: frame.header.rawMessageID, payload: frame.payload) {
                case .success(let (mid, payload, fds)):
                    // The donated HostFDs close when `fds` goes away: donation hands over a duplicate.
                    try withExtendedLifetime(fds) { () throws(Errno) in
                        try communicator.sendFrame(
                            rawMessageID: mid, payload: payload,
                            fds: fds.map { FileDescriptor(rawValue: $0.raw) })
                    }
                case .failure(let error):
                    try communicator.sendError(error)
                }
            } catch {
                return
            }
        }
    }

    /// Dispatches one request: the response MID (the request's), encoded payload and donated
    /// fds, or the errno for an Error response. Checks in fsgofer's order: nothing but Mount
    /// before Mount (EINVAL), an unknown or unserved MID (EOPNOTSUPP), a mutating message on a
    /// read-only server (EROFS), then the payload, which must decode (EIO, fsgofer's answer
    /// to a request that does not unmarshal; bytes after the message are ignored, as there).
    func handle(
        rawMessageID: UInt16, payload: [UInt8]
    ) -> Result<(UInt16, [UInt8], [HostFD]), Errno> {
        do throws(Errno) {
            if !mounted && rawMessageID != MessageID.mount.rawValue { throw Errno.invalidArgument }
            guard let mid = MessageID(rawValue: rawMessageID), server.advertisedMessages.contains(mid)
            else { throw Errno.notSupported }
            if Self.mutatingMessages.contains(mid) { try requireWritable() }
            let request: AnyRequest
            do throws(Errno) {
                request = try AnyRequest.decode(messageID: mid, payload: payload, ignoringTrailingBytes: true)
            } catch {
                throw Errno.ioError
            }
            let reply = try dispatch(request)
            let encoded = try reply.message.encoded()
            guard encoded.count + FrameHeader.size <= Int(options.maxMessageSize) else { throw Errno.noBufferSpace }
            return .success((rawMessageID, encoded, reply.fds))
        } catch {
            return .failure(error)
        }
    }

    /// Messages refused with EROFS on a read-only server before their payload is looked at.
    /// (OpenAt checks its flags instead: a read-only open is fine.)
    static let mutatingMessages: Set<MessageID> = [
        .setStat, .openCreateAt, .pWrite, .mkdirAt, .mknodAt, .symlinkAt, .linkAt, .fAllocate,
        .unlinkAt, .renameAt, .renameAt2, .fSetXattr, .fRemoveXattr, .bindAt,
    ]

    private func dispatch(_ request: AnyRequest) throws(Errno) -> Reply {
        switch request {
        case .mount: return try mount()
        case .channel: return try openChannel()
        case .flush(let request):
            _ = try lookupOpen(request.fd)
            return Reply(FlushResponse())
        case .fStat(let request): return try fstat(request)
        case .setStat(let request): return try setStat(request)
        case .walk(let request): return try walk(request)
        case .walkStat(let request): return try walkStat(request)
        case .openAt(let request): return try openAt(request)
        case .openCreateAt(let request): return try openCreateAt(request)
        case .close(let request): return close(request)
        case .fSync(let request): return try fsync(request)
        case .pWrite(let request): return try pwrite(request)
        case .pRead(let request): return try pread(request)
        case .mkdirAt(let request): return try mkdirAt(request)
        case .mknodAt(let request): return try mknodAt(request)
        case .symlinkAt(let request): return try symlinkAt(request)
        case .linkAt(let request): return try linkAt(request)
        case .fStatFS(let request): return try fstatfs(request)
        case .fAllocate(let request): return try fallocate(request)
        case .readLinkAt(let request): return try readLinkAt(request)
        case .connect(let request):
            return try connect(request.fd, socketType: request.sockType, response: ConnectResponse())
        case .connectWithCreds(let request):
            // The uid/gid are not assumed: connecting as them would need CAP_SETUID and
            // CAP_SETGID (a thread's credentials are what the peer's SO_PEERCRED records), which
            // the confinement drops. The client has already checked, as the caller, the write
            // permission connect(2) needs on the socket file; the host peer sees the gofer's
            // credentials.
            return try connect(request.fd, socketType: request.sockType, response: ConnectWithCredsResponse())
        case .unlinkAt(let request): return try unlinkAt(request)
        case .renameAt(let request):
            return try renameAt(
                request.oldDir, request.oldName, request.newDir, request.newName, flags: 0,
                response: RenameAtResponse())
        case .renameAt2(let request):
            return try renameAt(
                request.oldDir, request.oldName, request.newDir, request.newName, flags: request.flags,
                response: RenameAt2Response())
        case .getdents64(let request): return try getdents64(request)
        case .fGetXattr(let request): return try fgetXattr(request)
        case .fSetXattr(let request): return try fsetXattr(request)
        case .fListXattr(let request): return try flistXattr(request)
        case .fRemoveXattr(let request): return try fremoveXattr(request)
        case .bindAt(let request): return try bindAt(request)
        case .listen(let request): return try listen(request)
        case .accept(let request): return try accept(request)
        }
    }

    func requireWritable() throws(Errno) {
        if options.readOnly { throw Errno.readOnlyFileSystem }
    }

    // MARK: Mount

    private func mount() throws(Errno) -> Reply {
        let rootFD = HostFD(try Host.check(Glibc.openat(server.root.raw, ".", O_PATH | O_CLOEXEC | O_DIRECTORY)))
        let stat = try Host.statx(rootFD.raw)
        let id = try insert(.control(ControlFile(fd: rootFD, type: .directory)))
        isMounted.store(true, ordering: .releasing)
        return Reply(
            MountResponse(
                root: LISAFS.Inode(controlFD: id, stat: stat), maxMessageSize: options.maxMessageSize,
                supported: server.advertisedMessages))
    }
}

/// fsgofer's checkSafeName: a name is one non-empty component other than "." and "..",
/// without '/' (and, as Go's syscall layer refuses them, without NUL). Anything else: EINVAL.
func validatedName(_ bytes: [UInt8]) throws(Errno) -> HostName {
    guard !bytes.isEmpty, bytes != [0x2E], bytes != [0x2E, 0x2E], !bytes.contains(0x2F), !bytes.contains(0)
    else { throw Errno.invalidArgument }
    return HostName(bytes: bytes)
}
