import CSandboxSupport
import Glibc
import HostBackend
import Syscalls
import TmpfsBackend
import VFSCore

/// `vfs run`: an unmodified Linux program whose file syscalls under the given mounts are
/// served by VFSCore, everything else by the host kernel.
///
/// How it works (docs: this comment is the reference until docs/ARCHITECTURE.md has a
/// section):
/// - The child is started by a C shim (`vfs_sandbox_spawn`): PR_SET_NO_NEW_PRIVS, a seccomp
///   filter built with libseccomp that sends the file syscalls (`TrappedSyscalls`) to us with
///   SECCOMP_RET_USER_NOTIF, the listener passed back over a socketpair (SCM_RIGHTS), execvp.
/// - Supervisor and program are pinned to one CPU (sched_setaffinity; `pinToOneCPU`): on a
///   2-core VM a notification round trip measured 6–23 µs on one CPU against 14–260 µs across
///   CPUs (RET_TRACE under ptrace: 9–16 µs on one CPU), so user notification on one CPU wins.
/// - A VFS descriptor has a real number in the program, held by a placeholder (a private pipe's read end,
///   added with SECCOMP_IOCTL_NOTIF_ADDFD), so host and VFS descriptors never collide. A
///   trapped call on a number the process's `Task` holds is served by the VFS; any other
///   number passes through (SECCOMP_USER_NOTIF_FLAG_CONTINUE).
/// - Paths: see `PathRouter`. A chdir into a mount makes the process's relative paths VFS
///   paths (its host cwd does not move).
/// - Processes: each gets a Task; fork/clone snapshot the table at the call, the child takes
///   the snapshot at its first notification (checked against its real placeholders); threads
///   share their process's Task; execve of a host file closes close-on-exec VFS descriptors
///   once the kernel is seen to have closed their placeholders.
/// - mmap of a VFS regular file works where it can be correct (Supervisor+Mmap.swift): the
///   filter also sends file mmaps (never anonymous ones), and the supervisor replaces the
///   descriptor's placeholder with a real file at the same number before the kernel maps it —
///   the host fd behind a host or gofer mount (MAP_SHARED writes reach the file), a sealed memfd
///   copy of a tmpfs file for MAP_PRIVATE and for read-only MAP_SHARED of a read-only descriptor
///   (a writable shared mapping of a copy would silently diverge: ENODEV).
///   The number stays a VFS descriptor. So shared objects load from VFS mounts (dlopen maps
///   them PROT_EXEC), but a VFS file cannot be executed (EACCES: execve needs the kernel to
///   open it by path).
/// - Exit status: the program's exit code, or 128+N when killed by signal N (as shells say).
/// - `gofer:` mounts: each is served by its own confined `vfs gofer` process over a socketpair
///   (`GoferProcesses`), killed and reaped when the program exits.
///
/// Known limits: the supervisor is single-threaded, so a VFS call that blocks (opening a VFS
/// FIFO with no peer, a blocking lock held by another sandboxed process) stalls the sandbox;
/// SECCOMP_USER_NOTIF_FLAG_CONTINUE lets the kernel re-read a path after the decision, so a
/// hostile multi-threaded program could race its way to the host directory under a mount
/// point (isolation holds for cooperative programs only); `..` above a mount root and
/// absolute symlinks inside the VFS resolve in the sandbox's synthetic root, not on the host;
/// /proc shows placeholders (readlink of /proc/self/fd/N is "pipe:[...]", or the host file or
/// memfd copy once the descriptor was mapped) and the host cwd;
/// processes still running when the main one exits lose their supervisor (ENOSYS).
public struct SandboxConfiguration: Sendable {
    public var mounts: [MountSpec]
    public var program: [String]
    /// The program runs as this uid/gid (setresuid/setresgid with no supplementary groups),
    /// and the VFS sees the same credentials. Nil: the caller's own.
    public var uid: UInt32?
    public var gid: UInt32?
    /// Pin supervisor and program to one CPU (the first the caller may use).
    public var pinToOneCPU: Bool

    public init(mounts: [MountSpec], program: [String], uid: UInt32? = nil, gid: UInt32? = nil,
                pinToOneCPU: Bool = true) {
        self.mounts = mounts
        self.program = program
        self.uid = uid
        self.gid = gid
        self.pinToOneCPU = pinToOneCPU
    }
}

public enum SandboxError: Error, CustomStringConvertible, Equatable {
    case mountKindUnavailable(MountSpec, String)
    case mountFailed(MountSpec, Errno)
    case noProgram
    case setupFailed(String, Errno)

    public var description: String {
        switch self {
        case .mountKindUnavailable(let spec, let why): "vfs run: --mount \(spec): \(why)"
        case .mountFailed(let spec, let error): "vfs run: --mount \(spec): \(error)"
        case .noProgram: "vfs run: no program given (vfs run [--mount SPEC]... -- PROGRAM ARGS...)"
        case .setupFailed(let what, let error): "vfs run: \(what): \(error)"
        }
    }
}

public enum Sandbox {
    /// The sandbox's mount namespace: an empty synthetic root (a tmpfs holding only the
    /// directories leading to mount points) with each `--mount` attached, shallowest first.
    /// `gofer:` mounts start their gofer processes in `gofers`; the caller ends them
    /// (`terminateAll`) when the sandbox ends.
    public static func makeNamespace(
        _ mounts: [MountSpec], kernel: Kernel, gofers: GoferProcesses
    ) throws(SandboxError) -> MountNamespace
    {
        let root = TmpfsFilesystem(options: TmpfsOptions(rootMode: 0o755))
        let namespace = kernel.vfs.makeNamespace(root: root, rootDentry: root.root)
        let setup = FSContext(vfs: kernel.vfs, namespace: namespace)
        let ordered = mounts.sorted { $0.target.split(separator: "/").count < $1.target.split(separator: "/").count }
        for spec in ordered {
            var path = ""
            for component in spec.target.split(separator: "/") {
                path += "/" + component
                do throws(Errno) {
                    try setup.makeDirectory(path, mode: 0o755)
                } catch {
                    guard error == .fileExists else { throw .mountFailed(spec, error) }
                }
            }
            switch spec.kind {
            case .tmpfs(let options):
                do throws(Errno) {
                    let tmpfs = TmpfsFilesystem(options: try TmpfsOptions(parsing: options))
                    try setup.mount(tmpfs, root: tmpfs.root, at: spec.target)
                } catch {
                    throw .mountFailed(spec, error)
                }
            case .host(let source, let readOnly):
                do throws(Errno) {
                    let host = try HostFilesystem(
                        rootPath: source, options: HostOptions(readOnly: readOnly))
                    try setup.mount(
                        host, root: host.root, at: spec.target, flags: readOnly ? [.readOnly] : [])
                } catch {
                    throw .mountFailed(spec, error)
                }
            case .gofer(let source, let caching, let readOnly):
                do throws(Errno) {
                    let gofer = try gofers.mount(
                        root: source, readOnly: readOnly, caching: caching.backendMode)
                    try setup.mount(
                        gofer, root: gofer.root, at: spec.target, flags: readOnly ? [.readOnly] : [])
                } catch {
                    throw .mountFailed(spec, error)
                }
            }
        }
        return namespace
    }

    /// Runs the program under the supervisor; returns its exit code (128+N for signal N).
    public static func run(_ configuration: SandboxConfiguration) throws(SandboxError) -> Int32 {
        guard let program = configuration.program.first else { throw .noProgram }
        try MountSpec.validateOrThrow(configuration.mounts)
        let kernel = Kernel()
        let gofers = GoferProcesses()
        defer { gofers.terminateAll() }
        let namespace = try makeNamespace(configuration.mounts, kernel: kernel, gofers: gofers)
        let credentials: Credentials
        if let uid = configuration.uid {
            credentials = .user(uid, gid: configuration.gid ?? uid)
        } else if geteuid() == 0 {
            credentials = .root
        } else {
            credentials = .user(geteuid(), gid: getegid())
        }
        let mask = Glibc.umask(0o022)
        _ = Glibc.umask(mask)
        let makeTask = { () -> Task in
            let task = Task(
                kernel: kernel, namespace: namespace, credentials: credentials,
                umask: UInt32(mask))
            task.files.limit = Linux.NR_OPEN
            return task
        }

        let numbers = TrappedSyscalls.numbers
        guard let filter = numbers.withUnsafeBufferPointer({
            vfs_sandbox_filter_create($0.baseAddress, Int32($0.count), 1)
        }) else {
            throw .setupFailed("building the seccomp filter", Errno(rawValue: errno))
        }
        defer { vfs_sandbox_filter_free(filter) }
        // The placeholder is the read end of a pipe whose write end is closed: private to this
        // sandbox (a chmod through /proc/self/fd/N of it changes nothing else — an earlier
        // /dev/null placeholder let such a chmod reach the host's /dev/null), and /proc names
        // it "pipe:[inode]", which tells placeholders apart. An mmap replaces it with a real
        // file first (Supervisor+Mmap.swift).
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { throw .setupFailed("pipe", Errno(rawValue: errno)) }
        Glibc.close(ends[1])
        _ = Glibc.fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        let placeholder = ends[0]
        defer { Glibc.close(placeholder) }

        var cpu: Int32 = -1
        if configuration.pinToOneCPU {
            cpu = vfs_first_allowed_cpu()
            if cpu >= 0 { _ = vfs_pin_to_cpu(cpu) }
        }
        // The terminal's SIGINT/SIGQUIT go to the program; the supervisor outlives it.
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)

        var arguments: [UnsafeMutablePointer<CChar>?] = configuration.program.map { strdup($0) }
        arguments.append(nil)
        defer { for pointer in arguments { free(pointer) } }
        var listener: Int32 = -1
        let pid = arguments.withUnsafeMutableBufferPointer { argv in
            vfs_sandbox_spawn(
                program, argv.baseAddress, filter,
                configuration.uid.map { Int32(bitPattern: $0) } ?? -1,
                (configuration.gid ?? configuration.uid).map { Int32(bitPattern: $0) } ?? -1,
                cpu, &listener)
        }
        guard pid > 0 else { throw .setupFailed("fork", Errno(rawValue: errno)) }
        guard listener >= 0 else {
            // The child failed before exec and has said why.
            return vfs_wait_exit_code(pid, 0)
        }
        defer { Glibc.close(listener) }
        let supervisor = Supervisor(
            listener: listener, router: PathRouter(mountPoints: configuration.mounts.map(\.target)),
            placeholder: placeholder, mainPID: pid, makeTask: makeTask)
        return supervisor.run()
    }
}

extension MountSpec {
    static func validateOrThrow(_ specs: [MountSpec]) throws(SandboxError) {
        do throws(MountSpecError) {
            try validate(specs)
        } catch {
            throw .setupFailed(error.description, .invalidArgument)
        }
    }
}
