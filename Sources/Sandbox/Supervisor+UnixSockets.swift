import CSandboxSupport
import Glibc
import Syscalls
import VFSCore

/// connect(2) and bind(2) of AF_UNIX sockets to paths in VFS mounts.
///
/// The filter traps both calls for every socket (the address family is in memory, out of
/// the filter's reach); anything that is not a named AF_UNIX address on an AF_UNIX socket —
/// AF_INET and the rest, abstract names (sun_path[0] == 0), unnamed or autobind addresses,
/// an address too short or too long — and every path the router leaves on the host goes on
/// to the kernel (FLAG_CONTINUE) after one read of the address. The program's socket itself
/// is seen through a copy taken with pidfd_getfd(2) (same open file description; SO_DOMAIN,
/// SO_TYPE, O_NONBLOCK, whether it is bound or connected); a descriptor that is no socket
/// (including a VFS descriptor's placeholder) goes on to the kernel, which says ENOTSOCK.
///
/// A path inside a VFS mount:
/// - a file system that hosts sockets (gofer: Connect/ConnectWithCreds and BindAt): connect
///   gets a host socket connected by the gofer, bind a host socket the gofer bound at the
///   path; either is installed at the program's own descriptor number
///   (SECCOMP_IOCTL_NOTIF_ADDFD + SECCOMP_ADDFD_FLAG_SETFD, keeping its close-on-exec flag;
///   O_NONBLOCK set on the new description as the program had it), replacing the socket the
///   program made, and the call returns 0. listen, accept, send, recv, getsockname... then go
///   straight to the host kernel. Socket options set before the call do not carry over to
///   the new socket, and a datagram socket bound before its connect loses that binding.
/// - any other file system (tmpfs; host mounts' bind): a rendezvous. bind makes the socket
///   file in the VFS (mknod S_IFSOCK, 0777 & ~umask; an existing name is EADDRINUSE) and
///   binds the program's own socket (through the copy) at a fresh name in a private host
///   directory of the supervisor (mode 0700, removed when the supervisor ends); connect to a
///   socket file made that way connects the program's own socket to that name. Two
///   processes of the sandbox meet there; nothing outside the sandbox can reach such a
///   socket (a host client connecting to the host file of a host mount gets ECONNREFUSED).
///   The rendezvous follows the file by device and inode (rename and hard links keep it).
/// Linux's errnos come from the VFS's checks (`VirtualFilesystem.connectUnixSocket` and
/// `bindUnixSocket`: ENOENT, ENOTDIR, EACCES, EADDRINUSE, ECONNREFUSED for a file that is not
/// a socket or one nobody listens on) or from the host kernel's own connect (ECONNREFUSED,
/// EPROTOTYPE, EAGAIN for a full backlog of a non-blocking socket). A socket already bound is
/// EINVAL on bind (EADDRINUSE first when the name exists), one connected or listening is
/// EISCONN or EINVAL on connect, as Linux checks them.
///
/// Known differences: getsockname/getpeername (and accept's peer address) give the name the
/// host socket was bound with, not the sandbox path: "NAME" alone on a gofer mount (the gofer
/// binds relative to the directory), "/proc/self/fd/N/NAME" on a host mount, the private
/// "/tmp/vfs-run-sockets-XXXXXX/K" for a rendezvous (python prints these for
/// `getsockname()`; programs that only compare or log them are unaffected);
/// sendto/sendmsg with a path address are not trapped, so a datagram sent to a VFS path by
/// name reaches the host path of the same name (usually ENOENT); a blocking connect to a
/// rendezvous whose backlog is full waits in the supervisor (the sandbox's other trapped calls
/// wait meanwhile).
extension Supervisor {
    private static let AF_UNIX_FAMILY: UInt16 = 1
    /// sizeof(struct sockaddr_un).
    private static let sockaddrUnSize = 110

    private static func errno(_ error: Errno) -> Outcome { .value(-Int64(error.rawValue)) }

    /// connect(fd, addr, addrlen) or bind(fd, addr, addrlen).
    func unixSocketCall(_ call: Call, bind: Bool) -> Outcome {
        guard let vfsPath = unixSocketPath(call) else { return .passThrough }
        let copy = vfs_pidfd_getfd(call.process.pidfd, call.int32(0))
        guard copy >= 0 else { return .passThrough }
        defer { close(copy) }
        guard Self.socketOption(copy, SO_DOMAIN) == AF_UNIX,
            let rawType = Self.socketOption(copy, SO_TYPE),
            let type = UnixSocketType(rawValue: UInt32(bitPattern: rawType))
        else { return .passThrough }
        guard vfs_notif_id_valid(listener, call.notification.id) == 1 else {
            return Self.errno(.noSuchProcess)
        }
        return bind
            ? bindUnixSocket(call, path: vfsPath, socket: copy, type: type)
            : connectUnixSocket(call, path: vfsPath, socket: copy, type: type)
    }

    /// The VFS path a named AF_UNIX address leads to, or nil when the kernel should have the
    /// call (another family, an abstract or unnamed address, a bad length, a host path).
    private func unixSocketPath(_ call: Call) -> [UInt8]? {
        let length = Int(call.int32(2))
        guard length > 2, length <= Self.sockaddrUnSize, call.address(1) != 0,
            let bytes = try? ProcessMemory(pid: call.tid).readBytes(call.address(1), count: length),
            UInt16(bytes[0]) | UInt16(bytes[1]) << 8 == Self.AF_UNIX_FAMILY, bytes[2] != 0
        else { return nil }
        // Linux takes the name up to the first NUL within the length.
        let name = Array(bytes[2...].prefix { $0 != 0 })
        let process = call.process
        if name.first == 0x2F { return router.route(absolute: name) }
        if process.cwdInVFS { return name }
        guard router.mayReach(relative: name),
            let base = ProcFS.readLink("/proc/\(call.tid)/cwd"), base.first == 0x2F
        else { return nil }
        return router.route(relative: name, base: base)
    }

    private func connectUnixSocket(
        _ call: Call, path: [UInt8], socket: Int32, type: UnixSocketType
    ) -> Outcome {
        // unix_stream_connect: a listening socket is EINVAL, a connected one EISCONN.
        if type != .datagram {
            if Self.socketOption(socket, SO_ACCEPTCONN) == 1 { return Self.errno(.invalidArgument) }
            if Self.isConnected(socket) { return Self.errno(.socketIsConnected) }
        }
        let fs = call.process.task.fs
        let connected: HostSocket
        do throws(Errno) {
            connected = try fs.vfs.connectUnixSocket(fs.credentials, fs.operation(path), type: type)
        } catch {
            guard error == .connectionRefused,
                let name = unixSockets.hostName(of: fs, path: path)
            else { return Self.errno(error) }
            let result = Self.withAddress(name) { Glibc.connect(socket, $0, $1) }
            return .value(result == 0 ? 0 : -Int64(Glibc.errno))
        }
        guard let fd = connected.descriptor else { return Self.errno(.ioError) }
        return installSocket(call, fd.rawValue, like: socket)
    }

    private func bindUnixSocket(
        _ call: Call, path: [UInt8], socket: Int32, type: UnixSocketType
    ) -> Outcome {
        let fs = call.process.task.fs
        let operation = fs.operation(path, followFinalSymlink: false)
        // unix_bind_bsd makes the file first (EADDRINUSE), then finds the socket bound (EINVAL).
        if Self.isBound(socket) {
            let exists = (try? fs.vfs.stat(fs.credentials, operation)) != nil
            return Self.errno(exists ? .addressInUse : .invalidArgument)
        }
        let bound: any BoundUnixSocket
        do throws(Errno) {
            bound = try fs.vfs.bindUnixSocket(
                fs.credentials, operation, mode: 0o777 & ~fs.umask, type: type)
        } catch {
            guard error == .notSupported else { return Self.errno(error) }
            return bindRendezvous(fs, path: path, socket: socket)
        }
        guard let fd = bound.hostSocket.descriptor else { return Self.errno(.ioError) }
        return installSocket(call, fd.rawValue, like: socket)
    }

    /// The socket file in the VFS, and the program's socket bound at a private host name.
    private func bindRendezvous(_ fs: FSContext, path: [UInt8], socket: Int32) -> Outcome {
        do throws(Errno) {
            try fs.vfs.makeNode(
                fs.credentials, fs.operation(path, followFinalSymlink: false),
                mode: FileMode(.socket, permissions: 0o777 & ~fs.umask).rawValue,
                device: 0)
        } catch {
            return Self.errno(error == .fileExists ? .addressInUse : error)
        }
        let undo = { try? fs.vfs.unlink(fs.credentials, fs.operation(path, followFinalSymlink: false)) }
        guard let status = try? fs.vfs.stat(fs.credentials, fs.operation(path, followFinalSymlink: false))
        else {
            undo()
            return Self.errno(.ioError)
        }
        let name: [UInt8]
        do throws(Errno) {
            name = try unixSockets.newName()
        } catch {
            undo()
            return Self.errno(error)
        }
        let result = Self.withAddress(name) { Glibc.bind(socket, $0, $1) }
        guard result == 0 else {
            let error = Glibc.errno
            undo()
            return .value(-Int64(error))
        }
        unixSockets.names[FileIdentity(device: status.dev, inode: status.inode)] = name
        return .value(0)
    }

    /// Puts `source` at the call's descriptor number in the program, with the close-on-exec
    /// flag of the descriptor it replaces and `original`'s O_NONBLOCK; the call returns 0.
    private func installSocket(_ call: Call, _ source: Int32, like original: Int32) -> Outcome {
        let fd = call.int32(0)
        let nonBlocking = Glibc.fcntl(original, F_GETFL) & O_NONBLOCK != 0
        let flags = Glibc.fcntl(source, F_GETFL)
        if flags >= 0 {
            _ = Glibc.fcntl(source, F_SETFL, nonBlocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK)
        }
        let closeOnExec = Self.closeOnExec(pid: call.process.tgid, fd: fd)
        guard vfs_notif_id_valid(listener, call.notification.id) == 1 else {
            return Self.errno(.noSuchProcess)
        }
        let placed = vfs_notif_add_fd(listener, call.notification.id, source, fd, closeOnExec ? 1 : 0)
        return .value(placed < 0 ? Int64(placed) : 0)
    }

    /// The O_CLOEXEC bit of "flags:" in /proc/PID/fdinfo/FD (octal).
    private static func closeOnExec(pid: Int32, fd: Int32) -> Bool {
        guard let text = ProcFS.read("/proc/\(pid)/fdinfo/\(fd)") else { return false }
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix("flags:") {
            let digits = line.dropFirst("flags:".count).filter { $0 != "\t" && $0 != " " }
            guard let value = Int32(digits, radix: 8) else { return false }
            return value & O_CLOEXEC != 0
        }
        return false
    }

    private static func socketOption(_ socket: Int32, _ option: Int32) -> Int32? {
        var value: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(socket, SOL_SOCKET, option, &value, &size) == 0 else { return nil }
        return value
    }

    /// Whether getsockname reports a name (longer than the bare family).
    private static func isBound(_ socket: Int32) -> Bool {
        var address = sockaddr_un()
        var size = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &size) }
        }
        return result == 0 && Int(size) > MemoryLayout<sa_family_t>.size
    }

    private static func isConnected(_ socket: Int32) -> Bool {
        var address = sockaddr_un()
        var size = socklen_t(MemoryLayout<sockaddr_un>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(socket, $0, &size) }
        }
        return result == 0
    }

    /// `body` with a sockaddr_un for the host path `name` (shorter than sun_path).
    private static func withAddress(
        _ name: [UInt8], _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else {
            Glibc.errno = ENAMETOOLONG
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: name)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + name.count + 1)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}

/// The supervisor's private directory of rendezvous sockets (made on the first bind that
/// needs one, mode 0700, removed with its contents when this object goes) and which VFS
/// socket file leads to which name in it.
final class UnixSocketRendezvous {
    private var directory: [UInt8]?
    private var counter = 0
    var names: [FileIdentity: [UInt8]] = [:]

    /// A fresh host path in the private directory.
    func newName() throws(Errno) -> [UInt8] {
        if directory == nil {
            var template = Array("/tmp/vfs-run-sockets-XXXXXX".utf8CString)
            let made = template.withUnsafeMutableBufferPointer { buffer in
                buffer.baseAddress.flatMap { mkdtemp($0) }
            }
            guard made != nil else { throw Errno(rawValue: Glibc.errno) }
            directory = template.dropLast().map { UInt8(bitPattern: $0) }
        }
        guard let directory else { throw .ioError }
        counter += 1
        return directory + Array("/\(counter)".utf8)
    }

    /// The private name the socket file at `path` leads to, if it was bound here.
    func hostName(of fs: FSContext, path: [UInt8]) -> [UInt8]? {
        guard !names.isEmpty, let status = try? fs.vfs.stat(fs.credentials, fs.operation(path)),
            status.mode.type == .socket
        else { return nil }
        return names[FileIdentity(device: status.dev, inode: status.inode)]
    }

    deinit {
        guard let directory else { return }
        let base = String(decoding: directory, as: UTF8.self)
        for index in stride(from: 1, through: counter, by: 1) { unlink(base + "/\(index)") }
        rmdir(base)
    }
}
