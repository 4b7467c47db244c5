import CSandboxSupport
import Glibc
import Syscalls
import VFSCore

/// The per-syscall decisions of the supervisor.
extension Supervisor {
    private static let descriptorCalls: Set<Int> = Set(
        ([
            .read, .write, .fstat, .lseek, .pread64, .pwrite64, .readv, .writev, .flock, .fsync,
            .fdatasync, .ftruncate, .getdents, .getdents64, .fchmod, .fchown, .fstatfs,
            .fsetxattr, .fgetxattr, .flistxattr, .fremovexattr, .fallocate, .preadv, .pwritev,
            .preadv2, .pwritev2,
        ] as [SyscallNumber]).map(\.rawValue))

    /// Calls with one path in argument 0, relative to the cwd.
    private static let cwdPathCalls: Set<Int> = Set(
        ([
            .stat, .lstat, .access, .truncate, .mkdir, .rmdir, .unlink, .readlink, .chmod,
            .chown, .lchown, .utime, .mknod, .statfs, .setxattr, .lsetxattr, .getxattr,
            .lgetxattr, .listxattr, .llistxattr, .removexattr, .lremovexattr, .utimes,
        ] as [SyscallNumber]).map(\.rawValue))

    /// *at calls: dirfd in argument 0, path in argument 1.
    private static let atPathCalls: Set<Int> = Set(
        ([
            .mkdirat, .mknodat, .fchownat, .futimesat, .newfstatat, .unlinkat, .readlinkat,
            .fchmodat, .faccessat, .statx, .faccessat2, .fchmodat2, .utimensat,
        ] as [SyscallNumber]).map(\.rawValue))

    private static let CLONE_FS: UInt64 = 0x200
    private static let CLONE_FILES: UInt64 = 0x400
    private static let CLONE_THREAD: UInt64 = 0x10000
    private static let F_DUPFD: Int32 = 0
    private static let F_SETFD: Int32 = 2
    private static let F_DUPFD_CLOEXEC: Int32 = 1030
    private static let AT_EMPTY_PATH: Int32 = 0x1000

    private static func errno(_ error: Errno) -> Outcome { .value(-Int64(error.rawValue)) }

    func serve(_ call: Call) -> Outcome {
        let number = call.number
        if Self.descriptorCalls.contains(number) { return descriptorCall(call, fd: 0) }
        if Self.cwdPathCalls.contains(number) { return pathCall(call, dirfd: nil, path: 0) }
        if Self.atPathCalls.contains(number) { return pathCall(call, dirfd: 0, path: 1) }
        let process = call.process
        switch number {
        case SyscallNumber.open.rawValue, SyscallNumber.creat.rawValue:
            return placeNewDescriptor(call, pathCall(call, dirfd: nil, path: 0))
        case SyscallNumber.openat.rawValue, SyscallNumber.openat2.rawValue:
            return placeNewDescriptor(call, pathCall(call, dirfd: 0, path: 1))
        case SyscallNumber.close.rawValue:
            // The VFS side closes (dropping record locks); the kernel closes the placeholder.
            guard isVFS(process, call.int32(0)) else { return .passThrough }
            _ = dispatch(call, memory: OverlayMemory(pid: call.tid))
            return .passThrough
        case SyscallNumber.closeRange.rawValue:
            if case .value(let result) = dispatch(call, memory: OverlayMemory(pid: call.tid)),
                result < 0
            {
                return .value(result)
            }
            return .passThrough
        case SyscallNumber.dup.rawValue:
            guard isVFS(process, call.int32(0)) else { return .passThrough }
            return placeNewDescriptor(call, dispatch(call, memory: OverlayMemory(pid: call.tid)))
        case SyscallNumber.dup2.rawValue, SyscallNumber.dup3.rawValue:
            return duplicate(call, dup3: number == SyscallNumber.dup3.rawValue)
        case SyscallNumber.fcntl.rawValue:
            return fcntl(call)
        case SyscallNumber.umask.rawValue:
            // Both sides keep the same mask: the VFS applies it to its creations, the kernel
            // returns the old value (they are equal).
            process.task.umask(call.arguments.uint32(0))
            return .passThrough
        case SyscallNumber.getcwd.rawValue:
            guard process.cwdInVFS else { return .passThrough }
            return dispatch(call, memory: OverlayMemory(pid: call.tid))
        case SyscallNumber.chdir.rawValue:
            return chdir(call)
        case SyscallNumber.fchdir.rawValue:
            let fd = call.int32(0)
            if isVFS(process, fd) {
                let outcome = dispatch(call, memory: OverlayMemory(pid: call.tid))
                if case .value(0) = outcome { process.cwdInVFS = true }
                return outcome
            }
            if let link = ProcFS.readLink("/proc/\(call.tid)/fd/\(fd)"), link.first == 0x2F,
                Self.isHostDirectory(link)
            {
                process.cwdInVFS = false
            }
            return .passThrough
        case SyscallNumber.chroot.rawValue:
            var memory = OverlayMemory(pid: call.tid)
            switch route(call, dirfd: nil, pathAt: call.address(0), memory: &memory) {
            case .host: return .passThrough
            // The host root cannot follow a VFS root: refused (see the module notes).
            case .vfs: return Self.errno(.notPermitted)
            }
        case SyscallNumber.rename.rawValue:
            return twoPathCall(call, dirfds: (nil, nil), paths: (0, 1))
        case SyscallNumber.renameat.rawValue, SyscallNumber.renameat2.rawValue:
            return twoPathCall(call, dirfds: (0, 2), paths: (1, 3))
        case SyscallNumber.link.rawValue:
            return twoPathCall(call, dirfds: (nil, nil), paths: (0, 1))
        case SyscallNumber.linkat.rawValue:
            return twoPathCall(call, dirfds: (0, 2), paths: (1, 3))
        case SyscallNumber.symlink.rawValue:
            return pathCall(call, dirfd: nil, path: 1)
        case SyscallNumber.symlinkat.rawValue:
            return pathCall(call, dirfd: 1, path: 2)
        case ExtraSyscall.execve, ExtraSyscall.execveat:
            return execve(call, at: number == ExtraSyscall.execveat)
        case ExtraSyscall.clone, ExtraSyscall.clone3, ExtraSyscall.fork, ExtraSyscall.vfork:
            return fork(call)
        case ExtraSyscall.mmap:
            return mmap(call)
        case ExtraSyscall.connect, ExtraSyscall.bind:
            return unixSocketCall(call, bind: number == ExtraSyscall.bind)
        case ExtraSyscall.ioctl:
            // No VFS file is a terminal or supports an ioctl the VFS models.
            return isVFS(process, call.int32(0)) ? Self.errno(.inappropriateIOCTLForDevice) : .passThrough
        case ExtraSyscall.fadvise64, ExtraSyscall.readahead, ExtraSyscall.syncFileRange,
            ExtraSyscall.syncfs:
            // Hints and flushes: nothing to do for an in-memory file.
            return isVFS(process, call.int32(0)) ? .value(0) : .passThrough
        case ExtraSyscall.copyFileRange:
            // Between a VFS file and anything: EXDEV, as across Linux file systems; programs
            // (cp, cat) fall back to read/write.
            let vfs = isVFS(process, call.int32(0)) || isVFS(process, call.int32(2))
            return vfs ? Self.errno(.improperLink) : .passThrough
        case ExtraSyscall.splice:
            let vfs = isVFS(process, call.int32(0)) || isVFS(process, call.int32(2))
            return vfs ? Self.errno(.invalidArgument) : .passThrough
        case ExtraSyscall.sendfile, ExtraSyscall.tee:
            let vfs = isVFS(process, call.int32(0)) || isVFS(process, call.int32(1))
            return vfs ? Self.errno(.invalidArgument) : .passThrough
        default:
            return .passThrough
        }
    }

    static func isHostDirectory(_ path: [UInt8]) -> Bool {
        let text = String(decoding: path, as: UTF8.self)
        guard let dir = opendir(text) else { return false }
        closedir(dir)
        return true
    }

    /// chdir: into the VFS is served there (and relative paths then resolve in the VFS);
    /// onto the host, the kernel changes the real cwd.
    func chdir(_ call: Call) -> Outcome {
        var memory = OverlayMemory(pid: call.tid)
        switch route(call, dirfd: nil, pathAt: call.address(0), memory: &memory) {
        case .vfs:
            let outcome = dispatch(call, memory: memory)
            if case .value(0) = outcome { call.process.cwdInVFS = true }
            return outcome
        case .host:
            // Only an absolute path reaches here while the cwd is in the VFS; leave the VFS
            // only if the kernel's chdir will succeed.
            if call.process.cwdInVFS, let path = try? memory.base.readCString(call.address(0)),
                Self.isHostDirectory(path)
            {
                call.process.cwdInVFS = false
            }
            return .passThrough
        }
    }

    /// dup2/dup3: a VFS source is placed at exactly `newfd` in both tables; a host source over
    /// a VFS `newfd` drops the VFS entry and lets the kernel replace the placeholder.
    func duplicate(_ call: Call, dup3: Bool) -> Outcome {
        let process = call.process
        let old = call.int32(0)
        let new = call.int32(1)
        let flags = dup3 ? call.int32(2) : 0
        guard isVFS(process, old) else {
            if isVFS(process, new), ProcFS.readLink("/proc/\(process.tgid)/fd/\(old)") != nil {
                try? process.task.close(new)
            }
            return .passThrough
        }
        if dup3 && flags & ~O_CLOEXEC != 0 { return Self.errno(.invalidArgument) }
        if old == new { return dup3 ? Self.errno(.invalidArgument) : .value(Int64(new)) }
        guard new >= 0, let entry = try? process.task.files.entry(old) else {
            return Self.errno(.badFileDescriptor)
        }
        if isVFS(process, new) { try? process.task.close(new) }
        return placeDescriptor(call, entry, at: new, closeOnExec: flags & O_CLOEXEC != 0)
    }

    func fcntl(_ call: Call) -> Outcome {
        let process = call.process
        let fd = call.int32(0)
        guard isVFS(process, fd) else { return .passThrough }
        let command = call.int32(1)
        switch command {
        case Self.F_DUPFD, Self.F_DUPFD_CLOEXEC:
            let minimum = call.int32(2)
            guard minimum >= 0, let entry = try? process.task.files.entry(fd) else {
                return Self.errno(.invalidArgument)
            }
            let used = ProcFS.openDescriptors(of: process.tgid)
            var target = minimum
            while used.contains(target) { target += 1 }
            return placeDescriptor(
                call, entry, at: target, closeOnExec: command == Self.F_DUPFD_CLOEXEC)
        case Self.F_SETFD:
            // Both flags must agree: the kernel closes the placeholder on exec.
            if case .value(let result) = dispatch(call, memory: OverlayMemory(pid: call.tid)),
                result < 0
            {
                return .value(result)
            }
            return .passThrough
        default:
            return dispatch(call, memory: OverlayMemory(pid: call.tid))
        }
    }

    /// execve: a VFS file cannot be executed (EACCES, as on a noexec mount: the kernel needs a
    /// real file to map). A host file runs; if close-on-exec VFS descriptors are open, the
    /// next notification tells whether the exec succeeded.
    func execve(_ call: Call, at: Bool) -> Outcome {
        var memory = OverlayMemory(pid: call.tid)
        let process = call.process
        if at, call.int32(4) & Self.AT_EMPTY_PATH != 0,
            let path = try? memory.base.readCString(call.address(1)), path.isEmpty
        {
            return isVFS(process, call.int32(0)) ? Self.errno(.permissionDenied) : .passThrough
        }
        let route = route(
            call, dirfd: at ? call.int32(0) : nil, pathAt: call.address(at ? 1 : 0),
            memory: &memory)
        if case .vfs = route { return Self.errno(.permissionDenied) }
        let files = process.task.files
        let closing = files.openDescriptors.filter { (try? files.entry($0))?.closeOnExec == true }
        if !closing.isEmpty { process.pendingExec = (call.tid, closing) }
        return .passThrough
    }

    /// fork/vfork/clone/clone3 of a new process: snapshot the VFS side now (the child's first
    /// notification may come after the parent has changed its table). Threads share it all.
    func fork(_ call: Call) -> Outcome {
        var flags: UInt64 = 0
        if call.number == ExtraSyscall.clone {
            flags = call.arguments[0]
        } else if call.number == ExtraSyscall.clone3 {
            guard let value = try? ProcessMemory(pid: call.tid).readValue(
                call.address(0), as: UInt64.self)
            else { return .passThrough }
            flags = value
        }
        if flags & Self.CLONE_THREAD != 0 { return .passThrough }
        let process = call.process
        let snapshot = process.task.clone(
            shareFiles: flags & Self.CLONE_FILES != 0, shareFS: flags & Self.CLONE_FS != 0)
        process.forkSnapshots.append((snapshot, process.cwdInVFS))
        if process.forkSnapshots.count > 16 {
            process.forkSnapshots.removeFirst().task.exit()
        }
        return .passThrough
    }
}
