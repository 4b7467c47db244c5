import CSandboxSupport
import Glibc
import GoferBackend
import SystemPackage
import VFSCore

/// The gofer processes serving a sandbox's `gofer:` mounts; they are killed and reaped by
/// `terminateAll` (and, as a safety net, when this object goes).
///
/// Each `gofer:/PATH=/HOSTDIR` mount is served by a separate process: the `vfs` executable
/// itself (`/proc/self/exe` by default) run as `vfs gofer --root HOSTDIR --fd 3 [--read-only]`,
/// which confines itself (own mount namespace pivoted into HOSTDIR, reduced capabilities,
/// seccomp allow-list; see GoferServer/Confinement.swift) before serving LISAFS on fd 3, one
/// end of a socketpair. The other end is mounted here as a `GoferFilesystem`. The gofer
/// inherits descriptors 0–2 (its diagnostics reach our stderr) and the socket, nothing else
/// (`vfs_spawn_with_fd`: posix_spawn with a dup2 and closefrom). If the supervisor dies first, the gofer sees
/// EOF on the socket and exits.
public final class GoferProcesses: @unchecked Sendable {
    /// The executable run as `EXECUTABLE gofer ...`.
    public let executable: String
    private var pids: [pid_t] = []

    public init(executable: String = "/proc/self/exe") {
        self.executable = executable
    }

    deinit {
        terminateAll()
    }

    /// Starts a gofer for `root` and mounts a `GoferFilesystem` over the connection.
    func mount(root: String, readOnly: Bool, caching: GoferCachingMode) throws(Errno) -> GoferFilesystem {
        // Checked here for a clear errno; otherwise the gofer's confinement fails and the
        // Mount RPC only sees EOF (EIO).
        var status = stat()
        guard stat(root, &status) == 0 else { throw Errno(rawValue: errno) }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw Errno.notDirectory }
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
        else { throw Errno(rawValue: errno) }
        // The gofer's end is moved above 3 first, so the dup2 to 3 in the child always copies
        // (a dup2 onto itself would leave FD_CLOEXEC set).
        let goferEnd = fcntl(pair[1], F_DUPFD_CLOEXEC, 10)
        let dupError = errno
        Glibc.close(pair[1])
        guard goferEnd >= 0 else {
            Glibc.close(pair[0])
            throw Errno(rawValue: dupError)
        }
        let pid: pid_t
        do throws(Errno) {
            pid = try spawn(root: root, readOnly: readOnly, socket: goferEnd)
        } catch {
            Glibc.close(goferEnd)
            Glibc.close(pair[0])
            throw error
        }
        Glibc.close(goferEnd)
        pids.append(pid)
        // The Mount RPC fails (EOF → EIO) if the gofer could not confine itself or open the
        // directory; it has said why on stderr.
        return try GoferFilesystem(
            socket: FileDescriptor(rawValue: pair[0]), options: GoferOptions(caching: caching))
    }

    private func spawn(root: String, readOnly: Bool, socket: Int32) throws(Errno) -> pid_t {
        var arguments = ["vfs", "gofer", "--root", root, "--fd", "3"]
        if readOnly { arguments.append("--read-only") }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let child = argv.withUnsafeMutableBufferPointer {
            vfs_spawn_with_fd(executable, $0.baseAddress, socket, 3)
        }
        guard child > 0 else { throw Errno(rawValue: errno) }
        return child
    }

    /// Kills every gofer (SIGKILL: each RPC is synchronous, so nothing is pending) and reaps it.
    public func terminateAll() {
        for pid in pids {
            _ = kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        pids.removeAll()
    }
}

extension MountSpec.GoferCaching {
    var backendMode: GoferCachingMode {
        switch self {
        case .exclusive: .exclusive
        case .writethrough: .writethrough
        case .shared: .shared
        }
    }
}
