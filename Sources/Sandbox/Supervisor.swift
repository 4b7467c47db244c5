import CSandboxSupport
import Glibc
import Syscalls
import VFSCore

/// One process of the sandboxed program, as the supervisor tracks it: its `Task` (the VFS
/// descriptors, under the same numbers as the placeholders in its real table, plus its VFS
/// cwd and umask), whether its cwd is in the VFS, and what a pending fork or exec will need.
final class TrackedProcess {
    let tgid: Int32
    var task: Task
    /// True after a successful chdir/fchdir into a VFS mount: relative paths then resolve in
    /// the VFS (the host cwd stays where it was; it cannot be inside a VFS mount).
    var cwdInVFS: Bool
    let pidfd: Int32
    /// Set when a thread ran execve on a host file while close-on-exec VFS descriptors were
    /// open: the next notification tells whether the exec happened (see `resolvePendingExec`).
    var pendingExec: (tid: Int32, descriptors: [Int32])?
    /// Copies of the Task taken when the process called fork/vfork/clone, oldest first: the
    /// child's table is the parent's at the moment of the call, not at the child's first
    /// notification.
    var forkSnapshots: [(task: Task, cwdInVFS: Bool)] = []
    var threads: Set<Int32> = []

    init(tgid: Int32, task: Task, cwdInVFS: Bool, pidfd: Int32) {
        self.tgid = tgid
        self.task = task
        self.cwdInVFS = cwdInVFS
        self.pidfd = pidfd
        threads.insert(tgid)
    }
}

/// What to answer a notification with.
enum Outcome {
    /// SECCOMP_USER_NOTIF_FLAG_CONTINUE: the host kernel runs the call.
    case passThrough
    /// The call's result, or -errno.
    case value(Int64)
}

/// Where a path argument leads.
enum Route {
    case host
    case vfs
}

/// The seccomp user-notification loop: receives each trapped syscall, decides whether it is
/// for the VFS (a path under a mount, a descriptor that names a VFS file, a relative path
/// while the cwd is in the VFS), serves it with the Syscalls dispatcher over the program's
/// memory, or lets the host kernel run it. Single-threaded: the sandboxed processes wait while
/// a call is served, and the VFS is never entered concurrently by the supervisor.
final class Supervisor {
    let listener: Int32
    let router: PathRouter
    /// Our placeholder descriptor (a pipe's read end), copied into the program
    /// (SECCOMP_IOCTL_NOTIF_ADDFD) to reserve the real number of every VFS descriptor.
    let placeholder: Int32
    /// What /proc says a placeholder is ("pipe:[inode]").
    let placeholderName: [UInt8]
    let mainPID: Int32
    let makeTask: () -> Task
    var processes: [Int32: TrackedProcess] = [:]
    var threads: [Int32: TrackedProcess] = [:]
    /// Every file installed in place of a placeholder for an mmap (see Supervisor+Mmap.swift):
    /// the program's table holds those at VFS descriptors' numbers too.
    var mappedFiles: Set<FileIdentity> = []
    /// The memfds kept equal to tmpfs files for mappings, by the VFS file's device and inode
    /// (see LiveCopy.swift); swept when their count reaches `copySweepThreshold`.
    var liveCopies: [FileIdentity: LiveCopy] = [:]
    var copySweepThreshold = Supervisor.minimumSweepThreshold
    /// Dropped copies whose description was gone, still in their file's observer list (inert):
    /// detached through the next description of the file that is mapped.
    var undetachedCopies: [FileIdentity: [LiveCopy]] = [:]
    /// Rendezvous names of unix sockets bound in VFS mounts without host sockets (see
    /// Supervisor+UnixSockets.swift).
    let unixSockets = UnixSocketRendezvous()
    /// Counters for `--stats`.
    var served = 0
    var passed = 0

    init(listener: Int32, router: PathRouter, placeholder: Int32, mainPID: Int32,
         makeTask: @escaping () -> Task) {
        self.listener = listener
        self.router = router
        self.placeholder = placeholder
        self.placeholderName = ProcFS.readLink("/proc/self/fd/\(placeholder)") ?? []
        self.mainPID = mainPID
        self.makeTask = makeTask
        let pidfd = vfs_pidfd_open(mainPID, 0)
        let main = TrackedProcess(tgid: mainPID, task: makeTask(), cwdInVFS: false, pidfd: pidfd)
        processes[mainPID] = main
        threads[mainPID] = main
    }

    /// Serves notifications until the main process exits; returns its exit code (128+N when
    /// killed by signal N). Processes it left behind lose their supervisor: their trapped
    /// calls then fail with ENOSYS (the kernel's answer once the listener is closed).
    func run() -> Int32 {
        while true {
            var polled = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            let tracked = Array(processes.values)
            for process in tracked where process.pidfd >= 0 {
                polled.append(pollfd(fd: process.pidfd, events: Int16(POLLIN), revents: 0))
            }
            let ready = polled.withUnsafeMutableBufferPointer {
                poll($0.baseAddress, nfds_t($0.count), -1)
            }
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            // Exits first: a pid must be forgotten before a new process can reuse it.
            var index = 1
            for process in tracked where process.pidfd >= 0 {
                defer { index += 1 }
                guard polled[index].revents != 0 else { continue }
                forget(process)
                if process.tgid == mainPID {
                    return vfs_wait_exit_code(mainPID, 0)
                }
            }
            let events = polled[0].revents
            if events & Int16(POLLIN) != 0 {
                var notification = vfs_notification()
                guard vfs_notif_receive(listener, &notification) == 0 else { continue }
                let outcome = handle(notification)
                respond(notification.id, outcome)
            } else if events & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 {
                // No sandboxed process is left holding the filter.
                return vfs_wait_exit_code(mainPID, 0)
            }
        }
        return vfs_wait_exit_code(mainPID, 0)
    }

    func respond(_ id: UInt64, _ outcome: Outcome) {
        switch outcome {
        case .passThrough:
            passed += 1
            _ = vfs_notif_respond(listener, id, 0, 0, 1)
        case .value(let value):
            served += 1
            if value < 0 {
                _ = vfs_notif_respond(listener, id, 0, Int32(truncatingIfNeeded: value), 0)
            } else {
                _ = vfs_notif_respond(listener, id, value, 0, 0)
            }
        }
    }

    /// A process has exited: its record locks go and its descriptors are released.
    func forget(_ process: TrackedProcess) {
        process.task.exit()
        for snapshot in process.forkSnapshots { snapshot.task.exit() }
        process.forkSnapshots = []
        if process.pidfd >= 0 { close(process.pidfd) }
        processes[process.tgid] = nil
        for tid in process.threads where threads[tid] === process { threads[tid] = nil }
    }

    // MARK: - Processes

    /// The process a notifying thread belongs to; a process seen for the first time gets its
    /// parent's fd table as it was at the fork (a snapshot), keeping only the numbers that
    /// really hold placeholders in the child.
    func process(forThread tid: Int32) -> TrackedProcess? {
        if let known = threads[tid] { return known }
        guard let identity = ProcFS.identity(of: tid) else { return nil }
        if let known = processes[identity.tgid] {
            known.threads.insert(tid)
            threads[tid] = known
            return known
        }
        let tgid = identity.tgid
        let parentID = tgid == tid ? identity.parent : ProcFS.identity(of: tgid)?.parent
        let placeholders = standInDescriptors(of: tgid)
        var task: Task
        var cwdInVFS = false
        if let parentID, let parent = processes[parentID] {
            if let index = parent.forkSnapshots.firstIndex(where: {
                Set($0.task.files.openDescriptors).isSubset(of: placeholders)
            }) {
                (task, cwdInVFS) = parent.forkSnapshots.remove(at: index)
            } else {
                task = parent.task.clone()
                cwdInVFS = parent.cwdInVFS
            }
        } else {
            task = makeTask()
        }
        for fd in task.files.openDescriptors where !placeholders.contains(fd) {
            try? task.files.close(fd)
        }
        let pidfd = vfs_pidfd_open(tgid, 0)
        guard pidfd >= 0 else { return nil }
        let process = TrackedProcess(tgid: tgid, task: task, cwdInVFS: cwdInVFS, pidfd: pidfd)
        process.threads.insert(tid)
        processes[tgid] = process
        threads[tid] = process
        return process
    }

    /// After an execve of a host file with close-on-exec VFS descriptors open: if the first
    /// such placeholder is gone from the real table, the exec succeeded (the kernel closed
    /// it), and the VFS side closes the same descriptors. If it is still there when the
    /// exec'ing thread calls again, the exec failed.
    func resolvePendingExec(_ process: TrackedProcess, tid: Int32) {
        guard let pending = process.pendingExec, let first = pending.descriptors.first else {
            return
        }
        if !isStandIn(pid: process.tgid, fd: first) {
            process.pendingExec = nil
            process.task.exec()
        } else if tid == pending.tid {
            process.pendingExec = nil
        }
    }

    // MARK: - Dispatch

    func handle(_ notification: vfs_notification) -> Outcome {
        guard let process = process(forThread: notification.pid) else { return .passThrough }
        resolvePendingExec(process, tid: notification.pid)
        let call = Call(notification: notification, process: process)
        return serve(call)
    }

    struct Call {
        let notification: vfs_notification
        let process: TrackedProcess
        var number: Int { Int(notification.nr) }
        var tid: Int32 { notification.pid }
        var arguments: SyscallArguments {
            let a = notification.args
            return SyscallArguments(a.0, a.1, a.2, a.3, a.4, a.5)
        }
        func int32(_ index: Int) -> Int32 { arguments.int32(index) }
        func address(_ index: Int) -> UInt64 { arguments[index] }
    }

    func isVFS(_ process: TrackedProcess, _ fd: Int32) -> Bool {
        (try? process.task.files.entry(fd)) != nil
    }

    /// Runs the call through the Syscalls dispatcher, after checking the notification is
    /// still live (the pid cannot have been reused while its memory was read).
    func dispatch(_ call: Call, memory: OverlayMemory) -> Outcome {
        guard vfs_notif_id_valid(listener, call.notification.id) == 1 else {
            return .value(-Int64(Errno.noSuchProcess.rawValue))
        }
        let dispatcher = SyscallDispatcher(task: call.process.task, memory: memory)
        return .value(dispatcher.dispatch(call.number, call.arguments))
    }

    /// Routes one path argument (`dirfd` nil for the old calls that use the cwd), laying the
    /// bytes read — or the absolute VFS path a host-relative path leads to — over the path's
    /// address in `memory`. An unreadable path goes to the host, which reports the error.
    func route(_ call: Call, dirfd: Int32?, pathAt address: UInt64, memory: inout OverlayMemory)
        -> Route
    {
        guard address != 0 else {
            // utimensat(fd, NULL, ...): the descriptor itself.
            if let dirfd, isVFS(call.process, dirfd) { return .vfs }
            return .host
        }
        guard let path = try? memory.base.readCString(address) else { return .host }
        let process = call.process
        let dirfd = dirfd ?? Linux.AT_FDCWD
        if path.first == 0x2F {
            if let vfsPath = descriptorLinkPath(process, path) {
                memory.overlay(address, path: vfsPath)
                return .vfs
            }
            guard let vfsPath = router.route(absolute: path) else { return .host }
            memory.overlay(address, path: vfsPath)
            return .vfs
        }
        if dirfd == Linux.AT_FDCWD {
            if process.cwdInVFS {
                memory.overlay(address, path: path)
                return .vfs
            }
        } else if isVFS(process, dirfd) {
            memory.overlay(address, path: path)
            return .vfs
        }
        // Relative to a host directory: only a path that could reach a mount point costs a
        // /proc lookup of the directory.
        guard !path.isEmpty, router.mayReach(relative: path) else { return .host }
        let link =
            dirfd == Linux.AT_FDCWD ? "/proc/\(call.tid)/cwd" : "/proc/\(call.tid)/fd/\(dirfd)"
        guard let base = ProcFS.readLink(link), base.first == 0x2F,
            let vfsPath = router.route(relative: path, base: base)
        else { return .host }
        memory.overlay(address, path: vfsPath)
        return .vfs
    }

    /// /proc/self/fd/N, /proc/thread-self/fd/N, /proc/PID/fd/N (PID the process's own) and
    /// /dev/fd/N where N is a VFS descriptor: the kernel would follow the magic link to the
    /// placeholder, so the VFS path of the descriptor's file takes its place (glibc reaches
    /// files this way, e.g. fchmodat with AT_SYMLINK_NOFOLLOW opens O_PATH then chmods
    /// /proc/self/fd/N). Nil for anything else, or when the file has no path any more.
    func descriptorLinkPath(_ process: TrackedProcess, _ path: [UInt8]) -> [UInt8]? {
        let components = path.split(separator: 0x2F, omittingEmptySubsequences: true)
        let prefixLength: Int
        if components.count >= 3, components[0].elementsEqual("dev".utf8),
            components[1].elementsEqual("fd".utf8)
        {
            prefixLength = 2
        } else if components.count >= 4, components[0].elementsEqual("proc".utf8),
            components[2].elementsEqual("fd".utf8)
        {
            let who = String(decoding: components[1], as: UTF8.self)
            guard who == "self" || who == "thread-self" || who == String(process.tgid)
                || process.threads.contains(where: { String($0) == who })
            else { return nil }
            prefixLength = 3
        } else {
            return nil
        }
        guard let fd = Int32(String(decoding: components[prefixLength], as: UTF8.self)),
            let description = try? process.task.files.get(fd),
            var result = try? process.task.vfs.pathname(
                of: description.location, root: process.task.fs.root)
        else { return nil }
        for component in components[(prefixLength + 1)...] {
            result.append(0x2F)
            result.append(contentsOf: component)
        }
        if path.last == 0x2F { result.append(0x2F) }
        return result
    }

    /// A call with one path (and maybe a dirfd): the VFS serves it if the path leads there.
    func pathCall(_ call: Call, dirfd dirfdIndex: Int?, path pathIndex: Int) -> Outcome {
        var memory = OverlayMemory(pid: call.tid)
        let dirfd = dirfdIndex.map { call.int32($0) }
        switch route(call, dirfd: dirfd, pathAt: call.address(pathIndex), memory: &memory) {
        case .host: return .passThrough
        case .vfs: return dispatch(call, memory: memory)
        }
    }

    /// rename/link and their *at forms: both paths in the VFS → served; both on the host →
    /// passed; one of each → EXDEV, as between two Linux mounts.
    func twoPathCall(_ call: Call, dirfds: (Int?, Int?), paths: (Int, Int)) -> Outcome {
        var memory = OverlayMemory(pid: call.tid)
        let first = route(
            call, dirfd: dirfds.0.map { call.int32($0) }, pathAt: call.address(paths.0),
            memory: &memory)
        let second = route(
            call, dirfd: dirfds.1.map { call.int32($0) }, pathAt: call.address(paths.1),
            memory: &memory)
        switch (first, second) {
        case (.host, .host): return .passThrough
        case (.vfs, .vfs): return dispatch(call, memory: memory)
        default: return .value(-Int64(Errno.improperLink.rawValue))
        }
    }

    /// A call on a descriptor: served when the descriptor names a VFS file.
    func descriptorCall(_ call: Call, fd index: Int) -> Outcome {
        guard isVFS(call.process, call.int32(index)) else { return .passThrough }
        return dispatch(call, memory: OverlayMemory(pid: call.tid))
    }

    /// Gives a descriptor the VFS just installed (at some free number `vfsFD` of the Task's
    /// table) its real number: a placeholder is added to the program at its lowest free
    /// number, and the VFS entry moves there.
    func placeNewDescriptor(_ call: Call, _ result: Outcome) -> Outcome {
        guard case .value(let value) = result, value >= 0 else { return result }
        let files = call.process.task.files
        let vfsFD = Int32(truncatingIfNeeded: value)
        guard let entry = try? files.entry(vfsFD) else {
            return .value(-Int64(Errno.badFileDescriptor.rawValue))
        }
        let real = vfs_notif_add_fd(
            listener, call.notification.id, placeholder, -1, entry.closeOnExec ? 1 : 0)
        guard real >= 0 else {
            try? files.close(vfsFD)
            return .value(Int64(real))
        }
        if real != vfsFD {
            do throws(Errno) {
                try files.install(entry.description, at: real, closeOnExec: entry.closeOnExec)
            } catch {
                try? files.close(vfsFD)
                return .value(-Int64(error.rawValue))
            }
            try? files.close(vfsFD)
        }
        return .value(Int64(real))
    }

    /// Puts `description` at exactly `target` in the program (replacing what is there, as
    /// dup2 does) and in the VFS table.
    func placeDescriptor(_ call: Call, _ entry: FileTable.Entry, at target: Int32, closeOnExec: Bool)
        -> Outcome
    {
        let real = vfs_notif_add_fd(
            listener, call.notification.id, placeholder, target, closeOnExec ? 1 : 0)
        guard real >= 0 else { return .value(Int64(real)) }
        do throws(Errno) {
            try call.process.task.files.install(entry.description, at: target, closeOnExec: closeOnExec)
        } catch {
            return .value(-Int64(error.rawValue))
        }
        return .value(Int64(target))
    }
}
