// GoferServer: serves one host directory over LISAFS (gVisor's pkg/lisafs protocol, answered
// the way runsc/fsgofer answers it) to any number of clients, one thread per connection
// plus one per flipcall channel a client opens (Connection+Channel.swift).
//
// Shared state is immutable after init (the root directory fd, the /proc/self/fd fd, the
// options) except `workingDirectoryLock`, which serializes the two handlers that must use
// the process-wide working directory (BindAt and Connect: unix socket addresses are paths,
// so they are resolved relative to an fchdir'ed directory, never through a host path
// string). A connection's FDID table is shared by its socket thread and its channel
// threads, behind the connection's own lock (Connection.swift).
// Lock order: workingDirectoryLock is a leaf; a connection's locks are leaves too and are
// never held while it is taken.
import CGoferSupport
import Glibc
import LISAFS
import Synchronization
import SystemPackage

/// What the server accepts and how it answers.
public struct GoferServerOptions: Sendable {
    /// Refuse every mutating message with EROFS (and open files read-only).
    public var readOnly: Bool
    /// The largest frame, header included, accepted or sent (fsgofer: 2 MiB - 4 KiB). A request
    /// above it closes the connection, as pkg/lisafs's socket communicator does.
    public var maxMessageSize: UInt32
    /// FDIDs a connection may hold at once; a request that would exceed it gets EMFILE.
    public var maxFDsPerConnection: Int
    /// Allow BindAt/Connect/ConnectWithCreds on host unix sockets (fsgofer's --host-uds=all).
    public var hostUnixSockets: Bool
    /// Give each `serveInBackground` thread its own fs attributes (unshare(CLONE_FS)) with
    /// umask 0, so created files get exactly the client's mode (fsgofer runs with umask 0;
    /// the client has already applied the sandbox's umask). Leave it off in a process whose
    /// umask is already 0 (`vfs gofer` sets it, and unshare is not on its seccomp list).
    public var privateZeroUmask: Bool
    /// Advertise and answer Flush (MID 20). fsgofer leaves it out (its files need no flush on
    /// close), and so does this server by default; gVisor's client then sends none. When on,
    /// Flush on an open FD succeeds (the server writes straight through to the host fd, so
    /// there is nothing to write back: Linux's close-time flush of a local file system does
    /// nothing either); on anything else it is EBADF.
    public var supportsFlush: Bool
    /// Flipcall channels a connection may have at once (Channel RPCs beyond it get ENOSYS).
    /// pkg/lisafs's limit is the CPUs available, at least 2 and at most 4: the default, read
    /// when the options are made (before confinement, which hides /sys). 0 refuses Channel
    /// with ENOSYS: clients then keep to the socket.
    public var maxChannelsPerConnection: Int
    /// Answer this server's O_TMPFILE extension of OpenCreateAt (an empty name with O_TMPFILE
    /// in the flags; Connection+Open.swift). Off, an empty name is EINVAL, as in fsgofer.
    public var supportsTemporaryFiles: Bool

    public init(
        readOnly: Bool = false, maxMessageSize: UInt32 = GoferServerOptions.defaultMaxMessageSize,
        maxFDsPerConnection: Int = 65536, hostUnixSockets: Bool = true, privateZeroUmask: Bool = true,
        supportsFlush: Bool = false,
        maxChannelsPerConnection: Int = min(4, max(2, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))),
        supportsTemporaryFiles: Bool = true
    ) {
        self.supportsTemporaryFiles = supportsTemporaryFiles
        self.maxChannelsPerConnection = maxChannelsPerConnection
        self.readOnly = readOnly
        self.maxMessageSize = maxMessageSize
        self.maxFDsPerConnection = maxFDsPerConnection
        self.hostUnixSockets = hostUnixSockets
        self.privateZeroUmask = privateZeroUmask
        self.supportsFlush = supportsFlush
    }

    /// pkg/lisafs's MaxMessageSize: 2 MiB minus one 4 KiB page.
    public static let defaultMaxMessageSize: UInt32 = Communicator.defaultMaxMessageSize
}

/// A LISAFS server for one host directory.
public final class GoferServer: Sendable {
    let root: HostFD
    let procSelfFD: HostFD
    public let options: GoferServerOptions
    let workingDirectoryLock = Mutex<Void>(())

    /// Serves the directory `rootPath` (opened O_PATH|O_DIRECTORY; a symlink is refused).
    /// `procSelfFD` is a directory fd on /proc/self/fd (opened before any pivot_root); when
    /// nil, /proc/self/fd is opened now.
    public init(rootPath: String, procSelfFD: Int32? = nil, options: GoferServerOptions = .init()) throws(Errno) {
        let rootFD = Glibc.open(rootPath, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
        if rootFD < 0 { throw Errno(rawValue: errno) }
        root = HostFD(rootFD)
        if let procSelfFD {
            self.procSelfFD = HostFD(procSelfFD)
        } else {
            let fd = Glibc.open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if fd < 0 { throw Errno(rawValue: errno) }
            self.procSelfFD = HostFD(fd)
        }
        self.options = options
    }

    /// Serves one connected stream socket until the peer closes it or sends a frame the
    /// protocol cannot carry; then ends the connection's channels, closes every FD the
    /// connection held and, last, `socket`: a client that sees the socket close knows the
    /// connection's resources are gone. Frames go through LISAFS's `Communicator` (header
    /// first, `maxMessageSize` enforced, donated fds as SCM_RIGHTS on the response).
    public func serve(socket: Int32) {
        let communicator = Communicator(
            socket: FileDescriptor(rawValue: socket), maxMessageSize: options.maxMessageSize,
            takingOwnership: true)
        let connection = Connection(server: self, communicator: communicator)
        connection.run()
        connection.finish()
        communicator.close()
    }

    /// Serves `socket` on a new thread (detached); returns at once.
    public func serveInBackground(socket: Int32) {
        let started = startDetachedThread { [self] in
            if options.privateZeroUmask && gofer_private_fs_with_zero_umask() != 0 {
                // Without a private umask, modes would be masked: refuse to serve.
                Glibc.close(socket)
                return
            }
            serve(socket: socket)
        }
        if !started { Glibc.close(socket) }
    }

    /// Accepts connections on a listening socket forever, each served on its own thread.
    /// Returns only when accept fails with something other than EINTR/ECONNABORTED.
    public func acceptLoop(listeningSocket: Int32) -> Errno {
        while true {
            let client = gofer_accept4(listeningSocket, Int32(SOCK_CLOEXEC.rawValue))
            if client >= 0 {
                serveInBackground(socket: client)
                continue
            }
            let error = errno
            if error == EINTR || error == ECONNABORTED { continue }
            return Errno(rawValue: error)
        }
    }

    /// The MIDs the Mount response advertises: fsgofer's list, every message but Error and
    /// Flush (1–19, 21–33).
    static let supportedMessages: [MessageID] = MessageID.allCases.filter { $0 != .error && $0 != .flush }

    /// What this server's Mount response advertises: `supportedMessages`, plus Flush when
    /// `options.supportsFlush`.
    var advertisedMessages: [MessageID] {
        options.supportsFlush ? MessageID.allCases.filter { $0 != .error } : Self.supportedMessages
    }
}

/// Runs `body` on a new detached thread (a connection, a channel); false if no thread could be
/// made. A thread made by another one shares its file-system attributes (umask, cwd).
func startDetachedThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let box = Unmanaged.passRetained(ThreadBody(body))
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { argument in
        guard let argument else { return nil }
        Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue().body()
        return nil
    }, box.toOpaque())
    guard created == 0 else {
        box.release()
        return false
    }
    pthread_detach(thread)
    return true
}

private final class ThreadBody: Sendable {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
