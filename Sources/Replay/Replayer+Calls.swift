import Foundation

/// The syscalls the replayer models, one case each. `perform` returns nil when the call ran on
/// the target (and was compared), or the reason it was skipped.
extension Replayer {
    static let fdCreators: Set<String> = [
        "pipe", "pipe2", "socket", "socketpair", "accept", "accept4", "eventfd", "eventfd2",
        "epoll_create", "epoll_create1", "memfd_create", "inotify_init", "inotify_init1",
        "timerfd_create", "signalfd", "signalfd4", "userfaultfd", "pidfd_open", "perf_event_open",
        "fanotify_init", "io_uring_setup",
    ]
    static let memoryCalls: Set<String> = ["mmap", "munmap", "mprotect", "mremap", "brk", "madvise", "msync"]
    static let pseudoRoots = ["/proc", "/dev", "/sys"]

    // MARK: - Argument decoding

    enum Decoded<Value> {
        case value(Value)
        case skip(String)
    }

    func integer(_ call: StraceCall, _ index: Int) -> Decoded<Int64> {
        guard index < call.arguments.count else { return .skip("argument missing") }
        let argument = call.arguments[index]
        if let value = StraceConstants.value(of: argument) { return .value(value) }
        if let name = StraceConstants.unknownName(in: argument) { return .skip("unknown constant \(name)") }
        return .skip("argument not decodable")
    }

    func path(_ call: StraceCall, _ index: Int) -> Decoded<ReplayPath> {
        guard index < call.arguments.count else { return .skip("argument missing") }
        switch call.arguments[index] {
        case .string(let bytes, let truncated):
            if truncated { return .skip("path truncated by strace") }
            if bytes.first == 0x2F {
                for root in Self.pseudoRoots {
                    let prefix = Array(root.utf8)
                    if bytes.starts(with: prefix) && (bytes.count == prefix.count || bytes[prefix.count] == 0x2F) {
                        return .skip("procfs/devfs/sysfs path")
                    }
                }
            }
            return .value(ReplayPath(bytes))
        case .null: return .skip("NULL path")
        default: return .skip("path not recorded")
        }
    }

    /// A recorded descriptor argument as the target's descriptor (AT_FDCWD stays AT_FDCWD).
    func descriptor(_ call: StraceCall, _ index: Int, _ process: Process) -> Decoded<Int32> {
        switch integer(call, index) {
        case .skip(let reason): return .skip(reason)
        case .value(let value):
            if value == -100 { return .value(-100) }
            guard let slot = process.files.slots[Int32(truncatingIfNeeded: value)] else {
                return .skip("fd not opened in the trace (inherited)")
            }
            guard let own = slot.target else { return .skip(slot.reason) }
            return .value(own)
        }
    }

    func ensureBuffer(_ count: Int) {
        guard count > buffer.count else { return }
        buffer.deallocate()
        buffer = .allocate(byteCount: count, alignment: 16)
    }

    func ensureFiller(_ count: Int) {
        guard count > filler.count else { return }
        filler.deallocate()
        filler = .allocate(byteCount: count, alignment: 16)
        for index in 0..<filler.count { filler[index] = UInt8(truncatingIfNeeded: index &* 31 &+ 7) }
    }

    /// Compares a recorded stat struct with the target's answer; nil when they agree.
    static func statDetail(_ recorded: StraceValue?, _ observed: StatSummary, result: Int, statx: Bool)
        -> String?
    {
        guard result == 0, case .structure(let text)? = recorded else { return nil }
        let modeField = statx ? "stx_mode" : "st_mode", sizeField = statx ? "stx_size" : "st_size"
        if let mode = StraceConstants.field(modeField, in: text), UInt32(truncatingIfNeeded: mode) != observed.mode {
            return "mode 0o\(String(observed.mode, radix: 8)), recorded 0o\(String(mode, radix: 8))"
        }
        let type = observed.mode & 0o170000
        if type == 0o100000 || type == 0o120000, let size = StraceConstants.field(sizeField, in: text),
            size != observed.size
        {
            return "size \(observed.size), recorded \(size)"
        }
        return nil
    }

    // MARK: - Dispatch

    func perform(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        let name = call.name
        if Self.memoryCalls.contains(name) { return "memory mapping (mmap...)" }
        if Self.fdCreators.contains(name) { return unmodelledDescriptors(call, process, expected) }
        switch name {
        case "open", "openat", "creat":
            return open(call, process, expected)
        case "close":
            guard case .value(let recorded) = integer(call, 0) else { return "argument not decodable" }
            let fd = Int32(truncatingIfNeeded: recorded)
            guard let slot = process.files.slots[fd] else { return "fd not opened in the trace (inherited)" }
            process.files.slots[fd] = nil
            guard let own = slot.target else { return slot.reason }
            record(call, timed { target.close(own) }, expected: expected, .exact)
            return nil
        case "read", "pread64", "write", "pwrite64":
            return io(call, process, expected)
        case "lseek":
            guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            guard case .value(let offset) = integer(call, 1), case .value(let whence) = integer(call, 2) else {
                return "argument not decodable"
            }
            record(call, timed { target.lseek(fd, offset, Int32(truncatingIfNeeded: whence)) }, expected: expected, .exact)
            return nil
        case "newfstatat", "fstatat64", "stat", "lstat", "fstat", "statx":
            return stat(call, process, expected)
        case "access", "faccessat", "faccessat2":
            let at = name != "access"
            var dirfd: Int32 = -100
            if at {
                guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
                dirfd = fd
            }
            let base = at ? 1 : 0
            guard case .value(let path) = path(call, base) else { return pathSkip(call, base) }
            guard case .value(let mode) = integer(call, base + 1) else { return "argument not decodable" }
            var flags: Int64 = 0
            if name == "faccessat2" {
                guard case .value(let value) = integer(call, 3) else { return "argument not decodable" }
                flags = value
            }
            enterCwd(of: process)
            record(call, timed { target.faccessat2(dirfd, path, Int32(truncatingIfNeeded: mode), Int32(truncatingIfNeeded: flags)) },
                expected: expected, .exact)
            return nil
        case "readlink", "readlinkat":
            let at = name == "readlinkat"
            var dirfd: Int32 = -100
            if at {
                guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
                dirfd = fd
            }
            let base = at ? 1 : 0
            guard case .value(let path) = path(call, base) else { return pathSkip(call, base) }
            guard case .value(let size) = integer(call, base + 2), size >= 0, size <= 1 << 24 else {
                return "argument not decodable"
            }
            ensureBuffer(Int(size))
            let region = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(size)])
            enterCwd(of: process)
            record(call, timed { target.readlinkat(dirfd, path, region) }, expected: expected, .exact)
            return nil
        case "getdents64":
            guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            guard case .value(let count) = integer(call, 2), count >= 0, count <= 1 << 24 else {
                return "argument not decodable"
            }
            ensureBuffer(Int(count))
            let region = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(count)])
            record(call, timed { target.getdents64(fd, region) }, expected: expected, .exact)
            return nil
        case "getcwd":
            guard case .value(let size) = integer(call, 1), size >= 0, size <= 1 << 20 else {
                return "argument not decodable"
            }
            ensureBuffer(Int(size))
            let region = UnsafeMutableRawBufferPointer(rebasing: buffer[..<Int(size)])
            enterCwd(of: process)
            record(call, timed { target.getcwd(region) }, expected: expected, .exact)
            return nil
        case "chdir", "fchdir":
            return changeDirectory(call, process, expected)
        case "dup", "dup2", "dup3":
            return duplicate(call, process, expected)
        case "fcntl", "fcntl64":
            return fcntl(call, process, expected)
        case "execve", "execveat":
            if expected == 0 { exec(process) }
            return "execve (close-on-exec applied, not replayed)"
        case "clone", "clone3", "fork", "vfork":
            if expected > 0 { spawn(call, process, child: Int32(truncatingIfNeeded: expected)) }
            return "process creation (fd table modelled, not replayed)"
        case "exit", "exit_group":
            return "process exit"
        case "ioctl":
            return "ioctl"
        default:
            return pathCall(call, process, expected) ?? nil
        }
    }

    func descriptorSkip(_ call: StraceCall, _ index: Int, _ process: Process) -> String {
        if case .skip(let reason) = descriptor(call, index, process) { return reason }
        return "argument not decodable"
    }

    func pathSkip(_ call: StraceCall, _ index: Int) -> String {
        if case .skip(let reason) = path(call, index) { return reason }
        return "argument not decodable"
    }

    func unmodelledDescriptors(_ call: StraceCall, _ process: Process, _ expected: Int) -> String {
        let reason = "fd from \(call.name) (not modelled)"
        guard expected >= 0 else { return reason }
        var numbers: [Int32] = []
        if call.name == "pipe" || call.name == "pipe2" || call.name == "socketpair" {
            let index = call.name == "socketpair" ? 3 : 0
            if index < call.arguments.count, case .array(let text) = call.arguments[index] {
                numbers = text.split(separator: ",").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
            }
        } else {
            numbers = [Int32(truncatingIfNeeded: expected)]
        }
        for fd in numbers { install(Slot(target: nil, reason: reason, closeOnExec: false), at: fd, in: process.files) }
        return reason
    }

    // MARK: - Cases

    func open(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        var dirfd: Int32 = -100
        var base = 0
        if call.name == "openat" {
            guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            dirfd = fd
            base = 1
        }
        guard case .value(let path) = path(call, base) else { return pathSkip(call, base) }
        var flags: Int64 = 0o1101  // creat(2): O_WRONLY|O_CREAT|O_TRUNC
        var modeIndex = base + 1
        if call.name != "creat" {
            guard case .value(let value) = integer(call, base + 1) else {
                if case .skip(let reason) = integer(call, base + 1) { return reason }
                return "argument not decodable"
            }
            flags = value
            modeIndex = base + 2
        }
        var mode: Int64 = 0
        if modeIndex < call.arguments.count, case .value(let value) = integer(call, modeIndex) { mode = value }
        enterCwd(of: process)
        let outcome = timed {
            target.openat(dirfd, path, Int32(truncatingIfNeeded: flags), UInt32(truncatingIfNeeded: mode))
        }
        record(call, outcome, expected: expected, .descriptor)
        let cloexec = flags & Int64(Self.oCloexec) != 0
        if expected >= 0 {
            let slot = outcome.result >= 0
                ? Slot(target: Int32(outcome.result), reason: "", closeOnExec: cloexec)
                : Slot(target: nil, reason: "fd whose open diverged", closeOnExec: cloexec)
            install(slot, at: Int32(truncatingIfNeeded: expected), in: process.files)
        } else if outcome.result >= 0 {
            _ = target.close(Int32(outcome.result))
        }
        return nil
    }

    func io(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
        guard case .value(let count) = integer(call, 2), count >= 0, count <= 1 << 28 else {
            return "argument not decodable"
        }
        var offset: Int64 = 0
        let positional = call.name.hasPrefix("p")
        if positional {
            guard case .value(let value) = integer(call, 3) else { return "argument not decodable" }
            offset = value
        }
        let size = Int(count)
        if call.name.hasSuffix("read64") || call.name == "read" {
            ensureBuffer(size)
            let region = UnsafeMutableRawBufferPointer(rebasing: buffer[..<size])
            record(call, timed { positional ? target.pread(fd, region, offset) : target.read(fd, region) },
                expected: expected, .exact)
        } else {
            ensureFiller(size)
            let region = UnsafeRawBufferPointer(rebasing: filler[..<size])
            record(call, timed { positional ? target.pwrite(fd, region, offset) : target.write(fd, region) },
                expected: expected, .exact)
        }
        return nil
    }

    func stat(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        var summary = StatSummary()
        let outcome: Timed
        switch call.name {
        case "fstat":
            guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            let empty = ReplayPath([])
            outcome = timed { target.fstatat(fd, empty, 0x1000, &summary) }
            record(call, outcome, expected: expected, .exact,
                detail: Self.statDetail(call.arguments.count > 1 ? call.arguments[1] : nil, summary, result: outcome.result, statx: false))
        case "stat", "lstat":
            guard case .value(let path) = path(call, 0) else { return pathSkip(call, 0) }
            let flags: Int32 = call.name == "lstat" ? 0x100 : 0
            enterCwd(of: process)
            outcome = timed { target.fstatat(-100, path, flags, &summary) }
            record(call, outcome, expected: expected, .exact,
                detail: Self.statDetail(call.arguments.count > 1 ? call.arguments[1] : nil, summary, result: outcome.result, statx: false))
        case "statx":
            guard case .value(let dirfd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            guard case .value(let path) = path(call, 1) else { return pathSkip(call, 1) }
            guard case .value(let flags) = integer(call, 2), case .value(let mask) = integer(call, 3) else {
                return "argument not decodable"
            }
            enterCwd(of: process)
            outcome = timed {
                target.statx(dirfd, path, Int32(truncatingIfNeeded: flags), UInt32(truncatingIfNeeded: mask), &summary)
            }
            record(call, outcome, expected: expected, .exact,
                detail: Self.statDetail(call.arguments.count > 4 ? call.arguments[4] : nil, summary, result: outcome.result, statx: true))
        default:  // newfstatat(dirfd, path, struct, flags)
            guard case .value(let dirfd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            guard case .value(let path) = path(call, 1) else { return pathSkip(call, 1) }
            guard case .value(let flags) = integer(call, 3) else { return "argument not decodable" }
            enterCwd(of: process)
            outcome = timed { target.fstatat(dirfd, path, Int32(truncatingIfNeeded: flags), &summary) }
            record(call, outcome, expected: expected, .exact,
                detail: Self.statDetail(call.arguments[2], summary, result: outcome.result, statx: false))
        }
        return nil
    }

    func changeDirectory(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        enterCwd(of: process)
        if call.name == "chdir" {
            guard case .value(let path) = path(call, 0) else { return pathSkip(call, 0) }
            record(call, timed { target.chdir(path) }, expected: expected, .exact)
        } else {
            guard case .value(let fd) = descriptor(call, 0, process) else { return descriptorSkip(call, 0, process) }
            record(call, timed { target.fchdir(fd) }, expected: expected, .exact)
        }
        // The target's cwd may have moved: capture it as this process's (shared with
        // CLONE_FS siblings, which is why the object is updated in place).
        let now = target.openat(-100, ReplayPath("."), Self.oPath | Self.oDirectory | Self.oCloexec, 0)
        if now >= 0 {
            _ = target.close(process.cwd.fd)
            process.cwd.fd = Int32(now)
            currentCwd = process.cwd
        }
        return nil
    }

    func duplicate(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        guard case .value(let oldRecorded) = integer(call, 0) else { return "argument not decodable" }
        guard let slot = process.files.slots[Int32(truncatingIfNeeded: oldRecorded)] else {
            return "fd not opened in the trace (inherited)"
        }
        var cloexec = false
        if call.name == "dup3", case .value(let flags) = integer(call, 2) { cloexec = flags & Int64(Self.oCloexec) != 0 }
        guard let own = slot.target else {
            if expected >= 0 {
                install(Slot(target: nil, reason: slot.reason, closeOnExec: cloexec), at: Int32(truncatingIfNeeded: expected), in: process.files)
            }
            return slot.reason
        }
        let outcome = timed { target.fcntl(own, cloexec ? 1030 : 0, 0) }
        record(call, outcome, expected: expected, .descriptor)
        if expected >= 0, outcome.result >= 0 {
            install(Slot(target: Int32(outcome.result), reason: "", closeOnExec: cloexec),
                at: Int32(truncatingIfNeeded: expected), in: process.files)
        } else if outcome.result >= 0 {
            _ = target.close(Int32(outcome.result))
        }
        return nil
    }

    func fcntl(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        guard case .value(let recorded) = integer(call, 0) else { return "argument not decodable" }
        let fd = Int32(truncatingIfNeeded: recorded)
        guard let slot = process.files.slots[fd] else { return "fd not opened in the trace (inherited)" }
        guard case .value(let command) = integer(call, 1) else {
            if case .skip(let reason) = integer(call, 1) { return reason }
            return "argument not decodable"
        }
        var argument: Int64 = 0
        if call.arguments.count > 2 {
            guard case .value(let value) = integer(call, 2) else { return "fcntl argument not decodable" }
            argument = value
        }
        switch command {
        case 0, 1030:  // F_DUPFD, F_DUPFD_CLOEXEC
            guard let own = slot.target else { return slot.reason }
            let outcome = timed { target.fcntl(own, Int32(command), 0) }
            record(call, outcome, expected: expected, .descriptor)
            if expected >= 0, outcome.result >= 0 {
                install(Slot(target: Int32(outcome.result), reason: "", closeOnExec: command == 1030),
                    at: Int32(truncatingIfNeeded: expected), in: process.files)
            } else if outcome.result >= 0 {
                _ = target.close(Int32(outcome.result))
            }
            return nil
        case 1, 2, 3, 4:  // F_GETFD, F_SETFD, F_GETFL, F_SETFL
            if command == 2, expected == 0 { process.files.slots[fd]?.closeOnExec = argument & 1 != 0 }
            guard let own = slot.target else { return slot.reason }
            record(call, timed { target.fcntl(own, Int32(command), Int(argument)) }, expected: expected, .exact)
            return nil
        default:
            return "fcntl command \(command) not modelled"
        }
    }

    func exec(_ process: Process) {
        if process.files.users > 1 {  // execve unshares a CLONE_FILES table first
            let own = copy(process.files)
            release(process.files)
            process.files = own
        }
        for (fd, slot) in process.files.slots where slot.closeOnExec {
            if let own = slot.target { _ = target.close(own) }
            process.files.slots[fd] = nil
        }
    }

    func spawn(_ call: StraceCall, _ process: Process, child: Int32) {
        let text = call.arguments.map { argument -> String in
            switch argument {
            case .structure(let text), .raw(let text), .array(let text): return text
            case .flags(let parts): return parts.joined(separator: "|")
            default: return ""
            }
        }.joined(separator: ",")
        let shareFiles = text.contains("CLONE_FILES"), shareFS = text.contains("CLONE_FS")
        if let existing = processes.removeValue(forKey: child) {
            release(existing.files)
            release(existing.cwd)
        }
        let files: FdTable
        if shareFiles {
            files = process.files
            files.users += 1
        } else {
            files = copy(process.files)
        }
        let cwd: Cwd
        if shareFS {
            cwd = process.cwd
            cwd.users += 1
        } else {
            cwd = copy(process.cwd)
        }
        processes[child] = Process(files: files, cwd: cwd)
    }

    /// Path-only calls: mkdir, unlink, rename, symlink, link, chmod, utimensat, truncate.
    func pathCall(_ call: StraceCall, _ process: Process, _ expected: Int) -> String? {
        let name = call.name
        func at(_ index: Int) -> Decoded<Int32> { descriptor(call, index, process) }
        func reason<T>(_ decoded: Decoded<T>) -> String {
            if case .skip(let reason) = decoded { return reason }
            return "argument not decodable"
        }
        func int32(_ index: Int) -> Int32? {
            if case .value(let value) = integer(call, index) { return Int32(truncatingIfNeeded: value) }
            return nil
        }
        let operation: (() -> Int)?
        switch name {
        case "mkdir", "mkdirat":
            let base = name == "mkdirat" ? 1 : 0
            let dirfd = base == 1 ? at(0) : .value(-100)
            guard case .value(let fd) = dirfd else { return reason(dirfd) }
            guard case .value(let path) = path(call, base) else { return pathSkip(call, base) }
            guard let mode = int32(base + 1) else { return "argument not decodable" }
            operation = { self.target.mkdirat(fd, path, UInt32(bitPattern: mode)) }
        case "unlink", "rmdir", "unlinkat":
            let base = name == "unlinkat" ? 1 : 0
            let dirfd = base == 1 ? at(0) : .value(-100)
            guard case .value(let fd) = dirfd else { return reason(dirfd) }
            guard case .value(let path) = path(call, base) else { return pathSkip(call, base) }
            var flags: Int32 = name == "rmdir" ? 0x200 : 0
            if base == 1 {
                guard let value = int32(2) else { return "argument not decodable" }
                flags = value
            }
            operation = { self.target.unlinkat(fd, path, flags) }
        case "rename", "renameat", "renameat2":
            let two = name != "rename"
            let oldDir = two ? at(0) : .value(-100), newDir = two ? at(2) : .value(-100)
            guard case .value(let oldFd) = oldDir else { return reason(oldDir) }
            guard case .value(let newFd) = newDir else { return reason(newDir) }
            let oldIndex = two ? 1 : 0, newIndex = two ? 3 : 1
            guard case .value(let oldPath) = path(call, oldIndex) else { return pathSkip(call, oldIndex) }
            guard case .value(let newPath) = path(call, newIndex) else { return pathSkip(call, newIndex) }
            var flags: UInt32 = 0
            if name == "renameat2" {
                guard let value = int32(4) else { return "argument not decodable" }
                flags = UInt32(bitPattern: value)
            }
            operation = { self.target.renameat2(oldFd, oldPath, newFd, newPath, flags) }
        case "symlink", "symlinkat":
            let base = name == "symlinkat" ? 1 : 0
            let dirfd = base == 1 ? at(1) : .value(-100)
            guard case .value(let fd) = dirfd else { return reason(dirfd) }
            guard case .string(let bytes, false)? = call.arguments.first else { return "symlink target not recorded" }
            guard case .value(let path) = path(call, base + 1) else { return pathSkip(call, base + 1) }
            let targetPath = ReplayPath(bytes)
            operation = { self.target.symlinkat(targetPath, fd, path) }
        case "link", "linkat":
            let two = name == "linkat"
            let oldDir = two ? at(0) : .value(-100), newDir = two ? at(2) : .value(-100)
            guard case .value(let oldFd) = oldDir else { return reason(oldDir) }
            guard case .value(let newFd) = newDir else { return reason(newDir) }
            let oldIndex = two ? 1 : 0, newIndex = two ? 3 : 1
            guard case .value(let oldPath) = path(call, oldIndex) else { return pathSkip(call, oldIndex) }
            guard case .value(let newPath) = path(call, newIndex) else { return pathSkip(call, newIndex) }
            var flags: Int32 = 0
            if two {
                guard let value = int32(4) else { return "argument not decodable" }
                flags = value
            }
            operation = { self.target.linkat(oldFd, oldPath, newFd, newPath, flags) }
        case "chmod", "fchmodat":
            let base = name == "fchmodat" ? 1 : 0
            let dirfd = base == 1 ? at(0) : .value(-100)
            guard case .value(let fd) = dirfd else { return reason(dirfd) }
            guard case .value(let path) = path(call, base) else { return pathSkip(call, base) }
            guard let mode = int32(base + 1) else { return "argument not decodable" }
            operation = { self.target.fchmodat(fd, path, UInt32(bitPattern: mode)) }
        case "fchmod":
            guard case .value(let fd) = at(0) else { return reason(at(0)) }
            guard let mode = int32(1) else { return "argument not decodable" }
            operation = { self.target.fchmod(fd, UInt32(bitPattern: mode)) }
        case "utimensat":
            guard case .value(let fd) = at(0) else { return reason(at(0)) }
            var path: ReplayPath?
            if call.arguments.count > 1, case .string = call.arguments[1] {
                guard case .value(let value) = self.path(call, 1) else { return pathSkip(call, 1) }
                path = value
            }
            guard let flags = int32(3) else { return "argument not decodable" }
            operation = { self.target.utimensat(fd, path, flags) }
        case "truncate":
            guard case .value(let path) = path(call, 0) else { return pathSkip(call, 0) }
            guard case .value(let length) = integer(call, 1) else { return "argument not decodable" }
            operation = { self.target.truncate(path, length) }
        case "ftruncate":
            guard case .value(let fd) = at(0) else { return reason(at(0)) }
            guard case .value(let length) = integer(call, 1) else { return "argument not decodable" }
            operation = { self.target.ftruncate(fd, length) }
        default:
            operation = nil
        }
        guard let operation else { return "\(name) not modelled" }
        enterCwd(of: process)
        record(call, timed(operation), expected: expected, .exact)
        return nil
    }
}
